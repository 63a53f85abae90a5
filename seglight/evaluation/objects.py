"""Object-level agreement: connected components matched one-to-one by IoU.

Objects are the connected components of each mask (:func:`skimage.measure.label`). A
predicted object and a ground-truth object *match* when their intersection over union is at
least ``MATCH_IOU`` (0.5); each object is matched at most once. With IoU > 0.5 a partner
would be unique anyway (two disjoint objects cannot both cover more than half of a union),
but at exactly 0.5 one object can tie with two; :func:`scipy.optimize.linear_sum_assignment`
on the IoU matrix picks the matching with the largest total IoU, so ties are settled the same
way every run.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import linear_sum_assignment
from skimage.measure import label

#: Minimum IoU of a predicted and a ground-truth object to count as the same object.
MATCH_IOU = 0.5


@dataclass(frozen=True)
class ObjectMatch:
    """Counts of one object matching.

    Attributes:
        n_pred: connected components of the prediction.
        n_gt: connected components of the ground truth.
        n_matched: one-to-one pairs with IoU >= ``MATCH_IOU``.
    """

    n_pred: int
    n_gt: int
    n_matched: int


def match_objects(pred: np.ndarray, gt: np.ndarray, connectivity: int | None = None,
                  min_iou: float = MATCH_IOU) -> ObjectMatch:
    """Label both boolean masks and match their objects one-to-one by IoU.

    Args:
        pred: predicted foreground (bool, any dimension).
        gt: ground-truth foreground, same shape.
        connectivity: neighbours that join voxels into one object, as in
            :func:`skimage.measure.label`: 1 = faces (6 in 3D), ``ndim`` = faces, edges and
            corners (26 in 3D). ``None`` means ``ndim`` (skimage's default).
        min_iou: the IoU a pair needs to match.

    Returns:
        The object counts and the number of matched pairs.
    """
    pred_labels, n_pred = label(pred, connectivity=connectivity, return_num=True)
    gt_labels, n_gt = label(gt, connectivity=connectivity, return_num=True)
    pred_ids, gt_ids, iou = _overlapping_pairs(pred_labels, n_pred, gt_labels, n_gt)
    keep = iou >= min_iou
    if not keep.any():
        return ObjectMatch(n_pred, n_gt, 0)
    # Only candidate pairs enter the assignment, so its matrix stays small.
    rows, row_of = np.unique(pred_ids[keep], return_inverse=True)
    cols, col_of = np.unique(gt_ids[keep], return_inverse=True)
    weights = np.zeros((rows.size, cols.size))
    weights[row_of, col_of] = iou[keep]
    r, c = linear_sum_assignment(weights, maximize=True)
    return ObjectMatch(n_pred, n_gt, int(np.count_nonzero(weights[r, c] >= min_iou)))


def _overlapping_pairs(pred_labels: np.ndarray, n_pred: int, gt_labels: np.ndarray,
                       n_gt: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The (pred label, gt label) pairs that share at least one voxel, and their IoU.

    Only overlapping pairs are listed (no ``n_pred x n_gt`` matrix), so thousands of small
    objects cost no more than a few large ones.
    """
    pred_sizes = np.bincount(pred_labels.ravel(), minlength=n_pred + 1)
    gt_sizes = np.bincount(gt_labels.ravel(), minlength=n_gt + 1)
    both = (pred_labels > 0) & (gt_labels > 0)
    pair = pred_labels[both].astype(np.int64) * (n_gt + 1) + gt_labels[both]
    pairs, inter = np.unique(pair, return_counts=True)
    pred_ids, gt_ids = np.divmod(pairs, n_gt + 1)
    union = pred_sizes[pred_ids] + gt_sizes[gt_ids] - inter
    return pred_ids, gt_ids, inter / union
