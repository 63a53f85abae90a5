"""How erratic a short training run is: seeds of one config, held-out Dice of each checkpoint.

    python scripts/bench_short_runs.py                            # default vs stable, 3 seeds
    python scripts/bench_short_runs.py --variants old new --seeds 0 1 2 3
    python scripts/bench_short_runs.py --report-only              # the table of runs done
    python scripts/bench_short_runs.py --val-noise runs/short_runs/old_seed0/checkpoints/last.ckpt

Each run is ``python -m seglight.train`` (the real fit, checkpoints included) on the
Lamin-B1-like benchmark of :mod:`seglight.data.benchmark` (``--n-pool`` training images with
their true masks, a quarter of them for validation), with a small ``unet_xy_tiny`` (``--net``
overrides) for ``--epochs`` epochs. ``best.ckpt`` (highest validation Dice) and ``last.ckpt``
are then scored on ``--n-heldout`` held-out images, whole, against their true masks. The
table gives, per variant, each seed's held-out Dice, the spread (max - min) and the process
CPU seconds of training, all measured in this run. Results are saved per run in ``--out``
(a killed run resumes; a run whose folder exists is skipped: delete it to redo it).

Variants (:data:`VARIANTS`): Hydra overrides on top of seglight's defaults. ``old`` is the
default recipe before the stability fix (constant learning rate, 4 validation patches per
image: ``_curated.yaml``'s); ``default`` is today's defaults.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_train import _benchmark_data  # noqa: E402

#: What each variant changes from today's defaults.
VARIANTS = {
    "old": ["model.scheduler=null", "model.scheduler_interval=epoch",
            "data.val_patches_per_image=4"],
    "default": [],
    "cosine": ["data.val_patches_per_image=4"],        # the schedule alone
    "val16": ["model.scheduler=null", "model.scheduler_interval=epoch",
              "data.val_patches_per_image=16"],         # the validation alone
}
#: The network: unet_xy_tiny (padded, instance norm) at width 4, small patches: ~1 CPU s/step.
NET = ["model=unet_xy_tiny", "model.net.width=4", "data.patch_zyx=[16,48,48]"]


def _overrides(variant: str, seed: int, curated: Path, out: Path, epochs: int,
               extra: list[str], net: list[str] | None = None) -> list[str]:
    return [*(net or NET), "data=demo", f"data.path={curated}", "data.demo=null",
            "data.val_fraction=0.25", "data.num_workers=0", "data.samples_per_epoch=24",
            f"trainer.max_epochs={epochs}",
            "trainer.accelerator=cpu", "trainer.precision=32-true", "logger=csv",
            "callbacks.progress_bar=null", "trainer.enable_model_summary=false",
            f"seed={seed}", f"paths.output_dir={out}", *VARIANTS[variant], *extra]


def heldout_dice(ckpt: Path, heldout) -> float:
    from seglight.predict.network import load_module
    from seglight.training.metrics import MaskedDiceIoU

    module = load_module(ckpt).eval()
    normalizer = _normalizer(module)
    metric = MaskedDiceIoU()
    with torch.no_grad():
        for image, truth in heldout:
            x = torch.from_numpy(normalizer(image).astype("float32"))[None, None]
            prob = module.predict_proba_tensor(x)
            metric.update(prob > module.hparams.threshold, torch.from_numpy(truth)[None],
                          torch.ones_like(prob))
    return float(metric.compute()["dice"])


def _normalizer(module):
    from seglight.normalization import Normalizer

    return Normalizer(module.hparams.normalization)


def run_one(variant: str, seed: int, args) -> dict:
    from hydra import compose, initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra
    from hydra.core.hydra_config import HydraConfig

    from seglight import CONF_DIR
    from seglight.config import register_resolvers
    from seglight.training.fit import fit

    folder = Path(args.out)
    curated, heldout = _benchmark_data(folder, args.n_pool, args.n_heldout)
    out = folder / f"{variant}_seed{seed}"
    register_resolvers()
    GlobalHydra.instance().clear()
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        cfg = compose("train", overrides=_overrides(variant, seed, curated, out, args.epochs,
                                                     args.override, getattr(args, "net", None)),
                      return_hydra_config=True)
    HydraConfig.instance().set_config(cfg)
    if getattr(args, "cpu_budget", None):
        _budget_in_cpu_seconds()
    cpu0 = time.process_time()
    result = fit(cfg)
    return score(folder, variant, seed, heldout, time.process_time() - cpu0, result.metric)


def score(folder: Path, variant: str, seed: int, heldout, cpu_s: float = float("nan"),
          val_dice: float | None = None) -> dict:
    """Held-out Dice of a run's best.ckpt and last.ckpt, saved beside the run."""
    checkpoints = folder / f"{variant}_seed{seed}" / "checkpoints"
    best = checkpoints / "best.ckpt"
    row = {"variant": variant, "seed": seed, "cpu_s": cpu_s, "val_dice": val_dice,
           "last": heldout_dice(checkpoints / "last.ckpt", heldout),
           "best": heldout_dice(best, heldout) if best.exists() else float("nan")}
    (folder / f"{variant}_seed{seed}.json").write_text(json.dumps(row))
    return row


def validation_noise(ckpt: Path, curated: Path, counts=(4, 16), draws: int = 20) -> dict:
    """How much ``val/dice`` of one checkpoint moves with the validation patches drawn: the
    standard deviation over ``draws`` sets of fixed patches, for each patches-per-image count
    (the same split and sampler as training: a quarter of the images, foreground-centred half
    of the time)."""
    import numpy as np

    from seglight.data.datamodule import split_triplets
    from seglight.data.patches import FixedPatchDataset, PatchSampler
    from seglight.io.curated import find_triplets, load_triplet
    from seglight.predict.network import load_module
    from seglight.training.metrics import MaskedDiceIoU

    module = load_module(ckpt).eval()
    normalizer = _normalizer(module)
    _, val = split_triplets(find_triplets(curated), 0.25, None)
    samples = []
    for triplet in val:
        sample = load_triplet(triplet)
        sample.image = normalizer(sample.image)
        samples.append(sample)
    sampler = PatchSampler(samples, module.hparams.patch_zyx, 0.5)
    out = {}
    for count in counts:
        scores = []
        for draw in range(draws):
            metric = MaskedDiceIoU()
            for item in FixedPatchDataset(sampler, count, seed=1000 + draw):
                with torch.no_grad():
                    prob = module.predict_proba_tensor(item["image"][None])
                metric.update(prob > module.hparams.threshold, item["gt"][None],
                              item["costmap"][None])
            scores.append(float(metric.compute()["dice"]))
        out[count] = {"mean": float(np.mean(scores)), "std": float(np.std(scores)),
                      "range": float(np.ptp(scores))}
        print(f"{count:>3} patches per image ({len(val)} images): val/dice "
              f"{out[count]['mean']:.3f} +- {out[count]['std']:.3f} (sd over {draws} draws), "
              f"range {out[count]['range']:.3f}", flush=True)
    return out


def _budget_in_cpu_seconds() -> None:
    """``budget=`` counted in this process's CPU seconds instead of wall seconds: on a shared
    machine, wall time measures the neighbours as much as the network."""
    import types

    import seglight.training.budget as budget
    import seglight.training.fit as fit

    clock = types.SimpleNamespace(monotonic=time.process_time)
    budget.time = fit.time = clock


def report(folder: Path, variants: list[str], seeds: list[int]) -> None:
    rows = {}
    for variant in variants:
        for seed in seeds:
            path = folder / f"{variant}_seed{seed}.json"
            if path.exists():
                rows.setdefault(variant, []).append(json.loads(path.read_text()))
    print("\nheld-out Dice (benchmark, true masks, whole images); spread = max - min")
    print(f"{'variant':<10}{'checkpoint':<11}" + "".join(f"{'seed ' + str(s):>9}" for s in seeds)
          + f"{'mean':>8}{'spread':>8}{'CPU s/run':>11}")
    for variant, runs in rows.items():
        for key in ("best", "last"):
            values = [r[key] for r in runs]
            timed = [r["cpu_s"] for r in runs if r["cpu_s"] == r["cpu_s"]]  # NaN: re-scored
            cpu = sum(timed) / len(timed) if timed else float("nan")
            by_seed = {r["seed"]: r[key] for r in runs}
            print(f"{variant:<10}{key + '.ckpt':<11}"
                  + "".join(f"{by_seed[s]:>9.3f}" if s in by_seed else f"{'-':>9}" for s in seeds)
                  + f"{sum(values) / len(values):>8.3f}{max(values) - min(values):>8.3f}"
                  + f"{cpu:>11.0f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--variants", nargs="+", default=["old", "default"],
                        choices=list(VARIANTS))
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--out", default="runs/short_runs")
    parser.add_argument("--n-pool", type=int, default=12)
    parser.add_argument("--n-heldout", type=int, default=6)
    parser.add_argument("--net", nargs="+", default=NET,
                        help="the network overrides (default: %(default)s)")
    parser.add_argument("--override", action="append", default=[],
                        help="a Hydra override for every run (repeatable)")
    parser.add_argument("--cpu-budget", type=float,
                        help="train each run for this many process CPU seconds (budget=, its "
                             "clock the CPU's) instead of --epochs")
    parser.add_argument("--val-noise", metavar="CKPT",
                        help="the spread of val/dice over draws of the validation patches, "
                             "4 vs 16 per image, for this checkpoint (on --out's benchmark)")
    parser.add_argument("--score-only", action="store_true",
                        help="score the runs that trained but have no result yet")
    parser.add_argument("--report-only", action="store_true")
    args = parser.parse_args()
    folder = Path(args.out)
    folder.mkdir(parents=True, exist_ok=True)
    if args.val_noise:
        curated, _ = _benchmark_data(folder, args.n_pool, args.n_heldout)
        validation_noise(Path(args.val_noise), curated)
        return
    if args.cpu_budget:  # the budget sets the length: no epoch limit
        args.override = [*args.override, f"budget={args.cpu_budget:g}"]
        args.epochs = -1
    if args.score_only:
        _, heldout = _benchmark_data(folder, args.n_pool, args.n_heldout)
        for variant in args.variants:
            for seed in args.seeds:
                run = folder / f"{variant}_seed{seed}"
                if (run / "checkpoints" / "last.ckpt").exists() and \
                        not (folder / f"{variant}_seed{seed}.json").exists():
                    score(folder, variant, seed, heldout)
    elif not args.report_only:
        import subprocess

        for variant in args.variants:
            for seed in args.seeds:
                if (folder / f"{variant}_seed{seed}").exists():  # done, or another run's
                    continue
                # Each run in its own process: its own memory and CPU clock.
                code = (f"import sys; sys.path.insert(0, {str(Path(__file__).parent)!r}); "
                        "import bench_short_runs as b, argparse; "
                        f"b.run_one({variant!r}, {seed}, argparse.Namespace(**{vars(args)!r}))")
                subprocess.run([sys.executable, "-c", code], check=False)
                print(f"done: {variant} seed {seed}", flush=True)
    report(folder, args.variants, args.seeds)


if __name__ == "__main__":
    main()
