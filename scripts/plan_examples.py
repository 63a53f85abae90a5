"""Plan (without training) four synthetic curated sets and print the plans side by side.

    python scripts/plan_examples.py [--budget 10min] [--out runs/plan_examples] [--device cpu]

The sets (written once into --out, each a curated folder of image, _GT):

- ``demo``: the embedded demo (Lamin-B1-like nuclear envelopes, 0.29 x 0.108 x 0.108 um);
- ``anisotropic``: tubular, mitochondria-like filaments 0.2 um thick, 0.5 x 0.1 x 0.1 um;
- ``isotropic``: filled vesicles/nuclei 3-5 um across, 0.2 um isotropic;
- ``large``: light-sheet-like nuclei 8-12 um across in large images (128 x 384 x 384 voxels),
  1 um isotropic.

The table (markdown) is what docs/plan.md shows; the times are measured on this machine
(one thread each when OMP_NUM_THREADS=1), so the step counts are this machine's.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
from scipy import ndimage as ndi

from seglight.data.demo import ensure_demo_dataset
from seglight.io.curated import find_triplets, write_triplet


def _image(mask: np.ndarray, rng: np.random.Generator, sigma) -> np.ndarray:
    signal = ndi.gaussian_filter(mask.astype(np.float32) * 800, sigma)
    background = 300 + 60 * np.linspace(0, 1, mask.shape[2])[None, None, :]
    return rng.poisson(signal + background).astype(np.uint16)


def _balls(shape, n, radius_vox, rng) -> np.ndarray:
    mask = np.zeros(shape, bool)
    for _ in range(n):
        r = rng.uniform(*radius_vox)
        c = [rng.uniform(r, s - r) if s > 2 * r else s / 2 for s in shape]
        box = tuple(slice(max(0, int(ci - r)), min(s, int(ci + r) + 2))
                    for ci, s in zip(c, shape, strict=True))
        grid = np.ogrid[box]
        mask[box] |= sum(((g - ci) / r) ** 2 for g, ci in zip(grid, c, strict=True)) <= 1
    return mask


def _tubes(shape, n, rng) -> np.ndarray:
    mask = np.zeros(shape, bool)
    for _ in range(n):
        p = np.array([rng.uniform(2, s - 2) for s in shape])
        d = rng.normal(size=3) * [0.1, 1, 1]
        d /= np.linalg.norm(d)
        for _ in range(60):
            p = p + d
            q = np.round(p).astype(int)
            if all(0 <= qi < s for qi, s in zip(q, shape, strict=True)):
                mask[tuple(q)] = True
            d = d + rng.normal(size=3) * [0.02, 0.15, 0.15]
            d /= np.linalg.norm(d)
    return ndi.binary_dilation(mask, np.ones((1, 3, 3), bool))  # 3 px (0.3 um) across in xy


SETS = {
    "anisotropic": dict(spacing=(0.5, 0.1, 0.1), shape=(24, 128, 128), n=6,
                        make=lambda s, rng: _tubes(s, 25, rng), sigma=(0.8, 1.0, 1.0)),
    "isotropic": dict(spacing=(0.2, 0.2, 0.2), shape=(64, 96, 96), n=6,
                      make=lambda s, rng: _balls(s, 6, (8, 12), rng), sigma=(1.0, 1.0, 1.0)),
    "large": dict(spacing=(1.0, 1.0, 1.0), shape=(128, 384, 384), n=4,
                  make=lambda s, rng: _balls(s, 300, (4, 6), rng), sigma=(1.2, 1.0, 1.0)),
}


def write_sets(out: Path) -> dict[str, Path]:
    folders = {"demo": ensure_demo_dataset(out / "demo")}
    for name, spec in SETS.items():
        folder = out / name
        folders[name] = folder
        if folder.is_dir() and len(find_triplets(folder)) == spec["n"]:
            continue
        for i in range(spec["n"]):
            rng = np.random.default_rng(i)
            mask = spec["make"](spec["shape"], rng)
            write_triplet(folder, f"{name}_{i}", _image(mask, rng, spec["sigma"]),
                          mask.astype(np.uint8), None, spec["spacing"])
    return folders


COLUMNS = ["voxel size (um)", "images", "kind", "thickness (um)", "model", "zoom", "width",
           "patch", "batch", "loss", "normalization", "fg sampling", "steps", "step (s)",
           "memory (GB)"]


def row(name: str, plan, args_clock: str = "wall") -> list[str]:
    fp, get = plan.fingerprint, plan.get
    width = get("model.net.width", get("width (base)"))
    return [name, "x".join(f"{s:g}" for s in fp.spacing_um),
            f"{fp.n_images} x {'x'.join(map(str, fp.median_shape))}", fp.kind,
            f"{fp.thickness_um:.2f}", get("model"), str(get("model.net.zoom", "-")), str(width),
            str(get("data.patch_zyx")), str(get("data.batch_size")), get("model.loss.kind"),
            get("data/normalization"), str(get("data.foreground_fraction")),
            str(get("steps (estimate)")),
            f"{plan.measured.cpu_s if args_clock == 'cpu' else plan.measured.wall_s:.2f}",
            str(get("memory (GB)"))]


def main() -> None:
    import torch

    from seglight.planning import make_plan
    from seglight.training.precision import cpu_bf16_flags

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budget", default="10min")
    parser.add_argument("--out", default="runs/plan_examples", type=Path)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--memory-gb", type=float, default=None,
                        help="memory to plan for (default: measured free memory)")
    parser.add_argument("--sets", default="demo,anisotropic,isotropic,large")
    parser.add_argument("--clock", default="wall", choices=["wall", "cpu"],
                        help="budget in wall or process CPU seconds (a shared machine: cpu)")
    args = parser.parse_args()
    folders = write_sets(args.out)
    rows = []
    for name in args.sets.split(","):
        t0 = time.perf_counter()
        plan = make_plan(folders[name], budget=args.budget, device=args.device,
                         memory_gb=args.memory_gb, progress=False, clock=args.clock)
        rows.append(row(name, plan, args.clock))
        print(f"{name}: planned in {time.perf_counter() - t0:.0f} s: "
              + " | ".join(rows[-1]), flush=True)
    device = (f"CPU, {torch.get_num_threads()} thread(s), "
              f"{cpu_bf16_flags()}"
              if args.device == "cpu" else torch.cuda.get_device_name())
    print(f"\nbudget {args.budget} ({args.clock} clock) on {device}\n")
    print("| set | " + " | ".join(COLUMNS) + " |")
    print("|" + "---|" * (len(COLUMNS) + 1))
    for r in rows:
        print("| " + " | ".join(r) + " |")


if __name__ == "__main__":
    main()
