"""Behaviour of the size filters SF (3D, 6-connected) and SF2D (per slice, 4-connected)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage as ndi

from seglight.classic.postprocess import size_filter
from seglight.errors import ConfigError


def test_objects_of_min_size_or_fewer_are_removed():
    mask = np.zeros((3, 10, 10), bool)
    mask[1, 1, 1:5] = True  # 4 voxels
    mask[1, 5, 1:6] = True  # 5 voxels
    out = size_filter(mask, 4)
    assert out.dtype == bool
    assert not out[1, 1].any()
    np.testing.assert_array_equal(out[1, 5], mask[1, 5])


def test_3d_objects_are_face_connected():
    mask = np.zeros((4, 6, 6), bool)
    mask[1, 1, 1] = mask[2, 2, 2] = True  # touching at a corner only: two objects of 1
    mask[1, 4, 1] = mask[2, 4, 1] = True  # touching at a face: one object of 2
    out = size_filter(mask, 1)
    assert not out[1, 1, 1] and not out[2, 2, 2]
    assert out[1, 4, 1] and out[2, 4, 1]


def test_per_slice_filter_ignores_connections_across_z():
    column = np.zeros((5, 8, 8), bool)
    column[:, 3, 3:5] = True  # 2 pixels in each slice, 10 voxels in 3D
    assert size_filter(column, 5).sum() == 10
    assert size_filter(column, 2, per_slice=True).sum() == 0
    assert size_filter(column, 1, per_slice=True).sum() == 10


def test_per_slice_filter_is_4_connected():
    mask = np.zeros((1, 6, 6), bool)
    mask[0, 1, 1] = mask[0, 2, 2] = True  # diagonal neighbours: two objects of 1
    assert size_filter(mask, 1, per_slice=True).sum() == 0


def test_matches_per_object_counting(rng):
    mask = ndi.gaussian_filter(rng.random((6, 30, 30)), 0.7) > 0.55
    labels, n = ndi.label(mask)
    sizes = ndi.sum(mask, labels, range(1, n + 1))
    expected = np.isin(labels, 1 + np.flatnonzero(sizes > 6))
    np.testing.assert_array_equal(size_filter(mask, 6), expected)


def test_nonbool_input_and_trivial_sizes():
    mask = np.zeros((2, 4, 4), np.uint8)
    mask[0, 0, 0] = 255
    np.testing.assert_array_equal(size_filter(mask, 0), mask > 0)
    assert not size_filter(mask, 1).any()


def test_bad_arguments_are_config_errors():
    with pytest.raises(ConfigError):
        size_filter(np.zeros((2, 4, 4), bool), -1)
    with pytest.raises(ConfigError):
        size_filter(np.zeros((4, 4), bool), 2, per_slice=True)
