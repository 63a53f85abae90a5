"""Size filters on binary masks: one implementation, the boundary and connectivity explicit.

Two rules are in use and both are deliberate:

* the classic workflows follow the reference Segmenter's size filter (``SF``): objects of
  ``min_size`` voxels *or fewer* are dropped, face-connected (scikit-image 0.26 turned
  ``remove_small_objects(min_size=n)`` into "remove objects of at most n voxels", and matching
  it keeps the masks equal for workflows of tiny objects): ``keep_equal=False, connectivity=1``;
* the predict runner's ``min_size`` option has no reference counterpart and keeps the plain
  meaning of "smaller than", with 26-connected objects: ``keep_equal=True, connectivity=3``.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage as ndi

from seglight.errors import ConfigError


def connectivity_structure(ndim: int, connectivity: int, per_slice: bool = False) -> np.ndarray:
    """The structuring element of ``connectivity`` (1: faces ... ``ndim``: full) for ``ndim``
    axes; with ``per_slice`` the first axis never connects (each z-slice on its own)."""
    if not 1 <= connectivity <= ndim:
        raise ConfigError(
            f"connectivity={connectivity}; use 1 (faces) to {ndim} (full) for {ndim}D"
        )
    if not per_slice:
        return ndi.generate_binary_structure(ndim, connectivity)
    structure = np.zeros((3,) * ndim, bool)
    structure[1] = ndi.generate_binary_structure(ndim - 1, min(connectivity, ndim - 1))
    return structure


def kept_labels(sizes: np.ndarray, min_size: int, *, keep_equal: bool) -> np.ndarray:
    """Per label (``sizes[label]`` voxels), True when the object is kept; label 0 never is.

    ``keep_equal`` keeps an object of exactly ``min_size`` voxels ("drop fewer than");
    otherwise it is dropped ("drop at most").
    """
    keep = sizes >= min_size if keep_equal else sizes > min_size
    keep[0] = False
    return keep


def remove_small_objects(
    mask: np.ndarray,
    min_size: int,
    *,
    connectivity: int,
    keep_equal: bool,
    per_slice: bool = False,
) -> np.ndarray:
    """Drop the connected objects of a mask that are smaller than ``min_size`` voxels.

    Args:
        mask: mask of any dimension and dtype (nonzero is foreground).
        min_size: size limit in voxels (pixels with ``per_slice``).
        connectivity: 1 for face neighbours (6 in 3D) up to ``mask.ndim`` for all (26 in 3D).
        keep_equal: keep an object of exactly ``min_size`` voxels (True) or drop it (False).
        per_slice: label each z-slice on its own (objects never connect across z).

    Returns:
        bool mask of the same shape.

    Raises:
        ConfigError: a negative ``min_size``, a connectivity outside 1..ndim, or ``per_slice``
            asked of a non-3D mask.
    """
    mask = np.asarray(mask) != 0
    if min_size < 0:
        raise ConfigError(f"size filter: min_size={min_size}; use a size >= 0 voxels")
    if per_slice and mask.ndim != 3:
        raise ConfigError(f"size filter per z-slice needs a ZYX mask; got shape {mask.shape}")
    structure = connectivity_structure(mask.ndim, connectivity, per_slice)
    if min_size < (2 if keep_equal else 1) or not mask.any():
        return mask
    if mask.ndim <= 3 and connectivity in (1, mask.ndim):
        return _remove_small_runs(mask, min_size, connectivity > 1, per_slice, keep_equal)
    labels, n_objects = ndi.label(mask, structure=structure)
    # Count foreground voxels only: masks are sparse, and the background would be most of the work.
    sizes = np.bincount(labels[mask], minlength=n_objects + 1)
    return kept_labels(sizes, min_size, keep_equal=keep_equal)[labels]


def _remove_small_runs(
    mask: np.ndarray, min_size: int, full: bool, per_slice: bool, keep_equal: bool
) -> np.ndarray:
    """:func:`remove_small_objects` of a mask of up to 3 axes from its runs along the last
    axis (:mod:`seglight.classic.kernels.components`): the same objects as
    ``scipy.ndimage.label`` finds, and sizes, without labelling the whole volume."""
    from seglight.classic.kernels import components

    zyx = np.ascontiguousarray(mask.reshape((1,) * (3 - mask.ndim) + mask.shape))
    starts, ends, row_offsets = components.mask_runs(zyx)
    labels, sizes = components.label_runs(
        starts, ends, row_offsets, np.array(zyx.shape), full, per_slice
    )
    out = np.zeros(zyx.shape, bool)
    keep = kept_labels(sizes, min_size, keep_equal=keep_equal)[labels]
    components.paint_runs(starts, ends, row_offsets, keep, out)
    return out.reshape(mask.shape)
