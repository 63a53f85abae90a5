"""A trained network as the module a bioimage.io package carries, and its size rule.

The packaged module takes a normalized float32 batch ``(B, 1, Z, Y, X)`` and returns the
foreground probability ``(B, 1, Z', Y', X')`` of the centred output block. The spec describes
the valid input sizes of each spatial axis as ``min + n*step`` (``ParameterizedSize``) and the
output size as the input size plus an ``offset`` (``SizeReference``; an unpadded network's
negative offset is the halo it already cropped), which is exactly what
:meth:`~seglight.networks.base.SegmentationNetwork.output_shape` knows; :func:`size_rule`
reads it off the network.

A trace records Python integers computed from shapes as constants, so ``unet_xy``'s
centre crops of its skip connections (sizes computed in Python) would freeze the traced file
to the one window it was traced at. :class:`TraceableUNetXY` runs the same layers with the
crops in a scripted function, which the trace keeps as shape arithmetic, so one TorchScript
or ONNX file serves every valid size. Any other network is traced as it is, and
:func:`trace_probability` checks the trace at a second size; where it does not generalize, the
package declares the one size it was traced at.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from seglight.networks.base import SegmentationNetwork
from seglight.networks.unet_xy import UNetXY

ZYX = tuple[int, int, int]


@dataclass(frozen=True)
class AxisRule:
    """Valid input sizes ``min + n*step`` of one axis; output size = input size + ``offset``."""

    min: int
    step: int
    offset: int

    def size(self, at_least: int) -> int:
        """The smallest valid input size of at least ``at_least``."""
        n = max(0, -(-(int(at_least) - self.min) // self.step))
        return self.min + n * self.step


def _next_valid(net: SegmentationNetwork, axis: int, after: int) -> int:
    probe = list(net.valid_input_shape((1, 1, 1)))
    probe[axis] = after + 1
    return net.valid_input_shape(probe)[axis]


def size_rule(net: SegmentationNetwork) -> tuple[AxisRule, AxisRule, AxisRule] | None:
    """The network's valid sizes as ``min + n*step`` and its output offset, per axis (ZYX).

    Returns ``None`` when the valid sizes are not an arithmetic progression with a constant
    output offset over the first four sizes (the spec could not describe them).
    """
    base = list(net.valid_input_shape((1, 1, 1)))
    rules = []
    for axis in range(3):
        sizes = [base[axis]]
        for _ in range(3):
            sizes.append(_next_valid(net, axis, sizes[-1]))
        steps = {b - a for a, b in zip(sizes, sizes[1:], strict=False)}
        offsets = set()
        for size in sizes:
            shape = list(base)
            shape[axis] = size
            offsets.add(net.output_shape(shape)[axis] - size)
        if len(steps) != 1 or len(offsets) != 1:
            return None
        rules.append(AxisRule(sizes[0], steps.pop(), offsets.pop()))
    return tuple(rules)  # type: ignore[return-value]


class ProbabilityModule(nn.Module):
    """Any network's main head as a one-channel foreground probability."""

    def __init__(self, net: SegmentationNetwork):
        super().__init__()
        self.net = net

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.softmax(self.net.predict_logits(x).float(), dim=1)[:, 1:2]


@torch.jit.script
def _crop_like(x: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    """The centred block of ``x`` of ``like``'s spatial size (kept as shape arithmetic)."""
    dz = (x.size(2) - like.size(2)) // 2
    dy = (x.size(3) - like.size(3)) // 2
    dx = (x.size(4) - like.size(4)) // 2
    return x[:, :, dz:dz + like.size(2), dy:dy + like.size(3), dx:dx + like.size(4)]


class TraceableUNetXY(nn.Module):
    """``unet_xy``'s eval-mode main head, written so that one trace serves every valid size.

    The same layers, in the order of :meth:`UNetXY.forward` (encoder, xy pooling,
    bottleneck, up-sampling joined with the centred part of each skip, main head, zoom undone),
    without the auxiliary heads and the memory-saving inference path.
    """

    def __init__(self, net: UNetXY):
        super().__init__()
        self.net = net

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        net = self.net
        if net.zoom > 1:
            x = F.max_pool3d(x, (1, net.zoom, net.zoom))
        skips = []
        for block in net.enc:
            x = block(x)
            skips.append(x)
            x = F.max_pool3d(x, (1, 2, 2))
        x = net.bottleneck(x)
        for up, dec in zip(net.up, net.dec, strict=True):
            x = up(x)
            x = dec(torch.cat([_crop_like(skips.pop(), x), x], dim=1))
        logits = net.head(x)
        if net.zoom > 1:
            logits = F.interpolate(logits, scale_factor=(1.0, float(net.zoom), float(net.zoom)),
                                   mode="trilinear")
        return torch.softmax(logits.float(), dim=1)[:, 1:2]


def probability_module(net: SegmentationNetwork) -> nn.Module:
    """The module to trace for a package (eval mode)."""
    module = TraceableUNetXY(net) if isinstance(net, UNetXY) else ProbabilityModule(net)
    return module.eval()


def trace_probability(
    net: SegmentationNetwork, window_zyx: Sequence[int], rules: Sequence[AxisRule] | None,
) -> tuple[torch.jit.ScriptModule, bool]:
    """Trace the probability module at ``window_zyx``; check it at the next valid size.

    Returns:
        The traced module, and whether it gives the network's own output at another size
        (if not, the package must declare ``window_zyx`` as its only input size).
    """
    module = probability_module(net.eval())
    example = torch.zeros(1, 1, *window_zyx)
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore", torch.jit.TracerWarning)
        traced = torch.jit.trace(module, example, check_trace=False)
        if rules is None:
            return traced, False
        other = [w + r.step for w, r in zip(window_zyx, rules, strict=True)]
        x = torch.rand(1, 1, *other, generator=torch.Generator().manual_seed(0))
        expected = ProbabilityModule(net)(x)
        try:
            got = traced(x)
        except RuntimeError:
            return traced, False
    general = got.shape == expected.shape and bool(torch.allclose(got, expected, atol=1e-4))
    return traced, general
