"""Where trained networks differ: one z slice of an image, its truth, the labels' source and
each network's foreground probability with the true structure outlined.

    python scripts/seeds_picture.py --image RAW.tif --truth TRUTH.tif [--labels CLASSIC.tif] \
        --ckpt runs/a/checkpoints/best.ckpt runs/b/checkpoints/best.ckpt ... \
        [--names "seed 0" "seed 1" ...] [--z 16] [--title TEXT] --out seeds.png

Each panel's title gives the network's held-out Dice on the whole image (probability above
its threshold against the truth). The picture of docs/plan.md ("three seeds on the ovule")
is made this way from the three plan_vs_hand runs of the ovule.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import tifffile
from skimage.segmentation import find_boundaries

from seglight.evaluation.scores import dice
from seglight.predict.build import build_binarizer


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--image", type=Path, required=True, help="raw image (TIFF, ZYX)")
    parser.add_argument("--truth", type=Path, required=True, help="true mask (TIFF; > 0)")
    parser.add_argument("--labels", type=Path, help="the training labels' source, a mask")
    parser.add_argument("--ckpt", type=Path, nargs="+", required=True, help="checkpoints")
    parser.add_argument("--names", nargs="+", help="one name per checkpoint")
    parser.add_argument("--z", type=int,
                        help="slice shown (default: where the networks disagree most)")
    parser.add_argument("--title", default="", help="a line above the panels")
    parser.add_argument("--out", type=Path, required=True, help="the PNG written")
    args = parser.parse_args(argv)
    names = args.names or [p.parent.parent.name for p in args.ckpt]
    if len(names) != len(args.ckpt):
        parser.error("give one --names entry per --ckpt")

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    image = tifffile.imread(args.image)
    truth = tifffile.imread(args.truth) > 0
    probas, scores = [], []
    for ckpt, name in zip(args.ckpt, names, strict=True):
        binarizer = build_binarizer(None, ckpt, {}, None)
        probas.append(binarizer.predict_proba(image))
        scores.append(dice(probas[-1] > binarizer.threshold, truth))
        print(f"{name}: held-out Dice {scores[-1]:.3f} ({ckpt})")
    z = args.z if args.z is not None else int(np.argmax(np.std(probas, axis=0).sum(axis=(1, 2))))
    print(f"slice z={z}")
    panels = [(image[z], f"raw (z {z})", None, None), (truth[z], "truth", (0, 1), None)]
    if args.labels is not None:
        labels = tifffile.imread(args.labels) > 0
        panels.append((labels[z], f"labels' source\nDice {dice(labels, truth):.3f}", (0, 1),
                       None))
    outline = find_boundaries(truth[z], mode="inner")
    for proba, score, name in zip(probas, scores, names, strict=True):
        panels.append((proba[z], f"{name}: probability\nheld-out Dice {score:.3f}", (0, 1),
                       outline))

    fig, axes = plt.subplots(1, len(panels), figsize=(2.9 * len(panels), 3.3))
    for ax, (view, title, limits, edge) in zip(axes, panels, strict=True):
        vmin, vmax = limits or (None, None)
        ax.imshow(view, cmap="gray", interpolation="nearest", vmin=vmin, vmax=vmax)
        if edge is not None:
            overlay = np.zeros((*edge.shape, 4))
            overlay[edge] = (0.1, 0.8, 0.1, 0.45)
            ax.imshow(overlay, interpolation="nearest")
        ax.set_title(title, fontsize=9)
        ax.axis("off")
    if args.title:
        fig.suptitle(args.title, fontsize=9)
    fig.tight_layout(rect=(0, 0, 1, 0.9 if args.title else 1))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(args.out, dpi=90)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
