"""Object-level building blocks of the classic workflows: thresholds, cuts, fills, thinning.

Every function takes and returns ZYX numpy arrays (masks ``bool``, images ``float32``) and
follows the published behaviour of the Allen Cell Structure Segmenter (see
``shared/classic-workflows.md``), so the workflows built on them give the same masks:

- :func:`masked_object_threshold` — ``MO``: a global threshold finds objects, a local Otsu
  threshold inside each object refines them;
- :func:`watershed_cut` — split touching dots along the distance-transform watershed;
- :func:`fill_holes` — fill background components whose size lies in a range;
- :func:`topology_preserving_thinning` — peel the boundary shell where the object is thick;
- :func:`middle_frame` — the z index between the bottom and top halves of the cells;
- :func:`seeds_from_middle_slice`, :func:`seeded_watershed`, :func:`thick_boundaries` — the
  seeded nuclear watershed of the LMNB1 interphase workflow.

Speed comes from doing per-object work inside each object's bounding box
(:func:`scipy.ndimage.find_objects`), from separable box decompositions of ball-shaped
structuring elements, and from per-slice operations written as one 3D call whose structuring
element does not connect neighbouring slices.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

import numpy as np
from scipy import ndimage as ndi
from skimage.feature import peak_local_max
from skimage.filters import threshold_otsu, threshold_triangle
from skimage.morphology import medial_axis
from skimage.segmentation import watershed

from seglight.errors import ConfigError

THRESHOLD_METHODS = ("triangle", "median", "ave")

# Connectivity-1 neighbourhoods: 6-connected in 3D, and 4-connected within each z-slice only
# (the centre plane of a 3x3x3 cross), so one 3D call labels every slice independently.
_CROSS_3D = ndi.generate_binary_structure(3, 1)
_CROSS_PER_SLICE = np.zeros((3, 3, 3), bool)
_CROSS_PER_SLICE[1] = ndi.generate_binary_structure(2, 1)
_FULL_3D = np.ones((3, 3, 3), bool)


# --------------------------------------------------------------------------------------------
# Ball-shaped dilation and erosion as unions of separable boxes
# --------------------------------------------------------------------------------------------


@lru_cache(maxsize=8)
def _ball_boxes(radius: int, ndim: int) -> tuple[tuple[int, ...], ...]:
    """Half-widths of the centred boxes whose union is the digital ball ``|d|² ≤ r²``.

    A lattice point inside the ball implies the whole centred box it spans is inside (the
    norm grows with each coordinate), so the ball is the union of the boxes of its maximal
    points: ball(1) is three lines, ball(2) a 3x3x3 cube plus three 5-long lines.
    """
    r = int(radius)
    grid = np.stack(np.meshgrid(*[np.arange(r + 1)] * ndim, indexing="ij"), -1).reshape(-1, ndim)
    inside = grid[(grid**2).sum(1) <= r * r]
    maximal = [
        p for p in inside if not any((q >= p).all() and (q > p).any() for q in inside)
    ]
    return tuple(tuple(int(v) for v in p) for p in maximal)


def _box_filter(mask: np.ndarray, half_widths: Sequence[int], op) -> np.ndarray:
    out = mask.view(np.uint8)
    for axis, h in enumerate(half_widths):
        if h:
            # "nearest" never changes a centred box's result at the border: the edge voxel is
            # already inside the window, exactly like the reference's "reflect" mode.
            out = op(out, size=2 * h + 1, axis=axis, mode="nearest")
    return out.view(bool) if out.dtype == np.uint8 else out


def binary_dilation_ball(mask: np.ndarray, radius: int) -> np.ndarray:
    """Dilate a boolean mask by the digital ball of ``radius`` voxels (``|d|² ≤ r²``).

    Equivalent to ``skimage.morphology.dilation(mask, ball(radius))`` in 3D (and
    ``disk(radius)`` in 2D), computed as an OR of separable box maxima.
    """
    mask = np.ascontiguousarray(mask, dtype=bool)
    if radius <= 0:
        return mask.copy()
    out = np.zeros_like(mask)
    for box in _ball_boxes(radius, mask.ndim):
        out |= _box_filter(mask, box, ndi.maximum_filter1d)
    return out


def binary_erosion_ball(mask: np.ndarray, radius: int) -> np.ndarray:
    """Erode a boolean mask by the digital ball of ``radius`` voxels.

    Voxels outside the image count as foreground, like the reference's reflect mode.
    """
    mask = np.ascontiguousarray(mask, dtype=bool)
    if radius <= 0:
        return mask.copy()
    out = mask.copy()
    for box in _ball_boxes(radius, mask.ndim):
        out &= _box_filter(mask, box, ndi.minimum_filter1d)
    return out


# --------------------------------------------------------------------------------------------
# Masked-object threshold (MO)
# --------------------------------------------------------------------------------------------


def global_threshold(img: np.ndarray, method: str) -> float:
    """The low-level threshold of ``MO``.

    Args:
        img: the smoothed image.
        method: ``"triangle"``, ``"median"`` (50th percentile) or ``"ave"`` (their mean).

    Raises:
        ConfigError: an unknown method.
    """
    if method not in THRESHOLD_METHODS:
        raise ConfigError(
            f"masked-object threshold: method={method!r}; choose one of {list(THRESHOLD_METHODS)}"
        )
    if method == "triangle":
        return float(threshold_triangle(img))
    median = float(np.percentile(img, 50))
    if method == "median":
        return median
    return (float(threshold_triangle(img)) + median) / 2


def remove_small_components(mask: np.ndarray, min_size: int, structure=_CROSS_3D) -> np.ndarray:
    """Drop connected components (``structure`` connectivity) with fewer than ``min_size`` voxels."""
    labels, _ = ndi.label(mask, structure=structure)
    sizes = np.bincount(labels.ravel())
    keep = sizes >= min_size
    keep[0] = False
    return keep[labels]


def masked_object_threshold(
    img: np.ndarray,
    method: str,
    min_object_size: int,
    dilate: bool,
    extra_criteria: bool,
    local_adjust: float,
    return_low: bool = False,
) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
    """``MO``: a global threshold finds objects, a local Otsu threshold refines each one.

    Low level: ``img > global_threshold(img, method)``, objects (6-connected) smaller than
    ``min_object_size`` removed, optionally dilated by a ball of radius 2. High level: inside
    each 6-connected low-level object, keep voxels with ``img > otsu(object) * local_adjust``;
    with ``extra_criteria`` an object is kept only if its Otsu exceeds 0.333 × the Otsu
    threshold of the whole image. Each object is processed within its bounding box.

    Args:
        img: smoothed ZYX image (float32).
        method: low-level threshold, ``"triangle"``, ``"median"`` or ``"ave"``.
        min_object_size: smallest low-level object kept, in voxels.
        dilate: dilate the low-level mask by ball(2) before the local thresholds.
        extra_criteria: discard objects whose local Otsu is below 0.333 × the global Otsu.
        local_adjust: factor applied to each local Otsu threshold (1.0: plain Otsu).
        return_low: also return the low-level mask.

    Returns:
        The high-level mask (bool ZYX), or ``(high, low)`` with ``return_low``.

    Raises:
        ConfigError: an unknown ``method``.
    """
    img = np.asarray(img)
    low = img > global_threshold(img, method)
    low = remove_small_components(low, min_object_size)
    if dilate:
        low = binary_dilation_ball(low, 2)

    high = np.zeros(img.shape, bool)
    labels, _ = ndi.label(low, structure=_CROSS_3D)
    cutoff = 0.333 * float(threshold_otsu(img)) if extra_criteria else None
    for index, box in enumerate(ndi.find_objects(labels), start=1):
        if box is None:
            continue
        obj = labels[box] == index
        values = img[box]
        local_otsu = float(threshold_otsu(values[obj]))
        if cutoff is not None and not local_otsu > cutoff:
            continue
        high[box] |= obj & (values > local_otsu * local_adjust)
    return (high, low) if return_low else high


# --------------------------------------------------------------------------------------------
# Watershed cut of touching dots
# --------------------------------------------------------------------------------------------


def _distance_in_box(mask: np.ndarray, box: tuple[slice, ...]) -> np.ndarray:
    """The exact Euclidean distance transform of ``mask`` restricted to ``box``.

    ``box`` must be a connected component's bounding box: the nearest background voxel of
    any voxel of the component then lies within the box grown by one voxel, so a padded
    crop gives the same values as a full-volume transform, at a fraction of the cost.
    """
    grown = tuple(
        slice(max(s.start - 1, 0), min(s.stop + 1, n)) for s, n in zip(box, mask.shape)
    )
    dist = ndi.distance_transform_edt(mask[grown])
    inner = tuple(slice(s.start - g.start, s.stop - g.start) for s, g in zip(box, grown))
    return dist[inner]


def watershed_cut(
    mask: np.ndarray, peak_image: np.ndarray, min_distance: int = 2
) -> np.ndarray:
    """Split touching dots: seeded watershed of the inverted distance transform.

    Seeds are the local maxima of ``peak_image`` within each 26-connected object of ``mask``
    (at least ``min_distance`` apart and ``min_distance`` voxels from every border, z
    included), each dilated by ball(1) and labelled 26-connected. The watershed of
    ``-EDT(mask)`` from the seeds (6-connected, inside ``mask``, with one-voxel watershed
    lines) is computed only for objects holding two or more seeds; an object with a single
    seed takes its label whole, one without a seed is dropped.

    Args:
        mask: bool ZYX foreground.
        peak_image: ZYX image whose local maxima seed the objects.
        min_distance: smallest distance between seeds and from the border, in voxels.

    Returns:
        int32 ZYX labels (0: background, dropped objects and watershed lines).
    """
    mask = np.asarray(mask, dtype=bool)
    objects, _ = ndi.label(mask, structure=_FULL_3D)
    peaks = peak_local_max(peak_image, labels=objects, min_distance=min_distance)
    seeds = np.zeros(mask.shape, bool)
    seeds[tuple(peaks.T)] = True
    markers, _ = ndi.label(binary_dilation_ball(seeds, 1), structure=_FULL_3D)
    markers[~mask] = 0

    # The watershed floods 6-connected, so its independent problems are the 6-connected
    # components; count the distinct seed labels in each.
    components, n_components = ndi.label(mask, structure=_CROSS_3D)
    seeded = markers > 0
    pairs = np.unique(np.stack([components[seeded], markers[seeded]]), axis=1)
    seeds_per_component = np.bincount(pairs[0], minlength=n_components + 1)
    single = seeds_per_component == 1
    single_label = np.zeros(n_components + 1, np.int32)
    single_label[pairs[0][single[pairs[0]]]] = pairs[1][single[pairs[0]]]
    out = single_label[components]

    boxes = ndi.find_objects(components)
    for index in np.flatnonzero(seeds_per_component >= 2):
        box = boxes[index - 1]
        inside = components[box] == index
        dist = _distance_in_box(mask, box)
        cut = watershed(-dist, np.where(inside, markers[box], 0), mask=inside, watershed_line=True)
        out[box][inside] = cut[inside]
    return out


def remove_small_labels(labels: np.ndarray, min_size: int) -> np.ndarray:
    """Foreground of the labels holding at least ``min_size`` voxels (bool)."""
    sizes = np.bincount(labels.ravel())
    keep = sizes >= min_size
    keep[0] = False
    return keep[labels]


# --------------------------------------------------------------------------------------------
# Hole filling and thinning
# --------------------------------------------------------------------------------------------


def fill_holes(
    mask: np.ndarray, min_size: int, max_size: int, per_slice: bool = True
) -> np.ndarray:
    """Fill background components whose size lies in ``[min_size, max_size]``.

    Background components are 4-connected within each z-slice (``per_slice``) or
    6-connected in 3D. As in the reference, a component touching the image border is a hole
    too when its size is in range.

    Args:
        mask: bool ZYX (or YX) foreground.
        min_size: smallest hole filled, in voxels (pixels per slice).
        max_size: largest hole filled.
        per_slice: fill each z-slice on its own (a tube along z has holes in every slice).

    Returns:
        The filled mask (bool).
    """
    mask = np.asarray(mask, dtype=bool)
    if mask.ndim == 2:
        structure = ndi.generate_binary_structure(2, 1)
    else:
        structure = _CROSS_PER_SLICE if per_slice else _CROSS_3D
    background, _ = ndi.label(~mask, structure=structure)
    sizes = np.bincount(background.ravel())
    fill = (sizes >= min_size) & (sizes <= max_size)
    fill[0] = False
    return mask | fill[background]


def topology_preserving_thinning(
    mask: np.ndarray, min_thickness: float, thin: int
) -> np.ndarray:
    """Peel ``thin`` voxels off the boundary where the object is thicker than ``min_thickness``.

    Per z-slice, voxels farther than ``min_thickness`` from the slice's medial axis are
    "safe"; safe voxels in the boundary shell (the mask minus its erosion by a ball of
    radius ``thin``) are removed, so thin parts keep their topology. The medial axis breaks
    ties with a fixed random seed, so the result is deterministic.

    Args:
        mask: bool ZYX mask.
        min_thickness: half the thickness protected from thinning, in pixels.
        thin: how many voxels to peel (ball radius, a positive integer).

    Returns:
        The thinned mask (bool).
    """
    mask = np.asarray(mask, dtype=bool)
    shell = mask & ~binary_erosion_ball(mask, thin)
    safe = np.zeros_like(mask)
    for z in np.flatnonzero(shell.any(axis=(1, 2))):
        # Crop each slice to its foreground box plus one background pixel: the distance
        # transforms inside, hence the medial axis, are those of the whole slice.
        box = ndi.find_objects(mask[z].view(np.uint8))[0]
        box = tuple(slice(max(s.start - 1, 0), min(s.stop + 1, n)) for s, n in zip(box, mask.shape[1:]))
        skeleton = medial_axis(mask[z][box], rng=0)
        safe[z][box] = ndi.distance_transform_edt(~skeleton) > min_thickness + 1e-5
    return mask & ~(safe & shell)


# --------------------------------------------------------------------------------------------
# Middle frame and the seeded nuclear watershed (LMNB1 interphase)
# --------------------------------------------------------------------------------------------


def histogram_otsu(counts: np.ndarray) -> float:
    """Otsu's threshold of a histogram whose n bins are centred on ``linspace(0, 1, n)``.

    Every bin gets 1e-5 added so that no class is empty; the first maximum of the
    between-class variance wins. Returns the threshold as a bin centre in [0, 1].
    """
    hist = np.asarray(counts, dtype=np.float64) + 1e-5
    centers = np.linspace(0.0, 1.0, hist.size)
    weight_low = np.cumsum(hist)
    weight_high = np.cumsum(hist[::-1])[::-1]
    mean_low = np.cumsum(hist * centers) / weight_low
    mean_high = (np.cumsum((hist * centers)[::-1]) / weight_high[::-1])[::-1]
    between = weight_low[:-1] * weight_high[1:] * (mean_low[:-1] - mean_high[1:]) ** 2
    return float(centers[int(np.argmax(between))])


def middle_frame(img: np.ndarray, method: str = "intensity") -> int:
    """The z index between the bottom and top of the cells.

    ``"intensity"``: count, per slice, the voxels above the image's Otsu threshold; the
    Otsu threshold of that z-profile (as a fraction of the stack) times the number of
    slices, rounded half to even, is the middle. ``"z"``: ``nz // 2``.

    Raises:
        ConfigError: an unknown method.
    """
    if method == "z":
        return img.shape[0] // 2
    if method != "intensity":
        raise ConfigError(f"middle frame: method={method!r}; choose 'intensity' or 'z'")
    profile = (img > threshold_otsu(img)).sum(axis=(1, 2))
    return int(round(histogram_otsu(profile) * img.shape[0]))


def seeds_from_middle_slice(
    objects_yx: np.ndarray, shape_zyx: Sequence[int], mid_z: int, min_size: int
) -> np.ndarray:
    """A 3D seed image: a background plane at z = 0 and one seed per object of a 2D mask.

    Objects of ``objects_yx`` smaller than ``min_size`` pixels (4-connected) are ignored;
    the rest, labelled 8-connected in raster order, each put a seed at their rounded
    centroid on slice ``mid_z``. The z = 0 plane is label 1, the objects 2, 3, ...

    Returns:
        int32 ZYX seed labels.
    """
    kept = remove_small_components(objects_yx, min_size, ndi.generate_binary_structure(2, 1))
    labels, n = ndi.label(kept, structure=np.ones((3, 3), bool))
    seeds = np.zeros(tuple(shape_zyx), np.int32)
    seeds[0] = 1
    if n:
        centroids = np.round(np.array(ndi.center_of_mass(kept, labels, range(1, n + 1))))
        yx = centroids.astype(int)
        seeds[mid_z, yx[:, 0], yx[:, 1]] = np.arange(2, n + 2, dtype=np.int32)
    return seeds


def seeded_watershed(img: np.ndarray, seeds: np.ndarray) -> np.ndarray:
    """Watershed of ``img`` from ``seeds`` (6-connected) with one-voxel watershed lines (0)."""
    return watershed(img, seeds, watershed_line=True)


def thick_boundaries(mask: np.ndarray) -> np.ndarray:
    """Voxels with a 6-neighbour of the other value, on both sides of every edge.

    The image border is no boundary (the outside mirrors the inside).
    """
    mask = np.asarray(mask, dtype=bool)
    out = np.zeros_like(mask)
    for axis in range(mask.ndim):
        lead = [slice(None)] * mask.ndim
        trail = [slice(None)] * mask.ndim
        lead[axis], trail[axis] = slice(1, None), slice(None, -1)
        step = mask[tuple(lead)] != mask[tuple(trail)]
        out[tuple(lead)] |= step
        out[tuple(trail)] |= step
    return out
