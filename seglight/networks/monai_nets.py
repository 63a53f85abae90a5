"""MONAI networks (``BasicUNet``, ``DynUNet``, ``SegResNet``, ...) as seglight networks.

MONAI's networks are same-padded (output size = input size) and need each input axis to be
divisible by their total down-sampling; the wrapper declares that, and turns DynUNet's deep
supervision into seglight's list of heads.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from seglight.errors import ConfigError
from seglight.networks.base import SegmentationNetwork


class MonaiNetwork(SegmentationNetwork):
    """Wrap a MONAI 3D segmentation network.

    Args:
        net: the MONAI network (built by Hydra from ``model.net.net``).
        divisor: per-axis (z, y, x) factor every input size must be a multiple of.
        n_classes: output channels of ``net``.
        n_heads: heads in training mode (``1 + deep_supr_num`` for a deep-supervised DynUNet).
    """

    def __init__(self, net: nn.Module, divisor: Sequence[int] = (16, 16, 16), n_classes: int = 2,
                 n_heads: int = 1):
        super().__init__()
        if len(divisor) != 3 or min(divisor) < 1:
            raise ConfigError(f"MonaiNetwork: divisor={list(divisor)} must be three positive ints")
        self.net, self.divisor = net, tuple(int(d) for d in divisor)
        self.n_classes, self.n_heads = n_classes, n_heads

    #: the contracting path of the MONAI networks seglight configures, by attribute name
    ENCODER_ATTRIBUTES = {
        "BasicUNet": ("conv_0", "down_1", "down_2", "down_3", "down_4"),
        "DynUNet": ("input_block", "downsamples", "bottleneck"),
        "SegResNet": ("convInit", "down_layers"),
    }

    def _axis_out(self, size: int, axis: int) -> int | None:
        return size if size >= 1 and size % self.divisor[axis] == 0 else None

    def encoder_modules(self) -> list[nn.Module]:
        names = self.ENCODER_ATTRIBUTES.get(type(self.net).__name__)
        if names is None:
            return super().encoder_modules()
        return [getattr(self.net, name) for name in names]

    def size_rule(self) -> str:
        return "z, y, x divisible by {}, {}, {}".format(*self.divisor)

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        out = self.net(x)
        if isinstance(out, (list, tuple)):
            return list(out)
        if out.ndim == x.ndim + 1:  # DynUNet deep supervision: (B, heads, C, Z, Y, X)
            return list(torch.unbind(out, dim=1))
        return [out]
