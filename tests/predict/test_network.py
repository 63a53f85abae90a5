"""NetworkBinarizer: a network as a binarizer, with the optional large-image and spacing
abilities of the binarizer protocol."""

from __future__ import annotations

import logging

import dask.array as da
import numpy as np
import pytest
import torch

from seglight.binarizer import Binarizer, LargeImageBinarizer, SpacingAware
from seglight.errors import ConfigError, SeglightError
from seglight.networks import UNetXY
from seglight.predict.network import NetworkBinarizer, resolve_device


@pytest.fixture
def binarizer():
    torch.manual_seed(0)
    return NetworkBinarizer(UNetXY(width=2, padded=True, aux_heads=False, norm="instance"),
                            normalization=[{"op": "min_max"}], spacing_um=(0.29, 0.108, 0.108),
                            window_zyx=(8, 32, 32), precision="32")


def test_a_network_binarizer_offers_every_part_of_the_protocol(binarizer):
    assert isinstance(binarizer, Binarizer)
    assert isinstance(binarizer, LargeImageBinarizer) and isinstance(binarizer, SpacingAware)


def test_lazy_prediction_equals_the_in_memory_one(binarizer, rng):
    image = rng.integers(0, 1000, (8, 40, 36)).astype(np.uint16)
    whole = binarizer.predict_proba(image)
    out, weights = np.empty(image.shape, np.float32), np.empty(image.shape, np.float32)
    lazy = binarizer.predict_proba_lazy(da.from_array(image, chunks=(4, 20, 20)), out, weights)
    assert lazy is out and whole.shape == image.shape and whole.dtype == np.float32
    np.testing.assert_allclose(lazy, whole, atol=1e-5)


def test_resize_needs_the_whole_image(binarizer, rng):
    binarizer.resize_zyx = (1.0, 0.5, 0.5)
    image = da.from_array(rng.random((8, 32, 32)).astype(np.float32))
    with pytest.raises(SeglightError, match="resize_zyx=.*max_in_memory_voxels"):
        binarizer.predict_proba_lazy(image, np.empty(image.shape, np.float32),
                                     np.empty(image.shape, np.float32))


def test_a_far_voxel_size_is_warned_once(binarizer, caplog):
    with caplog.at_level(logging.WARNING):
        binarizer.warn_spacing((0.29, 0.2, 0.2), "cell_01")
        binarizer.warn_spacing((0.3, 0.11, 0.11), "cell_02")
    assert len(caplog.records) == 1
    assert "cell_01: voxel size y is 0.2 um" in caplog.text


@pytest.mark.parametrize("resize", [[1, 0.5], [1, 0, 1]])
def test_bad_resize_is_a_config_error(resize):
    with pytest.raises(ConfigError, match="three positive factors"):
        NetworkBinarizer(UNetXY(width=2, padded=True), resize_zyx=resize)


def test_devices():
    assert resolve_device("cpu") == torch.device("cpu")
    assert resolve_device("auto").type in ("cpu", "cuda")
    with pytest.raises(ConfigError, match="use cpu, cuda"):
        resolve_device("tpu")
