"""A pooling U-Net of one's own, for seglight (the worked example of docs/extend.md).

Two levels of 2x2 max pooling in y and x (z is not pooled: z-stacks are sampled coarser in
z), same-padded 3x3x3 convolutions, skip connections by concatenation, and an auxiliary head
on the coarser decoder level. Because of the two poolings, y and x must be divisible by 4;
``_axis_out`` says so, so seglight refuses other sizes in one line and tiles images with
valid windows.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from seglight.networks import SegmentationNetwork


def _block(c_in: int, c_out: int) -> nn.Sequential:
    return nn.Sequential(nn.Conv3d(c_in, c_out, 3, padding=1),
                         nn.InstanceNorm3d(c_out, affine=True), nn.ReLU(inplace=True))


class MyUNet(SegmentationNetwork):
    """Args:
        width: channels of the first level (then 2x and 4x).
        aux_head: add an auxiliary head on the half-resolution decoder level (training only).
    """

    n_classes = 2

    def __init__(self, width: int = 8, aux_head: bool = True):
        super().__init__()
        w = self.width = int(width)
        self.n_heads = 2 if aux_head else 1
        self.enc1, self.enc2, self.bottom = _block(1, w), _block(w, 2 * w), _block(2 * w, 4 * w)
        self.up2 = nn.ConvTranspose3d(4 * w, 2 * w, (1, 2, 2), stride=(1, 2, 2))
        self.dec2 = _block(4 * w, 2 * w)
        self.up1 = nn.ConvTranspose3d(2 * w, w, (1, 2, 2), stride=(1, 2, 2))
        self.dec1 = _block(2 * w, w)
        self.head = nn.Conv3d(w, 2, 1)
        self.aux = nn.Conv3d(2 * w, 2, 1) if aux_head else None

    def _axis_out(self, size: int, axis: int) -> int | None:
        """Output size along ``axis`` (0 = z, 1 = y, 2 = x) for an input of ``size``; None
        when the network cannot take that size."""
        if size < 1 or (axis > 0 and size % 4):  # two poolings by 2 in y and x
            return None
        return size  # same-padded: the output is as large as the input

    def size_rule(self) -> str:
        return "x and y divisible by 4"

    def inference_bytes_per_voxel(self) -> float:
        # float32 activations alive at full resolution at the peak (enc1, the up-sampled
        # tensor, their concatenation, dec1: about 5 widths of channels), 4 bytes each,
        # doubled for the convolutions' workspace.
        return 2 * 4 * 5 * self.width

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        s1 = self.enc1(x)
        s2 = self.enc2(F.max_pool3d(s1, (1, 2, 2)))
        bottom = self.bottom(F.max_pool3d(s2, (1, 2, 2)))
        d2 = self.dec2(torch.cat([s2, self.up2(bottom)], dim=1))
        d1 = self.dec1(torch.cat([s1, self.up1(d2)], dim=1))
        heads = [self.head(d1)]
        if self.training and self.aux is not None:  # all heads at the main output's size
            heads.append(F.interpolate(self.aux(d2), scale_factor=(1, 2, 2), mode="trilinear"))
        return heads
