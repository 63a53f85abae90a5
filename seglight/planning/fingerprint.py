"""A curated folder's fingerprint: what the planning rules need to know about the data.

Read with seglight's own readers (:mod:`seglight.io.curated`), so the plan sees the images
exactly as training will. Large folders stay cheap: intensity statistics use a random sample
of voxels, the shape analysis (distance transform, connected objects) runs on at most
:data:`MAX_SHAPE_IMAGES` images, each cropped to at most :data:`MAX_SHAPE_VOXELS` around its
centre, and the voxels are counted from the files' metadata.

Object shape, in micrometres (the distance transform uses the voxel size):

- **thickness**: twice the distance from the medial ridge of the foreground to the nearest
  background voxel (the diameter of the largest ball that fits), median over ridge voxels;
- **extent**: the bounding box of each connected object (26-connected), per axis, median
  over objects of at least :data:`MIN_OBJECT_VOXELS` voxels;
- **kind**: ``blob`` when the thickness is at least a third of the largest extent (a filled
  object), else ``shell`` when filling each object's holes in xy at least doubles its volume
  (a wall around a cavity, such as a nuclear envelope), else ``filament`` (thin and open:
  fibres, tubules, sheets).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
from scipy import ndimage as ndi

from seglight.errors import SeglightError
from seglight.io.curated import Triplet, find_triplets, load_triplet
from seglight.io.image import image_layout, open_image

#: Images whose shapes are analysed (evenly spread over the folder).
MAX_SHAPE_IMAGES = 8
#: Largest block of one image analysed (a central crop beyond it).
MAX_SHAPE_VOXELS = 8_000_000
#: Voxels sampled per image and class (foreground / background) for intensity statistics.
SAMPLES_PER_IMAGE = 100_000
#: Objects smaller than this are noise for the size statistics.
MIN_OBJECT_VOXELS = 10


@dataclass
class IntensityStats:
    """Percentiles (0.5, 50, 99.5), mean and standard deviation of a sample of voxels."""

    p00_5: float
    p50: float
    p99_5: float
    mean: float
    std: float
    n: int

    @classmethod
    def of(cls, values: np.ndarray) -> IntensityStats:
        if values.size == 0:
            return cls(*(float("nan"),) * 5, n=0)
        p = np.percentile(values, [0.5, 50, 99.5])
        return cls(float(p[0]), float(p[1]), float(p[2]), float(values.mean()),
                   float(values.std()), int(values.size))


@dataclass
class Fingerprint:
    """What the planner knows about a curated folder (all sizes ZYX; lengths in um)."""

    path: str
    n_images: int
    spacing_um: list[float]            # median voxel size over the images
    spacing_known: bool                # every image gave its voxel size
    spacings_differ: bool              # the images' voxel sizes differ by > 25 % on some axis
    median_shape: list[int]
    min_shape: list[int]
    total_voxels: int
    dtype: str
    foreground_fraction: float         # of the supervised voxels (costmap > 0)
    costmap_coverage: float            # share of voxels with costmap > 0
    foreground: IntensityStats
    background: IntensityStats
    background_unevenness: float       # spread of the background's median over xy blocks
    thickness_um: float                # median structure thickness (largest inscribed ball)
    thickness_vox: list[float]         # the same in voxels per axis
    extent_um: list[float]             # median object bounding box
    n_objects: int
    kind: str                          # blob | shell | filament | none
    fill_ratio: float                  # filled volume / volume, median over objects
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return asdict(self)

    @property
    def anisotropy(self) -> float:
        """z voxel size over the finer of y and x."""
        return self.spacing_um[0] / min(self.spacing_um[1:])

    @property
    def contrast(self) -> float:
        """(foreground median − background median) / background standard deviation."""
        bg = self.background
        return (self.foreground.p50 - bg.p50) / bg.std if bg.std > 0 else float("inf")


def _spread(items: Sequence, k: int) -> list:
    """At most ``k`` items evenly spread over ``items``."""
    if len(items) <= k:
        return list(items)
    return [items[i] for i in np.linspace(0, len(items) - 1, k).round().astype(int)]


def _central_crop(shape: Sequence[int], max_voxels: int) -> tuple[slice, ...]:
    """A centred block of at most ``max_voxels``, cut from the larger axes first (yx)."""
    size = [int(s) for s in shape]
    while int(np.prod(size)) > max_voxels:
        axis = int(np.argmax(size[1:])) + 1 if max(size[1:]) > 64 else 0
        size[axis] = max(1, int(size[axis] * 0.8))
    return tuple(slice((s - n) // 2, (s - n) // 2 + n) for s, n in zip(shape, size, strict=True))


def _sample(values: np.ndarray, mask: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
    idx = np.flatnonzero(mask)
    if idx.size > k:
        idx = rng.choice(idx, k, replace=False)
    return values.ravel()[idx]


def _unevenness(image: np.ndarray, background: np.ndarray, blocks: int = 4) -> float:
    """Spread (max − min) of the background's median over ``blocks``×``blocks`` xy blocks, in
    units of the background's standard deviation; 0 for a flat background."""
    ny, nx = image.shape[1:]
    medians = []
    for ys in np.array_split(np.arange(ny), blocks):
        for xs in np.array_split(np.arange(nx), blocks):
            block = image[:, ys[0]:ys[-1] + 1, xs[0]:xs[-1] + 1]
            bg = background[:, ys[0]:ys[-1] + 1, xs[0]:xs[-1] + 1]
            if bg.sum() > 100:
                medians.append(float(np.median(block[bg])))
    std = float(image[background].std()) if background.any() else 0.0
    if len(medians) < 2 or std == 0:
        return 0.0
    return (max(medians) - min(medians)) / std


def _fill_xy(mask: np.ndarray) -> np.ndarray:
    """Fill holes slice by slice in xy and, for closed 3D walls, in 3D."""
    filled = np.stack([ndi.binary_fill_holes(s) for s in mask])
    return filled | ndi.binary_fill_holes(mask)


def object_shape(gt: np.ndarray, spacing_um: Sequence[float]) -> dict:
    """Thickness (um and voxels), per-object extents (um) and fill ratios of a 0/1 mask."""
    fg = gt > 0
    if not fg.any():
        return {"ridge": np.zeros(0), "extents": [], "fill": []}
    spacing = [float(s) for s in spacing_um]
    # Pad with background so that objects touching the border get a finite thickness.
    dist = ndi.distance_transform_edt(np.pad(fg, 1), sampling=spacing)[1:-1, 1:-1, 1:-1]
    ridge = fg & (dist >= ndi.maximum_filter(dist, size=3))
    labels, n = ndi.label(fg, structure=np.ones((3, 3, 3), bool))
    extents, fill = [], []
    for index, box in enumerate(ndi.find_objects(labels), start=1):
        if box is None:
            continue
        obj = labels[box] == index
        volume = int(obj.sum())
        if volume < MIN_OBJECT_VOXELS:
            continue
        extents.append([(b.stop - b.start) * s for b, s in zip(box, spacing, strict=True)])
        fill.append(float(_fill_xy(obj).sum()) / volume)
    return {"ridge": 2 * dist[ridge], "extents": extents, "fill": fill}


def classify(thickness_um: float, extent_um: Sequence[float], fill_ratio: float) -> str:
    """``blob``, ``shell`` or ``filament`` (see the module docstring); ``none`` if no object."""
    if not extent_um or not np.isfinite(thickness_um):
        return "none"
    if thickness_um >= max(extent_um) / 3:
        return "blob"
    return "shell" if fill_ratio >= 2 else "filament"


def _spacing_of(path: Path) -> list[float | None]:
    pps = open_image(path).physical_pixel_sizes
    return [float(v) if v else None for v in (pps.Z, pps.Y, pps.X)]


def fingerprint(folder: str | Path, spacing_um: Sequence[float] | None = None,
                seed: int = 0, progress: bool = True) -> Fingerprint:
    """Fingerprint the curated triplets in ``folder``.

    Args:
        folder: a curated folder (``<name>.tif``, ``<name>_GT.tif``, ``<name>_CM.tif``).
        spacing_um: the voxel size to assume where the images do not give one.
        seed: seed of the voxel sampling.
        progress: show a progress bar.

    Raises:
        SeglightError: no triplets, or an unreadable or mismatched file (naming it).
    """
    from tqdm.auto import tqdm

    triplets: list[Triplet] = find_triplets(folder)
    if not triplets:
        raise SeglightError(f"{folder}: no curated triplets (<name>.tif + <name>_GT.tif "
                            "[+ <name>_CM.tif]) to plan from")
    notes: list[str] = []
    shapes = np.array([image_layout(t.image)["shape_zyx"] for t in triplets])
    spacings = [_spacing_of(t.image) for t in triplets]
    known = all(None not in s for s in spacings)
    if known:
        spacing = np.median(np.array(spacings, float), axis=0).tolist()
        ratios = np.array(spacings, float) / np.array(spacing)
        differ = bool((ratios.max(0) > 1.25).any() or (ratios.min(0) < 0.8).any())
    else:
        spacing = [float(v) for v in (spacing_um or (1.0, 1.0, 1.0))]
        differ = False
        notes.append(f"some images have no voxel size; assumed {spacing} um"
                     + ("" if spacing_um else " (pass spacing_um=[z,y,x] to set it)"))
    rng = np.random.default_rng(seed)
    fg_values, bg_values, uneven = [], [], []
    n_fg = n_sup = n_all = 0
    ridge, extents, fills = [], [], []
    analysed = _spread(triplets, MAX_SHAPE_IMAGES)
    dtype = ""
    bar = None if progress else True  # None: only on a terminal (a log gets no bar)
    for triplet in tqdm(analysed, desc="fingerprint", unit="image", disable=bar, leave=False):
        sample = load_triplet(triplet)
        dtype = dtype or str(open_image(triplet.image).dtype)
        crop = _central_crop(sample.image.shape, MAX_SHAPE_VOXELS)
        image, gt, cm = sample.image[crop], sample.gt[crop], sample.costmap[crop]
        supervised = cm > 0
        fg, bg = supervised & (gt > 0), supervised & (gt == 0)
        n_fg, n_sup, n_all = n_fg + int(fg.sum()), n_sup + int(supervised.sum()), n_all + gt.size
        fg_values.append(_sample(image, fg, SAMPLES_PER_IMAGE, rng))
        bg_values.append(_sample(image, bg, SAMPLES_PER_IMAGE, rng))
        uneven.append(_unevenness(image, bg))
        own = sample.spacing_um if None not in sample.spacing_um else spacing
        shape = object_shape(gt, own)
        ridge.append(shape["ridge"])
        extents += shape["extents"]
        fills += shape["fill"]
    ridge_all = np.concatenate(ridge) if ridge else np.zeros(0)
    thickness = float(np.median(ridge_all)) if ridge_all.size else float("nan")
    extent = np.median(np.array(extents), axis=0).tolist() if extents else []
    fill = float(np.median(fills)) if fills else 1.0
    if len(analysed) < len(triplets):
        notes.append(f"shapes and intensities from {len(analysed)} of {len(triplets)} images")
    return Fingerprint(
        path=str(folder),
        n_images=len(triplets),
        spacing_um=[round(float(s), 4) for s in spacing],
        spacing_known=known,
        spacings_differ=differ,
        median_shape=[int(v) for v in np.median(shapes, axis=0)],
        min_shape=[int(v) for v in shapes.min(axis=0)],
        total_voxels=int(np.prod(shapes, axis=1).sum()),
        dtype=dtype,
        foreground_fraction=n_fg / n_sup if n_sup else 0.0,
        costmap_coverage=n_sup / n_all if n_all else 0.0,
        foreground=IntensityStats.of(np.concatenate(fg_values)),
        background=IntensityStats.of(np.concatenate(bg_values)),
        background_unevenness=float(np.median(uneven)) if uneven else 0.0,
        thickness_um=thickness,
        thickness_vox=[thickness / s for s in spacing],
        extent_um=[float(v) for v in extent],
        n_objects=len(extents),
        kind=classify(thickness, extent, fill),
        fill_ratio=fill,
        notes=notes,
    )
