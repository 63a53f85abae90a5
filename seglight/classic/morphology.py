"""Object-level building blocks of the classic workflows: thresholds, cuts, fills, thinning.

Every function takes and returns ZYX numpy arrays (masks ``bool``, images ``float32``) and
follows the published behaviour of the Allen Cell Structure Segmenter (see
``docs/classic-steps.md``), so the workflows built on them give the same masks:

- :func:`masked_object_threshold` — ``MO``: a global threshold finds objects, a local Otsu
  threshold inside each object refines them;
- :func:`watershed_cut` — split touching dots along the distance-transform watershed,
  seeded by :func:`local_peaks`;
- :func:`fill_holes` — fill background components whose size lies in a range;
- :func:`topology_preserving_thinning` — peel the boundary shell where the object is thick,
  away from the :func:`medial_axis_per_slice`;
- :func:`middle_frame` — the z index between the bottom and top halves of the cells;
- :func:`seeds_from_middle_slice`, :func:`seeded_watershed`, :func:`thick_boundaries` — the
  seeded nuclear watershed of the LMNB1 interphase workflow.

Speed comes from compiled kernels (:mod:`seglight.classic.kernels`) where the reference
loops in Python or pushes voxels through a heap: connected components from the runs of a
mask (:func:`label_components`), the measures and thresholds of every object in a few
passes over the volume instead of one pass per object, histograms and medians without
sorting the image, exact integer distance transforms, and a watershed that replays the
reference's heap only while the order of tied seeds can matter; from ball-shaped
structuring elements decomposed into boxes applied by shifted copies; and from per-slice
work done in one call. Large arrays are allocated by numpy, whose big allocations sit on
huge pages: allocated inside a kernel, a volume's page faults can cost more than the work.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import NamedTuple

import numpy as np
from scipy import ndimage as ndi
from skimage.exposure import histogram
from skimage.filters import threshold_otsu

from seglight.classic.kernels import components as components_kernels
from seglight.classic.kernels import distance as distance_kernels
from seglight.classic.kernels import histogram as histogram_kernels
from seglight.classic.kernels import morphology as morphology_kernels
from seglight.errors import ConfigError
from seglight.masks import kept_labels, remove_small_objects

THRESHOLD_METHODS = ("triangle", "median", "ave")

# The 6-connected neighbourhood in 3D.
_CROSS_3D = ndi.generate_binary_structure(3, 1)


# --------------------------------------------------------------------------------------------
# Ball-shaped dilation and erosion as unions of separable boxes
# --------------------------------------------------------------------------------------------


@lru_cache(maxsize=8)
def _ball_boxes(radius: float, ndim: int) -> tuple[tuple[int, ...], ...]:
    """Half-widths of the centred boxes whose union is the digital ball ``|d|² ≤ r²``.

    A lattice point inside the ball implies the whole centred box it spans is inside (the
    norm grows with each coordinate), so the ball is the union of the boxes of its maximal
    points: ball(1) is three lines, ball(2) a 3x3x3 cube plus three 5-long lines.
    """
    grid = np.stack(np.meshgrid(*[np.arange(int(radius) + 1)] * ndim, indexing="ij"), -1)
    grid = grid.reshape(-1, ndim)
    inside = grid[(grid**2).sum(1) <= radius * radius]
    maximal = [p for p in inside if not any((q >= p).all() and (q > p).any() for q in inside)]
    return tuple(tuple(int(v) for v in p) for p in maximal)


def _box_filter(mask: np.ndarray, half_widths: Sequence[int], combine: np.ufunc) -> np.ndarray:
    """OR (dilation) or AND (erosion) of ``mask`` over a centred box, by shifted copies.

    Outside the image nothing is combined, which for a centred box is the reference's
    "reflect" border: the mirrored voxels are already inside the window.
    """
    out = mask
    for axis, steps in enumerate(half_widths):
        lead = [slice(None)] * mask.ndim
        trail = [slice(None)] * mask.ndim
        lead[axis], trail[axis] = slice(1, None), slice(None, -1)
        lead, trail = tuple(lead), tuple(trail)
        for _ in range(steps):
            prev = out
            out = prev.copy()
            combine(out[lead], prev[trail], out=out[lead])
            combine(out[trail], prev[lead], out=out[trail])
    return out


def binary_dilation_ball(mask: np.ndarray, radius: int) -> np.ndarray:
    """Dilate a boolean mask by the digital ball of ``radius`` voxels (``|d|² ≤ r²``).

    Equivalent to ``skimage.morphology.dilation(mask, ball(radius))`` in 3D (and
    ``disk(radius)`` in 2D), computed as an OR of separable box dilations.
    """
    mask = np.asarray(mask, dtype=bool)
    out = mask.copy()
    for box in _ball_boxes(radius, mask.ndim) if radius > 0 else ():
        out |= _box_filter(mask, box, np.logical_or)
    return out


def binary_erosion_ball(mask: np.ndarray, radius: int) -> np.ndarray:
    """Erode a boolean mask by the digital ball of ``radius`` voxels.

    Voxels outside the image count as foreground, like the reference's reflect mode.
    """
    mask = np.asarray(mask, dtype=bool)
    out = mask.copy()
    for box in _ball_boxes(radius, mask.ndim) if radius > 0 else ():
        out &= _box_filter(mask, box, np.logical_and)
    return out


# --------------------------------------------------------------------------------------------
# Connected components by runs
# --------------------------------------------------------------------------------------------


class _Runs(NamedTuple):
    """A mask as its runs of foreground along X (see :mod:`seglight.classic.kernels.components`):
    components, their sizes and size filters without a pass over the background."""

    starts: np.ndarray
    ends: np.ndarray
    row_offsets: np.ndarray
    shape: tuple[int, ...]

    @classmethod
    def of(cls, mask: np.ndarray) -> _Runs:
        """The runs of a ZYX (or YX) mask."""
        mask = np.asarray(mask, dtype=bool)
        zyx = np.ascontiguousarray(mask.reshape((1,) * (3 - mask.ndim) + mask.shape))
        return cls(*components_kernels.mask_runs(zyx), mask.shape)

    def components(
        self, full: bool = False, per_slice: bool = False
    ) -> tuple[np.ndarray, np.ndarray]:
        """Per run its component's label, numbered as ``scipy.ndimage.label`` numbers them,
        and the voxels per label; components 26-connected (``full``) or 6-connected, or
        within each z-slice only (``per_slice``: 8- or 4-connected)."""
        zyx = (1,) * (3 - len(self.shape)) + tuple(self.shape)
        return components_kernels.label_runs(
            self.starts, self.ends, self.row_offsets, np.array(zyx), full, per_slice
        )

    def paint(self, values: np.ndarray) -> np.ndarray:
        """The volume holding each run's value (of ``values``' dtype), 0 off the runs."""
        zyx = (1,) * (3 - len(self.shape)) + tuple(self.shape)
        out = np.zeros(zyx, values.dtype)
        components_kernels.paint_runs(self.starts, self.ends, self.row_offsets, values, out)
        return out.reshape(self.shape)


def label_components(mask: np.ndarray, full: bool = False) -> tuple[np.ndarray, int]:
    """``scipy.ndimage.label`` of a ZYX (or YX) mask, 6-connected or (``full``) 26-connected:
    the same int32 labels, from the mask's runs."""
    runs = _Runs.of(mask)
    labels, sizes = runs.components(full)
    return runs.paint(labels), len(sizes) - 1


# --------------------------------------------------------------------------------------------
# Masked-object threshold (MO)
# --------------------------------------------------------------------------------------------


Histogram = tuple[np.ndarray, np.ndarray]


_N_BINS = 256


class _Bins(NamedTuple):
    """numpy's equal-width bins over ``[first, last]`` of a float image, with the values its
    bin computation uses (see :mod:`seglight.classic.kernels.histogram`)."""

    first: np.floating
    scale: np.floating
    n_bins: np.floating
    edges: np.ndarray

    @classmethod
    def over(cls, first: np.floating, last: np.floating) -> _Bins:
        """The bins of ``numpy.histogram(values, 256, range=(first, last))`` for values of
        ``first``'s float type, as scikit-image's histogram takes them (``first < last``)."""
        dtype = np.asarray(first).dtype
        edges = np.histogram_bin_edges(np.empty(0, dtype), _N_BINS, range=(first, last))
        return cls(first, np.subtract(last, first, dtype=dtype), dtype.type(_N_BINS), edges)

    def centers(self) -> np.ndarray:
        return (self.edges[:-1] + self.edges[1:]) / 2.0


def _binned_range(img: np.ndarray) -> _Bins | None:
    """The bins over ``img``'s own range, or None where the compiled histogram does not
    apply (not float32 / float64, constant, or not finite)."""
    if img.dtype not in (np.float32, np.float64) or img.size == 0:
        return None
    low, high = img.min(), img.max()
    if not (np.isfinite(low) and np.isfinite(high) and low < high):
        return None
    return _Bins.over(low, high)


def image_histogram(img: np.ndarray) -> Histogram:
    """The 256-bin histogram (counts, bin centres) over the image's own range, the one that
    scikit-image's Otsu and triangle thresholds compute: one pass serves both.

    Equal to ``skimage.exposure.histogram(img, 256, source_range="image")``; float32 and
    float64 images take one compiled pass (no copy, no per-block sorting).
    """
    img = np.asarray(img)
    bins = _binned_range(img)
    if bins is None:
        return histogram(img.reshape(-1), _N_BINS, source_range="image")
    counts = np.zeros(_N_BINS, np.int64)
    histogram_kernels.histogram(img, bins.first, bins.scale, bins.n_bins, bins.edges, counts)
    return counts, bins.centers()


def median(img: np.ndarray, hist: Histogram | None = None) -> float:
    """The 50th percentile of ``img``, as ``numpy.percentile(img, 50)`` gives it.

    For float32 / float64 images, the two middle order statistics are found through the
    image's :func:`image_histogram` (given, or computed here): only the values of their one
    or two bins are sorted, not the whole image.
    """
    img = np.asarray(img)
    bins = _binned_range(img)
    if bins is None:
        return float(np.percentile(img, 50))
    counts = image_histogram(img)[0] if hist is None else hist[0]
    # numpy's linear interpolation between the order statistics k and k + 1 (0-based),
    # k = (n - 1) // 2, with weight 0.5 for an even count and 0 for an odd one.
    k = (img.size - 1) // 2
    below = np.cumsum(counts)
    low_bin, high_bin = np.searchsorted(below, [k + 1, min(k + 2, img.size)])
    before = int(below[low_bin - 1]) if low_bin else 0
    # A bin holds exactly the values between its edges (the last one closed).
    values = np.empty(int(below[high_bin]) - before, img.dtype)
    found = histogram_kernels.values_in_range(
        img, bins.edges[low_bin], bins.edges[high_bin + 1], high_bin == _N_BINS - 1, values
    )
    if found != values.size:  # not the bins counted: never seen, but then sort it all
        return float(np.percentile(img, 50))
    pair = np.partition(values, min(k - before + 1, values.size - 1))
    pair = np.sort(pair[: k - before + 2])[k - before :]
    if pair.size == 1:  # a single voxel
        return float(pair[0])
    # The same interpolation, on the same two values, as numpy's percentile of the image.
    return float(np.percentile(pair, 0 if img.size % 2 else 50))


def triangle_threshold(img: np.ndarray, hist: Histogram | None = None) -> float:
    """The triangle threshold (Zack, Rogers and Latt 1977) of ``img``, as
    ``skimage.filters.threshold_triangle`` gives it, from its :func:`image_histogram`.

    The line from the histogram's peak to the end of its longer tail; the threshold is the
    bin centre of that tail farthest below the line (the first one on a tie).
    """
    counts, centers = image_histogram(img) if hist is None else hist
    occupied = np.flatnonzero(counts)
    first, last = int(occupied[0]), int(occupied[-1])
    if first == last:
        return float(np.asarray(img).reshape(-1)[0])  # a constant image
    peak = int(np.argmax(counts))
    n_bins = counts.size
    # Measure along the longer tail; mirror the histogram when that is the right one.
    mirrored = peak - first < last - peak
    if mirrored:
        counts = counts[::-1]
        first, peak = n_bins - last - 1, n_bins - peak - 1
    width = peak - first
    hypotenuse = np.sqrt(float(counts[peak]) ** 2 + width**2)
    offsets = np.arange(width)
    distance = (counts[peak] / hypotenuse) * offsets - (width / hypotenuse) * counts[first:peak]
    level = int(np.argmax(distance)) + first
    return float(centers[n_bins - level - 1 if mirrored else level])


def otsu_threshold(img: np.ndarray, hist: Histogram | None = None) -> float:
    """Otsu's threshold of ``img`` as ``skimage.filters.threshold_otsu`` gives it, from its
    :func:`image_histogram` when given."""
    if hist is None:
        return float(threshold_otsu(img))
    if np.count_nonzero(hist[0]) == 1:
        return float(np.asarray(img).reshape(-1)[0])  # a constant image
    return float(threshold_otsu(hist=hist))


def global_threshold(img: np.ndarray, method: str, hist: Histogram | None = None) -> float:
    """The low-level threshold of ``MO``.

    Args:
        img: the smoothed image.
        method: ``"triangle"``, ``"median"`` (50th percentile) or ``"ave"`` (their mean).
        hist: the image's :func:`image_histogram`, when already computed.

    Raises:
        ConfigError: an unknown method.
    """
    if method not in THRESHOLD_METHODS:
        raise ConfigError(
            f"masked-object threshold: method={method!r}; choose one of {list(THRESHOLD_METHODS)}"
        )
    if method == "triangle":
        return triangle_threshold(img, hist)
    middle = median(img, hist)
    if method == "median":
        return middle
    return (triangle_threshold(img, hist) + middle) / 2


def _larger_than(labels: np.ndarray, min_size: int) -> np.ndarray:
    """Per label, True when it holds more than ``min_size`` voxels; label 0 never.

    The reference's size filters drop objects of ``min_size`` voxels *or fewer* (see
    :mod:`seglight.masks`).
    """
    return kept_labels(np.bincount(labels.ravel()), min_size, keep_equal=False)


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

    Low level: ``img > global_threshold(img, method)``, objects (6-connected) of
    ``min_object_size`` voxels or fewer removed, optionally dilated by a ball of radius 2
    (an object of exactly ``min_object_size`` voxels is removed, as by the installed
    reference's ``MO`` and the ``MO`` steps of its FBL, NPM1 and ST6GAL1 wrappers, which all
    use scikit-image's "at most n" size filter). High level: inside
    each 6-connected low-level object, keep voxels with ``img > otsu(object) * local_adjust``;
    with ``extra_criteria`` an object is kept only if its Otsu exceeds 0.333 × the Otsu
    threshold of the whole image. All objects are measured together, in a few compiled
    passes over the volume.

    Args:
        img: smoothed ZYX image (float32; other than float32 and float64, converted to it).
        method: low-level threshold, ``"triangle"``, ``"median"`` or ``"ave"``.
        min_object_size: low-level objects of this many voxels or fewer are removed.
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
    if img.dtype not in (np.float32, np.float64):
        img = img.astype(np.float32)
    # The triangle and the whole-image Otsu thresholds share one histogram.
    hist = image_histogram(img) if method != "median" or extra_criteria else None
    runs = _Runs.of(img > global_threshold(img, method, hist))
    run_labels, sizes = runs.components()
    big = kept_labels(sizes, min_object_size, keep_equal=False)
    low = runs.paint(big[run_labels]) if dilate or return_low else None
    if dilate:
        low = binary_dilation_ball(low, 2)
        # Dilation can merge objects: the local thresholds apply to the merged ones.
        labels, n_objects = label_components(low)
        objects = np.arange(1, n_objects + 1)
    else:
        labels = runs.paint(np.where(big[run_labels], run_labels, 0))
        objects = np.flatnonzero(big)

    cutoff = 0.333 * otsu_threshold(img, hist) if extra_criteria else None
    thresholds = _local_thresholds(img, labels, objects, cutoff, local_adjust)
    high = np.zeros(img.shape, bool)
    histogram_kernels.above_label_thresholds(img, labels, thresholds, high)
    return (high, low) if return_low else high


def _local_thresholds(
    img: np.ndarray, labels: np.ndarray, objects: np.ndarray, cutoff: float | None,
    adjust: float,
) -> np.ndarray:
    """Per label, the threshold ``MO`` applies inside it: ``otsu(object) * adjust``, in the
    image's type (numpy compares a float32 image with a Python float in float32), and
    ``+inf`` for labels not in ``objects`` or whose Otsu is not above ``cutoff``.

    The objects' ranges and histograms come from two compiled passes over the volume, all
    objects at once; each object's Otsu is scikit-image's on its own 256-bin histogram,
    equal to ``threshold_otsu(img[labels == label])``.
    """
    n_labels = int(labels.max(initial=0)) + 1
    lows = np.empty(n_labels, img.dtype)
    highs = np.empty(n_labels, img.dtype)
    histogram_kernels.label_ranges(img, labels, lows, highs)
    selected = np.zeros(n_labels, bool)
    selected[objects] = True
    selected &= lows <= highs  # a label without voxels has no threshold
    varying = selected & (lows < highs)
    bins = {int(label): _Bins.over(lows[label], highs[label]) for label in np.flatnonzero(varying)}
    n_bins = img.dtype.type(_N_BINS)
    firsts, scales = lows.copy(), np.ones(n_labels, img.dtype)
    edges = np.zeros((n_labels, _N_BINS + 1), img.dtype)
    for label, b in bins.items():
        scales[label], edges[label] = b.scale, b.edges
    counts = np.zeros((n_labels, _N_BINS), np.int64)
    histogram_kernels.label_histograms(img, labels, varying, firsts, scales, n_bins, edges, counts)

    thresholds = np.full(n_labels, np.inf, img.dtype)
    for label in np.flatnonzero(selected):
        if label in bins:
            local_otsu = float(threshold_otsu(hist=(counts[label], bins[label].centers())))
        else:
            local_otsu = float(lows[label])  # a constant object is its own threshold
        if cutoff is None or local_otsu > cutoff:
            thresholds[label] = local_otsu * adjust
    return thresholds


# --------------------------------------------------------------------------------------------
# Watershed cut of touching dots
# --------------------------------------------------------------------------------------------


def local_peaks(image: np.ndarray, labels: np.ndarray, min_distance: int) -> np.ndarray:
    """Local maxima of ``image`` within each labelled object, as the reference finds seeds.

    The same peaks as ``skimage.feature.peak_local_max(image, labels=labels,
    min_distance=min_distance)`` (border excluded, ``min_distance`` wide, z included), from
    one compiled pass instead of a loop over objects: a voxel is a peak when no voxel of its
    object (outside the border) in its ``(2·min_distance + 1)³`` window is brighter and it
    is brighter than the image minimum. An object whose every voxel is a peak (a plateau)
    keeps only the voxels that a binary opening removes. Peaks closer than
    ``min_distance`` (Chebyshev) to a brighter one, or to an equal one earlier in raster
    order, are dropped.

    Args:
        image: ZYX image.
        labels: int ZYX object labels (0: background).
        min_distance: window half-width, border width and spacing, voxels.

    Returns:
        int (n, 3) peak coordinates, brightest first.
    """
    image = np.ascontiguousarray(image)
    labels = np.ascontiguousarray(labels, dtype=np.int32)
    threshold = image.min()
    coords, sizes, maxima = morphology_kernels.label_local_maxima(
        image, labels, int(labels.max()), min_distance, min_distance, threshold
    )
    # Fewer than 7 voxels never survive an opening, so only bigger plateaus change.
    plateaus = np.flatnonzero((maxima == sizes) & (sizes >= 7))
    if plateaus.size:
        coords = coords[~np.isin(labels[tuple(coords.T)], plateaus)]
        core = tuple(slice(min_distance, n - min_distance) for n in labels.shape)
        boxes = ndi.find_objects(labels[core])
        extra = [coords]
        for index in plateaus:
            # As in the reference, the opening sees the box of the object's part inside the
            # frame, with nothing beyond it.
            box = boxes[index - 1]
            obj = labels[core][box] == index
            isolated = np.argwhere(obj & ~ndi.binary_opening(obj))
            offset = [b.start + c.start for b, c in zip(box, core, strict=True)]
            extra.append(isolated + np.array(offset))
        coords = np.concatenate(extra)
        coords = coords[image[tuple(coords.T)] > threshold]
    raster = np.ravel_multi_index(tuple(coords.T), labels.shape)
    coords = coords[np.lexsort((raster, -image[tuple(coords.T)]))]
    if min_distance > 1:
        keep = morphology_kernels.keep_spaced_peaks(coords, labels.shape, min_distance - 1)
        coords = coords[keep]
    return coords


def watershed_cut(mask: np.ndarray, peak_image: np.ndarray, min_distance: int = 2) -> np.ndarray:
    """Split touching dots: seeded watershed of the inverted distance transform.

    Seeds are the :func:`local_peaks` of ``peak_image`` within each 26-connected object of
    ``mask``, each dilated by ball(1) and labelled 26-connected. The watershed of
    ``-EDT(mask)`` from the seeds (6-connected, inside ``mask``, with one-voxel watershed
    lines) floods the whole volume at once, as the reference's does (:func:`seeded_watershed`
    replays its order): the distances are mostly ties (1, √2, 2, ...), which its priority
    queue breaks by its internal layout, and that layout depends on every seed of the
    volume — a watershed per object gives lines one voxel apart on ~1% of the voxels of
    small dots. When no 6-connected object holds two seeds there is nothing to cut: each
    object takes its seed's label whole and the watershed is skipped.

    Args:
        mask: bool ZYX foreground.
        peak_image: ZYX image whose local maxima seed the objects.
        min_distance: smallest distance between seeds and from the border, in voxels.

    Returns:
        int32 ZYX labels (0: background, unseeded objects and watershed lines).
    """
    mask = np.ascontiguousarray(mask, dtype=bool)
    objects, _ = label_components(mask, full=True)
    peaks = local_peaks(peak_image, objects, min_distance)
    # ball(1) around each peak, drawn and labelled (26-connected) from the coordinates:
    # the seeds are far too sparse for whole-volume passes to pay off.
    cross = np.concatenate([np.zeros((1, 3), int), np.eye(3, dtype=int), -np.eye(3, dtype=int)])
    spots = (peaks[:, None, :] + cross[None]).reshape(-1, 3)
    spots = spots[((spots >= 0) & (spots < mask.shape)).all(axis=1)]
    spots = np.unique(np.ravel_multi_index(tuple(spots.T), mask.shape))
    spot_labels = morphology_kernels.label_voxels(spots, np.full(mask.shape, -1, np.int32))
    # As in the reference, seeds are labelled before the mask clips them.
    inside = mask.reshape(-1)[spots]
    seed_voxels, seed_labels = spots[inside], spot_labels[inside]

    # The watershed floods 6-connected, so its independent problems are the 6-connected
    # components, which lie inside the 26-connected objects: where no object holds two seed
    # labels (counted without labelling again), no component does, and nothing is cut.
    objects_of_seeds, _ = _distinct_pairs(objects.reshape(-1)[seed_voxels], seed_labels)
    if not np.any(np.bincount(objects_of_seeds) > 1):
        components, n_components = label_components(mask)
        component, label = _distinct_pairs(components.reshape(-1)[seed_voxels], seed_labels)
        single_label = np.zeros(n_components + 1, np.int32)
        single_label[component] = label
        return single_label[components]
    # -EDT²: the same order as -EDT, in integers that float32 holds exactly.
    squared = np.empty(mask.shape, np.int32)
    distance_kernels.squared_edt(mask, squared)
    return _flood(-squared[mask].astype(np.float32), mask, seed_voxels, seed_labels)


def remove_small_labels(labels: np.ndarray, min_size: int) -> np.ndarray:
    """Foreground of the labels holding more than ``min_size`` voxels (bool).

    Each label is one object, whatever its connectivity (the reference size-filters the
    watershed's label image itself). A label of exactly ``min_size`` voxels is dropped, as
    in the reference (see :func:`_larger_than`).
    """
    return _larger_than(labels, min_size)[labels]


# --------------------------------------------------------------------------------------------
# Hole filling and thinning
# --------------------------------------------------------------------------------------------


def fill_holes(
    mask: np.ndarray, min_size: int, max_size: int, per_slice: bool = True
) -> np.ndarray:
    """Fill background components whose size lies in ``[min_size, max_size]``, both inclusive.

    Background components are 4-connected within each z-slice (``per_slice``) or
    6-connected in 3D. As in the reference, a component touching the image border is a hole
    too when its size is in range. Both bounds are inclusive, unlike the size filters (which
    drop objects of exactly ``min_size`` voxels): the installed reference's
    ``hole_filling(hole_min, hole_max)`` fills holes of exactly ``hole_min`` and of exactly
    ``hole_max`` voxels, in 2D and 3D.

    Args:
        mask: bool ZYX (or YX) foreground.
        min_size: smallest hole filled, in voxels (pixels per slice); holes of exactly this
            size are filled.
        max_size: largest hole filled; holes of exactly this size are filled.
        per_slice: fill each z-slice on its own (a tube along z has holes in every slice).

    Returns:
        The filled mask (bool).
    """
    mask = np.asarray(mask, dtype=bool)
    if mask.ndim == 2 or per_slice:
        stack = np.ascontiguousarray(mask if mask.ndim == 3 else mask[None])
        filled = morphology_kernels.fill_holes_per_slice(stack, min_size, max_size)
        return filled if mask.ndim == 3 else filled[0]
    background, _ = ndi.label(~mask, structure=_CROSS_3D)
    sizes = np.bincount(background.ravel())
    fill = (sizes >= min_size) & (sizes <= max_size)
    fill[0] = False
    return mask | fill[background]


def drop_border_fill(mask: np.ndarray, filled: np.ndarray) -> np.ndarray:
    """``filled`` without what it added that touches a slice's border (4-connected, per
    z-slice): only enclosed holes stay filled (:func:`fill_holes` fills background touching
    the border too, as the reference does; between nuclei that is the gap, not a hole)."""
    added = np.asarray(filled, bool) & ~np.asarray(mask, bool)
    in_plane = np.zeros((3, 3, 3), bool)
    in_plane[1] = ndi.generate_binary_structure(2, 1)
    labels, _ = ndi.label(added, structure=in_plane)
    edges = np.concatenate([labels[:, 0].ravel(), labels[:, -1].ravel(),
                            labels[:, :, 0].ravel(), labels[:, :, -1].ravel()])
    touching = np.unique(edges[edges > 0])
    return np.asarray(filled, bool) & ~np.isin(labels, touching)


@lru_cache(maxsize=1)
def _medial_axis_keep_table() -> np.ndarray:
    """Per 3x3 neighbourhood code (9 bits, raster order, centre = bit 4), whether a medial
    axis must keep the centre pixel: it is foreground, and removing it changes the number
    of 8-connected components of the neighbourhood, or it has at most one neighbour."""
    codes = np.arange(512)
    patterns = ((codes[:, None] >> np.arange(9)) & 1).astype(bool).reshape(512, 3, 3)
    eight = np.ones((3, 3), bool)
    keep = np.zeros(512, bool)
    for code in codes[(codes & 16) != 0]:
        with_centre = patterns[code]
        without = with_centre.copy()
        without[1, 1] = False
        changes = ndi.label(with_centre, eight)[1] != ndi.label(without, eight)[1]
        keep[code] = changes or with_centre.sum() < 3
    return keep


def medial_axis_per_slice(mask: np.ndarray) -> np.ndarray:
    """The 2D medial axis of each z-slice, deterministic.

    The medial axis of scikit-image (``skimage.morphology.medial_axis``, which the
    reference calls per slice): foreground pixels are thinned in order of increasing
    distance to the slice's background, corner-like pixels last, each removed unless the
    3x3 topology needs it. scikit-image breaks the remaining ties at random (the
    reference's skeletons vary from run to run); here raster order breaks them. All slices
    are done in one compiled pass, with the lookup table built once per process: calling
    ``medial_axis`` per slice or per object rebuilds its table each time (~0.1 s), which
    made thinning of large objects the slowest step of ST6GAL1.

    Args:
        mask: bool ZYX mask.

    Returns:
        bool ZYX skeleton.
    """
    mask = np.ascontiguousarray(mask, dtype=bool)
    if not mask.any():
        return np.zeros(mask.shape, bool)
    squared = np.empty(mask.shape, np.int32)
    distance_kernels.squared_edt_per_slice(mask, squared)
    skeleton = np.empty(mask.shape, bool)
    morphology_kernels.medial_axis_per_slice(mask, _medial_axis_keep_table(), squared, skeleton)
    return skeleton


def topology_preserving_thinning(mask: np.ndarray, min_thickness: float, thin: int) -> np.ndarray:
    """Peel ``thin`` voxels off the boundary where the object is thicker than ``min_thickness``.

    Per z-slice, voxels farther than ``min_thickness`` from the slice's medial axis are
    "safe"; safe voxels in the boundary shell (the mask minus its erosion by a ball of
    radius ``thin``) are removed, so thin parts keep their topology. The medial axis breaks
    ties with a fixed random seed, so the result is deterministic (the reference's varies
    from run to run).

    Args:
        mask: bool ZYX mask.
        min_thickness: half the thickness protected from thinning, in pixels.
        thin: how many voxels to peel (ball radius, a positive integer).

    Returns:
        The thinned mask (bool).
    """
    mask = np.asarray(mask, dtype=bool)
    shell = mask & ~binary_erosion_ball(mask, thin)
    skeleton = medial_axis_per_slice(mask)
    # Within min_thickness of the axis (the reference's EDT test, with its 1e-5 slack) is
    # the in-plane dilation of the axis by a disk of that radius.
    near_axis = np.zeros_like(mask)
    for box in _ball_boxes(min_thickness + 1e-5, 2):
        near_axis |= _box_filter(skeleton, (0, *box), np.logical_or)
    return mask & ~(shell & ~near_axis)


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

    Objects of ``objects_yx`` of ``min_size`` pixels or fewer (4-connected) are ignored,
    as by the reference's seeding (an object of exactly ``min_size`` pixels gets no seed);
    the rest, labelled 8-connected in raster order, each put a seed at their rounded
    centroid on slice ``mid_z``. The z = 0 plane is label 1, the objects 2, 3, ...

    Returns:
        int32 ZYX seed labels.
    """
    kept = remove_small_objects(objects_yx, min_size, connectivity=1, keep_equal=False)
    labels, n = ndi.label(kept, structure=np.ones((3, 3), bool))
    seeds = np.zeros(tuple(shape_zyx), np.int32)
    seeds[0] = 1
    if n:
        centroids = np.round(np.array(ndi.center_of_mass(kept, labels, range(1, n + 1))))
        yx = centroids.astype(int)
        seeds[mid_z, yx[:, 0], yx[:, 1]] = np.arange(2, n + 2, dtype=np.int32)
    return seeds


def _ordered_uint32(img: np.ndarray) -> np.ndarray:
    """float32 intensities as unsigned integers of the same order (IEEE-754 bit trick)."""
    bits = (np.asarray(img, np.float32) + np.float32(0)).view(np.uint32)  # -0.0 becomes +0.0
    return np.where(bits >> 31 != 0, ~bits, bits | np.uint32(0x80000000))


def _distinct_pairs(first: np.ndarray, second: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The distinct pairs of two non-negative integer arrays, sorted (one 1D unique of
    64-bit keys: ``np.unique(axis=1)`` sorts structured rows, many times slower)."""
    first = first.astype(np.int64)
    second = second.astype(np.int64)
    base = int(second.max(initial=0)) + 1
    keys = np.unique(first * base + second)
    return keys // base, keys % base


def _mixed_tie_ranks(seed_ranks: np.ndarray, seed_labels: np.ndarray) -> np.ndarray:
    """The intensity ranks shared by seeds of two or more labels: only there may the order
    in which the reference's heap releases tied seeds matter (see
    :func:`morphology_kernels.flood`)."""
    ranks, _ = _distinct_pairs(seed_ranks, seed_labels)
    ranks, counts = np.unique(ranks, return_counts=True)
    return ranks[counts > 1]


#: Replay the heap without a trial flood first when it would see at most this fraction of
#: the voxels (a heap step costs several bucket steps).
_DIRECT_REPLAY_FRACTION = 0.25


def _flood(
    values: np.ndarray, inside: np.ndarray, seed_voxels: np.ndarray, seed_labels: np.ndarray
) -> np.ndarray:
    """The watershed of :func:`seeded_watershed` from flat inputs.

    Args:
        values: the image at the ``inside`` voxels, in raster order.
        inside: bool ZYX (or YX, X), the voxels that may be flooded.
        seed_voxels: int raveled indices of the seeds, increasing, all inside.
        seed_labels: their labels (> 0).

    Returns:
        int32 labels of ``inside``'s shape, 0 on watershed lines and outside.
    """
    shape = inside.shape
    inside = np.ascontiguousarray(inside.reshape((1,) * (3 - inside.ndim) + shape))
    keys = _ordered_uint32(values).ravel()
    levels = np.unique(keys)
    ranks = morphology_kernels.dense_ranks(keys, levels)
    seed_labels = np.asarray(seed_labels, np.int32)
    # Volumes are allocated by numpy, whose large arrays sit on huge pages (see
    # :func:`morphology_kernels.flood`).
    framed = [n + 2 for n in inside.shape]
    state = np.empty((framed[0] * framed[1] * framed[2], 3), np.int32)
    seed_rows = morphology_kernels.flood_state(
        inside, ranks, np.asarray(seed_voxels, np.int64), seed_labels, state
    )
    strides = np.array([framed[1] * framed[2], framed[2], 1])
    offsets = np.sort(np.concatenate([-strides, strides])).astype(np.int64)
    # Where seeds of different labels tie, the reference's heap decides which leaves first.
    # That order matters only at the ranks where tied seeds of two labels can still claim
    # voxels; a bucket flood finds those ranks (which voxels are free then does not depend
    # on the order). Most of them lie low, so replaying the heap until the seeds of the
    # last one have left, and flooding by buckets after it, costs a fraction of a replay
    # up to the last tie. Where few voxels lie below the last tie (the distances of a
    # watershed cut), the trial flood would cost more than the replay it saves.
    mixed = _mixed_tie_ranks(state[seed_rows, 1], seed_labels)
    check = np.zeros(levels.size, bool)
    check[mixed] = True
    replay_until = -1
    if mixed.size:
        below = np.count_nonzero(ranks < mixed[-1])
        if below <= _DIRECT_REPLAY_FRACTION * ranks.size:
            replay_until = int(mixed[-1])
    def flood(state: np.ndarray, replay_until: int, check: np.ndarray) -> int:
        is_seed, bucketed = np.zeros(len(state), bool), np.zeros(len(state), bool)
        return morphology_kernels.flood(
            state, offsets, seed_rows, levels.size, replay_until, check, is_seed, bucketed
        )

    if replay_until < 0:
        trial = state.copy() if mixed.size else state
        replay_until = flood(trial, -1, check)
        if replay_until < 0:
            state = trial
    if replay_until >= 0:
        flood(state, replay_until, np.zeros_like(check))
    labels = np.empty(inside.shape, np.int32)
    morphology_kernels.flood_labels(state, labels)
    return labels.reshape(shape)


def seeded_watershed(
    img: np.ndarray, seeds: np.ndarray, mask: np.ndarray | None = None
) -> np.ndarray:
    """Watershed of ``img`` from ``seeds``, 6-connected, with one-voxel watershed lines.

    The flooding rules are the reference's (``skimage.segmentation.watershed(img, seeds,
    mask=mask, watershed_line=True)``, see :mod:`seglight.classic.kernels.morphology`),
    compiled as a bucket queue over the intensity ranks, with every voxel queued once
    (linear time). Intensities are compared in float32. Where seeds of different labels
    tie in intensity and could still both claim voxels, the reference's heap (whose layout
    decides which leaves first) is replayed until the last such intensity's seeds have
    left, so the labels and lines are the reference's.

    Args:
        img: ZYX, YX or X image; only the order of its values matters.
        seeds: int labels (> 0) where the flooding starts, 0 elsewhere.
        mask: voxels that may be flooded (default: all).

    Returns:
        int32 labels, 0 on watershed lines and outside ``mask``.

    Raises:
        ConfigError: an image of more than 3 dimensions.
    """
    img = np.asarray(img)
    if not 1 <= img.ndim <= 3:
        raise ConfigError(f"seeded watershed: image of shape {img.shape}; give X, YX or ZYX")
    inside = np.ones(img.shape, bool) if mask is None else np.asarray(mask, dtype=bool)
    seeds = np.asarray(seeds).reshape(-1)
    seed_voxels = np.flatnonzero((seeds > 0) & inside.reshape(-1))
    # Only the voxels that can be flooded need a rank: with a sparse mask (the watershed
    # cut of dots) that is a fraction of the sorting.
    values = img.reshape(-1) if mask is None else img[inside]
    return _flood(values, inside, seed_voxels, seeds[seed_voxels])


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
