"""``unet_xy``: the Allen Cell Structure Segmenter's 3D U-Net, rebuilt from its description.

The architecture (Chen et al., "The Allen Cell and Structure Segmenter", 2018/2020):
3×3×3 convolutions (two per level, batch norm, ReLU), max pooling only in xy (1, 2, 2)
because z is sampled 2-3× coarser than xy, encoder 32→64, 64→128, 128→256, bottleneck
256→512, transposed-convolution upsampling in xy, centre-cropped skip connections, and three
two-class heads: the main one and two auxiliary heads on the two deepest decoder levels,
which deepen the supervision of a network trained on few images.

Variants, all from one class:

- ``padded=False`` (the published one): unpadded convolutions. An input of
  ``[z, 8p+60, 8p+60]`` gives an output of ``[z−28, 8p−28, 8p−28]``; tiles need a halo.
- ``padded=True``: same-padded convolutions, output size = input size (xy divisible by 8),
  which tiles without a halo and trains on every voxel of a patch.
- ``zoom=k``: the input is max-pooled by k in xy and the logits upsampled back, for
  structures that are large in xy (the Segmenter's ``unet_xy_zoom``).
- ``width``: channels of the first level (32 published; 8 makes a tiny CPU-friendly net).
"""

from __future__ import annotations

import functools

import torch
import torch.nn.functional as F
from torch import nn

from seglight.errors import ConfigError
from seglight.networks.base import SegmentationNetwork, center_crop

_LEVELS = 3  # pooling steps; the bottleneck sits below the third


def _norm(kind: str, channels: int) -> nn.Module:
    if kind == "batch":
        return nn.BatchNorm3d(channels)
    if kind == "instance":
        return nn.InstanceNorm3d(channels, affine=True)
    raise ConfigError(f"unet_xy: norm={kind!r}; use 'batch' or 'instance'")


class _DoubleConv(nn.Sequential):
    def __init__(self, c_in: int, c_mid: int, c_out: int, padded: bool, norm: str):
        pad = 1 if padded else 0
        super().__init__(
            nn.Conv3d(c_in, c_mid, 3, padding=pad, bias=False),
            _norm(norm, c_mid),
            nn.ReLU(inplace=True),
            nn.Conv3d(c_mid, c_out, 3, padding=pad, bias=False),
            _norm(norm, c_out),
            nn.ReLU(inplace=True),
        )


def _layout(x: torch.Tensor) -> torch.memory_format:
    if x.is_contiguous(memory_format=torch.channels_last_3d) and not x.is_contiguous():
        return torch.channels_last_3d
    return torch.contiguous_format


def _lean() -> bool:
    """Run the inference-only paths below: autograd off and not being traced for export
    (they free tensors early and write in place, which a trace cannot record)."""
    return not torch.is_grad_enabled() and not torch.jit.is_tracing()


def _pool_xy(x: torch.Tensor) -> torch.Tensor:
    """2×2 max pooling in xy. Without autograd, the maximum of the four strided views: the
    same values, faster on a CPU and without the int64 index tensor that ``max_pool3d``
    allocates (four times the size of a bfloat16 output)."""
    if not _lean() or x.shape[-1] % 2 or x.shape[-2] % 2:
        return F.max_pool3d(x, (1, 2, 2))
    out = torch.maximum(x[..., 0::2, 0::2], x[..., 0::2, 1::2])
    torch.maximum(out, x[..., 1::2, 0::2], out=out)
    return torch.maximum(out, x[..., 1::2, 1::2], out=out)


def _join_lean(up: nn.Module, dec: nn.Sequential, low: torch.Tensor,
               skip: torch.Tensor) -> torch.Tensor:
    """``dec(cat([skip, up(low)]))`` for inference, holding fewer full-size tensors at once.

    The first convolution is split over its two inputs (a convolution of a concatenation is
    the sum of the convolutions of its parts), so the concatenation is never built, and each
    input is freed as soon as it is used; the other layers run one by one so that no call
    keeps its input alive. ``skip`` must already have the up-sampled size.
    """
    first = dec[0]
    c_skip = skip.shape[1]
    conv = functools.partial(F.conv3d, stride=first.stride, padding=first.padding,
                             dilation=first.dilation)
    y = conv(skip, first.weight[:, :c_skip], first.bias)
    del skip
    upsampled = up(low)
    del low
    y += conv(upsampled, first.weight[:, c_skip:])
    del upsampled
    for layer in list(dec)[1:]:
        y = layer(y)
    return y


class UNetXY(SegmentationNetwork):
    """The Segmenter's 3D U-Net with xy-only pooling and two auxiliary heads.

    Args:
        in_channels: image channels (1 for a single structure channel).
        n_classes: classes per head (2: background, foreground).
        width: channels of the first level; levels have width·(2, 4, 8, 16) after it.
        padded: same-padded convolutions (output size = input size).
        zoom: xy down-sampling factor of the input (1 = none).
        aux_heads: add the two auxiliary heads (used in training only).
        norm: ``"batch"`` or ``"instance"`` normalization.

    In training mode ``forward`` returns ``[main, aux1, aux2]``; in eval mode ``[main]``.
    """

    def __init__(
        self,
        in_channels: int = 1,
        n_classes: int = 2,
        width: int = 32,
        padded: bool = False,
        zoom: int = 1,
        aux_heads: bool = True,
        norm: str = "batch",
    ):
        super().__init__()
        if zoom < 1:
            raise ConfigError(f"unet_xy: zoom={zoom} must be a positive integer")
        self.padded, self.zoom, self.n_classes = padded, int(zoom), n_classes
        self.width = int(width)
        self.n_heads = 3 if aux_heads else 1
        w = width
        self.enc = nn.ModuleList(
            [
                _DoubleConv(in_channels, w, 2 * w, padded, norm),
                _DoubleConv(2 * w, 2 * w, 4 * w, padded, norm),
                _DoubleConv(4 * w, 4 * w, 8 * w, padded, norm),
            ]
        )
        self.bottleneck = _DoubleConv(8 * w, 8 * w, 16 * w, padded, norm)
        up_channels = [16 * w, 8 * w, 4 * w]  # channels arriving at each decoder level
        skip_channels = [8 * w, 4 * w, 2 * w]
        self.up = nn.ModuleList(
            [nn.ConvTranspose3d(c, c, (1, 2, 2), stride=(1, 2, 2)) for c in up_channels]
        )
        self.dec = nn.ModuleList(
            [
                _DoubleConv(c_up + c_skip, c_skip, c_skip, padded, norm)
                for c_up, c_skip in zip(up_channels, skip_channels, strict=True)
            ]
        )
        self.head = nn.Conv3d(2 * w, n_classes, 1)
        self.aux = (
            nn.ModuleList([nn.Conv3d(8 * w, n_classes, 1), nn.Conv3d(4 * w, n_classes, 1)])
            if aux_heads
            else None
        )

    def encoder_modules(self) -> list[nn.Module]:
        """The three down-sampling levels and the bottleneck."""
        return [self.enc, self.bottleneck]

    # -- sizes ------------------------------------------------------------------------------

    def _axis_out(self, size: int, axis: int) -> int | None:
        xy = axis > 0
        trim = 0 if self.padded else 4  # two 3×3×3 convolutions per level
        if xy and size % self.zoom:
            return None
        s = size // self.zoom if xy else size
        for _ in range(_LEVELS):
            s -= trim
            if s < 1 or (xy and s % 2):
                return None
            s = s // 2 if xy else s
        s -= trim  # bottleneck
        for _ in range(_LEVELS):
            s = 2 * s if xy else s
            s -= trim
        if s < 1:
            return None
        return s * self.zoom if xy else s

    def _skip_sizes(self, zyx) -> list[tuple[int, ...]]:
        """The part of each encoder level's output that its decoder level uses (the size
        of the up-sampled tensor it is joined with), top level first."""
        trim = 0 if self.padded else 4
        per_axis = []
        for axis, s in enumerate(int(v) for v in zyx):
            xy = axis > 0
            for _ in range(_LEVELS):
                s = (s - trim) // 2 if xy else s - trim
            s -= trim  # bottleneck
            sizes = []
            for _ in range(_LEVELS):
                s = 2 * s if xy else s
                sizes.append(s)
                s -= trim
            per_axis.append(sizes[::-1])
        return list(zip(*per_axis, strict=True))

    def inference_bytes_per_voxel(self) -> float:
        # Measured peaks (scripts/bench_predict.py windows, float32, width 32): about 420 B per
        # input voxel unpadded, whose deep and decoder levels cover a fraction of the window,
        # and 1.2 kB padded, whose full-size decoder level holds 256 channels at once; with a
        # margin. Activations scale with the width; zoom pools the input first.
        per_voxel = 1300.0 if self.padded else 540.0
        return per_voxel * self.width / 32 / self.zoom**2

    def size_rule(self) -> str:
        k = self.zoom
        if self.padded:
            return f"x and y divisible by {8 * k}"
        xy = f"{k}·(8p+60)" if k > 1 else "8p+60"
        return f"z ≥ 29 and x, y of the form {xy}, p ≥ 4"

    # -- forward ----------------------------------------------------------------------------

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        if self.zoom > 1:
            x = F.max_pool3d(x, (1, self.zoom, self.zoom))
        skips = []
        for block, keep in zip(self.enc, self._skip_sizes(x.shape[-3:]), strict=True):
            x = block(x)
            skip = center_crop(x, keep)
            if _lean():
                # Inference: keep only the part the decoder will use, so the full-size
                # encoder output is freed at once (it is the largest tensor).
                skip = skip.clone(memory_format=_layout(x))
            skips.append(skip)
            x = _pool_xy(x)
        x = self.bottleneck(x)
        decoded = []
        for up, dec in zip(self.up, self.dec, strict=True):
            if not _lean():
                x = up(x)
                x = dec(torch.cat([center_crop(skips.pop(), x.shape[-3:]), x], dim=1))
            else:
                x = _join_lean(up, dec, x, skips.pop())
            if self.training and self.aux is not None:
                decoded.append(x)
        heads = [self.head(x)]
        if self.training and self.aux is not None:
            main_zyx = heads[0].shape[-3:]
            for conv, level, factor in zip(self.aux, decoded[:2], (4, 2), strict=True):
                logits = F.interpolate(
                    conv(level), scale_factor=(1, factor, factor), mode="trilinear"
                )
                heads.append(center_crop(logits, main_zyx))
        if self.zoom > 1:
            heads = [
                F.interpolate(h, scale_factor=(1, self.zoom, self.zoom), mode="trilinear")
                for h in heads
            ]
        return heads
