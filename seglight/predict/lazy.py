"""Images too large for memory: read window by window, normalized with whole-image statistics.

The image stays a lazy (dask) array from bioio; the sliding window reads only each window
plus its halo; probabilities and blending weights accumulate in memory maps on disk, in the
output folder; the mask is thresholded slab by slab into another memory map, which the
OME-TIFF writer streams out.

Normalization is the one whole-image step. A recipe of at most one intensity-scaling step
(``clipped_zscore``, ``auto_contrast``, ``min_max`` with or without an outlier bound,
``auto_contrast_range``)
is a per-voxel map whose constants come from whole-image statistics; they are computed with
dask in one streaming pass, and each window is then normalized exactly as the in-memory path
would. A background subtraction (a wide blur of the whole image) and percentiles (an exact
percentile needs every voxel at once) are not streamed.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import warnings
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import numpy as np

from seglight.errors import SeglightError
from seglight.masks import kept_labels

# The same clip-and-scale as the in-memory recipe, so both paths give the same voxels.
from seglight.normalization import clip_and_scale, zscore_clip_scale

STREAMABLE_OPS = ("clipped_zscore", "auto_contrast", "min_max", "auto_contrast_range")


def lazy_normalizer(steps: Sequence[dict], image) -> Callable[[np.ndarray], np.ndarray]:
    """A function normalizing any block of ``image`` as the whole-image recipe would.

    Args:
        steps: the normalization recipe (``Normalizer.steps``).
        image: the raw image, a lazy (dask) array; its statistics are computed here.

    Raises:
        SeglightError: the recipe cannot be applied window by window (several steps, or a
            background subtraction).
    """
    import dask.array as da

    steps = list(steps)
    if not steps:
        return lambda block: np.asarray(block, dtype=np.float32)
    if len(steps) != 1 or steps[0].get("op") not in STREAMABLE_OPS:
        raise SeglightError(
            f"normalization {steps} needs the whole image in memory, and this image is "
            "larger than max_in_memory_voxels; raise max_in_memory_voxels if the machine has "
            "the memory, or crop the image"
        )
    step, op = steps[0], steps[0]["op"]
    upper = step.get("upper") if op == "min_max" else None
    # Every statistic the recipe needs, in one dask computation: one read of the image.
    data = image.astype(np.float64)
    stats = {"lowest": data.min(), "highest": data.max()}
    if op in ("auto_contrast", "clipped_zscore"):
        stats |= {"mean": data.mean(), "std": data.std()}
    elif op == "auto_contrast_range":
        within = (data > step["low"]) & (data < step["high"])
        stats |= {"n_within": within.sum(), "std": da.nanstd(da.where(within, data, np.nan))}
    elif upper and step.get("above_upper", "min") == "min":
        # Outliers become the image minimum, so the maximum is that of the other voxels.
        stats["below_upper"] = da.where(data <= upper, data, -np.inf).max()
    with warnings.catch_warnings():  # an empty band's std is NaN, handled below
        warnings.simplefilter("ignore", RuntimeWarning)
        v = dict(zip(stats, (float(x) for x in da.compute(*stats.values())), strict=True))
    lowest, highest = v["lowest"], v["highest"]
    if op == "clipped_zscore":
        return lambda block: zscore_clip_scale(block, v["mean"], v["std"], step["lower_std"],
                                               step["upper_std"])
    if op == "min_max":
        if not upper:
            return lambda block: clip_and_scale(np.asarray(block), lowest, highest)
        if "below_upper" not in v:  # above_upper: clip
            lo, hi = min(lowest, upper), min(highest, upper)
            return lambda block: clip_and_scale(
                np.minimum(np.asarray(block, np.float32), upper), lo, hi)
        hi = v["below_upper"] if np.isfinite(v["below_upper"]) else lowest
        return lambda block: clip_and_scale(
            np.where(np.asarray(block) > upper, lowest, np.asarray(block)), lowest, hi)
    if op == "auto_contrast":
        lo = max(v["mean"] - step["lower_std"] * v["std"], lowest)
        hi = min(v["mean"] + step["upper_std"] * v["std"], highest)
    else:  # auto_contrast_range
        std = v["std"] if v["n_within"] else 0.0
        lo = max(float(step["low"]) - step["lower_std"] * std, lowest)
        hi = min(float(step["high"]) + step["upper_std"] * std, highest)
    return lambda block: clip_and_scale(np.asarray(block), lo, hi)


class NormalizedLazyImage:
    """A lazy ZYX image whose slices are read and normalized (what the inferer reads)."""

    def __init__(self, image, normalize: Callable[[np.ndarray], np.ndarray]):
        self.image, self.normalize = image, normalize
        self.shape = tuple(int(s) for s in image.shape)

    def __getitem__(self, index) -> np.ndarray:
        return self.normalize(np.asarray(self.image[index]))


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


def remove_small_objects_on_disk(mask: np.ndarray, min_size: int, folder: str | Path) -> None:
    """Set the 26-connected objects of fewer than ``min_size`` voxels of ``mask`` to 0, in
    place, for a mask too large for memory (a memory map): the labels go to a memory-mapped
    scratch file in ``folder`` and the sizes are counted slab by slab, so memory holds one
    z-slice of labels at a time (the operating system pages the rest).

    The same objects are removed as by :func:`seglight.predict.runner.drop_objects_below`.
    """
    from scipy import ndimage as ndi

    if min_size <= 1:
        return
    with scratch_array(folder, mask.shape, np.int32) as labels:
        n = ndi.label(mask, structure=np.ones((3, 3, 3), bool), output=labels)
        if not n:
            return
        sizes = np.zeros(n + 1, np.int64)
        for z in range(mask.shape[0]):
            sizes += np.bincount(labels[z].ravel(), minlength=n + 1)
        keep = kept_labels(sizes, min_size, keep_equal=True)
        for z in range(mask.shape[0]):
            mask[z] = np.where(keep[labels[z]], mask[z], 0)
