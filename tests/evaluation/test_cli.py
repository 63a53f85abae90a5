"""python -m seglight.evaluate on a temporary folder."""

from __future__ import annotations

import csv

import pytest
from hydra import compose, initialize_config_dir

import seglight
from seglight.io import write_ome_tiff
from tests.evaluation.conftest import SPACING, cube
from tests.helpers.cli_utils import run_module


def run_cli(*args, cwd):
    return run_module("seglight.evaluate", *args, cwd=cwd)


def test_config_defaults():
    with initialize_config_dir(config_dir=str(seglight.CONF_DIR), version_base="1.3"):
        cfg = compose(config_name="evaluate", overrides=["pred=p", "gt=g"])
    assert (cfg.pred_suffix, cfg.gt_suffix, cfg.costmap_suffix) == ("_struct_segmentation", "",
                                                                     "_CM")
    assert cfg.spacing_zyx is None and cfg.out is None and cfg.connectivity == 3
    assert cfg.min_object_size == 0


@pytest.mark.slow
def test_cli_scores_writes_csv_png_and_exits_1_on_a_bad_pair(mask_folders):
    write_ome_tiff(mask_folders["pred"] / "c_struct_segmentation.tiff", cube(), SPACING)
    result = run_cli("pred=pred", "gt=gt", "out=report", cwd=mask_folders["tmp"])
    assert result.returncode == 1, result.stderr
    lines = result.stdout.splitlines()
    assert [line.split()[0] for line in lines] == ["image", "a", "b", lines[3], "overall"]
    assert result.stderr.splitlines() == [
        "pred/c_struct_segmentation.tiff: no ground truth c.tif[f] in gt; check gt= and gt_suffix=",
        "2 scored, 1 failed; report/evaluation.csv, report/evaluation.png",
    ]
    assert (mask_folders["tmp"] / "report" / "evaluation.png").stat().st_size > 0
    assert not (mask_folders["tmp"] / "outputs").exists()  # no Hydra run folders


@pytest.mark.slow
def test_cli_curated_ground_truth_and_default_out(mask_folders):
    cur = mask_folders["tmp"] / "curated"
    for name in ("a", "b"):
        write_ome_tiff(cur / f"{name}.ome.tif", cube(), SPACING)  # the raw image: not a mask
        write_ome_tiff(cur / f"{name}_GT.ome.tif", cube(), SPACING)
    write_ome_tiff(cur / "b_CM.ome.tif", cube(), SPACING)  # only the cube counts
    result = run_cli("pred=pred", f"gt={cur}", "gt_suffix=_GT", f"costmap={cur}",
                     cwd=mask_folders["tmp"])
    assert result.returncode == 0, result.stderr
    b = result.stdout.splitlines()[2].split()
    assert b[0] == "b" and b[1] == "0.857"  # inside the cube: TP 48, FN 16 -> 96 / 112
    assert (mask_folders["pred"] / "evaluation.csv").exists()  # out defaults to pred


@pytest.mark.slow
def test_cli_missing_key_is_one_line(tmp_path):
    result = run_cli("gt=g", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip() == ("error: pred= is missing; "
                                     "python -m seglight.evaluate pred=DIR gt=DIR")


@pytest.mark.slow
def test_cli_min_object_size_leaves_objects_out(mask_folders):
    result = run_cli("pred=pred", "gt=gt", "out=report", "min_object_size=65",
                     cwd=mask_folders["tmp"])
    assert result.returncode == 0, result.stderr
    with open(mask_folders["tmp"] / "report" / "evaluation.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert [float(r["n_gt_objects"]) for r in rows] == [0.0, 0.0, 0.0]  # a, b, overall
    bad = run_cli("pred=pred", "gt=gt", "min_object_size=-3", cwd=mask_folders["tmp"])
    assert bad.returncode == 2
    assert bad.stderr.strip().splitlines() == [
        "error: min_object_size=-3: give a number of voxels >= 0 (0 counts every object)"]
