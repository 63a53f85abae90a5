"""Mask post-processing of the classic workflows: the size filters ``SF`` and ``SF2D``."""

from __future__ import annotations

import numpy as np
from scipy import ndimage as ndi

from seglight.errors import ConfigError

# Face connectivity ("connectivity 1"): 6 neighbours in 3D; in-plane only, the 4 neighbours
# of each z-slice, when slices are filtered on their own.
_FACES_3D = ndi.generate_binary_structure(3, 1)
_FACES_IN_SLICE = np.zeros((3, 3, 3), bool)
_FACES_IN_SLICE[1] = ndi.generate_binary_structure(2, 1)


def remove_small_objects(mask: np.ndarray, min_size: int, per_slice: bool = False) -> np.ndarray:
    """``SF(n)`` / ``SF2D(n)``: drop connected objects of ``min_size`` voxels or fewer.

    Objects are face-connected (6-connected in 3D). With ``per_slice``, every z-slice is
    filtered on its own with 4-connected objects; all slices are labelled in one pass, with
    a structuring element that does not connect across z.

    An object of exactly ``min_size`` voxels is dropped: that is what the reference
    Segmenter does today, because scikit-image 0.26 turned its
    ``remove_small_objects(min_size=n)`` into "remove objects of at most n voxels" (before,
    "fewer than n"). Matching it keeps the masks equal for workflows of tiny objects.

    Args:
        mask: ZYX mask (any dtype; nonzero is foreground).
        min_size: objects of this many voxels (pixels with ``per_slice``) or fewer are removed.
        per_slice: filter each z-slice on its own (``SF2D``).

    Returns:
        bool ZYX mask.

    Raises:
        ConfigError: ``min_size`` is negative, or ``per_slice`` is asked of a non-3D mask.
    """
    mask = np.asarray(mask) != 0
    if min_size < 0:
        raise ConfigError(f"remove_small_objects: min_size={min_size}; use a size >= 0 voxels")
    if per_slice and mask.ndim != 3:
        raise ConfigError(
            f"remove_small_objects(per_slice=True) needs a ZYX mask; got shape {mask.shape}"
        )
    if min_size < 1 or not mask.any():
        return mask
    if per_slice:
        structure = _FACES_IN_SLICE
    else:
        structure = ndi.generate_binary_structure(mask.ndim, 1) if mask.ndim != 3 else _FACES_3D
    labels, n_objects = ndi.label(mask, structure=structure)
    # Count foreground voxels only: masks are sparse, and the background would be most of the work.
    sizes = np.bincount(labels[mask], minlength=n_objects + 1)
    keep = sizes > min_size
    keep[0] = False
    return keep[labels]
