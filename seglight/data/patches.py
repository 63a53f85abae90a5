"""Patch sampling from curated samples held in memory.

Patches are drawn so that training time is spent where it teaches: the centre of a patch is
a voxel with costmap > 0, and with probability ``foreground_fraction`` a foreground voxel
(thin structures such as a nuclear envelope fill ~2 % of an image, and uniform sampling
would show the network mostly background). Near the image border, the missing part of a
patch is zero-padded with costmap 0, so it teaches nothing.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import torch
from torch.utils.data import Dataset

from seglight.data.augment import Augmentation
from seglight.io.curated import Sample


def crop_padded(volume: np.ndarray, start: Sequence[int], size: Sequence[int]) -> np.ndarray:
    """``volume[start:start+size]`` with zeros where the window leaves the volume."""
    out = np.zeros(tuple(size), volume.dtype)
    src, dst = [], []
    for s, n, dim in zip(start, size, volume.shape, strict=True):
        lo, hi = max(s, 0), min(s + n, dim)
        if hi <= lo:
            return out
        src.append(slice(lo, hi))
        dst.append(slice(lo - s, hi - s))
    out[tuple(dst)] = volume[tuple(src)]
    return out


class PatchSampler:
    """Draws (image, gt, costmap) windows from in-memory samples.

    Args:
        samples: normalized samples (float32 image, uint8 gt, float32 costmap).
        patch_zyx: window size.
        foreground_fraction: probability that the window is centred near a foreground voxel.
    """

    def __init__(self, samples: Sequence[Sample], patch_zyx: Sequence[int],
                 foreground_fraction: float = 0.5):
        self.samples = list(samples)
        self.patch_zyx = tuple(int(p) for p in patch_zyx)
        self.foreground_fraction = foreground_fraction
        sizes = np.array([s.image.size for s in self.samples], np.float64)
        self.image_weights = sizes / sizes.sum()
        # Flat indices of supervised foreground voxels, computed once per image.
        self.foreground = [
            np.flatnonzero((s.gt > 0) & (s.costmap > 0)).astype(np.int64) for s in self.samples
        ]

    def _center(self, i: int, rng: np.random.Generator) -> np.ndarray:
        sample = self.samples[i]
        if self.foreground[i].size and rng.random() < self.foreground_fraction:
            flat = self.foreground[i][rng.integers(self.foreground[i].size)]
            center = np.array(np.unravel_index(flat, sample.image.shape))
            # Jitter so that foreground is not always at the window's centre.
            jitter = [int(rng.integers(-(p // 4), p // 4 + 1)) for p in self.patch_zyx]
            return center + np.array(jitter)
        for _ in range(20):  # rejection sampling of a supervised voxel
            center = np.array([rng.integers(n) for n in sample.image.shape])
            if sample.costmap[tuple(center)] > 0:
                break
        return center

    def draw(self, rng: np.random.Generator, size_zyx: Sequence[int] | None = None,
             image_index: int | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """One window of ``size_zyx`` (default: the patch size) from a random image."""
        size = tuple(size_zyx or self.patch_zyx)
        i = int(rng.choice(len(self.samples), p=self.image_weights)) if image_index is None \
            else image_index
        start = self._center(i, rng) - np.array(size) // 2
        s = self.samples[i]
        return (crop_padded(s.image, start, size), crop_padded(s.gt, start, size),
                crop_padded(s.costmap, start, size))


def _to_tensors(image: np.ndarray, gt: np.ndarray, costmap: np.ndarray) -> dict:
    return {
        "image": torch.from_numpy(np.ascontiguousarray(image, np.float32))[None],
        "gt": torch.from_numpy(np.ascontiguousarray(gt, np.int64)),
        "costmap": torch.from_numpy(np.ascontiguousarray(costmap, np.float32)),
    }


class RandomPatchDataset(Dataset):
    """``length`` random, augmented patches per epoch (one epoch = ``length`` draws).

    Randomness comes from torch's per-worker seed, so workers draw different patches and a
    run seeded with ``seed_everything`` is reproducible.
    """

    def __init__(self, sampler: PatchSampler, length: int,
                 augmentation: Augmentation | None = None):
        self.sampler, self.length = sampler, int(length)
        self.augmentation = augmentation

    def __len__(self) -> int:
        return self.length

    def __getitem__(self, index: int) -> dict:
        rng = np.random.default_rng(int(torch.randint(0, 2**62, (1,)).item()))
        patch = self.sampler.patch_zyx
        aug = self.augmentation
        angle = aug.rotation_angle(rng) if aug else 0.0
        if angle:
            # Cut a window large enough that the rotated patch has no empty corners.
            side = math.ceil(math.sqrt(2) * max(patch[1:])) + 2
            image, gt, costmap = self.sampler.draw(rng, (patch[0], side, side))
            image, gt, costmap = aug(image, gt, costmap, rng, angle)
            start = [0, (side - patch[1]) // 2, (side - patch[2]) // 2]
            image, gt, costmap = (crop_padded(a, start, patch) for a in (image, gt, costmap))
        else:
            image, gt, costmap = self.sampler.draw(rng)
            if aug:
                image, gt, costmap = aug(image, gt, costmap, rng)
        return _to_tensors(image, gt, costmap)


class FixedPatchDataset(Dataset):
    """Deterministic validation patches: ``per_image`` windows from each image, drawn once."""

    def __init__(self, sampler: PatchSampler, per_image: int, seed: int = 0):
        rng = np.random.default_rng(seed)
        self.items = [
            _to_tensors(*sampler.draw(rng, image_index=i))
            for i in range(len(sampler.samples))
            for _ in range(per_image)
        ]

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, index: int) -> dict:
        return self.items[index]
