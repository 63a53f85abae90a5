"""Do exported bioimage.io packages give the checkpoint's masks, and does the default recipe
that makes them do so cost accuracy?

    python scripts/bench_export.py --out /tmp/bench_export [--ovule ../shared/data/sample_ovule.h5]

1. **Accuracy of the new default.** ``unet_xy_tiny`` trained on the demo data
   (``python -m seglight.train``, its default budget: 8 epochs of 24 patches) with
   seglight's old default recipe (``auto_contrast(2.5, 10)``) and the new one
   (``clipped_zscore(2.5, 10)``), same seeds; held-out Dice on the benchmark's held-out images
   (:mod:`seglight.data.benchmark`, true masks, whole images).
2. **Packages equal checkpoints.** For every recipe of ``conf/data/normalization/`` (and the
   old ``auto_contrast``, exported with ``allow_inexact=true``, for comparison): a network
   trained with it is exported by ``python -m seglight.export format=bioimageio``; the
   package's mask, predicted by ``bioimageio.core.predict`` (its preprocessing, its
   TorchScript weights, the whole image in one block), is compared with the checkpoint's
   (seglight's normalization, float32, the whole image in one window) on the real ovule and
   on a benchmark image; ``bioimageio.core.test_model`` (what ``bioimageio test`` runs) on
   each package.

Trainings are resumed from ``--out`` (a finished run is not repeated). Each training runs in
its own process with one thread (``OMP_NUM_THREADS=1``); CPU seconds are the children's.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import yaml

REPO = Path(__file__).resolve().parents[1]
OLD_DEFAULT = [{"op": "auto_contrast", "lower_std": 2.5, "upper_std": 10}]


def cpu_flags() -> str:
    try:
        flags = Path("/proc/cpuinfo").read_text().split("flags")[1].split("\n")[0].split()
    except (OSError, IndexError):
        return platform.processor()
    return ", ".join(f for f in ("avx2", "avx512f", "avx512_bf16", "amx_tile") if f in flags)


def recipe_override(recipe: list[dict]) -> str:
    flow = yaml.safe_dump(recipe, default_flow_style=True, sort_keys=False).strip()
    return f"data.normalization={flow}"


def train(run: Path, recipe: list[dict], seed: int, data_dir: Path, epochs: int) -> Path:
    """``python -m seglight.train`` (demo data, unet_xy_tiny) with ``recipe``; its best.ckpt."""
    best = run / "checkpoints" / "best.ckpt"
    if (run / "done").exists():
        return best
    command = [sys.executable, "-m", "seglight.train", f"seed={seed}",
               f"paths.data_dir={data_dir}", f"hydra.run.dir={run}",
               f"trainer.max_epochs={epochs}", "trainer.enable_progress_bar=false",
               "logger=csv", recipe_override(recipe)]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(REPO)}
    run.mkdir(parents=True, exist_ok=True)
    with open(run / "train.out", "w") as log:
        subprocess.run(command, check=True, env=env, stdout=log, stderr=subprocess.STDOUT)
    (run / "done").touch()
    return best


def checkpoint_mask(ckpt: Path, image: np.ndarray, precision: str = "32") -> np.ndarray:
    from seglight.predict.network import NetworkBinarizer

    binarizer = NetworkBinarizer.from_checkpoint(ckpt, precision=precision,
                                                 window_zyx=image.shape)
    return binarizer.predict_proba(image) > binarizer.threshold


def package_mask(package: Path, image: np.ndarray) -> np.ndarray:
    """bioimageio.core's prediction of the whole image, thresholded as the package says."""
    from bioimageio.core import predict
    from bioimageio.core.tensor import Tensor
    from bioimageio.spec import load_model_description

    descr = load_model_description(package, perform_io_checks=False)
    dims = ("batch", "channel", "z", "y", "x")
    tensor = Tensor(np.asarray(image, np.float32)[None, None], dims=dims)
    out = predict(model=descr, inputs={descr.inputs[0].id: tensor})
    proba = np.asarray(out.members[descr.outputs[0].id].data.values)[0, 0]
    return proba > descr.config.model_dump()["seglight"]["threshold"]


def export(ckpt: Path, out: Path, test_image: Path, inexact: bool) -> Path:
    if out.exists():
        return out
    command = [sys.executable, "-m", "seglight.export", f"ckpt_path={ckpt}", f"out={out}",
               "format=bioimageio", f"test_image={test_image}", "authors=seglight bench"]
    if inexact:
        command.append("allow_inexact=true")
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(REPO)}
    subprocess.run(command, check=True, env=env)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--ovule", type=Path,
                        default=REPO.parent / "shared" / "data" / "sample_ovule.h5")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    parser.add_argument("--epochs-other", type=int, default=2,
                        help="epochs for the recipes of part 2 other than the two defaults")
    parser.add_argument("--epochs-default", type=int, default=8,
                        help="epochs for the old and new default (part 1)")
    parser.add_argument("--skip-accuracy", action="store_true", help="part 2 only")
    parser.add_argument("--skip-packages", action="store_true", help="part 1 only")
    args = parser.parse_args()
    import h5py

    from seglight import CONF_DIR
    from seglight.data.benchmark import HELDOUT_OFFSET, make_benchmark_image
    from seglight.evaluation.scores import dice
    from seglight.io import write_ome_tiff

    out, data_dir = args.out, args.out / "data"
    print(f"CPU: {platform.processor() or platform.machine()} ({cpu_flags()}), "
          f"{os.cpu_count()} cores; trainings one thread each", flush=True)
    heldout = [make_benchmark_image(HELDOUT_OFFSET + i) for i in range(4)]
    start = time.time()

    # 1. accuracy: old vs new default, same seeds
    recipes = {"auto_contrast (old default)": OLD_DEFAULT,
               "clipped_zscore (new default)": yaml.safe_load(
                   (CONF_DIR / "data" / "normalization" / "clipped_zscore.yaml").read_text())}
    if not args.skip_accuracy:
        rows = []
        for seed in args.seeds:
            for name, recipe in recipes.items():
                key = name.split()[0]
                ckpt = train(out / f"{key}_s{seed}", recipe, seed, data_dir,
                             args.epochs_default)
                scores = [dice(checkpoint_mask(ckpt, b.image), b.truth)
                          for b in heldout]
                rows.append((name, seed, float(np.mean(scores))))
        used = resource.getrusage(resource.RUSAGE_CHILDREN)
        print("\n| recipe | seed | held-out Dice (4 benchmark images) |\n|---|---|---|")
        for name, seed, score in rows:
            print(f"| {name} | {seed} | {score:.4f} |")
        for name in recipes:
            mean = np.mean([s for n, _, s in rows if n == name])
            print(f"| {name} | mean | {mean:.4f} |")
        print(f"training CPU: {(used.ru_utime + used.ru_stime) / 60:.1f} min "
              f"(children), wall {(time.time() - start) / 60:.1f} min\n", flush=True)

    if args.skip_packages:
        return
    # 2. packages vs checkpoints
    with h5py.File(args.ovule, "r") as f:
        ovule = f["raw"][:]
        spacing = tuple(float(v) for v in f["raw"].attrs["element_size_um"])
    images = {"ovule (real)": ovule, "benchmark held-out 0": heldout[0].image}
    write_ome_tiff(out / "ovule.ome.tif", ovule, spacing)
    group = {p.stem: yaml.safe_load(p.read_text())
             for p in sorted((CONF_DIR / "data" / "normalization").glob("*.yaml"))}
    from bioimageio.core import test_model

    print("| recipe | exported | image | Dice package vs checkpoint | voxels differing | "
          "mask fraction | bioimageio test |\n|---|---|---|---|---|---|---|")
    for name, recipe in [*group.items(), ("auto_contrast (old)", OLD_DEFAULT)]:
        key = name.split()[0]
        if key in ("clipped_zscore", "auto_contrast"):  # part 1's networks (first seed)
            ckpt = train(out / f"{key}_s{args.seeds[0]}", recipe, args.seeds[0], data_dir,
                         args.epochs_default)
        else:
            ckpt = train(out / f"recipe_{key}", recipe, args.seeds[0], data_dir,
                         args.epochs_other)
        inexact = key == "auto_contrast"
        package = export(ckpt, out / f"{key}.zip", out / "ovule.ome.tif", inexact)
        status = test_model(package).status
        for image_name, image in images.items():
            ours, theirs = checkpoint_mask(ckpt, image), package_mask(package, image)
            print(f"| {name} | {'allow_inexact' if inexact else 'exact'} | {image_name} | "
                  f"{dice(theirs, ours):.4f} | {int((theirs != ours).sum())} | "
                  f"{ours.mean():.3f} | {status} |", flush=True)
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    print(f"\nall: children CPU {(used.ru_utime + used.ru_stime) / 60:.1f} min, "
          f"wall {(time.time() - start) / 60:.1f} min")


if __name__ == "__main__":
    main()
