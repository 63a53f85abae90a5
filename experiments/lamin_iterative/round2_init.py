"""Round 2 from scratch against round 2 fine-tuned from round 1, on one finished run.

    python experiments/lamin_iterative/round2_init.py runs/lamin_iterative/small_seed0
    python experiments/lamin_iterative/round2_init.py runs/lamin_iterative/small_seed0 \\
        variants=scratch,default,plain

Reuses the run's round-1 network and round-2 curated set (``run.py`` first), trains round 2
once per variant into ``<run>/round2_init/<variant>/`` (a finished variant is not trained
again) and prints a markdown table: held-out Dice, the training process's CPU seconds and
their ratio to ``scratch``'s in the same run, and the CPU's vector extensions. Variants:

- ``scratch``: ``round2.init=scratch`` (the whole recipe, anew);
- ``default``: the setting's ``round2`` (fine-tuned: shrink and perturb, a quarter of the
  epochs);
- ``plain``: the same without ``round2.train`` (fine-tuned as loaded).

Other ``key=value`` override the run's setting (e.g. ``round2.epochs=5``).
"""

from __future__ import annotations

import sys
from pathlib import Path

from omegaconf import OmegaConf

sys.path.insert(0, str(Path(__file__).resolve().parent))
import run as experiment  # noqa: E402

from seglight.errors import ConfigError, SeglightError  # noqa: E402

VARIANTS = {"scratch": ["round2.init=scratch"], "default": [], "plain": ["round2.train=[]"]}


def cpu_flags() -> str:
    """The vector extensions that decide CPU training speed, from /proc/cpuinfo."""
    try:
        flags = next(line for line in open("/proc/cpuinfo") if line.startswith("flags")).split()
    except (OSError, StopIteration):
        return "unknown"
    return ", ".join(f for f in ("avx2", "avx512f", "avx512_bf16", "amx_bf16") if f in flags)


def table(rows: dict[str, dict]) -> str:
    """Markdown: Dice, CPU seconds and the CPU ratio to ``scratch`` per variant."""
    base = rows.get("scratch", {}).get("train_cpu_s")
    lines = ["| round 2 | held-out Dice | training CPU s | CPU / scratch's |", "|---|---|---|---|"]
    for name, row in rows.items():
        ratio = f"{row['train_cpu_s'] / base:.2f}" if base else "—"
        lines.append(f"| {name} | {row['dice']:.3f} | {row['train_cpu_s']:.0f} | {ratio} |")
    return "\n".join(lines)


def compare(run_dir: Path, argv: list[str]) -> dict[str, dict]:
    """Train and score each variant on ``run_dir``'s round 1 and round-2 curated set."""
    saved = OmegaConf.load(run_dir / "config.yaml")
    keys = [a for a in argv if not a.startswith("variants=")]
    chosen = next((a.split("=", 1)[1].split(",") for a in argv if a.startswith("variants=")),
                  list(VARIANTS))
    unknown = [v for v in chosen if v not in VARIANTS]
    if unknown:
        raise ConfigError(f"variants={','.join(chosen)}: unknown {unknown}; use {list(VARIANTS)}")
    import torch

    torch.set_num_threads(int(experiment.thread_env(saved)["OMP_NUM_THREADS"]))
    data = experiment.prepare_data(saved, run_dir)  # the run's own folders (written already)
    rows = {}
    for name in chosen:
        cfg = experiment.load_setting([f"setting={saved.setting}", f"seed={saved.seed}",
                                       f"out={run_dir}", *VARIANTS[name], *keys])
        net, overrides = next((n, o) for n, o in cfg.networks.items() if o is not None)
        round1, curated = run_dir / "round1" / net, run_dir / "round2" / net / "curated"
        if not (round1 / "train" / "checkpoints" / "best.ckpt").is_file() or \
                not curated.is_dir():
            raise SeglightError(f"{run_dir}: no round-1 network or round-2 curated set of "
                                f"{net}; run run.py with out={run_dir} first")
        r2_cfg, r2_overrides = experiment.round2_training(cfg, round1, list(overrides))
        where = run_dir / "round2_init" / name
        row = experiment.train_and_score(r2_cfg, where, curated, r2_overrides, data["pool"],
                                         data["heldout"])
        row["train_cpu_s"] = float((where / "train" / "cpu_s.txt").read_text())
        rows[name] = row
        print(f"{name}: Dice {row['dice']:.3f}, {row['train_cpu_s']:.0f} CPU s", flush=True)
    return rows


def main(argv: list[str]) -> int:
    if not argv or {"-h", "--help"} & set(argv):
        print(__doc__)
        return 0 if argv else 2
    run_dir = Path(argv[0])
    try:
        if not (run_dir / "config.yaml").is_file():
            raise ConfigError(f"{run_dir}: no config.yaml; pass a folder run.py wrote")
        rows = compare(run_dir, argv[1:])
    except SeglightError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    print(f"\nCPU: {cpu_flags() or 'no AVX2'}; one thread per training ({run_dir})\n")
    print(table(rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
