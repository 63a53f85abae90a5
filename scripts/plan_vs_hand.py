"""The plan against the best hand-written config, at equal CPU budget, on held-out images.

    OMP_NUM_THREADS=1 python scripts/plan_vs_hand.py --curated DIR --heldout DIR --out DIR \
        [--budget-cpu-s 300] [--seed 0] [key=value ...]

(``key=value``: overrides of the planned arm, applied after its plan: an ablation.)

Two trainings on the same curated folder, side by side, one thread each:

- ``hand``: the Lamin iterative experiment's pinned small-setting recipe
  (``experiments/lamin_iterative/small.yaml``: ``unet_xy_tiny`` width 4, 16x48x48 x 4,
  dice_ce, AdamW one-cycle, 256 steps), the best hand-written config for that budget;
- ``auto``: ``python -m seglight.train experiment=auto auto.clock=cpu
  auto.budget=<budget-cpu-s>s``: planned from the folder, then trained.

Each training's process CPU time is measured (``os.wait4``: the child's own rusage, so the
other work on a shared machine does not count). The best checkpoints predict the held-out
images (``--heldout`` with ``raw/`` and ``truth/``), scored by ``seglight.evaluation``
(Dice pooled over the images, no ``min_size`` post-processing for either). Writes
``results.md`` in ``--out``.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

import yaml
from omegaconf import OmegaConf

REPO = Path(__file__).resolve().parents[1]
SMALL = REPO / "experiments" / "lamin_iterative" / "small.yaml"
COMMON = ["logger=csv", "callbacks.progress_bar=null"]


def hand_overrides() -> list[str]:
    setting = OmegaConf.load(SMALL)
    return [*OmegaConf.to_container(setting.train, resolve=True),
            *OmegaConf.to_container(setting.networks.unet_xy_tiny, resolve=True)]


def launch(args: list[str], log: Path) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    log.parent.mkdir(parents=True, exist_ok=True)
    (log.parent / "command.txt").write_text(" ".join(args) + "\n")
    return subprocess.Popen([sys.executable, "-m", "seglight.train", *args], env=env,
                            stdout=open(log, "w"), stderr=subprocess.STDOUT, cwd=log.parent)


def wait_cpu(proc: subprocess.Popen) -> tuple[int, float, float]:
    """(exit code, the child's CPU seconds, wall seconds since now)."""
    t0 = time.perf_counter()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    return proc.returncode, usage.ru_utime + usage.ru_stime, time.perf_counter() - t0


def score(ckpt: Path, heldout: Path, out: Path) -> float:
    import seglight
    import seglight.evaluation

    seglight.predict_files(heldout / "raw", out, ckpt_path=ckpt, progress=False)
    report = seglight.evaluation.evaluate(out, heldout / "truth", out=out / "evaluation",
                                          log=lambda line: None)
    return float(report.overall["dice"])


def trained_steps(run: Path) -> int:
    """The optimizer steps the run took (its last checkpoint's count: a budget sets it)."""
    import torch

    state = torch.load(run / "checkpoints" / "last.ckpt", map_location="cpu", weights_only=False)
    return int(state["global_step"])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--curated", type=Path, required=True)
    parser.add_argument("--heldout", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--budget-cpu-s", type=float, default=300.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--arms", default="hand,auto")
    parser.add_argument("overrides", nargs="*",
                        help="key=value given to the auto arm after its plan (an ablation)")
    args = parser.parse_args()
    out = args.out.resolve()
    common = [f"data.path={args.curated.resolve()}", f"seed={args.seed}", *COMMON]
    arms = {
        "hand": [*hand_overrides(), *common, f"hydra.run.dir={out / 'hand'}"],
        "auto": ["experiment=auto", "auto.clock=cpu", f"auto.budget={args.budget_cpu_s:g}s",
                 f"paths.root_dir={out / 'auto_root'}", *common,
                 f"hydra.run.dir={out / 'auto'}", *args.overrides],
    }
    arms = {k: v for k, v in arms.items() if k in args.arms.split(",")}
    procs = {name: launch(a, out / name / "train.log") for name, a in arms.items()}
    rows = []
    for name, proc in procs.items():
        code, cpu_s, _ = wait_cpu(proc)
        ckpt = out / name / "checkpoints" / "best.ckpt"
        if code or not ckpt.is_file():
            print(f"{name}: training failed (exit {code}); see {out / name / 'train.log'}")
            return 1
        cfg = yaml.safe_load((out / name / ".hydra" / "config.yaml").read_text())
        dice = score(ckpt, args.heldout, out / name / "heldout")
        rows.append((name, cpu_s, dice, cfg))
        print(f"{name}: {cpu_s:.0f} CPU s, held-out Dice {dice:.3f}", flush=True)
    lines = ["| config | model | width | patch | batch | loss | fg | steps | training CPU s "
             "| held-out Dice |", "|---|---|---|---|---|---|---|---|---|---|"]
    for name, cpu_s, dice, cfg in rows:
        m, d = cfg["model"], cfg["data"]
        steps = trained_steps(out / name)
        lines.append(f"| {name} | {m['net']['_target_'].rsplit('.', 1)[-1]} | "
                     f"{m['net'].get('width', '-')} | {d['patch_zyx']} | {d['batch_size']} | "
                     f"{m['loss']['kind']} | {d['foreground_fraction']} | {steps} | "
                     f"{cpu_s:.0f} | {dice:.3f} |")
    (out / "results.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
