"""Mask post-processing of the classic workflows: the size filters ``SF`` and ``SF2D``."""

from __future__ import annotations

import numpy as np

from seglight.masks import remove_small_objects


def size_filter(mask: np.ndarray, min_size: int, per_slice: bool = False) -> np.ndarray:
    """``SF(n)`` / ``SF2D(n)``: drop face-connected objects of ``min_size`` voxels or fewer.

    Objects are 6-connected in 3D; with ``per_slice`` every z-slice is filtered on its own
    with 4-connected objects (``SF2D``). An object of exactly ``min_size`` voxels is dropped,
    as by the reference (see :mod:`seglight.masks` for why).

    Args:
        mask: ZYX mask (any dtype; nonzero is foreground).
        min_size: objects of this many voxels (pixels with ``per_slice``) or fewer are removed.
        per_slice: filter each z-slice on its own (``SF2D``).

    Returns:
        bool ZYX mask.

    Raises:
        ConfigError: ``min_size`` is negative, or ``per_slice`` is asked of a non-3D mask.
    """
    return remove_small_objects(
        mask, min_size, connectivity=1, keep_equal=False, per_slice=per_slice
    )
