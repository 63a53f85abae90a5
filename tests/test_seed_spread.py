"""scripts/seed_spread.py: the spread statistics of many seeds, as a user runs it."""

import subprocess
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "scripts"))

from seed_spread import chance_range_of_three_within  # noqa: E402


def _results(folder: Path, auto: float, hand: float) -> None:
    folder.mkdir(parents=True)
    (folder / "results.md").write_text(
        "| config | model | width | patch | batch | loss | fg | steps | training CPU s "
        "| held-out Dice |\n|---|---|---|---|---|---|---|---|---|---|\n"
        f"| hand | UNetXY | 4 | [16, 48, 48] | 4 | dice_ce | 0.5 | 256 | 170 | {hand:.3f} |\n"
        f"| auto | UNetXY | 4 | [24, 48, 48] | 2 | dice_ce | 0.33 | 900 | 172 | {auto:.3f} |\n")


def test_chance_of_three_seeds_within_a_spread_matches_simulation():
    draws = np.random.default_rng(0).normal(0.7, 0.018, (200_000, 3))
    simulated = float((np.ptp(draws, axis=1) <= 0.02).mean())
    assert abs(chance_range_of_three_within(0.02, 0.018) - simulated) < 0.01
    assert chance_range_of_three_within(0.02, 0.0) == 1.0
    assert chance_range_of_three_within(0.02, 0.001) > 0.999
    assert chance_range_of_three_within(0.02, 0.1) < 0.1


def test_table_reads_each_seed_of_each_config(tmp_path):
    plan = [0.70, 0.72, 0.68, 0.71, 0.69, 0.73]
    for seed, dice in enumerate(plan):
        _results(tmp_path / "plan" / f"s{seed}", dice, 0.6)
    _results(tmp_path / "other" / "s0", 0.5, 0.61)
    run = subprocess.run(
        [sys.executable, str(REPO / "scripts" / "seed_spread.py"),
         f"plan={tmp_path / 'plan' / 's*'}", f"other={tmp_path / 'other' / 's*'}"],
        capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    rows = {line.split("|")[1].strip(): [c.strip() for c in line.split("|")[1:-1]]
            for line in run.stdout.splitlines()[2:]}
    label, n, seeds, mean, sd, spread, first3, expected, chance = rows["plan"]
    assert n == "6" and seeds == " / ".join(f"{d:.3f}" for d in plan)
    assert float(mean) == round(float(np.mean(plan)), 3)
    assert float(sd) == round(float(np.std(plan, ddof=1)), 3)
    assert float(spread) == 0.05 and float(first3) == 0.04
    assert float(expected) == round(1.693 * float(np.std(plan, ddof=1)), 3)
    assert rows["other"][1] == "1" and rows["other"][-1] == "–"
    hand = subprocess.run(
        [sys.executable, str(REPO / "scripts" / "seed_spread.py"), "--arm", "hand",
         f"plan={tmp_path / 'plan' / 's*'}"], capture_output=True, text=True, timeout=120)
    assert "| 0.600 | 0.000 |" in hand.stdout


def test_a_folder_without_its_arm_is_one_line(tmp_path):
    _results(tmp_path / "s0", 0.7, 0.6)
    (tmp_path / "s0" / "results.md").write_text(
        (tmp_path / "s0" / "results.md").read_text().replace("| auto |", "| other |"))
    run = subprocess.run(
        [sys.executable, str(REPO / "scripts" / "seed_spread.py"), f"x={tmp_path / 's*'}"],
        capture_output=True, text=True, timeout=120)
    assert run.returncode == 2
    assert run.stderr.strip().count("\n") == 0 and "no row for the arm 'auto'" in run.stderr
