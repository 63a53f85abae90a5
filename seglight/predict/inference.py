"""Sliding-window inference for any :class:`~seglight.networks.SegmentationNetwork`:
foreground probabilities of a whole image from windows of a network.

Three small parts, after MONAI's inferers and TorchIO's sampler and aggregator:

- :mod:`seglight.predict.windows`: the window plan (which windows cover the image, how the
  network's halo is read, mirrored at the borders);
- :mod:`seglight.predict.accumulator`: tile probabilities blended into the image, in memory
  or in memory maps;
- :mod:`seglight.predict.prepare`: the inference copy of the network (precision, batch norms
  folded).

This module runs the loop: read a batch of windows, run the network (flipped too, with
test-time augmentation), add the tiles to the accumulator.

Why not :func:`monai.inferers.sliding_window_inference` itself: it assumes output size =
input size, while unpadded networks return a smaller centred block, and it accumulates every
class over the whole image; here only the foreground probability is accumulated, into
arrays that may be memory maps.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import torch

from seglight.errors import ConfigError
from seglight.networks.base import SegmentationNetwork
from seglight.predict.accumulator import WeightedAccumulator
from seglight.predict.prepare import InferenceCopy
from seglight.predict.windows import ZYX, WindowPlan, plan_windows, read_block


def _flip_axes(halo_lo: ZYX, in_zyx: ZYX, out_zyx: ZYX) -> list[tuple[int, ...]]:
    """Flips for test-time augmentation: none, x, y, z; an axis whose halo is uneven is left
    out, since its flipped output would be shifted by a voxel."""
    flips: list[tuple[int, ...]] = [()]
    for axis in (4, 3, 2):
        i = axis - 2
        if in_zyx[i] - out_zyx[i] == 2 * halo_lo[i]:
            flips.append((axis,))
    return flips


def foreground_probability(net: SegmentationNetwork, x: torch.Tensor,
             flips: Sequence[tuple[int, ...]]) -> torch.Tensor:
    """Foreground probability of a batch ``x`` (N, 1, Z, Y, X), averaged over ``flips``
    (each flip undone on its output); ``[()]``: no augmentation."""
    prob = None
    for axes in flips:
        xi = torch.flip(x, axes) if axes else x
        logits = net.predict_logits(xi).float()
        p = torch.softmax(logits, dim=1)[:, 1]
        p = torch.flip(p, [a - 1 for a in axes]) if axes else p
        prob = p if prob is None else prob + p
    return prob / len(flips)


class SlidingWindowInferer:
    """Foreground probabilities of a whole image from windows of a network.

    Args:
        net: the network, on the device it should run on, in eval mode.
        window_zyx: the input window, or ``None`` for an automatic, memory-aware one.
        overlap: fraction of a tile shared with its neighbour; ``None``: 0 for networks with
            a halo (exact tiles), 0.25 for same-padded networks.
        batch_size: windows per forward pass.
        flip_tta: average the predictions of the flipped windows (x, y, z), 4× the compute.
        precision: ``auto`` (bfloat16 where native, else float32), ``32``, ``bf16`` or ``16``.
        memory_gib: activation memory for one batch of windows (automatic window only).
        stitch_on_device: accumulate on the network's GPU (``None``: when the accumulators
            take under a quarter of its free memory; the CPU otherwise).
        progress: show a progress bar of windows.
        min_window_zyx: smallest automatic window (the training patch, when known).
    """

    def __init__(
        self,
        net: SegmentationNetwork,
        window_zyx: Sequence[int] | None = None,
        overlap: float | None = None,
        batch_size: int = 1,
        flip_tta: bool = False,
        precision: str = "auto",
        memory_gib: float = 2.0,
        stitch_on_device: bool | None = None,
        progress: bool = False,
        min_window_zyx: Sequence[int] | None = None,
    ):
        if int(batch_size) < 1:
            raise ConfigError(f"batch_size={batch_size} must be at least 1")
        self.net = net
        self.window_zyx = list(window_zyx) if window_zyx else None
        self.overlap = overlap
        self.batch_size = int(batch_size)
        self.flip_tta = bool(flip_tta)
        self.memory_gib = float(memory_gib)
        self.stitch_on_device = stitch_on_device
        self.progress = progress
        self.min_window_zyx = list(min_window_zyx) if min_window_zyx else None
        self.network = InferenceCopy(net, precision)

    @property
    def device(self) -> torch.device:
        return self.network.device

    @property
    def compute_dtype(self) -> torch.dtype:
        """The dtype the network runs in (see :func:`~seglight.predict.prepare.resolve_dtype`)."""
        return self.network.get()[1]

    def plan(self, image_zyx: Sequence[int]) -> WindowPlan:
        """The tiling this inferer uses for an image of size ``image_zyx``."""
        return plan_windows(self.net, image_zyx, self.window_zyx, self.overlap,
                            self.memory_gib / self.batch_size, self.compute_dtype,
                            self.min_window_zyx)

    def _stitch_device(self, image_zyx: Sequence[int]) -> torch.device:
        device = self.device
        if device.type != "cuda" or self.stitch_on_device is False:
            return torch.device("cpu")
        if self.stitch_on_device:
            return device
        free, _ = torch.cuda.mem_get_info(device)
        return device if 8 * math.prod(image_zyx) < free / 4 else torch.device("cpu")

    def __call__(self, image, out: np.ndarray | None = None,
                 weights: np.ndarray | None = None) -> np.ndarray:
        """Foreground probability of every voxel of ``image``.

        Args:
            image: the normalized image, ZYX, any sliceable array (read window by window).
            out: float32 ZYX array to write the result into (e.g. a memory map); a new
                array by default.
            weights: float32 ZYX scratch array for the blending weights (e.g. a memory map),
                used when stitching on the CPU; a new array by default.

        Returns:
            float32 probabilities in [0, 1], shape of ``image``.
        """
        net, dtype = self.network.get()
        shape = tuple(int(s) for s in image.shape)
        plan = self.plan(shape)
        accumulator = WeightedAccumulator(shape, plan.out_zyx, self._stitch_device(shape),
                                          out=out, weights=weights)
        flips = _flip_axes(plan.halo_lo, plan.in_zyx, plan.out_zyx) if self.flip_tta else [()]
        bar = None
        if self.progress:
            from tqdm.auto import tqdm

            bar = tqdm(total=plan.n_windows, desc="windows", unit="win", leave=False)
        tiles = list(plan.tiles())
        with torch.inference_mode():
            for first in range(0, len(tiles), self.batch_size):
                batch = tiles[first:first + self.batch_size]
                blocks = [read_block(image, plan.window_start(t), plan.in_zyx) for t in batch]
                x = torch.from_numpy(np.stack(blocks)[:, None]).to(self.device, dtype)
                x = x.contiguous(memory_format=torch.channels_last_3d)
                prob = foreground_probability(net, x, flips).to(accumulator.device)
                for tile, p in zip(batch, prob, strict=True):
                    accumulator.add(tile, p)
                if bar is not None:
                    bar.update(len(batch))
        if bar is not None:
            bar.close()
        return accumulator.finalize()
