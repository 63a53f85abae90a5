"""Runs of several training seeds side by side: per seed, mean, spread and the margins.

    python experiments/lamin_iterative/seeds.py runs/lamin_iterative/small_seed0 \\
        runs/lamin_iterative/small_seed1 runs/lamin_iterative/small_seed2

Reads each run's ``results.csv`` (``run.py``) and prints a markdown table: each metric per
stage for every seed, its mean and spread (max - min over the seeds), and each round's
margin over the stage before it, per seed (the smallest margin is what must beat the spread).
"""

from __future__ import annotations

import csv
import sys
from pathlib import Path


def load(run_dirs: list[Path]) -> dict[str, list[dict[str, float]]]:
    """Stage -> one row per seed (the first network of each run)."""
    stages: dict[str, list[dict[str, float]]] = {}
    for folder in run_dirs:
        with open(folder / "results.csv", newline="") as f:
            seen = set()
            for row in csv.DictReader(f):
                if row["stage"] in seen:
                    continue
                seen.add(row["stage"])
                stages.setdefault(row["stage"], []).append(
                    {k: float(v) for k, v in row.items() if k not in ("stage", "network")})
    return stages


def table(run_dirs: list[Path], names: list[str] | None = None) -> str:
    """``names``: the column of each run (default: its folder's name)."""
    stages = load(run_dirs)
    names = names or [p.name for p in run_dirs]
    keys = [k for k in stages["classic"][0] if k != "min_size"]
    lines = ["| stage | metric | " + " | ".join(f"seed {n}" for n in names)
             + " | mean | spread |", "|---|---|" + "---|" * (len(run_dirs) + 2)]
    for stage, rows in stages.items():
        for key in keys:
            values = [r[key] for r in rows]
            mean, spread = sum(values) / len(values), max(values) - min(values)
            lines.append(f"| {stage} | {key} | " + " | ".join(f"{v:.3f}" for v in values)
                         + f" | {mean:.3f} | {spread:.3f} |")
    lines += ["", "| margin | metric | " + " | ".join(names)
              + " | smallest | largest spread of the two stages |",
              "|---|---|" + "---|" * (len(run_dirs) + 2)]
    order = list(stages)
    for before, after in zip(order, order[1:], strict=False):
        for key in keys:
            sign = -1 if key.startswith("hd95") else 1  # a smaller distance is better
            margins = [sign * (a[key] - b[key]) for a, b in
                       zip(stages[after], stages[before], strict=True)]
            spread = max(max(r[key] for r in stages[s]) - min(r[key] for r in stages[s])
                         for s in (before, after))
            lines.append(f"| {after} − {before} | {key} | "
                         + " | ".join(f"{m:+.3f}" for m in margins)
                         + f" | {min(margins):+.3f} | {spread:.3f} |")
    return "\n".join(lines)


if __name__ == "__main__":
    if len(sys.argv) < 2:
        raise SystemExit("usage: python seeds.py RUN_DIR [RUN_DIR ...]")
    print(table([Path(a) for a in sys.argv[1:]]))
