"""Images too large for memory: read window by window, normalized with whole-image statistics.

The image stays a lazy (dask) array from bioio; the sliding window reads only each window
plus its halo; probabilities and blending weights accumulate in memory maps on disk, in the
output folder; the mask is thresholded slab by slab into another memory map, which the
OME-TIFF writer streams out.

Normalization is the one whole-image step: a recipe of one intensity-scaling step
(``auto_contrast``, ``min_max``, ``auto_contrast_range``) is an affine map with a clip,
whose two bounds come from whole-image statistics; they are computed with dask in one
streaming pass, and each window is then scaled exactly as the in-memory path would.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np

from seglight.errors import SeglightError

# The same clip-and-scale as the in-memory recipe, so both paths give the same voxels.
from seglight.normalization import _scale

STREAMABLE_OPS = ("auto_contrast", "min_max", "auto_contrast_range")


def scaling_bounds(steps: Sequence[dict], image) -> tuple[float, float]:
    """The (lo, hi) clip bounds of a one-step scaling recipe, from a lazy (dask) image.

    Raises:
        SeglightError: the recipe cannot be applied window by window (more than one step,
            a background subtraction, or ``min_max`` with an outlier bound).
    """
    import dask.array as da

    if len(steps) != 1 or steps[0].get("op") not in STREAMABLE_OPS or (
        steps[0]["op"] == "min_max" and steps[0].get("upper")
    ):
        raise SeglightError(
            f"normalization {list(steps)} needs the whole image in memory, and this image is "
            "larger than max_in_memory_voxels; raise max_in_memory_voxels if the machine has "
            "the memory, or crop the image"
        )
    step = steps[0]
    data = image.astype(np.float64)
    lowest, highest = (float(v) for v in da.compute(data.min(), data.max()))
    if step["op"] == "min_max":
        return lowest, highest
    if step["op"] == "auto_contrast":
        mean, std = (float(v) for v in da.compute(data.mean(), data.std()))
        return (max(mean - step["lower_std"] * std, lowest),
                min(mean + step["upper_std"] * std, highest))
    low, high = float(step["low"]), float(step["high"])
    within = (data > low) & (data < high)
    std = float(data[within].std().compute()) if int(within.sum().compute()) else 0.0
    return max(low - step["lower_std"] * std, lowest), min(high + step["upper_std"] * std, highest)


class ScaledLazyImage:
    """A lazy ZYX image that returns float32 scaled blocks when sliced (what the inferer reads)."""

    def __init__(self, image, lo: float, hi: float):
        self.image, self.lo, self.hi = image, lo, hi
        self.shape = tuple(int(s) for s in image.shape)

    def __getitem__(self, index) -> np.ndarray:
        return _scale(np.asarray(self.image[index]), self.lo, self.hi)


@contextlib.contextmanager
def scratch_array(folder: str | Path, shape: Sequence[int], dtype) -> Iterator[np.memmap]:
    """A zero-filled memory map in a hidden temp file of ``folder``, removed afterwards."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=".seglight-", suffix=".scratch", dir=folder)
    os.close(fd)
    try:
        yield np.memmap(name, dtype=dtype, mode="w+", shape=tuple(shape))
    finally:
        os.unlink(name)
