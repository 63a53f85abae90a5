"""The iterative-workflow experiment's one command, in its smoke setting: every stage runs
and the table has finite numbers (the margins need the small setting; see its README)."""

from __future__ import annotations

import csv
import math
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
RUN = ROOT / "experiments" / "lamin_iterative" / "run.py"


@pytest.mark.slow
def test_smoke_setting_runs_every_stage(tmp_path):
    out = tmp_path / "run"
    done = subprocess.run([sys.executable, str(RUN), "setting=smoke", f"out={out}"],
                          capture_output=True, text=True, cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    with open(out / "results.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert [(r["stage"], r["network"]) for r in rows] == [
        ("classic", "classic/lmnb1_interphase"), ("round1", "unet_xy_tiny"),
        ("round2", "unet_xy_tiny")]
    for row in rows:
        assert all(math.isfinite(float(row[key])) for key in ("dice", "object_f1"))
    assert (out / "curves.png").stat().st_size > 0 and (out / "config.yaml").is_file()
    # round 1 took all with excluding masks; round 2 merged the second workflow in
    assert list((out / "round1" / "curated").glob("*_GT.*"))
    decisions = (out / "round2" / "unet_xy_tiny" / "person" / "decisions.csv").read_text()
    assert decisions.splitlines()[0] == "image,zone,kind,dice_unet_xy_tiny,dice_classic2,action"
    for stage in ("round1", "round2"):
        assert (out / stage / "unet_xy_tiny" / "train" / "checkpoints" / "best.ckpt").is_file()
    # a rerun resumes: no stage runs again (the checkpoints stay), the table is the same
    table = (out / "results.csv").read_text()
    best = out / "round2" / "unet_xy_tiny" / "train" / "checkpoints" / "best.ckpt"
    mtime = best.stat().st_mtime_ns
    again = subprocess.run([sys.executable, str(RUN), "setting=smoke", f"out={out}"],
                           capture_output=True, text=True, cwd=tmp_path)
    assert again.returncode == 0, again.stderr[-2000:]
    assert (out / "results.csv").read_text() == table and best.stat().st_mtime_ns == mtime


def test_help_lists_the_settings():
    done = subprocess.run([sys.executable, str(RUN), "--help"], capture_output=True, text=True)
    assert done.returncode == 0 and "smoke" in done.stdout and "small" in done.stdout


def test_an_unknown_setting_is_one_line_naming_the_choices(tmp_path):
    done = subprocess.run([sys.executable, str(RUN), "setting=huge", f"out={tmp_path}"],
                          capture_output=True, text=True)
    assert done.returncode == 2
    assert "setting=huge" in done.stderr and "small" in done.stderr
    assert "Traceback" not in done.stderr


def _person():
    sys.path.insert(0, str(RUN.parent))
    try:
        import person
    finally:
        sys.path.remove(str(RUN.parent))
    return person


def test_the_person_takes_right_cells_merges_the_better_second_and_excludes_the_rest():
    import numpy as np

    person = _person()
    truth = np.zeros((4, 20, 30), bool)
    zones = np.zeros(truth.shape, np.int32)
    for zone, x in enumerate((2, 12, 22), start=1):
        zones[:, 2:18, x:x + 6] = zone
        truth[:, 5:15, x + 2] = True
    first, second = truth.copy(), truth.copy()
    first[:, :, 12:18] = False     # zone 2: the first segmentation misses it, the second has it
    first[:, :, 22:28] = False     # zone 3: both miss it
    second[:, :, 22:28] = False
    first[0, 19, 0] = True         # a spurious voxel outside every cell
    excluded, from_second, rows = person.judge([first, second], truth, zones, min_dice=0.5)
    assert [(zone, action) for zone, action, _ in rows[:3]] == [
        (1, "take"), (2, "merge"), (3, "exclude")]
    assert from_second[zones == 2].all() and not from_second[zones != 2].any()
    assert excluded[zones == 3].all() and excluded[0, 19, 0]
    assert not excluded[zones == 1].any()
