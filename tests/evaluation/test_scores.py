"""score_masks against hand-computed cases."""

from __future__ import annotations

import math

import numpy as np
import pytest
from skimage.morphology import ball

from seglight.evaluation import score_masks


def _cube(shape=(10, 10, 10), lo=2, hi=6) -> np.ndarray:
    mask = np.zeros(shape, dtype=np.uint8)
    mask[lo:hi, lo:hi, lo:hi] = 255
    return mask


def test_two_cubes_shifted_by_one_voxel():
    # 4^3 cubes, the prediction one voxel further in x: 48 shared voxels, 16 on each side.
    gt = _cube()
    pred = np.roll(gt, 1, axis=2)
    s = score_masks(pred, gt)
    assert (s["tp_voxels"], s["fp_voxels"], s["fn_voxels"]) == (48, 16, 16)
    assert s["dice"] == pytest.approx(96 / 128)
    assert s["iou"] == pytest.approx(48 / 80)
    assert s["precision"] == pytest.approx(0.75) and s["recall"] == pytest.approx(0.75)
    assert (s["object_precision"], s["object_recall"], s["object_f1"]) == (1.0, 1.0, 1.0)
    # Each cube has 56 edge voxels (64 - the 2^3 interior). Of the prediction's, the 16 on
    # its far x face and the 4 inner voxels of its near x face are 1 voxel from the ground
    # truth's surface, the other 36 lie on it; the same holds the other way round.
    assert s["msd_um"] == pytest.approx(2 * 20 / (2 * 56))
    assert s["hd95_um"] == pytest.approx(1.0)  # 20 of 56 distances are 1: the 95th is 1


def test_identical_masks_are_perfect():
    gt = _cube()
    s = score_masks(gt, gt)
    assert s["dice"] == s["iou"] == s["precision"] == s["recall"] == s["object_f1"] == 1.0
    assert s["hd95_um"] == 0.0 and s["msd_um"] == 0.0


@pytest.mark.parametrize("shift", [2, 3])
def test_shifted_sphere_matches_geometry(shift):
    # Two balls of radius r whose centres are d apart overlap by pi (4r + d)(2r - d)^2 / 12;
    # the distance from a surface point at polar angle t to the other surface is about
    # |d cos t|, whose mean over the sphere is d / 2 and whose 95th percentile is 0.95 d;
    # the shifted surface lies exactly d from the original, so no distance exceeds d.
    r = 10
    gt = np.zeros((30, 30, 30), dtype=bool)
    gt[4:25, 4:25, 4:25] = ball(r)
    pred = np.roll(gt, shift, axis=0)
    s = score_masks(pred, gt)
    lens = math.pi * (4 * r + shift) * (2 * r - shift) ** 2 / 12
    assert s["dice"] == pytest.approx(lens / (4 / 3 * math.pi * r**3), abs=0.01)
    assert s["msd_um"] == pytest.approx(shift / 2, abs=0.1)
    assert 0.9 * shift <= s["hd95_um"] <= shift


def test_empty_prediction():
    s = score_masks(np.zeros((6, 6, 6)), _cube((6, 6, 6), 1, 3))
    assert (s["dice"], s["iou"], s["recall"]) == (0.0, 0.0, 0.0)
    assert math.isnan(s["precision"])  # nothing predicted: precision has no answer
    assert math.isnan(s["object_precision"])
    assert (s["object_recall"], s["object_f1"]) == (0.0, 0.0)
    assert s["hd95_um"] == math.inf and s["msd_um"] == math.inf


def test_empty_ground_truth_makes_recall_undefined():
    s = score_masks(_cube((6, 6, 6), 1, 3), np.zeros((6, 6, 6)))
    assert (s["dice"], s["precision"]) == (0.0, 0.0)
    assert math.isnan(s["recall"]) and math.isnan(s["object_recall"])
    assert s["hd95_um"] == math.inf


def test_both_empty_agree_perfectly():
    empty = np.zeros((4, 5, 6))
    s = score_masks(empty, empty)
    for key in ("dice", "iou", "precision", "recall", "object_precision", "object_recall",
                "object_f1"):
        assert s[key] == 1.0, key
    assert (s["hd95_um"], s["msd_um"]) == (0.0, 0.0)


def test_anisotropic_spacing_scales_each_axis():
    # A one-voxel-thick plane is all surface; shifted by 2 slices, every surface voxel is
    # 2 z-steps from the other plane.
    gt = np.zeros((8, 8, 8), dtype=bool)
    gt[2, 1:7, 1:7] = True
    pred = np.roll(gt, 2, axis=0)
    s = score_masks(pred, gt, spacing_zyx=(2.0, 0.5, 0.5))
    assert s["hd95_um"] == pytest.approx(4.0) and s["msd_um"] == pytest.approx(4.0)
    assert score_masks(pred, gt)["hd95_um"] == pytest.approx(2.0)  # default spacing: voxels
    # One voxel displaced by (1, 0, 2) voxels: sqrt(2^2 + (2 x 0.5)^2) µm.
    one, other = np.zeros((4, 4, 4)), np.zeros((4, 4, 4))
    one[1, 1, 1] = other[2, 1, 3] = 1
    s = score_masks(one, other, spacing_zyx=(2.0, 0.5, 0.5))
    assert s["hd95_um"] == pytest.approx(math.sqrt(5.0))
    assert s["msd_um"] == pytest.approx(math.sqrt(5.0))
    assert s["object_f1"] == 0.0  # IoU 0: not the same object


def test_costmap_zero_voxels_are_left_out():
    gt = _cube((12, 12, 12), 2, 6)
    pred = gt.copy()
    pred[8:11, 8:11, 8:11] = 1  # a false object
    costmap = np.ones_like(gt)
    costmap[7:, 7:, 7:] = 0  # ... where the costmap says "do not count"
    s = score_masks(pred, gt, costmap=costmap)
    assert (s["dice"], s["precision"], s["object_precision"]) == (1.0, 1.0, 1.0)
    assert s["hd95_um"] == 0.0
    unmasked = score_masks(pred, gt)
    assert unmasked["fp_voxels"] == 27 and unmasked["object_precision"] == 0.5


def test_merged_objects_match_nothing():
    # Two 4x4x4 ground-truth cubes 2 voxels apart, predicted as one 4x4x10 box: IoU 64/160
    # with each, below 0.5.
    gt = np.zeros((6, 6, 12), dtype=bool)
    gt[1:5, 1:5, 1:5] = gt[1:5, 1:5, 7:11] = True
    pred = np.zeros_like(gt)
    pred[1:5, 1:5, 1:11] = True
    s = score_masks(pred, gt)
    assert (s["n_pred_objects"], s["n_gt_objects"], s["n_matched_objects"]) == (1, 2, 0)
    assert (s["object_precision"], s["object_recall"], s["object_f1"]) == (0.0, 0.0, 0.0)


def test_split_object_matches_its_larger_part_once():
    # One 4x4x10 ground-truth box predicted as two pieces of 6 and 3 slices: IoU 96/160 = 0.6
    # (a match) and 48/160 = 0.3 (a false object).
    gt = np.zeros((6, 6, 12), dtype=bool)
    gt[1:5, 1:5, 1:11] = True
    pred = np.zeros_like(gt)
    pred[1:5, 1:5, 1:7] = pred[1:5, 1:5, 8:11] = True
    s = score_masks(pred, gt)
    assert (s["n_pred_objects"], s["n_gt_objects"], s["n_matched_objects"]) == (2, 1, 1)
    assert s["object_precision"] == 0.5 and s["object_recall"] == 1.0
    assert s["object_f1"] == pytest.approx(2 / 3)


@pytest.mark.parametrize("connectivity", [1, 3])
def test_pairs_at_iou_half_are_one_to_one_as_an_optimal_assignment_finds(rng, connectivity):
    # Oracle: the largest one-to-one matching of pairs with IoU >= 0.5 (linear_sum_assignment
    # on the full IoU matrix) equals the count of such pairs; objects.py proves why.
    from scipy.optimize import linear_sum_assignment
    from skimage.measure import label

    for _ in range(20):
        pred = rng.random((6, 16, 16)) < 0.3
        gt = pred ^ (rng.random(pred.shape) < 0.1)
        p_lab, n_p = label(pred, connectivity=connectivity, return_num=True)
        g_lab, n_g = label(gt, connectivity=connectivity, return_num=True)
        iou = np.zeros((n_p, n_g))
        for i in range(1, n_p + 1):
            for j in np.unique(g_lab[p_lab == i]):
                if j:
                    inter = np.count_nonzero((p_lab == i) & (g_lab == j))
                    iou[i - 1, j - 1] = inter / np.count_nonzero((p_lab == i) | (g_lab == j))
        r, c = linear_sum_assignment(iou >= 0.5, maximize=True)
        expected = int(np.count_nonzero((iou >= 0.5)[r, c]))
        s = score_masks(pred, gt, connectivity=connectivity)
        assert (s["n_pred_objects"], s["n_gt_objects"]) == (n_p, n_g)
        assert s["n_matched_objects"] == expected


def test_connectivity_decides_what_one_object_is():
    # Two cubes touching at one corner: one object with 26 neighbours, two with 6.
    mask = np.zeros((6, 6, 6), dtype=bool)
    mask[0:2, 0:2, 0:2] = mask[2:4, 2:4, 2:4] = True
    assert score_masks(mask, mask)["n_gt_objects"] == 1
    assert score_masks(mask, mask, connectivity=1)["n_gt_objects"] == 2


def test_min_object_size_leaves_small_objects_out_of_the_object_counts_only():
    # Truth: a 4^3 cube (64 voxels) and a 2x2x2 speck (8). Prediction: the cube shifted by
    # one voxel (IoU 48/80), a 3x3x3 blob over the speck (IoU 8/27: a miss) and a lone
    # 1-voxel speck elsewhere.
    gt = np.zeros((12, 12, 12), dtype=bool)
    gt[1:5, 1:5, 1:5] = True
    gt[8:10, 8:10, 8:10] = True
    pred = np.zeros_like(gt)
    pred[1:5, 1:5, 2:6] = True
    pred[8:11, 8:11, 8:11] = True
    pred[1, 10, 10] = True
    every = score_masks(pred, gt)
    assert (every["n_pred_objects"], every["n_gt_objects"], every["n_matched_objects"]) == (3, 2, 1)
    assert every["object_f1"] == pytest.approx(2 / 5)
    # 10 voxels: the speck (8) and the lone voxel go; the 27-voxel blob stays, unmatched.
    ten = score_masks(pred, gt, min_object_size=10)
    assert (ten["n_pred_objects"], ten["n_gt_objects"], ten["n_matched_objects"]) == (2, 1, 1)
    assert ten["object_precision"] == pytest.approx(0.5) and ten["object_recall"] == 1.0
    assert ten["object_f1"] == pytest.approx(2 / 3)
    # 28 voxels: only the cubes count: one-to-one match.
    big = score_masks(pred, gt, min_object_size=28)
    assert (big["n_pred_objects"], big["n_gt_objects"], big["object_f1"]) == (1, 1, 1.0)
    # Voxel scores and distances never change.
    for key in ("dice", "tp_voxels", "fp_voxels", "fn_voxels", "hd95_um", "msd_um"):
        assert ten[key] == big[key] == every[key]


def test_a_true_object_whose_partner_is_left_out_counts_as_missed():
    gt = _cube()  # 64 voxels
    pred = gt.copy()
    pred[5] = 0  # 48 voxels inside it: IoU 0.75
    assert score_masks(pred, gt)["object_f1"] == 1.0
    s = score_masks(pred, gt, min_object_size=50)
    assert (s["n_pred_objects"], s["n_gt_objects"], s["n_matched_objects"]) == (0, 1, 0)
    assert s["object_recall"] == 0.0 and s["object_f1"] == 0.0


def test_bad_shapes_and_spacing_are_rejected():
    with pytest.raises(ValueError, match="differs"):
        score_masks(np.zeros((2, 3, 4)), np.zeros((2, 3, 5)))
    with pytest.raises(ValueError, match="spacing"):
        score_masks(np.zeros((2, 3, 4)), np.zeros((2, 3, 4)), spacing_zyx=(1.0, 0.0, 1.0))
