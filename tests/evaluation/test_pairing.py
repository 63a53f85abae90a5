"""Pairing predictions, ground truths and costmaps by name."""

from __future__ import annotations

from pathlib import Path

import pytest

from seglight.errors import SeglightError
from seglight.evaluation import pair_files


def _touch(folder: Path, *names: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name in names:
        (folder / name).write_bytes(b"")


def test_default_suffixes_pair_predict_outputs_with_plain_names(tmp_path):
    _touch(tmp_path / "pred", "c1_struct_segmentation.tiff", "c2_struct_segmentation.tiff",
           "c1_struct_probability.tiff", "c1_qc.png")
    _touch(tmp_path / "gt", "c1.tif", "c3.ome.tif")
    pairs = {p.name: p for p in pair_files(tmp_path / "pred", tmp_path / "gt")}
    assert sorted(pairs) == ["c1", "c2", "c3"]
    assert pairs["c1"].pred.name == "c1_struct_segmentation.tiff"
    assert pairs["c1"].gt.name == "c1.tif" and pairs["c1"].problem is None
    assert pairs["c2"].problem.endswith("no ground truth c2.tif[f] in "
                                        f"{tmp_path / 'gt'}; check gt= and gt_suffix=")
    assert "no prediction c3_struct_segmentation.tif[f]" in pairs["c3"].problem


def test_curated_folder_gives_ground_truth_and_costmaps(tmp_path):
    _touch(tmp_path / "cur", "img_0.ome.tif", "img_0_GT.ome.tif", "img_0_CM.ome.tif",
           "img_1.ome.tif", "img_1_GT.ome.tif")
    _touch(tmp_path / "pred", "img_0_struct_segmentation.tiff", "img_1_struct_segmentation.tiff")
    pairs = pair_files(tmp_path / "pred", tmp_path / "cur", costmap=tmp_path / "cur",
                       gt_suffix="_GT", costmap_suffix="_CM")
    assert [(p.name, p.gt.name, p.costmap and p.costmap.name, p.problem) for p in pairs] == [
        ("img_0", "img_0_GT.ome.tif", "img_0_CM.ome.tif", None),
        ("img_1", "img_1_GT.ome.tif", None, None),  # no costmap: every voxel counts
    ]


def test_shared_folder_gives_each_file_to_its_longest_suffix(tmp_path):
    # Predictions, ground truths (no suffix) and costmaps all in one folder.
    _touch(tmp_path / "all", "c.tif", "c_struct_segmentation.tiff", "c_CM.tif")
    folder = tmp_path / "all"
    pairs = pair_files(folder, folder, costmap=folder)
    assert [(p.name, p.pred.name, p.gt.name, p.costmap.name) for p in pairs] == [
        ("c", "c_struct_segmentation.tiff", "c.tif", "c_CM.tif")]


def test_missing_folder_and_no_matches_are_one_line(tmp_path):
    with pytest.raises(SeglightError, match=r"^pred=.*nope: no such folder$"):
        pair_files(tmp_path / "nope", tmp_path)
    _touch(tmp_path / "p", "x_seg.tif")
    _touch(tmp_path / "g", "x_mask.tif")
    with pytest.raises(SeglightError, match="check the folders, pred_suffix= and gt_suffix="):
        pair_files(tmp_path / "p", tmp_path / "g", gt_suffix="_GT")
