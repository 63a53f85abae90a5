"""Sliding-window inference: exact tiles for unpadded networks, blending, windows, precision."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from seglight.errors import ConfigError
from seglight.networks import SegmentationNetwork, UNetXY
from seglight.predict.inference import SlidingWindowInferer
from seglight.predict.prepare import resolve_dtype
from seglight.predict.windows import plan_windows


class ConstantNet(SegmentationNetwork):
    """Same-padded; foreground logit = the input's value, background 0."""

    def __init__(self):
        super().__init__()
        self.scale = nn.Parameter(torch.ones(()))

    def forward(self, x):
        return torch.cat([torch.zeros_like(x), x * self.scale], dim=1)


@pytest.fixture
def image():
    return np.random.default_rng(0).random((31, 70, 66)).astype(np.float32)


def test_unpadded_tiles_equal_one_large_window(image):
    torch.manual_seed(0)
    net = UNetXY(width=2, padded=False).eval()
    image = image[:12, :40, :36]
    whole = SlidingWindowInferer(net, window_zyx=(40, 140, 140), precision="32")(image)
    tiled_infer = SlidingWindowInferer(net, window_zyx=(32, 108, 108), precision="32",
                                       batch_size=3)
    plan = tiled_infer.plan(image.shape)
    assert plan.n_windows == 12 and plan.halo_lo == (14, 44, 44)
    tiled = tiled_infer(image)
    assert tiled.shape == image.shape and tiled.dtype == np.float32
    np.testing.assert_allclose(tiled, whole, atol=1e-5)


def test_blending_is_normalized_and_pointwise_net_is_exact(image):
    # A pointwise network gives the same value from every window: any blending error shows.
    out = SlidingWindowInferer(ConstantNet(), window_zyx=(16, 32, 32), overlap=0.5,
                               precision="32")(image)
    np.testing.assert_allclose(out, 1 / (1 + np.exp(-image)), atol=1e-5)


def test_flip_tta_of_a_flip_invariant_net_changes_nothing(image):
    net = ConstantNet()
    plain = SlidingWindowInferer(net, window_zyx=(16, 32, 32), precision="32")(image)
    tta = SlidingWindowInferer(net, window_zyx=(16, 32, 32), precision="32", flip_tta=True)(image)
    np.testing.assert_allclose(tta, plain, atol=1e-6)


def test_bf16_is_close_to_float32(image):
    torch.manual_seed(0)
    net = UNetXY(width=2, padded=True).eval()
    image = image[:8, :32, :32]
    ref = SlidingWindowInferer(net, window_zyx=(8, 32, 32), precision="32")(image)
    bf = SlidingWindowInferer(net, window_zyx=(8, 32, 32), precision="bf16")(image)
    assert np.abs(bf - ref).max() < 0.02


def test_bad_options_are_config_errors():
    with pytest.raises(ConfigError, match="precision=16"):
        resolve_dtype("16", torch.device("cpu"))
    with pytest.raises(ConfigError, match="overlap"):
        plan_windows(UNetXY(width=2, padded=True), (8, 64, 64), (8, 64, 64), overlap=1.0)
    with pytest.raises(ConfigError, match="batch_size"):
        SlidingWindowInferer(ConstantNet(), batch_size=0)


@pytest.mark.gpu
def test_gpu_with_cpu_stitching_matches_cpu(image):
    if not torch.cuda.is_available():
        pytest.skip("needs a CUDA GPU")
    torch.manual_seed(0)
    net = UNetXY(width=2, padded=True).eval()
    cpu = SlidingWindowInferer(net, window_zyx=(16, 64, 64), precision="32")(image)
    for on_device in (False, True):
        gpu_net = UNetXY(width=2, padded=True).eval()
        gpu_net.load_state_dict(net.state_dict())
        gpu = SlidingWindowInferer(gpu_net.cuda(), window_zyx=(16, 64, 64), precision="32",
                                   stitch_on_device=on_device)(image)
        np.testing.assert_allclose(gpu, cpu, atol=1e-4)


def test_inferer_follows_weights_changed_after_its_first_call(image):
    net = ConstantNet()
    inferer = SlidingWindowInferer(net, window_zyx=(16, 32, 32), precision="32")
    before = inferer(image)
    with torch.no_grad():
        net.scale.mul_(-1)  # in place, as an optimizer step is
    after = inferer(image)
    np.testing.assert_allclose(after, 1 - before, atol=1e-6)  # sigmoid(-v) = 1 - sigmoid(v)
