"""Surface distances in micrometres, on MONAI's surface-distance utility.

A mask's *surface* is its edge voxels: foreground voxels with a background face neighbour
(MONAI's :func:`~monai.metrics.utils.get_mask_edges`). For every edge voxel of one mask,
the distance to the nearest edge voxel of the other is measured in micrometres (voxel
centres scaled by the voxel size, so anisotropic z-stacks are measured correctly), in both
directions, by :func:`monai.metrics.utils.get_edge_surface_distance`:

- ``hd95_um``: the larger of the two directed 95th percentiles (linear interpolation), as
  :func:`monai.metrics.compute_hausdorff_distance` with ``percentile=95`` defines it;
- ``msd_um``: the mean over the edge voxels of both masks of their distance to the other
  surface, as :func:`monai.metrics.compute_average_surface_distance` with
  ``symmetric=True`` defines it.

Why not call those two functions: each finds the edges and builds its nearest-neighbour
search again (twice the time for the same distances), and the Hausdorff one takes its
percentile with :func:`torch.quantile`, which refuses more than 2^24 (16.8 million) values,
as a large thin-structured mask (ER in a 2048x2048 stack) can have. The distances are
MONAI's; the two reductions (a percentile, a mean) are taken here with numpy, and
``tests/evaluation/test_surface.py`` checks them against MONAI's functions.

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
    from monai.metrics.utils import get_edge_surface_distance

    with warnings.catch_warnings():
        # MONAI 1.5+ warns about its own internal call to get_mask_edges; nothing to act on.
        warnings.filterwarnings("ignore", message=".*always_return_as_numpy.*")
        _, distances, _ = get_edge_surface_distance(
            torch.from_numpy(np.ascontiguousarray(pred, dtype=bool)),
            torch.from_numpy(np.ascontiguousarray(gt, dtype=bool)),
            spacing=[float(s) for s in spacing_zyx], symmetric=True)
    pred_to_gt, gt_to_pred = (d.cpu().numpy().astype(np.float64) for d in distances)
    hd95 = max(np.percentile(pred_to_gt, HD_PERCENTILE), np.percentile(gt_to_pred, HD_PERCENTILE))
    msd = (pred_to_gt.sum() + gt_to_pred.sum()) / (pred_to_gt.size + gt_to_pred.size)
    return float(hd95), float(msd)
