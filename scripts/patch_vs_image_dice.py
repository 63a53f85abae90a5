"""Why a checkpoint's logged patch ``val/dice`` differs from its whole-image Dice.

    python scripts/patch_vs_image_dice.py runs/train/<time>/checkpoints/best.ckpt \
        [--per-image 6] [--foreground-fraction 0.5] [--split val]

On the images of the checkpoint's recorded split (``split.json``), with the same fixed
validation patches training drew (seed 0, ``--per-image`` per image, centred near
foreground with probability ``--foreground-fraction``: pass the data config's values), it
prints Dice, precision and recall over voxels with costmap > 0 three ways:

1. ``patches, patch alone``: each patch predicted on its own, as ``val/dice`` does;
2. ``patches, whole image``: the whole image predicted by the tiler, counted only on the
   same patches (same voxels as 1, other predictions);
3. ``whole image``: every voxel (what ``python -m seglight.evaluate ckpt_path=...`` reports).

1 vs 2 is the effect of predicting a patch alone (borders, no context); 2 vs 3 is the
effect of counting the voxels the patches did not cover.
"""

from __future__ import annotations

import argparse

import numpy as np
import torch

from seglight.data.patches import PatchSampler, crop_padded
from seglight.data.splits import CHECKPOINT_KEY
from seglight.io.checkpoint import load_checkpoint
from seglight.io.curated import find_triplets, load_triplet
from seglight.networks.base import center_crop
from seglight.normalization import Normalizer
from seglight.predict.network import NetworkBinarizer, load_module


def _counts(pred: np.ndarray, gt: np.ndarray, costmap: np.ndarray) -> np.ndarray:
    valid = costmap > 0
    pred, gt = pred & valid, (gt > 0) & valid
    return np.array([np.sum(pred & gt), np.sum(pred & ~gt), np.sum(~pred & gt)], np.float64)


def _line(name: str, c: np.ndarray) -> str:
    tp, fp, fn = c
    return (f"{name:24} Dice {2 * tp / (2 * tp + fp + fn):.3f}  precision {tp / (tp + fp):.3f}"
            f"  recall {tp / (tp + fn):.3f}  TP+FP+FN {int(c.sum())}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("ckpt")
    parser.add_argument("--per-image", type=int, default=6)
    parser.add_argument("--foreground-fraction", type=float, default=0.5)
    parser.add_argument("--split", default="val")
    args = parser.parse_args()
    torch.set_grad_enabled(False)
    module = load_module(args.ckpt).eval()
    hp = module.hparams
    record = load_checkpoint(args.ckpt)[CHECKPOINT_KEY]
    triplets = {t.name: t for t in find_triplets(record["path"])}
    normalize = Normalizer(hp.normalization)
    samples, raws = [], []
    for name in record[args.split]:
        sample = load_triplet(triplets[name])
        raws.append(sample.image.copy())
        sample.image = normalize(sample.image)
        samples.append(sample)
    patch = tuple(hp.patch_zyx)
    sampler = PatchSampler(samples, patch, args.foreground_fraction)
    binarizer = NetworkBinarizer(module.net, hp.normalization, hp.threshold, precision="32")
    rng = np.random.default_rng(0)  # FixedPatchDataset's seed and drawing order
    alone, tiled, whole = np.zeros(3), np.zeros(3), np.zeros(3)
    for i, sample in enumerate(samples):
        full = binarizer.predict_proba(raws[i]) > hp.threshold
        whole += _counts(full, sample.gt, sample.costmap)
        for _ in range(args.per_image):
            start = sampler._center(i, rng) - np.array(patch) // 2
            image, gt, cm = (crop_padded(v, start, patch)
                             for v in (sample.image, sample.gt, sample.costmap))
            logits = module.net.predict_logits(torch.from_numpy(image)[None, None])
            prob = torch.softmax(logits.float(), dim=1)[0, 1]
            out = tuple(prob.shape)
            crop = [center_crop(torch.from_numpy(np.ascontiguousarray(v)), out).numpy()
                    for v in (gt, cm, crop_padded(full, start, patch))]
            alone += _counts(prob.numpy() > hp.threshold, crop[0], crop[1])
            tiled += _counts(crop[2], crop[0], crop[1])
    print(f"{args.ckpt}: {len(samples)} {args.split} image(s), {args.per_image} patches each")
    print(_line("patches, patch alone", alone))
    print(_line("patches, whole image", tiled))
    print(_line("whole image", whole))


if __name__ == "__main__":
    main()
