"""How much a training's held-out Dice moves with the seed, from many seeds' results.

    python scripts/seed_spread.py "plan=runs/plan_vs_hand/bench_s*" "hand=runs/hand/bench_s*" \
        [--target 0.02] [--arm auto]

Each ``LABEL=GLOB`` names a configuration and the ``scripts/plan_vs_hand.py`` output folders
of its seeds (each holds ``results.md``; the seed is the number at the end of the folder's
name). Prints one row per configuration: each seed's Dice, the mean, the standard deviation
over the seeds, the spread (max − min) of all seeds and of seeds 0-2, and what the standard
deviation implies for a three-seed test: the expected spread of three seeds (1.693 σ, the
mean range of three normal draws) and the chance that three seeds spread by at most
``--target``.

Why: three seeds are a small sample of a spread. With σ = 0.018 the three-seed spread is
under 0.02 about three times in ten, so one three-seed run that meets a target (or misses it) says
little; six seeds estimate σ well enough to say which.
"""

from __future__ import annotations

import argparse
import glob
import math
import re
import statistics
import sys
from pathlib import Path

from scipy import integrate, stats

D2_THREE = 1.693  # mean range of three standard normal draws


def chance_range_of_three_within(width: float, sd: float) -> float:
    """P(max − min of three independent N(μ, sd²) draws ≤ width)."""
    if sd <= 0:
        return 1.0
    w = width / sd

    def density(x: float) -> float:
        return stats.norm.pdf(x) * (stats.norm.cdf(x + w) - stats.norm.cdf(x)) ** 2

    return min(1.0, 3 * integrate.quad(density, -math.inf, math.inf)[0])


def read_dice(folder: Path, arm: str) -> float:
    """The held-out Dice of ``arm``'s row in ``folder/results.md``."""
    table = (folder / "results.md").read_text().splitlines()
    header = [c.strip() for c in table[0].split("|")]
    col = header.index("held-out Dice")
    for line in table[2:]:
        cells = [c.strip() for c in line.split("|")]
        if cells[1] == arm:
            return float(cells[col])
    raise ValueError(f"{folder / 'results.md'}: no row for the arm {arm!r}")


def seed_of(folder: Path) -> int:
    found = re.search(r"(\d+)$", folder.name)
    if found is None:
        raise ValueError(f"{folder}: the folder's name must end with its seed (e.g. s3)")
    return int(found.group(1))


def collect(spec: str, arm: str) -> tuple[str, dict[int, float]]:
    label, sep, pattern = spec.partition("=")
    if not sep:
        raise ValueError(f"{spec!r}: give LABEL=GLOB")
    folders = [Path(p) for p in sorted(glob.glob(pattern)) if (Path(p) / "results.md").is_file()]
    if not folders:
        raise ValueError(f"{pattern!r}: no folder with a results.md")
    return label, {seed_of(f): read_dice(f, arm) for f in folders}


def row(label: str, dice: dict[int, float], target: float) -> str:
    values = [dice[s] for s in sorted(dice)]
    sd = statistics.stdev(values) if len(values) > 1 else float("nan")
    first = [dice[s] for s in (0, 1, 2) if s in dice]
    first_spread = f"{max(first) - min(first):.3f}" if len(first) == 3 else "–"
    chance = f"{chance_range_of_three_within(target, sd):.0%}" if len(values) > 2 else "–"
    seeds = " / ".join(f"{v:.3f}" for v in values)
    return (f"| {label} | {len(values)} | {seeds} | {statistics.fmean(values):.3f} | {sd:.3f} "
            f"| {max(values) - min(values):.3f} | {first_spread} | {D2_THREE * sd:.3f} "
            f"| {chance} |")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("configs", nargs="+", metavar="LABEL=GLOB")
    parser.add_argument("--target", type=float, default=0.02,
                        help="the spread of three seeds to reach (default 0.02)")
    parser.add_argument("--arm", default="auto", help="the results.md row to read (auto, hand)")
    args = parser.parse_args(argv)
    try:
        groups = [collect(spec, args.arm) for spec in args.configs]
    except (OSError, ValueError) as err:
        print(f"seed_spread: {err}", file=sys.stderr)
        return 2
    print(f"| config | seeds | held-out Dice by seed | mean | σ | spread | spread, seeds 0-2 "
          f"| expected spread of 3 | P(3 seeds ≤ {args.target:g}) |")
    print("|---|---|---|---|---|---|---|---|---|")
    for label, dice in groups:
        print(row(label, dice, args.target))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
