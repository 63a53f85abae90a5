"""evaluate() over folders: rows, the pooled overall row, failures, CSV and PNG."""

from __future__ import annotations

import csv
import math

import numpy as np
import pytest

from seglight.errors import ConfigError
from seglight.evaluation import evaluate
from seglight.io import write_ome_tiff
from tests.evaluation.conftest import SPACING, cube


def test_rows_and_pooled_overall(mask_folders):
    report = evaluate(mask_folders["pred"], mask_folders["gt"])
    a, b = report.scored
    assert (a["image"], a["dice"], a["hd95_um"]) == ("a", 1.0, 0.0)
    # b: 48 of 64 voxels shared; its surface is 1 x-step = 0.25 µm off (voxel size from file).
    assert b["dice"] == pytest.approx(0.75) and b["hd95_um"] == pytest.approx(0.25)
    assert (b["spacing_z_um"], b["spacing_y_um"], b["spacing_x_um"]) == SPACING
    overall = report.overall
    # Pooled voxels: TP 64 + 48, FP = FN = 16.
    assert overall["dice"] == pytest.approx(2 * 112 / (2 * 112 + 32))
    assert overall["object_f1"] == 1.0
    assert overall["hd95_um"] == pytest.approx(0.125)  # mean of 0 and 0.25
    assert (overall["n_images"], overall["n_distance_images"]) == (2, 2)
    assert report.failures == [] and report.csv_path is None  # out=None writes nothing


def test_spacing_override_rescales_distances(mask_folders):
    report = evaluate(mask_folders["pred"], mask_folders["gt"], spacing_zyx=(1, 1, 2))
    assert report.scored[1]["hd95_um"] == pytest.approx(2.0)
    with pytest.raises(ConfigError, match=r"spacing_zyx=\(1, 1\)"):
        evaluate(mask_folders["pred"], mask_folders["gt"], spacing_zyx=(1, 1))


def test_bad_pairs_are_one_line_each_and_the_others_are_scored(mask_folders):
    pred, gt = mask_folders["pred"], mask_folders["gt"]
    write_ome_tiff(pred / "c_struct_segmentation.tiff", cube(), SPACING)  # no ground truth
    write_ome_tiff(gt / "d.tif", cube((6, 12, 12)), SPACING)               # shape mismatch
    write_ome_tiff(pred / "d_struct_segmentation.tiff", cube(), SPACING)
    write_ome_tiff(gt / "e.tif", cube(), SPACING)                          # empty prediction
    write_ome_tiff(pred / "e_struct_segmentation.tiff", np.zeros((8, 12, 12), np.uint8), SPACING)
    write_ome_tiff(gt / "f.tif", np.zeros((8, 12, 12), np.uint8), SPACING)  # empty pair
    write_ome_tiff(pred / "f_struct_segmentation.tiff", np.zeros((8, 12, 12), np.uint8), SPACING)
    lines = []
    report = evaluate(pred, gt, log=lines.append)
    assert [r["image"] for r in report.scored] == ["a", "b", "e", "f"]
    assert report.failures == [
        f"{pred / 'c_struct_segmentation.tiff'}: no ground truth c.tif[f] in {gt}; "
        "check gt= and gt_suffix=",
        f"{pred / 'd_struct_segmentation.tiff'}: shape (8, 12, 12) differs from its ground "
        "truth d.tif (6, 12, 12); check that the two belong together",
    ]
    assert lines[:2] == report.failures[:1] + report.failures[1:]
    assert lines[2:] == [
        f"{pred / 'e_struct_segmentation.tiff'}: the prediction is empty; Dice 0, distances inf",
        f"{pred / 'f_struct_segmentation.tiff'}: prediction and ground truth are both empty; "
        "scored as perfect agreement (Dice 1, distances 0)",
    ]
    # The empty prediction counts in the pooled voxels, not in the mean distance.
    assert report.overall["fn_voxels"] == 16 + 64
    assert report.overall["n_distance_images"] == 3
    assert report.overall["hd95_um"] == pytest.approx(0.25 / 3)


def test_costmap_folder_leaves_out_zero_voxels(mask_folders):
    cm_dir = mask_folders["tmp"] / "cm"
    costmap = np.ones((8, 12, 12), np.uint8)
    costmap[:, :, 6:] = 0  # hides b's extra x-slice (x = 6) and a's nothing
    write_ome_tiff(cm_dir / "b_CM.tif", costmap, SPACING)
    report = evaluate(mask_folders["pred"], mask_folders["gt"], costmap=cm_dir)
    a, b = report.scored
    assert a["costmap"] == "" and b["costmap"].endswith("b_CM.tif")
    # Left: gt x 2..5, pred x 3..5 -> TP 48, FN 16, FP 0.
    assert (b["tp_voxels"], b["fp_voxels"], b["fn_voxels"]) == (48, 0, 16)
    assert b["precision"] == 1.0


def test_unknown_voxel_size_scores_in_voxels_with_one_warning(mask_folders):
    pred, gt = mask_folders["pred"], mask_folders["gt"]
    for name, shift in (("y", 1), ("z", 2)):
        write_ome_tiff(gt / f"{name}.tif", cube(), (None, None, None))
        write_ome_tiff(pred / f"{name}_struct_segmentation.tiff", cube(lo=(2, 2, 2 + shift)),
                       (None, None, None))
    lines = []
    report = evaluate(pred, gt, log=lines.append, out=mask_folders["tmp"] / "out")
    assert report.failures == [] and len(report.scored) == 4
    assert lines == ["2 image(s) (y, z) have no voxel size in their files: their distances "
                     "are in voxels (hd95_vox, msd_vox); pass spacing_zyx=[z,y,x] for µm"]
    rows = {r["image"]: r for r in report.scored}
    # Shifted by 2 voxels in x: the farthest surface voxels are 2 voxels apart.
    assert rows["z"]["hd95_vox"] == pytest.approx(2.0) and math.isnan(rows["z"]["hd95_um"])
    assert rows["y"]["dice"] == pytest.approx(0.75)  # voxel scores need no voxel size
    assert rows["b"]["hd95_um"] == pytest.approx(0.25) and math.isnan(rows["b"]["hd95_vox"])
    assert report.overall["hd95_vox"] == pytest.approx(1.5)
    assert "HD95 vox" in report.table().splitlines()[0]
    with open(report.csv_path, newline="") as f:
        csv_rows = {r["image"]: r for r in csv.DictReader(f)}
    assert float(csv_rows["z"]["hd95_vox"]) == pytest.approx(2.0)
    assert csv_rows["z"]["spacing_z_um"] == "" and csv_rows["z"]["hd95_um"] == "nan"
    # A given voxel size gives µm for all.
    report = evaluate(pred, gt, spacing_zyx=(1, 1, 1))
    assert report.scored[-1]["hd95_um"] == pytest.approx(2.0)


def test_same_named_predictions_pair_when_no_suffixed_one_exists(mask_folders):
    pred, gt = mask_folders["tmp"] / "other_tool", mask_folders["gt"]
    write_ome_tiff(pred / "a.tif", cube(), SPACING)
    write_ome_tiff(pred / "b.tif", cube(lo=(2, 2, 3)), SPACING)
    report = evaluate(pred, gt)
    assert [(r["image"], r["dice"]) for r in report.scored] == [("a", 1.0), ("b", 0.75)]
    # A suffixed prediction wins over a same-named file.
    write_ome_tiff(pred / "b_struct_segmentation.tiff", cube(), SPACING)
    assert evaluate(pred, gt).scored[1]["dice"] == 1.0


def test_ground_truth_without_prediction_is_listed_not_failed(mask_folders):
    pred, gt = mask_folders["pred"], mask_folders["gt"]
    write_ome_tiff(gt / "c.tif", cube(), SPACING)
    write_ome_tiff(gt / "d.tif", cube(), SPACING)
    lines = []
    report = evaluate(pred, gt, log=lines.append, out=mask_folders["tmp"] / "out")
    assert report.failures == [] and lines == []
    assert report.not_predicted == ["c", "d"]
    assert report.summary_line() == "2 scored, 0 failed, 2 not predicted"
    assert report.overall["n_images"] == 2
    with open(report.csv_path, newline="") as f:
        statuses = [(r["image"], r["status"]) for r in csv.DictReader(f)]
    assert statuses == [("a", "scored"), ("b", "scored"), ("c", "not predicted"),
                        ("d", "not predicted"), ("overall", "scored")]


def test_csv_and_png_written(mask_folders):
    out = mask_folders["tmp"] / "out"
    report = evaluate(mask_folders["pred"], mask_folders["gt"], out=out)
    assert report.csv_path == out / "evaluation.csv" and report.png_path == out / "evaluation.png"
    with open(report.csv_path, newline="") as f:
        rows = list(csv.DictReader(f))
    assert [r["image"] for r in rows] == ["a", "b", "overall"]
    assert float(rows[1]["dice"]) == pytest.approx(0.75)
    assert math.isclose(float(rows[2]["iou"]), report.overall["iou"])
    assert report.png_path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert sorted(p.name for p in out.iterdir()) == ["evaluation.csv", "evaluation.png"]


def test_table_lists_images_then_overall(mask_folders):
    table = evaluate(mask_folders["pred"], mask_folders["gt"]).table().splitlines()
    assert table[0].split()[:3] == ["image", "Dice", "IoU"]
    assert [line.split()[0] for line in table[1:]] == ["a", "b", "-" * len(table[0]), "overall"]
    assert table[2].split()[1] == "0.750"


def test_voxel_size_mismatch_is_a_line_and_the_ground_truths_is_used(mask_folders):
    pred, gt = mask_folders["pred"], mask_folders["gt"]
    write_ome_tiff(pred / "b_struct_segmentation.tiff", cube(lo=(2, 2, 3)), (0.5, 0.25, 0.5))
    lines = []
    report = evaluate(pred, gt, log=lines.append)
    assert lines == [f"{pred / 'b_struct_segmentation.tiff'}: voxel size (0.5, 0.25, 0.5) µm "
                     "differs from the ground truth's (0.5, 0.25, 0.25) µm; the ground "
                     "truth's is used"]
    assert report.scored[1]["hd95_um"] == pytest.approx(0.25)


def test_bad_connectivity_is_a_config_error(mask_folders):
    with pytest.raises(ConfigError, match="connectivity=6: use 1"):
        evaluate(mask_folders["pred"], mask_folders["gt"], connectivity=6)


def test_min_object_size_reaches_the_folders_scores_and_is_checked(mask_folders):
    # Each pair: one 4^3 cube (64 voxels); at 65 voxels neither mask has an object left.
    report = evaluate(mask_folders["pred"], mask_folders["gt"], min_object_size=65)
    assert [r["n_gt_objects"] for r in report.scored] == [0, 0]
    assert report.overall["object_f1"] == 1.0  # neither has objects: agreement
    every = evaluate(mask_folders["pred"], mask_folders["gt"])
    assert report.overall["dice"] == every.overall["dice"]
    for bad in (-1, 2.5, "big"):
        with pytest.raises(ConfigError, match=f"min_object_size={bad!r}: give a number"):
            evaluate(mask_folders["pred"], mask_folders["gt"], min_object_size=bad)
