"""The window plan: tiles cover the image, windows are valid and large, borders mirrored."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch

from seglight.networks import UNetXY
from seglight.predict.windows import auto_window, plan_windows, read_block


def test_tiles_cover_every_voxel():
    net = UNetXY(width=2, padded=False)
    shape = (40, 300, 250)
    plan = plan_windows(net, shape, (36, 156, 156))
    covered = np.zeros(shape, bool)
    for tile in plan.tiles():
        covered[tuple(slice(s, s + o) for s, o in zip(tile, plan.out_zyx, strict=True))] = True
    assert covered.all()
    assert plan.out_zyx == (8, 68, 68)


@pytest.mark.parametrize("padded", [False, True])
def test_auto_window_is_valid_within_budget_and_beats_small_windows(padded):
    net = UNetXY(width=2, padded=padded)
    shape = (65, 624, 924)
    window = auto_window(net, shape, memory_gib=1.0)
    assert net.output_shape(window)  # valid (raises otherwise)
    assert np.prod(window) <= 2**30 / net.inference_bytes_per_voxel()
    big = plan_windows(net, shape, window)
    small = plan_windows(net, shape, net.valid_input_shape((30, 100, 100)))
    assert big.n_windows * np.prod(big.in_zyx) < small.n_windows * np.prod(small.in_zyx)


def test_default_overlap_zero_with_halo_and_quarter_without():
    unpadded = plan_windows(UNetXY(width=2), (40, 400, 400), (36, 156, 156))
    padded = plan_windows(UNetXY(width=2, padded=True), (40, 400, 400), (16, 128, 128))
    assert unpadded.starts[1][:2] == (0, 68)
    assert padded.starts[1][:2] == (0, 96)


def test_read_block_mirrors_outside_the_image():
    image = np.arange(5 * 6 * 7, dtype=np.float32).reshape(5, 6, 7)
    block = read_block(image, (-2, 1, 4), (9, 3, 6))
    assert block.shape == (9, 3, 6)
    np.testing.assert_array_equal(block[2:7, :, :3], image[:, 1:4, 4:7])
    np.testing.assert_array_equal(block[1], block[2])  # symmetric: edge repeated
    np.testing.assert_array_equal(block[2:7, :, 3], image[:, 1:4, 6])


def test_windows_iterate_z_slowest():
    plan = plan_windows(UNetXY(width=2, padded=True), (20, 64, 64), (16, 32, 32), overlap=0)
    assert list(plan.tiles()) == list(itertools.product(*plan.starts))
    assert list(plan.tiles())[0] == (0, 0, 0)


@pytest.mark.parametrize("padded", [False, True])
def test_auto_window_is_square_in_xy_unless_the_image_is_narrower(padded):
    net = UNetXY(width=32, padded=padded)
    window = auto_window(net, (65, 624, 924), memory_gib=2.0, dtype=torch.bfloat16)
    assert window[1] == window[2]
    assert np.prod(window) <= 2 * 2 * 2**30 / net.inference_bytes_per_voxel()
    narrow = auto_window(net, (65, 624, 40), memory_gib=2.0, dtype=torch.bfloat16)
    assert narrow[2] == net.valid_input_shape((1, 1, 40 + 88 * (not padded)))[2] < narrow[1]


def test_unet_xy_memory_per_voxel_follows_its_variant():
    unpadded, padded = UNetXY(width=32), UNetXY(width=32, padded=True)
    assert unpadded.inference_bytes_per_voxel() < padded.inference_bytes_per_voxel()
    assert UNetXY(width=8).inference_bytes_per_voxel() == unpadded.inference_bytes_per_voxel() / 4
