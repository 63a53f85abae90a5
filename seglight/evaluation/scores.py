"""Scores of one predicted mask against its ground truth: :func:`score_masks`.

Every number, and what it is when a mask is empty:

==================  ==========================================  ===========================
key                 definition                                  edge cases
==================  ==========================================  ===========================
dice                2 TP / (2 TP + FP + FN), voxels             1 when both masks are empty
iou                 TP / (TP + FP + FN)                         1 when both masks are empty
precision           TP / (TP + FP)                              1 both empty; NaN when only
                                                                the prediction is empty
recall              TP / (TP + FN)                              1 both empty; NaN when only
                                                                the ground truth is empty
object_precision    matched / predicted objects                 same rules, on objects
object_recall       matched / ground-truth objects              same rules, on objects
object_f1           2 matched / (predicted + gt objects)        1 when neither has objects
hd95_um             95th-percentile Hausdorff distance, µm      0 both empty, inf one empty
msd_um              symmetric mean surface distance, µm         0 both empty, inf one empty
==================  ==========================================  ===========================

Counts are returned too (``tp_voxels``, ``fp_voxels``, ``fn_voxels``, ``n_pred_objects``,
``n_gt_objects``, ``n_matched_objects``) so that scores over many images can be pooled.

Voxels where the costmap is 0 are left out: they are set to background in both masks before
anything is counted, labelled or measured (an object cut by the excluded region counts as
the parts that remain).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from seglight.evaluation.objects import match_objects
from seglight.evaluation.surface import surface_distances_um

#: The score keys, in table order.
SCORE_KEYS = ("dice", "iou", "precision", "recall", "object_precision", "object_recall",
              "object_f1", "hd95_um", "msd_um")
#: The count keys, which pooled scores are computed from.
COUNT_KEYS = ("tp_voxels", "fp_voxels", "fn_voxels", "n_pred_objects", "n_gt_objects",
              "n_matched_objects")


def ratio(num: float, den: float, both_empty: bool) -> float:
    """``num / den``; 1 when both masks are empty (perfect agreement on "nothing"), NaN
    for any other zero denominator (the question has no answer, e.g. the precision of an
    empty prediction)."""
    if den:
        return num / den
    return 1.0 if both_empty else math.nan


def dice(pred: np.ndarray, gt: np.ndarray) -> float:
    """The voxel Dice of two masks (voxels > 0 are foreground); 1 when both are empty."""
    pred, gt = np.asarray(pred) > 0, np.asarray(gt) > 0
    both = int(pred.sum()) + int(gt.sum())
    return ratio(2 * int((pred & gt).sum()), both, both == 0)


def scores_from_counts(counts: dict[str, float]) -> dict[str, float]:
    """Voxel and object scores from (possibly pooled) counts; see the module table."""
    tp, fp, fn = counts["tp_voxels"], counts["fp_voxels"], counts["fn_voxels"]
    empty = tp + fp + fn == 0
    n_pred, n_gt, n_match = (counts["n_pred_objects"], counts["n_gt_objects"],
                             counts["n_matched_objects"])
    no_objects = n_pred + n_gt == 0
    return {
        "dice": ratio(2 * tp, 2 * tp + fp + fn, empty),
        "iou": ratio(tp, tp + fp + fn, empty),
        "precision": ratio(tp, tp + fp, empty),
        "recall": ratio(tp, tp + fn, empty),
        "object_precision": ratio(n_match, n_pred, no_objects),
        "object_recall": ratio(n_match, n_gt, no_objects),
        "object_f1": ratio(2 * n_match, n_pred + n_gt, no_objects),
    }


def score_masks(pred: np.ndarray, gt: np.ndarray, costmap: np.ndarray | None = None,
                spacing_zyx: Sequence[float] = (1.0, 1.0, 1.0),
                connectivity: int | None = None, min_object_size: int = 0) -> dict[str, float]:
    """Score a predicted mask against its ground truth.

    Args:
        pred: the prediction, ZYX; voxels > 0 are foreground.
        gt: the ground truth, same shape; voxels > 0 are foreground.
        costmap: optional, same shape; voxels where it is 0 are left out of every score.
        spacing_zyx: voxel size in micrometres, ZYX order (for the surface distances).
        connectivity: which neighbours join voxels into one object (see
            :func:`seglight.evaluation.objects.match_objects`); default: faces, edges and
            corners (26 neighbours in 3D).
        min_object_size: objects (of either mask) with fewer voxels are left out of the
            object counts; voxel scores and distances still count every voxel.

    Returns:
        ``SCORE_KEYS`` and ``COUNT_KEYS`` (see the module docstring for each definition).

    Raises:
        ValueError: the arrays differ in shape, or the spacing is not one positive number
            per axis.
    """
    pred, gt = np.asarray(pred) > 0, np.asarray(gt) > 0
    if pred.shape != gt.shape:
        raise ValueError(f"prediction shape {pred.shape} differs from ground truth {gt.shape}")
    if len(spacing_zyx) != pred.ndim or not all(s > 0 for s in spacing_zyx):
        raise ValueError(f"spacing_zyx={tuple(spacing_zyx)}: need {pred.ndim} positive sizes")
    if costmap is not None:
        costmap = np.asarray(costmap)
        if costmap.shape != pred.shape:
            raise ValueError(f"costmap shape {costmap.shape} differs from masks {pred.shape}")
        valid = costmap > 0
        pred, gt = pred & valid, gt & valid
    objects = match_objects(pred, gt, connectivity=connectivity, min_size=min_object_size)
    counts = {
        "tp_voxels": float(np.count_nonzero(pred & gt)),
        "fp_voxels": float(np.count_nonzero(pred & ~gt)),
        "fn_voxels": float(np.count_nonzero(~pred & gt)),
        "n_pred_objects": float(objects.n_pred),
        "n_gt_objects": float(objects.n_gt),
        "n_matched_objects": float(objects.n_matched),
    }
    hd95, msd = surface_distances_um(pred, gt, spacing_zyx)
    return {**scores_from_counts(counts), "hd95_um": hd95, "msd_um": msd, **counts}
