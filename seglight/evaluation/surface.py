"""Surface distances in micrometres, with MONAI's metrics.

A mask's *surface* is its edge voxels: foreground voxels with a background face neighbour
(MONAI's :func:`~monai.metrics.utils.get_mask_edges`). For every edge voxel of one mask,
the distance to the nearest edge voxel of the other is measured in micrometres (voxel
centres scaled by the voxel size, so anisotropic z-stacks are measured correctly); both
directions are used:

- ``hd95_um``: the larger of the two directed 95th percentiles
  (:func:`monai.metrics.compute_hausdorff_distance` with ``percentile=95``);
- ``msd_um``: the mean over the edge voxels of both masks of their distance to the other
  surface (:func:`monai.metrics.compute_average_surface_distance`, ``symmetric=True``).

When one mask is empty there is no surface to measure to: both are ``inf``. When both are
empty they agree perfectly: both are 0.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence

import numpy as np

HD_PERCENTILE = 95


def surface_distances_um(pred: np.ndarray, gt: np.ndarray,
                         spacing_zyx: Sequence[float]) -> tuple[float, float]:
    """95th-percentile Hausdorff distance and mean surface distance of two boolean masks.

    Args:
        pred: predicted foreground, ZYX (bool).
        gt: ground-truth foreground, same shape.
        spacing_zyx: voxel size in micrometres, ZYX order.

    Returns:
        ``(hd95_um, msd_um)``; ``(inf, inf)`` when exactly one mask is empty, ``(0, 0)`` when
        both are.
    """
    pred_any, gt_any = bool(pred.any()), bool(gt.any())
    if not (pred_any or gt_any):
        return 0.0, 0.0
    if not (pred_any and gt_any):
        # MONAI would warn and return inf or nan depending on which mask is empty.
        return math.inf, math.inf
    import torch
    from monai.metrics import compute_average_surface_distance, compute_hausdorff_distance

    # (batch, class, Z, Y, X); the single class is the foreground, so it is "background".
    y_pred = torch.from_numpy(np.ascontiguousarray(pred))[None, None]
    y = torch.from_numpy(np.ascontiguousarray(gt))[None, None]
    spacing = [float(s) for s in spacing_zyx]
    with warnings.catch_warnings():
        # MONAI 1.5+ warns about its own internal call to get_mask_edges; nothing to act on.
        warnings.filterwarnings("ignore", message=".*always_return_as_numpy.*")
        hd95 = compute_hausdorff_distance(y_pred, y, include_background=True,
                                          percentile=HD_PERCENTILE, spacing=spacing)
        msd = compute_average_surface_distance(y_pred, y, include_background=True,
                                               symmetric=True, spacing=spacing)
    return float(hd95), float(msd)
