"""Objects matched one-to-one at IoU >= 0.5 (seglight.evaluation.objects)."""

from __future__ import annotations

import numpy as np

from seglight.evaluation.objects import match_objects


def _boxes(*boxes: tuple[slice, slice]) -> np.ndarray:
    mask = np.zeros((20, 20), bool)
    for box in boxes:
        mask[box] = True
    return mask


def test_iou_half_matches_and_below_does_not():
    gt = _boxes((slice(0, 4), slice(0, 4)), (slice(10, 14), slice(10, 14)))
    pred = _boxes((slice(0, 4), slice(0, 2)),        # IoU 8/16 = 0.5: matched
                  (slice(10, 14), slice(10, 11)),    # IoU 4/16: not matched
                  (slice(17, 19), slice(0, 2)))      # no partner
    match = match_objects(pred, gt)
    assert (match.n_pred, match.n_gt, match.n_matched) == (3, 2, 1)


def test_connectivity_decides_what_one_object_is():
    diagonal = np.zeros((6, 6), bool)
    diagonal[1, 1] = diagonal[2, 2] = True
    assert match_objects(diagonal, diagonal).n_pred == 1  # corners join (skimage's default)
    faces = match_objects(diagonal, diagonal, connectivity=1)
    assert (faces.n_pred, faces.n_matched) == (2, 2)


def test_small_objects_are_left_out_of_both_counts():
    gt = _boxes((slice(0, 4), slice(0, 4)), (slice(10, 11), slice(10, 12)))  # 16 and 2 voxels
    pred = _boxes((slice(0, 4), slice(0, 4)), (slice(17, 18), slice(0, 1)))  # 16 and 1
    assert match_objects(pred, gt).n_matched == 1
    kept = match_objects(pred, gt, min_size=3)
    assert (kept.n_pred, kept.n_gt, kept.n_matched) == (1, 1, 1)
