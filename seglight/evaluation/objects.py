"""Object-level agreement: connected components matched one-to-one by IoU >= 0.5.

Objects are the connected components of each mask (:func:`skimage.measure.label`, the same
connectivity for both). A predicted object and a ground-truth object *match* when their
intersection over union is at least ``MATCH_IOU`` (0.5).

Why no assignment step is needed: at IoU >= 0.5 each object has at most one partner. A pair
(P, G) with IoU >= 0.5 has ``|P ∩ G| >= (|P| + |G| - |P ∩ G|) / 2``, so
``|P ∩ G| >= |P| / 2`` (as ``|G| >= |P ∩ G|``). Two disjoint objects G1, G2 both matching P
would then each cover half of P, together all of it; P being connected, some voxel of G1
would touch one of G2, and G1, G2 would be one object. The same holds with the roles
swapped. So counting the pairs with IoU >= 0.5 is a one-to-one matching.

``min_size`` leaves objects smaller than that many voxels out of the counts, in both masks
(as COCO scores objects per size range): objects about the size of the microscope's blur
match or miss by chance at IoU 0.5, since their segmented extent is the blur's, not the
object's. A left-out predicted object does not count as a false positive; a ground-truth
object whose prediction was left out counts as missed. The argument above still holds (it
is about the objects that remain).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from skimage.measure import label

#: Minimum IoU of a predicted and a ground-truth object to count as the same object.
MATCH_IOU = 0.5


@dataclass(frozen=True)
class ObjectMatch:
    """Counts of one object matching.

    Attributes:
        n_pred: connected components of the prediction.
        n_gt: connected components of the ground truth.
        n_matched: pairs with IoU >= ``MATCH_IOU`` (each object in at most one).
    """

    n_pred: int
    n_gt: int
    n_matched: int


def match_objects(pred: np.ndarray, gt: np.ndarray, connectivity: int | None = None,
                  min_size: int = 0) -> ObjectMatch:
    """Label both boolean masks and match their objects one-to-one by IoU >= 0.5.

    Args:
        pred: predicted foreground (bool, any dimension).
        gt: ground-truth foreground, same shape.
        connectivity: neighbours that join voxels into one object, as in
            :func:`skimage.measure.label`: 1 = faces (6 in 3D), ``ndim`` = faces, edges and
            corners (26 in 3D). ``None`` means ``ndim`` (skimage's default).
        min_size: objects of fewer voxels are left out of both masks' counts (0: none).

    Returns:
        The object counts and the number of matched pairs.
    """
    pred_labels, n_pred = label(pred, connectivity=connectivity, return_num=True)
    gt_labels, n_gt = label(gt, connectivity=connectivity, return_num=True)
    if min_size > 1:
        pred_labels, n_pred = _drop_small(pred_labels, min_size)
        gt_labels, n_gt = _drop_small(gt_labels, min_size)
    iou = _iou_of_overlapping_pairs(pred_labels, n_pred, gt_labels, n_gt)
    return ObjectMatch(n_pred, n_gt, int(np.count_nonzero(iou >= MATCH_IOU)))


def _iou_of_overlapping_pairs(pred_labels: np.ndarray, n_pred: int, gt_labels: np.ndarray,
                              n_gt: int) -> np.ndarray:
    """IoU of every (pred object, gt object) pair that shares at least one voxel.

    Only overlapping pairs are listed (no ``n_pred x n_gt`` matrix), so thousands of small
    objects cost no more than a few large ones.
    """
    pred_sizes = np.bincount(pred_labels.ravel(), minlength=n_pred + 1)
    gt_sizes = np.bincount(gt_labels.ravel(), minlength=n_gt + 1)
    both = (pred_labels > 0) & (gt_labels > 0)
    pair = pred_labels[both].astype(np.int64) * (n_gt + 1) + gt_labels[both]
    pairs, inter = np.unique(pair, return_counts=True)
    pred_ids, gt_ids = np.divmod(pairs, n_gt + 1)
    return inter / (pred_sizes[pred_ids] + gt_sizes[gt_ids] - inter)


def _drop_small(labels: np.ndarray, min_size: int) -> tuple[np.ndarray, int]:
    """The labels of objects with at least ``min_size`` voxels, renumbered 1..n."""
    sizes = np.bincount(labels.ravel())
    keep = sizes >= min_size
    keep[0] = False
    new_ids = np.zeros(sizes.size, labels.dtype)
    new_ids[keep] = np.arange(1, int(keep.sum()) + 1)
    return new_ids[labels], int(keep.sum())
