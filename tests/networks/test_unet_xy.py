import pytest
import torch

from seglight.errors import ConfigError
from seglight.networks import UNetXY


@pytest.mark.parametrize("p", [4, 5])
def test_published_size_relation(p):
    net = UNetXY(width=2)
    s = 8 * p + 60
    assert net.output_shape((30, s, s)) == (2, 8 * p - 28, 8 * p - 28)
    net.train()
    heads = net(torch.zeros(1, 1, 30, s, s))
    assert len(heads) == 3
    assert all(h.shape == (1, 2, 2, 8 * p - 28, 8 * p - 28) for h in heads)


def test_segmenter_patch_sizes():
    # aicsmlsegment's unet_xy training config: size_in [50, 156, 156] -> size_out [22, 68, 68]
    assert UNetXY().output_shape((50, 156, 156)) == (22, 68, 68)


def test_invalid_size_names_nearest_valid():
    with pytest.raises(ConfigError, match=r"nearest valid size is \[29, 92, 92\]"):
        UNetXY(width=2).output_shape((20, 90, 90))


def test_eval_mode_returns_main_head_only():
    net = UNetXY(width=2, padded=True).eval()
    with torch.no_grad():
        heads = net(torch.zeros(1, 1, 5, 32, 32))
    assert len(heads) == 1 and heads[0].shape == (1, 2, 5, 32, 32)


def test_padded_output_equals_input_and_requires_divisible_by_8():
    net = UNetXY(width=2, padded=True).train()
    assert [h.shape[-3:] for h in net(torch.zeros(2, 1, 7, 24, 40))] == [(7, 24, 40)] * 3
    with pytest.raises(ConfigError, match="divisible by 8"):
        net.output_shape((7, 30, 30))


def test_zoom_variant_size_relation_and_forward():
    net = UNetXY(width=2, zoom=2).train()
    # xy input 2 * (8p+60) with p = 4 -> 2 * (8p-28)
    assert net.output_shape((29, 184, 184)) == (1, 8, 8)
    assert [h.shape for h in net(torch.zeros(1, 1, 29, 184, 184))] == [(1, 2, 1, 8, 8)] * 3
    padded = UNetXY(width=2, zoom=2, padded=True).eval()
    assert padded.output_shape((4, 48, 64)) == (4, 48, 64)
    with pytest.raises(ConfigError, match="divisible by 16"):
        padded.output_shape((4, 40, 40))


@pytest.mark.parametrize("z_out", [0, 1])
def test_output_is_centred_in_z(z_out):
    """Output slice k sees exactly input slices k .. k+28: 14 trimmed on each side."""
    torch.manual_seed(0)
    net = UNetXY(width=2).eval()
    x = torch.rand(1, 1, 30, 92, 92, requires_grad=True)
    net(x)[0][0, 1, z_out, 2, 2].backward()
    z_support = torch.nonzero(x.grad[0, 0].abs().sum(dim=(1, 2)) > 0).flatten()
    assert (int(z_support.min()), int(z_support.max())) == (z_out, z_out + 28)


@pytest.mark.parametrize("kwargs, shape", [
    ({}, (30, 92, 92)),
    ({"padded": True}, (6, 32, 40)),
    ({"zoom": 2}, (29, 184, 184)),
])
def test_inference_path_computes_what_the_training_graph_computes(kwargs, shape):
    """Without autograd, unet_xy crops skips early, pools by strided maxima and splits the
    first decoder convolution instead of concatenating: the same numbers, less memory."""
    torch.manual_seed(0)
    net = UNetXY(width=4, **kwargs).eval()
    x = torch.rand(1, 1, *shape)
    with torch.enable_grad():
        graph = net(x)[0]
    with torch.inference_mode():
        lean = net(x)[0]
        lean_cl = net.to(memory_format=torch.channels_last_3d)(
            x.contiguous(memory_format=torch.channels_last_3d))[0]
    torch.testing.assert_close(lean, graph.detach(), rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(lean_cl, graph.detach(), rtol=1e-5, atol=1e-5)
