"""The fingerprint of hand-built folders: spacing, shapes, foreground, shape classes."""

from __future__ import annotations

import numpy as np
import pytest

from seglight.errors import SeglightError
from seglight.planning.fingerprint import classify, fingerprint, object_shape
from tests.planning.conftest import ball, write_folder


def test_spacing_shape_and_foreground_fraction(tmp_path):
    masks = [np.zeros((10, 40, 30), bool) for _ in range(3)]
    for m in masks:
        m[:, :10, :] = True  # a quarter of every image
    fp = fingerprint(write_folder(tmp_path / "f", masks, (1.5, 0.25, 0.25)), progress=False)
    assert fp.n_images == 3
    assert fp.spacing_um == [1.5, 0.25, 0.25] and fp.spacing_known
    assert fp.median_shape == [10, 40, 30] and fp.total_voxels == 3 * 10 * 40 * 30
    assert fp.foreground_fraction == pytest.approx(0.25)
    assert fp.costmap_coverage == 1.0
    assert fp.anisotropy == pytest.approx(6.0)
    # image = 100 + 400 * mask + noise(10): the statistics see both classes apart
    assert fp.foreground.p50 == pytest.approx(500, abs=5)
    assert fp.background.p50 == pytest.approx(100, abs=5)
    assert fp.background.std == pytest.approx(10, rel=0.2)


def test_costmap_coverage_and_foreground_among_supervised(tmp_path):
    mask = np.zeros((8, 32, 32), bool)
    mask[:, :8] = True                      # a quarter of the voxels
    cm = np.ones(mask.shape, np.float32)
    cm[:, 16:] = 0                          # half the image teaches nothing
    fp = fingerprint(write_folder(tmp_path / "f", [mask], (1, 1, 1), [cm]), progress=False)
    assert fp.costmap_coverage == pytest.approx(0.5)
    assert fp.foreground_fraction == pytest.approx(0.5)  # 8 of the 16 supervised rows


def test_ball_is_a_blob_and_its_size_in_um(balls):
    fp = fingerprint(balls, progress=False)
    assert fp.kind == "blob"
    # radius 6 voxels of 0.2 um: a 13-voxel (2.6 um) box, inscribed diameter ~2.4 um
    assert fp.extent_um == pytest.approx([2.6, 2.6, 2.6], abs=0.01)
    assert 2.0 <= fp.thickness_um <= 2.8
    assert fp.n_objects == 2


def test_hollow_ellipsoid_is_a_thin_shell(shells):
    fp = fingerprint(shells, progress=False)
    assert fp.kind == "shell"
    assert fp.thickness_um < 0.6            # a wall of a few voxels
    assert fp.extent_um[1] == pytest.approx(4.5, abs=0.1)  # 45 voxels of 0.1 um across
    assert fp.fill_ratio > 2


def test_a_thin_open_tube_is_a_filament():
    mask = np.zeros((16, 64, 64), bool)
    mask[7:9, 31:33, 4:60] = True
    shape = object_shape(mask, (0.2, 0.2, 0.2))
    thickness = float(np.median(shape["ridge"]))
    assert classify(thickness, shape["extents"][0], shape["fill"][0]) == "filament"


def test_thickness_follows_the_voxel_size():
    mask = ball((21, 21, 21), (10, 10, 10), (8, 8, 8))
    fine = np.median(object_shape(mask, (0.1, 0.1, 0.1))["ridge"])
    coarse = np.median(object_shape(mask, (0.3, 0.3, 0.3))["ridge"])
    assert coarse == pytest.approx(3 * fine, rel=0.01)


def test_empty_folder_is_one_clear_error(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(SeglightError, match="no curated triplets"):
        fingerprint(tmp_path / "empty", progress=False)
