"""Voxel Dice of the nucleus-like workflows against filled nuclei: ``nucleus`` (seglight's
own, DNA / H2B stain), ``h2b_interphase`` and ``npm1``.

Two sources of images with their true nuclei:

- synthetic DNA-stained nuclei (:func:`seglight.data.structures.dna_nuclei_and_truth`:
  chromatin texture, bright foci, dark nucleoli; the truth includes the nucleoli), one per
  seed;
- optionally a real stack and its nuclei (``--image`` and ``--truth``, TIFF; any label
  image: voxels > 0 are nuclei), e.g. the 3D nuclei that the ``stardist`` wheel ships as
  test data (``stardist/data/images/img3d.tif`` and ``mask3d.tif``).

    python scripts/nucleus_dice.py [--seeds 3] [--shape 24x128x128] [--image F --truth F]

Prints one row per image and workflow, then the mean over the synthetic images.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from seglight.classic import run_workflow
from seglight.data.structures import dna_nuclei_and_truth
from seglight.evaluation.scores import dice

WORKFLOWS = ("nucleus", "h2b_interphase", "npm1")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3, help="synthetic images (default: 3)")
    parser.add_argument("--shape", default="24x128x128", help="their ZYX shape")
    parser.add_argument("--image", type=Path, help="a real nuclear-stain stack (TIFF, ZYX)")
    parser.add_argument("--truth", type=Path, help="its nuclei (TIFF, labels or mask)")
    args = parser.parse_args(argv)
    if (args.image is None) != (args.truth is None):
        parser.error("give --image and --truth together")
    shape = tuple(int(v) for v in args.shape.split("x"))
    images = [(f"synthetic seed {seed}", *dna_nuclei_and_truth(shape, seed))
              for seed in range(args.seeds)]
    if args.image is not None:
        import tifffile

        images.append((args.image.name, tifffile.imread(args.image),
                       tifffile.imread(args.truth) > 0))
    print(f"{'image':<24}" + "".join(f"{name:>16}" for name in WORKFLOWS))
    synthetic = {name: [] for name in WORKFLOWS}
    for label, image, truth in images:
        row = {name: dice(run_workflow(name, image), truth) for name in WORKFLOWS}
        if label.startswith("synthetic"):
            for name, value in row.items():
                synthetic[name].append(value)
        print(f"{label:<24}" + "".join(f"{row[name]:>16.3f}" for name in WORKFLOWS))
    print(f"{'mean of synthetic':<24}"
          + "".join(f"{np.mean(synthetic[name]):>16.3f}" for name in WORKFLOWS))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
