"""Sliding-window inference for any :class:`~seglight.networks.SegmentationNetwork`.

The image is covered by *output* tiles. Each tile's input window is the tile grown by the
network's halo (``(in - out) // 2`` per side, from ``net.output_shape``), so an unpadded
network such as ``unet_xy`` sees the full context of every output voxel, and a same-padded
one (halo 0) is fed exactly its tile. Where a window reaches past the image, the image is
mirrored. Overlapping tiles are blended with MONAI's Gaussian importance map
(:func:`monai.data.utils.compute_importance_map`), which down-weights tile borders, where a
padded network is least reliable.

Why not :func:`monai.inferers.sliding_window_inference` itself: it assumes output size =
input size, while unpadded networks return a smaller centred block, and it accumulates every
class over the whole image; here only the foreground probability is accumulated, into
arrays on the CPU (or on the GPU when the image is small enough), which may be memory maps.

Speed on a CPU comes from choices measured with ``scripts/bench_predict.py``: large
windows (an unpadded network wastes its halo, a smaller share of a larger window), made
affordable by an inference copy of the network with its batch norms folded into the
convolutions (and ``unet_xy``'s lean inference path, which frees each tensor early); no
overlap for unpadded networks (their tiles are exact, blending adds nothing); and bfloat16
weights in ``channels_last_3d`` layout where the CPU has bfloat16 instructions.
"""

from __future__ import annotations

import copy
import functools
import itertools
import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

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


def cpu_has_bf16() -> bool:
    """Whether this CPU runs bfloat16 convolutions natively (AVX512-BF16 or AMX)."""
    try:
        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (AttributeError, RuntimeError):
        return False


def resolve_dtype(precision: str, device: torch.device) -> torch.dtype:
    """The compute dtype for ``precision`` (``auto``, ``32``, ``bf16``, ``16``) on ``device``.

    ``auto`` is bfloat16 where the hardware runs it natively (most recent CPUs and GPUs) and
    float32 elsewhere; bfloat16 changes probabilities by about 1e-3, far below any threshold
    a user would tune.
    """
    precision = str(precision)
    if precision == "auto":
        if device.type == "cuda":
            return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
        return torch.bfloat16 if cpu_has_bf16() else torch.float32
    table = {"32": torch.float32, "bf16": torch.bfloat16, "16": torch.float16}
    if precision not in table:
        raise ConfigError(f"precision={precision}; use auto, 32, bf16 or 16")
    if table[precision] is torch.float16 and device.type == "cpu":
        raise ConfigError("precision=16 (float16) is for GPUs; on a CPU use bf16 or 32")
    return table[precision]


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


def _flip_axes(halo_lo: ZYX, in_zyx: ZYX, out_zyx: ZYX) -> list[tuple[int, ...]]:
    """Flips for test-time augmentation: none, x, y, z; an axis whose halo is uneven is left
    out, since its flipped output would be shifted by a voxel."""
    flips: list[tuple[int, ...]] = [()]
    for axis in (4, 3, 2):
        i = axis - 2
        if in_zyx[i] - out_zyx[i] == 2 * halo_lo[i]:
            flips.append((axis,))
    return flips


@functools.cache
def _gaussian(tile_zyx: ZYX, device: str) -> torch.Tensor:
    from monai.data.utils import compute_importance_map

    return compute_importance_map(tile_zyx, mode="gaussian", sigma_scale=0.125, device=device)


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
        self.precision = str(precision)
        self.memory_gib = float(memory_gib)
        self.stitch_on_device = stitch_on_device
        self.progress = progress
        self.min_window_zyx = list(min_window_zyx) if min_window_zyx else None
        self._prepared: tuple[tuple[torch.device, int], torch.dtype] | None = None
        self._run_net: SegmentationNetwork | None = None

    @property
    def device(self) -> torch.device:
        try:
            return next(self.net.parameters()).device
        except StopIteration:
            return torch.device("cpu")

    def _prepare(self) -> torch.dtype:
        """Make the inference copy of the network once (again if the network moved): batch
        norms folded into the convolutions, cast to the compute dtype, ``channels_last_3d``.
        The network given stays as it was (it may still be trained)."""
        device = self.device
        # In-place updates (an optimizer step, load_state_dict) bump a tensor's version, so
        # a network trained further since the copy was made gets a fresh copy.
        state = (device, sum(t._version for t in self.net.state_dict().values()))
        if self._prepared and self._prepared[0] == state:
            return self._prepared[1]
        dtype = resolve_dtype(self.precision, device)
        self._run_net = None  # free the previous copy first
        run_net = copy.deepcopy(self.net).eval()
        fold_batch_norms(run_net)
        self._run_net = run_net.to(dtype=dtype, memory_format=torch.channels_last_3d)
        self._prepared = (state, dtype)
        return dtype

    def plan(self, image_zyx: Sequence[int]) -> WindowPlan:
        """The tiling this inferer uses for an image of size ``image_zyx``."""
        dtype = self._prepare()
        return plan_windows(self.net, image_zyx, self.window_zyx, self.overlap,
                            self.memory_gib / self.batch_size, dtype, self.min_window_zyx)

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
        dtype = self._prepare()
        shape = tuple(int(s) for s in image.shape)
        plan = self.plan(shape)
        device, stitch = self.device, self._stitch_device(shape)
        if out is None:
            out = np.empty(shape, np.float32)
        if stitch.type == "cpu":
            total = torch.from_numpy(out)
        else:
            total = torch.empty(shape, dtype=torch.float32, device=stitch)
        total.zero_()
        if weights is not None and stitch.type == "cpu":
            weight_sum = torch.from_numpy(weights)
            weight_sum.zero_()
        else:
            weight_sum = torch.zeros(shape, dtype=torch.float32, device=stitch)
        weight = _gaussian(plan.out_zyx, str(stitch))
        flips = _flip_axes(plan.halo_lo, plan.in_zyx, plan.out_zyx) if self.flip_tta else [()]

        bar = None
        if self.progress:
            from tqdm.auto import tqdm

            bar = tqdm(total=plan.n_windows, desc="windows", unit="win", leave=False)
        tiles = list(plan.tiles())
        with torch.inference_mode():
            for first in range(0, len(tiles), self.batch_size):
                batch_tiles = tiles[first:first + self.batch_size]
                blocks = [
                    read_block(image, [s - h for s, h in zip(t, plan.halo_lo, strict=True)],
                               plan.in_zyx)
                    for t in batch_tiles
                ]
                x = torch.from_numpy(np.stack(blocks)[:, None]).to(device, dtype)
                x = x.contiguous(memory_format=torch.channels_last_3d)
                prob = self._foreground(x, flips).to(stitch)
                for tile, p in zip(batch_tiles, prob, strict=True):
                    region = tuple(
                        slice(s, min(s + o, d))
                        for s, o, d in zip(tile, plan.out_zyx, shape, strict=True)
                    )
                    crop = tuple(slice(0, r.stop - r.start) for r in region)
                    total[region] += p[crop] * weight[crop]
                    weight_sum[region] += weight[crop]
                if bar is not None:
                    bar.update(len(batch_tiles))
        if bar is not None:
            bar.close()
        for z in range(shape[0]):  # slice by slice: no image-sized temporary
            total[z] /= weight_sum[z].clamp_min_(1e-8)
        if stitch.type != "cpu":
            out[...] = total.cpu().numpy()
        return out

    def _foreground(self, x: torch.Tensor, flips: list[tuple[int, ...]]) -> torch.Tensor:
        prob = None
        for axes in flips:
            xi = torch.flip(x, axes) if axes else x
            logits = self._run_net.predict_logits(xi).float()
            p = torch.softmax(logits, dim=1)[:, 1]
            p = torch.flip(p, [a - 1 for a in axes]) if axes else p
            prob = p if prob is None else prob + p
        return prob / len(flips)


def fold_batch_norms(module: nn.Module) -> int:
    """Fold each eval-mode batch norm into the convolution just before it, in place.

    In eval mode a batch norm is an affine map per channel, so ``bn(conv(x))`` equals one
    convolution with scaled weights and a bias (:func:`torch.nn.utils.fusion.fuse_conv_bn_eval`):
    one pass over the largest tensors fewer, and no second tensor of that size at once.
    Pairs are found in ``nn.Sequential`` containers: a convolution followed by a batch norm,
    or by a container whose first module is one (MONAI's ``Convolution`` then ``ADN``).

    Returns:
        how many batch norms were folded (replaced by ``nn.Identity``).
    """
    from torch.nn.utils.fusion import fuse_conv_bn_eval

    convs = (nn.Conv1d, nn.Conv2d, nn.Conv3d)
    norms = (nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d)
    folded = 0
    for seq in [m for m in module.modules() if isinstance(m, nn.Sequential)]:
        names = list(seq._modules)
        for a, b in itertools.pairwise(names):
            conv, nxt = seq._modules[a], seq._modules[b]
            owner, key = seq, b
            if isinstance(nxt, nn.Sequential) and len(nxt):
                owner, key = nxt, next(iter(nxt._modules))
            bn = owner._modules[key]
            if (isinstance(conv, convs) and isinstance(bn, norms) and not bn.training
                    and bn.track_running_stats and bn.running_mean is not None):
                seq._modules[a] = fuse_conv_bn_eval(conv, bn)
                owner._modules[key] = nn.Identity()
                folded += 1
    return folded


def as_network(module: nn.Module) -> SegmentationNetwork:
    """The :class:`SegmentationNetwork` inside ``module`` (a SegmentationModule or the net)."""
    net = getattr(module, "net", module)
    if not isinstance(net, SegmentationNetwork):
        raise TypeError(f"{type(net).__name__} is not a seglight SegmentationNetwork")
    return net
