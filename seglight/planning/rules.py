"""The planning rules: from a fingerprint, a device and a budget to a training config.

Each rule returns :class:`Decision` rows (a config key, its value, a one-line reason). The
order follows the dependencies: voxel size and anisotropy decide the network family and its
pooling; the objects' size decides the patch (context) and the receptive field; the patch,
the device's memory and the measured step time decide the width, the batch size and the
number of steps. docs/plan.md explains every rule.

The geometry rules follow the published planning rules of nnU-Net (Isensee et al., Nature
Methods 2021), in our own implementation: an axis is pooled only while its voxel size is
within 2x of the finest one, so a coarse z is pooled last (or never); 3x3x3 kernels become
1x3x3 on an axis that is still over 2x coarser; the patch follows the objects, shrunk on its
physically largest axis until it fits; foreground is oversampled.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from seglight.errors import ConfigError
from seglight.planning.fingerprint import Fingerprint
from seglight.planning.timing import DATA_BYTES_PER_VOXEL, StepMeasure

#: z voxel size over xy from which the data count as anisotropic: the network pools xy only.
ANISOTROPIC = 2.0
#: Fewer optimizer steps than this: the run is too short to converge (refused below 20).
MIN_STEPS = 200
#: A wider network (or a larger batch) is taken only while the run keeps this many steps.
GOOD_STEPS = 500
#: Share of the budget spent on steps; the rest goes to start-up, reading, validation, saving.
STEP_SHARE = 0.8
#: Widths (channels of the first level) tried, widest first.
WIDTHS = (32, 16, 8, 4)
#: Validation runs this many times over a run (best.ckpt is the best of them).
VALIDATIONS = 8
#: Fewer z-slices than this: z is not pooled (unet_xy). Pooling z four times with xy needs
#: 64 slices to leave 4; on the ovule's 32 slices (z/xy 1.6) the z-pooling dynunet reached
#: held-out Dice 0.27-0.31, the xy-pooling U-Net 0.50 with the same plan otherwise.
MIN_Z_POOLED = 64
#: Largest share of the smallest image one patch may cover: a patch that is the whole image
#: gives every step the same view (on the ovule's 32x64x64 quadrants, whole-image patches
#: gave held-out Dice 0.50, patches of 16x48x48 0.71: docs/plan.md).
MAX_PATCH_SHARE = 0.5
#: Largest share of the smallest image's extent along any one axis: a patch spanning 28 of
#: the ovule's 32 slices left random crops 4 positions in z (held-out Dice 0.659 / 0.594 /
#: 0.609 over three seeds); capped at 24 slices, 0.673 / 0.720 / 0.612
#: (docs/plan.md; within the seeds' spread, and the ovule set it: not an unbiased test).
MAX_AXIS_SHARE = 0.75
#: Fewer curated images than this: all of them train, and validation patches come from the
#: training images (``data.val_on_train``). One image held out of the ovule's three took a
#: third of the data: held-out Dice 0.679 / 0.725 / 0.612 over three seeds; with all three
#: training, 0.700 / 0.729 / 0.680 (docs/plan.md). With EMA and a final validation the kept
#: checkpoint is the last one anyway, so validation had little to pick.
MIN_VAL_IMAGES = 5
#: Smallest xy patch side (voxels at the network input).
MIN_XY = 32


@dataclass
class Decision:
    """One planned setting: a config key (or ``group`` choice), its value, and why."""

    key: str
    value: Any
    reason: str
    applied: bool = True  # False: shown and recorded, but not a config override


@dataclass
class Request:
    """What the plan is for."""

    budget_s: float
    device: str = "cpu"               # cpu | cuda
    memory_bytes: float = 8e9         # what the run may use on that device
    memory_source: str = ""           # how memory_bytes was found (for the reason)
    threads: int = 1


@dataclass
class Plan:
    decisions: list[Decision]
    fingerprint: Fingerprint
    request: Request
    measured: StepMeasure | None = None
    notes: list[str] = field(default_factory=list)

    def get(self, key: str, default: Any = None) -> Any:
        for d in self.decisions:
            if d.key == key:
                return d.value
        return default


# -- geometry ---------------------------------------------------------------------------------


@dataclass
class Topology:
    """A network family and the per-level pooling it needs for the data's voxel size."""

    model: str                            # conf/model option
    strides: list[list[int]]              # per level (z, y, x), first level [1, 1, 1]
    kernels: list[list[int]]
    zoom: int = 1

    @property
    def divisor(self) -> list[int]:
        return [math.prod(s[a] for s in self.strides) for a in range(3)]

    def receptive_field(self) -> list[int]:
        """Receptive field in voxels per axis: two convolutions per level down and up."""
        rf, jump = [1, 1, 1], [1, 1, 1]
        levels = len(self.strides)
        for level in range(levels):
            for a in range(3):
                rf[a] += (self.strides[level][a] - 1) * jump[a]  # the pooling into this level
                jump[a] *= self.strides[level][a]
                convs = 2 if level == levels - 1 else 4  # encoder and decoder, bottom once
                rf[a] += convs * (self.kernels[level][a] - 1) * jump[a]
        return [r * (self.zoom if a else 1) for a, r in enumerate(rf)]


def unet_xy_topology(zoom: int = 1) -> Topology:
    """``unet_xy``: three xy poolings, z never pooled, 3x3x3 convolutions."""
    return Topology("unet_xy_padded", [[1, 1, 1]] + [[1, 2, 2]] * 3, [[3, 3, 3]] * 4, zoom)


def pooled_topology(spacing: Sequence[float], patch: Sequence[int],
                    max_levels: int = 5, min_size: int = 4) -> Topology:
    """nnU-Net's pooling rule for MONAI's DynUNet: at each level pool the axes whose voxel
    size is within 2x of the finest and whose feature map stays >= ``min_size`` voxels;
    an axis still over 2x coarser than the finest gets kernel 1 (no mixing across it)."""
    spacing, size = [float(s) for s in spacing], [int(p) for p in patch]
    strides, kernels = [[1, 1, 1]], []
    kernels.append([3 if s <= 2 * min(spacing) else 1 for s in spacing])
    for _ in range(max_levels):
        pool = [int(s <= 2 * min(spacing) and n // 2 >= min_size) for s, n in
                zip(spacing, size, strict=True)]
        if not any(pool):
            break
        strides.append([2 if p else 1 for p in pool])
        spacing = [s * 2 if p else s for s, p in zip(spacing, pool, strict=True)]
        size = [n // 2 if p else n for n, p in zip(size, pool, strict=True)]
        kernels.append([3 if s <= 2 * min(spacing) else 1 for s in spacing])
    return Topology("dynunet", strides, kernels)


def _round_up(n: float, divisor: int) -> int:
    return max(divisor, int(math.ceil(n / divisor) * divisor))


def _round_down(n: float, divisor: int) -> int:
    return max(divisor, int(n // divisor * divisor))


def decide_geometry(fp: Fingerprint) -> tuple[Topology, list[int], list[Decision]]:
    """Network family, pooling, zoom and the target patch (before memory and time)."""
    rows = []
    spacing = fp.spacing_um
    aniso = fp.anisotropy
    note = (f"the images' own ({'x'.join(f'{s:g}' for s in spacing)} um), no resampling"
            if fp.spacing_known else f"assumed {spacing} um: the images give none")
    if fp.spacings_differ:
        note += ("; WARNING: the images' voxel sizes differ by over 25 % — seglight trains "
                 "and predicts at the images' own voxel size, so resample them to one first")
    elif aniso > 3:
        note += f"; z is {aniso:.1f}x coarser: kept native (interpolating z would invent slices)"
    rows.append(Decision("voxel size (um)", spacing, note, applied=False))

    extent_vox = [e / s for e, s in zip(fp.extent_um or spacing, spacing, strict=True)]
    z_shape = fp.median_shape[0]
    if aniso >= ANISOTROPIC or z_shape < MIN_Z_POOLED:
        why = (f"z is {aniso:.1f}x coarser than xy" if aniso >= ANISOTROPIC
               else f"only {z_shape} z-slices")
        topo = unet_xy_topology()
        thin_xy = min(fp.thickness_vox[1:]) if math.isfinite(fp.thickness_um) else 0
        if extent_vox[1] > topo.receptive_field()[1] and thin_xy >= 4:
            topo.zoom = 2
            zoom_why = (f"objects span {extent_vox[1]:.0f} px in xy, over the "
                        f"{unet_xy_topology().receptive_field()[1]} px receptive field, and are "
                        f"{thin_xy:.0f} px thick: the input is pooled 2x in xy first")
        elif extent_vox[1] <= topo.receptive_field()[1]:
            zoom_why = (f"the {topo.receptive_field()[1]} px xy receptive field covers the "
                        f"{extent_vox[1]:.0f} px objects")
        else:
            zoom_why = f"objects are {thin_xy:.1f} px thick: pooling xy first would erase them"
        rows.append(Decision("model", "unet_xy_padded",
                             f"{why}: a U-Net pooling xy only (z never pooled), same-padded "
                             "so every voxel of a patch is supervised"))
        rows.append(Decision("model.net.zoom", topo.zoom, zoom_why))
        rows.append(Decision("model.net.norm", "instance",
                             "batch statistics of a few small patches are too noisy"))
    else:
        want = [min(max(2 * e, 32), n) for e, n in zip(extent_vox, fp.median_shape, strict=True)]
        topo = pooled_topology(spacing, want)
        rows.append(Decision("model", "dynunet",
                             f"voxels near isotropic (z/xy = {aniso:.1f}) and {z_shape} slices: "
                             "a U-Net pooling z with xy (nnU-Net's rule) sees objects in 3D"))
    rf = topo.receptive_field()
    rows.append(Decision("receptive field (voxels)", rf,
                         f"objects span {[round(e) for e in extent_vox]} voxels, "
                         f"{fp.thickness_um:.2f} um thick ({fp.kind})", applied=False))
    # Patch: twice the object's extent for context (at least the receptive field in xy),
    # within the median image; z: the whole object when the images allow.
    target = []
    for axis in range(3):
        want = max(2 * extent_vox[axis], rf[axis] if axis else 8)
        target.append(min(want, fp.median_shape[axis]))
    return topo, target, rows


def valid_patch(topo: Topology, patch: Sequence[float], shape: Sequence[int],
                down: bool = False) -> list[int]:
    """``patch`` rounded (up; ``down``: down) to the network's size rule: xy (and pooled
    axes) to multiples of the divisor, not beyond the smallest image where possible."""
    div = list(topo.divisor)
    if topo.model.startswith("unet_xy"):
        div = [1, 8 * topo.zoom, 8 * topo.zoom]
    out = []
    for axis, p in enumerate(patch):
        limit = _round_down(shape[axis], div[axis]) if shape[axis] >= div[axis] else div[axis]
        floor = div[axis] if axis == 0 else max(MIN_XY, div[axis])
        rounded = _round_down(p, div[axis]) if down else _round_up(p, div[axis])
        out.append(min(max(rounded, floor), max(limit, floor)))
    return out


def shrink(topo: Topology, patch: Sequence[int], spacing: Sequence[float]) -> list[int] | None:
    """One step smaller on the physically largest axis (nnU-Net's order); None at the floor."""
    div = [1, 8 * topo.zoom, 8 * topo.zoom] if topo.model.startswith("unet_xy") else topo.divisor
    floors = [min(8, patch[0]) if div[0] == 1 else div[0], max(MIN_XY, div[1]), max(MIN_XY, div[2])]
    order = sorted(range(3), key=lambda a: -patch[a] * spacing[a])
    for axis in order:
        step = div[axis] if axis else max(div[0], 4 if div[0] == 1 else div[0])
        smaller = patch[axis] - step
        if smaller >= floors[axis]:
            out = list(patch)
            out[axis] = smaller
            if axis > 0 and out[1] != out[2] and patch[1] == patch[2]:  # keep xy square
                other = 3 - axis
                out[other] = max(floors[other], patch[other] - div[other])
            return out
    return None


# -- the rest ---------------------------------------------------------------------------------


def decide_normalization(fp: Fingerprint) -> list[Decision]:
    """The recipe (a ``data/normalization`` choice) and, for ``clipped_zscore``, its window
    fitted to the data (:func:`fit_zscore_window`)."""
    fg, bg = fp.foreground, fp.background
    hi = bg.mean + 10 * bg.std  # the default window's upper clip
    if fp.dtype.startswith("float") and bg.p00_5 >= -0.05 and fg.p99_5 <= 1.05:
        return [Decision("data/normalization", "none",
                         f"the images are already scaled to [0, 1] ({fp.dtype})")]
    if fp.background_unevenness > 1.5:  # a flattening step would not travel to a package
        why = (f"the background's level varies by {fp.background_unevenness:.1f} std across "
               "the field; flattening it (background_subtract) has no bioimage.io "
               "equivalent, so the network learns it (docs/export.md)")
    elif fg.p50 > hi:
        return [Decision("data/normalization", "min_max",
                         f"the structure (median {fg.p50:.4g}) is brighter than the default's "
                         f"upper clip ({hi:.4g}): min-max keeps it unsaturated")]
    else:
        why = (f"the default: structure median {fg.p50:.4g} (contrast {fp.contrast:.1f} "
               "background std)")
    return [Decision("data/normalization", "clipped_zscore", why), fit_zscore_window(fp)]


def fit_zscore_window(fp: Fingerprint) -> Decision:
    """``clipped_zscore``'s window fitted to the data: from the background's 0.5th to the
    structure's 99.5th percentile, in standard deviations of the whole image (estimated from
    the two classes' statistics), rounded out to 0.5 std; ``lower_std`` in [1, 2.5],
    ``upper_std`` in [2, 10]. Still exactly the spec's operations (export travels).

    The default window (2.5, 10) suits a sparse bright structure; on the ovule's cell walls
    (12 % of the voxels, uint8 near its top) the data filled only the lower third of [0, 1]
    and held-out Dice was 0.50, against 0.68 with the range fitted (docs/plan.md)."""
    fg, bg, f = fp.foreground, fp.background, fp.foreground_fraction
    mean = f * fg.mean + (1 - f) * bg.mean
    std = math.sqrt(f * fg.std ** 2 + (1 - f) * bg.std ** 2
                    + f * (1 - f) * (fg.mean - bg.mean) ** 2) or 1.0
    lower = min(max(math.ceil(2 * (mean - bg.p00_5) / std) / 2, 1.0), 2.5)
    upper = min(max(math.ceil(2 * (fg.p99_5 - mean) / std) / 2, 2.0), 10.0)
    return Decision("data.normalization",
                    [{"op": "clipped_zscore", "lower_std": lower, "upper_std": upper}],
                    f"window fitted to the data: background 0.5th percentile {bg.p00_5:.4g} "
                    f"to structure 99.5th {fg.p99_5:.4g} = mean - {lower:g} to + {upper:g} std")


def decide_loss(fp: Fingerprint, n_heads: int) -> list[Decision]:
    if fp.kind in ("shell", "filament") or fp.foreground_fraction < 0.1:
        why = (f"thin structures ({fp.kind}, {fp.thickness_um:.2f} um)" if fp.kind != "blob"
               else f"foreground is {100 * fp.foreground_fraction:.1f} % of the voxels")
        kind, reason = "dice_ce", f"{why}: Dice keeps the few foreground voxels from drowning"
    else:
        kind, reason = "ce", (f"blobs filling {100 * fp.foreground_fraction:.0f} % of the voxels: "
                              "cross-entropy, calibrated probabilities at the 0.5 threshold")
    weights = [1.0] + [0.5] * (n_heads - 1)
    return [Decision("model.loss.kind", kind, reason),
            Decision("model.loss.head_weights", weights,
                     "main head 1, auxiliary heads 0.5 (deep supervision)" if n_heads > 1
                     else "one head")]


def decide_sampling(fp: Fingerprint) -> Decision:
    f = fp.foreground_fraction
    value = 0.67 if f < 0.01 else 0.5 if f < 0.1 else 0.33
    return Decision("data.foreground_fraction", value,
                    f"foreground is {100 * f:.2f} % of the supervised voxels: "
                    f"{round(100 * value)} % of patches centred on it (nnU-Net: 33 %)")


def decide_augmentation(fp: Fingerprint, patch: Sequence[int]) -> list[Decision]:
    sy, sx = fp.spacing_um[1:]
    same_xy = abs(sy - sx) <= 0.05 * min(sy, sx)
    square = patch[1] == patch[2]
    rows = [Decision("data.augmentation.flip", True, "flips in y and x (z is never flipped)")]
    rows.append(Decision("data.augmentation.rot90", bool(same_xy and square),
                         "90-degree turns in yx only" if same_xy and square else
                         "y and x voxel sizes differ: a turn would swap them"))
    why = (f"free rotation about z only: z is {fp.anisotropy:.1f}x coarser, rotations mixing "
           "z with xy would blur it" if fp.anisotropy >= ANISOTROPIC else
           "free rotation about z (seglight rotates in yx only)")
    rows.append(Decision("data.augmentation.rotate_prob", 0.5 if same_xy else 0.0,
                         why if same_xy else "y and x voxel sizes differ: no free rotation"))
    return rows


def decide_weight_average(steps: int, warmup: int) -> Decision:
    """An exponential moving average of the weights over about the last tenth of the run,
    from the end of the warm-up: validated, kept in ``best.ckpt`` and used to predict.

    Short runs end wherever the last noisy steps leave the weights; the average smooths that
    end. On the Lamin-like benchmark (one plan of 221 steps, three seeds) it narrowed the
    seeds' spread of held-out Dice from 0.078 to 0.047, the mean up 0.006 (docs/plan.md,
    "Stability").
    """
    horizon = max(10, round(0.1 * steps))
    decay = round(1 - 1 / horizon, 4)
    return Decision("callbacks.ema", {"_target_": "lightning.pytorch.callbacks.EMAWeightAveraging",
                                      "decay": decay, "update_starting_at_step": warmup},
                    f"average of the weights over about the last {horizon} steps (decay {decay}), "
                    "from the end of the warm-up: a short run's end is less the luck of its "
                    "last steps")


def _steps(budget_s: float, step_s: float, overhead_s: float) -> int:
    return int(max(budget_s * STEP_SHARE - overhead_s, 0) // step_s)


def decide_size(
    fp: Fingerprint,
    topo: Topology,
    target: Sequence[float],
    request: Request,
    cost: Callable[[int, int, Sequence[int]], tuple[float, float]],
    overhead_s: float,
) -> tuple[int, int, list[int], list[Decision]]:
    """Width, batch size and patch that fit the memory and leave enough steps in the budget.

    ``cost(width, batch, patch)`` returns the (seconds per step, bytes) the cost model
    predicts. The patch shrinks (physically largest axis first) until the narrowest network
    fits with batch 2 and :data:`MIN_STEPS`; then the widest network keeping
    :data:`GOOD_STEPS`; then the largest batch (up to 8) keeping them.
    """
    shape = fp.min_shape
    data_bytes = fp.total_voxels * DATA_BYTES_PER_VOXEL if request.device == "cpu" else 0
    room = request.memory_bytes - data_bytes
    notes = []
    if room <= 0:
        raise ConfigError(
            f"memory: the curated images alone need {data_bytes / 1e9:.2f} GB in memory but "
            f"{request.memory_bytes / 1e9:.2f} GB is planned for ({request.memory_source}); "
            "use fewer or smaller images, or give memory_gb=")
    patch = valid_patch(topo, target, shape)
    crops = []
    while math.prod(patch) > MAX_PATCH_SHARE * math.prod(shape):
        smaller = shrink(topo, patch, fp.spacing_um)
        if smaller is None:
            break
        crops, patch = crops or [list(patch)], smaller
    if crops:
        notes.append(f"cut from {crops[0]} to at most {MAX_PATCH_SHARE:.0%} of the smallest "
                     f"image {list(shape)}, so that random crops differ")
    caps = [min(p, MAX_AXIS_SHARE * n) for p, n in zip(patch, shape, strict=True)]
    capped = valid_patch(topo, caps, shape, down=True)
    if capped != patch:
        notes.append(f"cut from {patch} to at most {MAX_AXIS_SHARE:.0%} of the smallest image "
                     f"{list(shape)} along each axis, so that random crops move along each")
        patch = capped
    narrow = WIDTHS[-1]

    def fits(width: int, batch: int, p: Sequence[int], steps: int) -> bool:
        step_s, need = cost(width, batch, p)
        return need <= room and _steps(request.budget_s, step_s, overhead_s) >= steps

    first = list(patch)
    batch = 2
    while not fits(narrow, batch, patch, MIN_STEPS):
        smaller = shrink(topo, patch, fp.spacing_um)
        if smaller is None:
            if batch > 1:
                batch = 1
                continue
            break
        patch = smaller
    if patch != first:
        notes.append(f"shrunk from {first} to fit the memory and {MIN_STEPS}+ steps")
    step_s, need = cost(narrow, batch, patch)
    if need > room:
        raise ConfigError(
            f"memory: the smallest plan (width {narrow}, batch 1, patch {patch}) needs "
            f"{need / 1e9:.2f} GB but {room / 1e9:.2f} GB is free for training "
            f"({request.memory_source}); give more memory (memory_gb=) or another device")
    width = next((w for w in WIDTHS if fits(w, batch, patch, GOOD_STEPS)), narrow)
    for b in range(8, batch, -1):
        if fits(width, b, patch, GOOD_STEPS):
            batch = b
            break
    step_s, need = cost(width, batch, patch)
    rows = [
        Decision("data.patch_zyx", patch,
                 f"objects x2 for context, within the images {shape}; valid for the network"
                 + "".join(f"; {note}" for note in notes)),
        Decision("model.net.width" if topo.model.startswith("unet_xy") else "width (base)", width,
                 f"the widest of {list(WIDTHS)} keeping >= {GOOD_STEPS} steps in the budget"
                 if width != narrow else f"the narrowest of {list(WIDTHS)}: wider ones get "
                 f"under {GOOD_STEPS} steps in the budget",
                 applied=topo.model.startswith("unet_xy")),
        Decision("data.batch_size", batch,
                 f"{need / 1e9:.2f} GB predicted of {room / 1e9:.2f} GB free "
                 f"({request.memory_source}); largest batch (<= 8) keeping the steps"),
    ]
    return width, batch, patch, rows


def dynunet_heads(topo: Topology) -> int:
    """Heads of the planned DynUNet: the main one and up to two deep-supervision heads (it
    needs two decoder levels below the main one to have any)."""
    return 1 + min(2, len(topo.strides) - 2) if len(topo.strides) > 2 else 1


def dynunet_overrides(topo: Topology, width: int) -> list[Decision]:
    """The DynUNet keys of a pooled topology at a base width (doubling, capped at 320)."""
    n = len(topo.strides)
    filters = [min(width * 2**i, 320) for i in range(n)]
    why = f"{n - 1} poolings by nnU-Net's rule for the voxel size (divisor {topo.divisor})"
    return [
        Decision("model.net.net.strides", topo.strides, why),
        Decision("model.net.net.kernel_size", topo.kernels,
                 "kernel 1 on an axis still over 2x coarser than the finest"),
        Decision("model.net.net.upsample_kernel_size", topo.strides[1:], "as the strides"),
        Decision("model.net.net.filters", filters, f"base width {width}, doubling per level"),
        Decision("model.net.divisor", topo.divisor, "input sizes must be multiples of this"),
        Decision("model.net.net.deep_supervision", n > 2, "auxiliary heads at the two finest "
                 "decoder levels below the main one (when the network has them)"),
        Decision("model.net.net.deep_supr_num", max(1, dynunet_heads(topo) - 1),
                 "deep supervision heads"),
        Decision("model.net.n_heads", dynunet_heads(topo), "main + auxiliary"),
    ]
