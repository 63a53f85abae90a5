"""The accumulator (the aggregator of sliding-window inference): tile probabilities blended
into one image, in memory or in memory maps.

Overlapping tiles are blended with MONAI's Gaussian importance map
(:func:`monai.data.utils.compute_importance_map`), which down-weights tile borders, where a
same-padded network is least reliable. Only the foreground probability is accumulated, on
the CPU, into arrays that may be memory maps (an image too large for memory, see
:mod:`seglight.predict.lazy`), or on the GPU when the image is small enough.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

import numpy as np
import torch

from seglight.predict.windows import ZYX


@functools.cache
def _gaussian(tile_zyx: ZYX, device: str) -> torch.Tensor:
    from monai.data.utils import compute_importance_map

    return compute_importance_map(tile_zyx, mode="gaussian", sigma_scale=0.125, device=device)


class WeightedAccumulator:
    """Weighted sum of tile probabilities over an image, divided by the summed weights.

    Args:
        shape_zyx: the image size.
        tile_zyx: the output tile size (the blending weight's shape).
        device: where to accumulate; on the CPU ``out`` and ``weights`` are used in place.
        out: float32 ZYX array the result is written into (e.g. a memory map); a new array
            by default.
        weights: float32 ZYX scratch array for the summed weights (e.g. a memory map), used
            when accumulating on the CPU; a new array by default.
    """

    def __init__(self, shape_zyx: Sequence[int], tile_zyx: ZYX, device: torch.device,
                 out: np.ndarray | None = None, weights: np.ndarray | None = None):
        self.shape = tuple(int(s) for s in shape_zyx)
        self.device = device
        self.out = np.empty(self.shape, np.float32) if out is None else out
        if device.type == "cpu":
            self.total = torch.from_numpy(self.out)
        else:
            self.total = torch.empty(self.shape, dtype=torch.float32, device=device)
        self.total.zero_()
        if weights is not None and device.type == "cpu":
            self.weight_sum = torch.from_numpy(weights)
            self.weight_sum.zero_()
        else:
            self.weight_sum = torch.zeros(self.shape, dtype=torch.float32, device=device)
        self.weight = _gaussian(tile_zyx, str(device))

    def add(self, tile: Sequence[int], prob: torch.Tensor) -> None:
        """Add the probabilities ``prob`` of the output tile starting at ``tile`` (cropped
        where the tile reaches past the image)."""
        region = tuple(slice(s, min(s + o, d))
                       for s, o, d in zip(tile, self.weight.shape, self.shape, strict=True))
        crop = tuple(slice(0, r.stop - r.start) for r in region)
        self.total[region] += prob[crop] * self.weight[crop]
        self.weight_sum[region] += self.weight[crop]

    def finalize(self) -> np.ndarray:
        """The blended probabilities, float32 ZYX (``out`` when given)."""
        for z in range(self.shape[0]):  # slice by slice: no image-sized temporary
            self.total[z] /= self.weight_sum[z].clamp_min_(1e-8)
        if self.device.type != "cpu":
            self.out[...] = self.total.cpu().numpy()
        return self.out
