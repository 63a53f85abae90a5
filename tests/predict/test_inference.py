"""Sliding-window inference: exact tiles for unpadded networks, blending, windows, precision."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch
from torch import nn

from seglight.errors import ConfigError
from seglight.networks import SegmentationNetwork, UNetXY
from seglight.predict.inference import SlidingWindowInferer
from seglight.predict.prepare import fold_batch_norms, resolve_dtype
from seglight.predict.windows import auto_window, plan_windows, read_block


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


def test_windows_iterate_z_slowest():
    plan = plan_windows(UNetXY(width=2, padded=True), (20, 64, 64), (16, 32, 32), overlap=0)
    assert list(plan.tiles()) == list(itertools.product(*plan.starts))
    assert list(plan.tiles())[0] == (0, 0, 0)


def _with_random_batch_norms(net: nn.Module) -> nn.Module:
    """Batch norms with running statistics and affine parameters far from the identity."""
    gen = torch.Generator().manual_seed(0)
    for m in net.modules():
        if isinstance(m, nn.BatchNorm3d):
            n = m.num_features
            m.running_mean.copy_(torch.randn(n, generator=gen))
            m.running_var.copy_(torch.rand(n, generator=gen) + 0.5)
            m.weight.data.copy_(torch.randn(n, generator=gen))
            m.bias.data.copy_(torch.randn(n, generator=gen))
    return net.eval()


def test_batch_norms_fold_into_the_convolutions_without_changing_the_output():
    import copy

    net = _with_random_batch_norms(UNetXY(width=4, padded=True))
    x = torch.rand(1, 1, 6, 32, 32)
    folded = copy.deepcopy(net)
    assert fold_batch_norms(folded) == 14  # two per level: 3 encoder, bottleneck, 3 decoder
    assert not any(isinstance(m, nn.BatchNorm3d) for m in folded.modules())
    with torch.no_grad():
        torch.testing.assert_close(folded(x)[0], net(x)[0], rtol=1e-4, atol=1e-4)


def test_batch_norms_of_monai_networks_fold_too():
    """MONAI puts the norm in an ADN block after the convolution, not beside it."""
    import copy

    from monai.networks.nets import BasicUNet

    net = _with_random_batch_norms(BasicUNet(3, 1, 2, features=(4, 4, 8, 8, 16, 4), norm="batch"))
    n_norms = sum(isinstance(m, nn.BatchNorm3d) for m in net.modules())
    folded = copy.deepcopy(net)
    assert fold_batch_norms(folded) == n_norms > 0
    x = torch.rand(1, 1, 16, 32, 32)
    with torch.no_grad():
        torch.testing.assert_close(folded(x), net(x), rtol=1e-4, atol=1e-4)


def test_inferer_prepares_a_copy_and_leaves_the_network_as_given(image):
    net = _with_random_batch_norms(UNetXY(width=2, padded=True))
    inferer = SlidingWindowInferer(net, window_zyx=(16, 32, 32), precision="bf16")
    inferer(image)
    assert sum(isinstance(m, nn.BatchNorm3d) for m in net.modules()) == 14
    assert all(p.dtype == torch.float32 for p in net.parameters())
    assert not any(isinstance(m, nn.BatchNorm3d) for m in inferer.network.get()[0].modules())


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


def test_inferer_follows_weights_changed_after_its_first_call(image):
    net = ConstantNet()
    inferer = SlidingWindowInferer(net, window_zyx=(16, 32, 32), precision="32")
    before = inferer(image)
    with torch.no_grad():
        net.scale.mul_(-1)  # in place, as an optimizer step is
    after = inferer(image)
    np.testing.assert_allclose(after, 1 - before, atol=1e-6)  # sigmoid(-v) = 1 - sigmoid(v)
