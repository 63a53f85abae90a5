"""What scoring one mask pair costs, step by step, on a 64x512x512 pair.

The baseline is the voxel counts alone (what a Dice/IoU needs), measured in the same run, so
each step prints as a ratio to it as well as in seconds (wall and this process's CPU time;
on a shared machine the CPU time is the steadier figure). Steps: the voxel counts, object
labelling and matching, the surface distances (one MONAI edge + KD-tree pass), and the whole
:func:`seglight.evaluation.score_masks`.

Two kinds of masks: ``blobs`` (40 filled spheres of radius 6-20 voxels, the prediction
shifted by one voxel in x and y with 1 % of voxels flipped near the surface) and ``shells``
(the same spheres as 2-voxel-thick envelopes, where nearly every voxel is surface: the worst
case for surface distances).

Usage:
    python scripts/bench_evaluate.py [--shape 64x512x512] [--repeats 1]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from scipy import ndimage as ndi

from seglight.evaluation import score_masks
from seglight.evaluation.objects import match_objects
from seglight.evaluation.surface import surface_distances_um

SPACING = (0.29, 0.108, 0.108)


def make_pair(shape, kind: str, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Ground truth and a slightly wrong prediction (see the module docstring)."""
    rng = np.random.default_rng(seed)
    zz, yy, xx = np.ogrid[: shape[0], : shape[1], : shape[2]]
    gt = np.zeros(shape, dtype=bool)
    for _ in range(40):
        c = [rng.uniform(0, s) for s in shape]
        r = rng.uniform(6, 20)
        d2 = ((zz - c[0]) * 2.7) ** 2 + (yy - c[1]) ** 2 + (xx - c[2]) ** 2  # anisotropic voxels
        gt |= (d2 <= r**2) & ((d2 >= (r - 2) ** 2) if kind == "shells" else True)
    pred = np.roll(gt, (1, 1), axis=(1, 2))
    surface = pred ^ ndi.binary_erosion(pred)
    flip = surface & (rng.random(shape) < 0.01)
    return pred ^ flip, gt


def timed(fn, repeats: int) -> tuple[float, float]:
    """Best wall and CPU seconds of ``repeats`` calls."""
    walls, cpus = [], []
    for _ in range(repeats):
        w, c = time.perf_counter(), time.process_time()
        fn()
        walls.append(time.perf_counter() - w)
        cpus.append(time.process_time() - c)
    return min(walls), min(cpus)


def _steps(pred: np.ndarray, gt: np.ndarray) -> dict:
    return {
        "voxel counts (baseline)": lambda: [np.count_nonzero(pred & gt),
                                            np.count_nonzero(pred & ~gt),
                                            np.count_nonzero(~pred & gt)],
        "objects: label + match": lambda: match_objects(pred, gt),
        "surfaces: HD95 + MSD": lambda: surface_distances_um(pred, gt, SPACING),
        "score_masks (all)": lambda: score_masks(pred, gt, spacing_zyx=SPACING),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shape", default="64x512x512")
    parser.add_argument("--repeats", type=int, default=1)
    args = parser.parse_args()
    shape = tuple(int(v) for v in args.shape.split("x"))
    surface_distances_um(np.ones((3, 3, 3), bool), np.ones((3, 3, 3), bool), (1, 1, 1))  # warm
    for kind in ("blobs", "shells"):
        pred, gt = make_pair(shape, kind)
        steps = _steps(pred, gt)
        print(f"\n{kind}: {shape}, {int(gt.sum())} gt voxels, "
              f"{int((gt ^ ndi.binary_erosion(gt)).sum())} gt surface voxels")
        base = None
        for name, fn in steps.items():
            wall, cpu = timed(fn, args.repeats)
            base = base or wall
            print(f"  {name:28s} wall {wall:7.2f} s  cpu {cpu:7.2f} s  x{wall / base:7.1f}")


if __name__ == "__main__":
    main()
