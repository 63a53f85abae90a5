"""The window plan (the sampler of sliding-window inference): how an image is covered by
the network's windows, and how one window is read.

The image is covered by *output* tiles. Each tile's input window is the tile grown by the
network's halo (``(in - out) // 2`` per side, from ``net.output_shape``), so an unpadded
network such as ``unet_xy`` sees the full context of every output voxel, and a same-padded
one (halo 0) is fed exactly its tile. Where a window reaches past the image, the image is
mirrored (:func:`read_block`).

An unpadded network wastes its halo on every window, a smaller share of a larger window:
:func:`auto_window` picks the valid window that computes the image with the fewest voxels
fed to the network, within a memory budget; unpadded networks' tiles do not overlap (they
are exact, blending adds nothing).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import torch

from seglight.errors import ConfigError
from seglight.networks.base import SegmentationNetwork

ZYX = tuple[int, int, int]

_MIN_WINDOW_ZYX = (16, 64, 64)


@dataclass(frozen=True)
class WindowPlan:
    """How an image is tiled.

    Attributes:
        in_zyx: the network input window.
        out_zyx: the output tile it gives (centred in the window).
        halo_lo: voxels of context before the tile, per axis.
        starts: output-tile start positions per axis.
    """

    in_zyx: ZYX
    out_zyx: ZYX
    halo_lo: ZYX
    starts: tuple[tuple[int, ...], tuple[int, ...], tuple[int, ...]]

    @property
    def n_windows(self) -> int:
        return math.prod(len(s) for s in self.starts)

    def tiles(self) -> Iterator[ZYX]:
        """Output-tile start positions (z, y, x), z slowest."""
        return itertools.product(*self.starts)  # type: ignore[return-value]

    def window_start(self, tile: Sequence[int]) -> ZYX:
        """Where the input window of the output tile starting at ``tile`` starts (it may be
        negative: the window reaches past the image, which is mirrored there)."""
        return tuple(s - h for s, h in zip(tile, self.halo_lo, strict=True))  # type: ignore[return-value]


def _halo(net: SegmentationNetwork, in_zyx: Sequence[int]) -> tuple[ZYX, ZYX]:
    out = net.output_shape(in_zyx)
    return out, tuple((i - o) // 2 for i, o in zip(in_zyx, out, strict=True))  # type: ignore[return-value]


def _valid_sizes(net: SegmentationNetwork, axis: int, up_to: int, n_max: int = 24) -> list[int]:
    """Valid input sizes along ``axis``, from the smallest to the first >= ``up_to``, thinned
    to at most ``n_max`` values (the largest is always kept)."""
    sizes, probe = [], list(net.valid_input_shape((1, 1, 1)))
    while True:
        size = net.valid_input_shape(probe)[axis]
        sizes.append(size)
        if size >= up_to:
            break
        probe[axis] = size + 1
    step = max(1, math.ceil(len(sizes) / n_max))
    return sorted(set(sizes[::step]) | {sizes[-1]})


def _n_tiles(size: int, tile: int, overlap: float) -> int:
    if size <= tile:
        return 1
    step = max(1, int(tile * (1 - overlap)))
    return len(range(0, size - tile, step)) + 1


def _default_overlap(halo_lo: Sequence[int]) -> float:
    # A network with a halo computes every output voxel from its full context: its tiles
    # are exact and overlap would only repeat work. A same-padded network is unsure near
    # window borders, so its tiles overlap and are blended.
    return 0.0 if any(halo_lo) else 0.25


def auto_window(
    net: SegmentationNetwork,
    image_zyx: Sequence[int],
    memory_gib: float = 2.0,
    dtype: torch.dtype = torch.float32,
    overlap: float | None = None,
    min_zyx: Sequence[int] | None = None,
) -> ZYX:
    """The valid input window that computes the image with the fewest voxels fed to the net.

    An unpadded network spends its halo on every window, so larger windows waste less, and
    a window larger than the image plus its halo wastes compute on mirrored voxels; the cost
    of a window is the number of windows the tiling needs times its size.

    Args:
        net: the network.
        image_zyx: the image size.
        memory_gib: activation memory allowed for one window.
        dtype: compute dtype (half-width types allow a window twice as large).
        overlap: the tiling overlap (``None``: the network's default, see :func:`plan_windows`).
        min_zyx: the smallest window to consider per axis (e.g. the training patch: the
            context the network learned with), capped by the image plus halo; default
            16×64×64, since thin windows leave a same-padded network mostly border.
    """
    budget = memory_gib * 2**30 / net.inference_bytes_per_voxel()
    budget *= 2 if dtype != torch.float32 else 1  # half-width activations
    smallest = net.valid_input_shape((1, 1, 1))
    _, halo = _halo(net, smallest)
    if overlap is None:
        overlap = _default_overlap(halo)
    need = [size + 2 * h for size, h in zip(image_zyx, halo, strict=True)]
    floor = [min(int(m), n) for m, n in zip(min_zyx or _MIN_WINDOW_ZYX, need, strict=True)]
    candidates = [
        [v for v in _valid_sizes(net, axis, need[axis]) if v >= floor[axis]]
        or [net.valid_input_shape(floor)[axis]]
        for axis in range(3)
    ]
    # Windows are square in xy (unless the image is narrower): a long thin window would
    # leave a same-padded network mostly border, and users expect square tiles.
    sides = sorted(set(candidates[1]) | set(candidates[2]))
    costs = {}
    for z in candidates[0]:
        for side in sides:
            window = net.valid_input_shape(
                (z, max(min(side, need[1]), floor[1]), max(min(side, need[2]), floor[2])))
            if math.prod(window) > budget and costs:
                break
            out = net.output_shape(window)
            costs[window] = math.prod(window) * math.prod(
                _n_tiles(s, o, overlap) for s, o in zip(image_zyx, out, strict=True)
            )
    # Among the windows within 5 % of the least work, the largest: fewer window borders
    # (where a same-padded network is least sure) and fewer calls.
    least = min(costs.values())
    best = max((w for w, c in costs.items() if c <= 1.05 * least), key=math.prod)
    return best  # type: ignore[return-value]


def plan_windows(
    net: SegmentationNetwork,
    image_zyx: Sequence[int],
    window_zyx: Sequence[int] | None = None,
    overlap: float | None = None,
    memory_gib: float = 2.0,
    dtype: torch.dtype = torch.float32,
    min_zyx: Sequence[int] | None = None,
) -> WindowPlan:
    """Tile an image of size ``image_zyx`` for ``net``.

    Args:
        net: the network (its size relation gives tile and halo).
        image_zyx: the image size.
        window_zyx: the input window; ``None`` picks one with :func:`auto_window`. It is
            rounded up to the nearest valid input size.
        overlap: fraction of a tile shared with its neighbour, in [0, 1); ``None``: 0 for a
            network with a halo (its tiles are exact), 0.25 for a same-padded one.
        memory_gib: activation budget for the automatic window.
        dtype: compute dtype, for the automatic window.
        min_zyx: smallest automatic window (see :func:`auto_window`).

    Raises:
        ConfigError: overlap outside [0, 1) or a window with three values expected.
    """
    if window_zyx is None:
        in_zyx = auto_window(net, image_zyx, memory_gib, dtype, overlap, min_zyx)
    else:
        if len(window_zyx) != 3:
            raise ConfigError(f"window_zyx={list(window_zyx)} must have three values [z, y, x]")
        in_zyx = net.valid_input_shape([int(v) for v in window_zyx])
    out_zyx, halo_lo = _halo(net, in_zyx)
    if overlap is None:
        overlap = _default_overlap(halo_lo)
    if not 0 <= overlap < 1:
        raise ConfigError(f"overlap={overlap} must be in [0, 1)")
    starts = []
    for size, tile in zip(image_zyx, out_zyx, strict=True):
        if size <= tile:
            starts.append((0,))
            continue
        step = max(1, int(tile * (1 - overlap)))
        axis = list(range(0, size - tile, step))
        starts.append(tuple(axis + [size - tile]))
    return WindowPlan(tuple(in_zyx), tuple(out_zyx), tuple(halo_lo), tuple(starts))  # type: ignore[arg-type]


def read_block(image, start: Sequence[int], size: Sequence[int]) -> np.ndarray:
    """``image[start : start + size]`` as float32, mirrored where it reaches past the image.

    ``image`` is anything sliceable with a ``shape`` (numpy array, memory map, zarr or dask
    array); only the block is read.
    """
    lo = [max(0, s) for s in start]
    hi = [min(d, s + n) for d, s, n in zip(image.shape, start, size, strict=True)]
    block = np.asarray(image[tuple(slice(a, b) for a, b in zip(lo, hi, strict=True))],
                       dtype=np.float32)
    pad = [(a - s, s + n - b) for s, n, a, b in zip(start, size, lo, hi, strict=True)]
    if any(p for pair in pad for p in pair):
        # 'symmetric' repeats the edge voxel; np.pad iterates, so pads longer than the
        # block (a window far larger than a tiny image) still work.
        block = np.pad(block, pad, mode="symmetric")
    return block
