"""The packaged module and its size rule (seglight.export.network); no bioimageio needed."""

from __future__ import annotations

import pytest
import torch

from seglight.export.network import AxisRule, ProbabilityModule, size_rule, trace_probability
from seglight.networks import UNetXY


def test_size_rule_states_unet_xy_valid_sizes_and_its_halo_as_an_offset():
    unpadded = size_rule(UNetXY(width=2, padded=False))
    assert unpadded == (AxisRule(29, 1, -28), AxisRule(92, 8, -88), AxisRule(92, 8, -88))
    padded = size_rule(UNetXY(width=2, padded=True))
    assert padded == (AxisRule(1, 1, 0), AxisRule(8, 8, 0), AxisRule(8, 8, 0))
    assert unpadded[1].size(100) == 100 and unpadded[1].size(101) == 108


@pytest.mark.parametrize("padded, window, other", [
    (False, (29, 92, 92), (30, 92, 100)), (True, (8, 32, 32), (5, 48, 40)),
])
def test_one_trace_of_unet_xy_serves_every_valid_size(padded, window, other):
    net = UNetXY(width=2, padded=padded, norm="instance").eval()
    traced, general = trace_probability(net, window, size_rule(net))
    assert general
    x = torch.rand(1, 1, *other, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        expected = ProbabilityModule(net)(x)
        got = traced(x)
    assert got.shape == expected.shape == (1, 1, *net.output_shape(other))
    assert torch.allclose(got, expected, atol=1e-5)
