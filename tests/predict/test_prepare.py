"""The network made ready for inference: batch norms folded, a copy in the compute dtype."""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch
from torch import nn

from seglight.networks import UNetXY
from seglight.predict.inference import SlidingWindowInferer
from seglight.predict.prepare import InferenceCopy, fold_batch_norms, resolve_dtype


@pytest.fixture
def image():
    return np.random.default_rng(0).random((31, 70, 66)).astype(np.float32)


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
    net = _with_random_batch_norms(UNetXY(width=4, padded=True))
    x = torch.rand(1, 1, 6, 32, 32)
    folded = copy.deepcopy(net)
    assert fold_batch_norms(folded) == 14  # two per level: 3 encoder, bottleneck, 3 decoder
    assert not any(isinstance(m, nn.BatchNorm3d) for m in folded.modules())
    with torch.no_grad():
        torch.testing.assert_close(folded(x)[0], net(x)[0], rtol=1e-4, atol=1e-4)


def test_batch_norms_of_monai_networks_fold_too():
    """MONAI puts the norm in an ADN block after the convolution, not beside it."""
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


def test_the_copy_is_made_once_and_the_dtype_follows_precision():
    net = UNetXY(width=2, padded=True).eval()
    prepared = InferenceCopy(net, precision="bf16")
    run_net, dtype = prepared.get()
    assert dtype == torch.bfloat16 == next(run_net.parameters()).dtype
    assert prepared.get()[0] is run_net  # unchanged network: the same copy
    assert resolve_dtype("32", torch.device("cpu")) == torch.float32
