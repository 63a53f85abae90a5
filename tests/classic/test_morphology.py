"""Tests of the object-level blocks in :mod:`seglight.classic.morphology`.

Behaviour tests on tiny synthetic masks and images, and block-level parity with the
reference Segmenter's core functions (skipped when the reference is not installed).
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from scipy import ndimage as ndi
from skimage.feature import peak_local_max
from skimage.filters import threshold_otsu
from skimage.morphology import ball, dilation, disk, erosion, medial_axis
from skimage.segmentation import find_boundaries, watershed

from seglight.classic import morphology as morph
from seglight.errors import ConfigError


def _sphere(shape, center, radius):
    grid = np.ogrid[tuple(slice(0, n) for n in shape)]
    return sum((g - c) ** 2 for g, c in zip(grid, center, strict=True)) <= radius**2


def _blobs(seed: int = 0, shape=(12, 48, 48)) -> np.ndarray:
    """Smoothed image of a few bright, differently bright blobs on noise, float32 in [0, 1]."""
    rng = np.random.default_rng(seed)
    img = rng.normal(0.1, 0.02, shape)
    blobs = [((6, 12, 12), 5, 0.9), ((6, 34, 30), 6, 0.5), ((5, 12, 36), 3, 0.7)]
    for center, radius, value in blobs:
        img[_sphere(shape, center, radius)] += value
    img = ndi.gaussian_filter(img, 1.0)
    return ((img - img.min()) / (img.max() - img.min())).astype(np.float32)


# ------------------------------------------------------------------ ball dilation / erosion


@pytest.mark.parametrize("radius", [1, 2, 3])
def test_ball_dilation_and_erosion_equal_the_ball_footprint(radius: int) -> None:
    rng = np.random.default_rng(radius)
    sparse = rng.random((9, 17, 19)) > 0.95
    dense = rng.random((9, 17, 19)) > 0.2
    assert np.array_equal(
        morph.binary_dilation_ball(sparse, radius), dilation(sparse, ball(radius))
    )
    assert np.array_equal(morph.binary_erosion_ball(dense, radius), erosion(dense, ball(radius)))
    flat = sparse[4]
    assert np.array_equal(morph.binary_dilation_ball(flat, radius), dilation(flat, disk(radius)))


# ------------------------------------------------------------------ masked-object threshold


def test_global_threshold_methods_and_bad_method() -> None:
    img = _blobs()
    median = float(np.percentile(img, 50))
    triangle = morph.global_threshold(img, "triangle")
    assert morph.global_threshold(img, "median") == pytest.approx(median)
    assert morph.global_threshold(img, "ave") == pytest.approx((triangle + median) / 2)
    with pytest.raises(ConfigError, match="otsu"):
        morph.global_threshold(img, "otsu")


def test_masked_object_threshold_thresholds_each_object_locally() -> None:
    img = _blobs()
    high, low = morph.masked_object_threshold(
        img, "triangle", 20, False, False, 1.0, return_low=True
    )
    labels, n = ndi.label(low, structure=ndi.generate_binary_structure(3, 1))
    assert n == 3  # three blobs, each its own low-level object
    assert high.sum() < low.sum() and not (high & ~low).any()
    for index in range(1, n + 1):
        obj = labels == index
        expected = obj & (img > threshold_otsu(img[obj]))
        assert np.array_equal(high & obj, expected)


def test_masked_object_threshold_size_filter_dilation_and_adjust() -> None:
    img = _blobs()
    _, low = morph.masked_object_threshold(img, "triangle", 20, False, False, 1.0, return_low=True)
    sizes = np.sort(np.bincount(ndi.label(low)[0].ravel())[1:])
    # A min size equal to the smallest object's size drops exactly that object.
    _, low_big = morph.masked_object_threshold(
        img, "triangle", int(sizes[0]), False, False, 1.0, return_low=True
    )
    assert ndi.label(low_big)[1] == 2
    _, low_dilated = morph.masked_object_threshold(
        img, "triangle", 20, True, False, 1.0, return_low=True
    )
    assert np.array_equal(low_dilated, dilation(low, ball(2)))
    loose = morph.masked_object_threshold(img, "triangle", 20, False, False, 0.5)
    strict = morph.masked_object_threshold(img, "triangle", 20, False, False, 1.0)
    assert loose.sum() > strict.sum() and not (strict & ~loose).any()


def test_masked_object_threshold_extra_criteria_drops_dim_objects() -> None:
    img = _blobs()
    img[:, :, :24] *= 0.05  # two of the blobs become far dimmer than the image's Otsu threshold
    plain = morph.masked_object_threshold(img, "median", 20, False, False, 1.0)
    extra = morph.masked_object_threshold(img, "median", 20, False, True, 1.0)
    assert plain[:, :, :24].any() and not extra[:, :, :24].any()
    assert np.array_equal(plain[:, :, 24:], extra[:, :, 24:])


# ------------------------------------------------------------------ watershed cut


def test_local_peaks_equal_scikit_image_peak_local_max_with_labels() -> None:
    rng = np.random.default_rng(5)
    for trial in range(12):
        shape = (8, 20, 24)
        # Integer intensities make plateaus and ties, which the spacing rule must break alike.
        img = np.round(ndi.gaussian_filter(rng.random(shape), 1) * (4 if trial % 2 else 1000))
        img = img.astype(np.float32)
        mask = ndi.gaussian_filter(rng.random(shape), 1.2) > 0.5 + 0.03 * (trial % 3)
        labels, _ = ndi.label(mask, structure=np.ones((3, 3, 3)))
        expected = {tuple(p) for p in peak_local_max(img, labels=labels, min_distance=2)}
        assert {tuple(p) for p in morph.local_peaks(img, labels, 2)} == expected


def test_local_peaks_of_a_plateau_keep_only_what_an_opening_removes() -> None:
    img = np.zeros((9, 12, 12), np.float32)
    mask = np.zeros(img.shape, bool)
    mask[2:7, 3:9, 3:9] = True
    mask[3, 3, 3] = False  # a notch: that corner's neighbours do not survive the opening
    img[mask] = 5.0
    labels, _ = ndi.label(mask, structure=np.ones((3, 3, 3)))
    expected = {tuple(p) for p in peak_local_max(img, labels=labels, min_distance=2)}
    got = {tuple(p) for p in morph.local_peaks(img, labels, 2)}
    assert got == expected and 0 < len(got) < mask.sum() / 4


def test_watershed_cut_splits_touching_balls_and_keeps_single_ones() -> None:
    shape = (16, 24, 40)
    pair = _sphere(shape, (8, 12, 11), 4.5) | _sphere(shape, (8, 12, 18), 4.5)
    single = _sphere(shape, (8, 12, 31), 3.5)
    mask = pair | single
    peaks = ndi.distance_transform_edt(mask).astype(np.float32)
    labels = morph.watershed_cut(mask, peaks, 2)
    assert labels.dtype == np.int32
    assert len(np.unique(labels[pair])) == 3  # two basins and the line between them
    assert (labels[pair] == 0).sum() < 60  # the line is one voxel thick across the neck
    assert len(np.unique(labels[single])) == 1 and labels[single].min() > 0
    assert not labels[~mask].any()


def test_watershed_cut_drops_objects_without_a_seed_and_small_labels() -> None:
    mask = np.zeros((10, 20, 20), bool)
    mask[0:2, 5:8, 5:8] = True  # touches the z border: no peak survives the border exclusion
    mask[5, 10, 10] = True  # one voxel, far from the border: one seed
    labels = morph.watershed_cut(mask, mask.astype(np.float32), 2)
    assert not labels[0:2].any() and labels[5, 10, 10] > 0
    assert not morph.remove_small_labels(labels, 1).any()
    assert morph.remove_small_labels(labels, 0)[5, 10, 10]


# ------------------------------------------------------------------ hole filling


def test_fill_holes_respects_size_bounds_per_slice_and_in_3d() -> None:
    mask = np.zeros((4, 20, 40), bool)
    mask[:, 2:9, 2:9] = True
    mask[:, 4:7, 4:7] = False  # 9-pixel hole in every slice (a tube along z)
    mask[:, 2:18, 15:35] = True
    mask[:, 4:16, 17:33] = False  # 144-pixel hole
    filled = morph.fill_holes(mask, 1, 100)
    assert filled[:, 4:7, 4:7].all() and not filled[:, 4:16, 17:33].any()
    assert morph.fill_holes(mask, 1, 200)[:, 4:16, 17:33].all()
    assert not morph.fill_holes(mask, 10, 100)[:, 4:7, 4:7].any()
    # In 3D the tube's inside is one 36-voxel background component.
    assert not morph.fill_holes(mask, 1, 30, per_slice=False)[:, 4:7, 4:7].any()
    assert morph.fill_holes(mask, 1, 40, per_slice=False)[:, 4:7, 4:7].all()


def test_fill_holes_counts_a_small_border_component_as_a_hole() -> None:
    mask = np.zeros((1, 10, 10), bool)
    mask[0, :, 3] = True  # cuts off a 3-column strip at the left border
    assert morph.fill_holes(mask, 0, 30)[0, :, :3].all()
    assert not morph.fill_holes(mask, 0, 29)[0, :, :3].any()


# ------------------------------------------------------------------ thinning


def test_medial_axis_per_slice_equals_the_axis_of_each_slice() -> None:
    mask = np.zeros((3, 40, 50), bool)
    mask[0, 5:10, 4:30] = True  # bars of odd thickness: a unique axis, no ties to break
    mask[0, 20:23, 10:45] = True
    mask[1, 12:19, 12:40] = True
    mask[2, 0:5, 3:20] = True  # touches the image edge: no background beyond it
    expected = np.stack([medial_axis(s) for s in mask])
    assert np.array_equal(morph.medial_axis_per_slice(mask), expected)


def test_thinning_peels_thick_parts_keeps_thin_ones_and_is_deterministic() -> None:
    mask = np.zeros((3, 40, 40), bool)
    mask[:, 5:25, 5:25] = True  # thick square
    mask[:, 30, 5:35] = True  # one-pixel line
    thinned = morph.topology_preserving_thinning(mask, 1.6, 1)
    assert not (thinned & ~mask).any()
    assert thinned[:, 30, 5:35].all()  # too thin to be touched
    assert not thinned[:, 5, 15].any() and thinned[:, 15, 15].all()
    assert thinned[1].sum() < mask[1].sum()
    assert np.array_equal(thinned, morph.topology_preserving_thinning(mask, 1.6, 1))


# ------------------------------------------------------------------ middle frame


def test_histogram_otsu_splits_a_bimodal_profile() -> None:
    profile = np.array([0, 50, 60, 50, 2, 1, 2, 40, 70, 40, 0])
    threshold = morph.histogram_otsu(profile)
    assert 0.3 <= threshold <= 0.6


def test_middle_frame_is_between_two_bright_layers() -> None:
    img = np.zeros((30, 16, 16), np.float32)
    img[6:10] = 1.0  # the bottom of the cells
    img[20:24] = 1.0  # their top
    mid = morph.middle_frame(img, "intensity")
    assert 10 <= mid <= 20
    assert morph.middle_frame(img, "z") == 15
    with pytest.raises(ConfigError, match="middle frame"):
        morph.middle_frame(img, "brightest")


# ------------------------------------------------------------------ seeded watershed


def test_seeds_from_middle_slice_places_one_seed_per_object() -> None:
    objects = np.zeros((20, 30), bool)
    objects[2:8, 2:8] = True  # 36 px, centroid (4.5, 4.5) -> rounds half to even
    objects[10:19, 15:28] = True  # 117 px
    objects[0:2, 25:27] = True  # 4 px: too small
    seeds = morph.seeds_from_middle_slice(objects, (5, 20, 30), 3, 10)
    assert seeds.dtype == np.int32 and (seeds[0] == 1).all()
    assert seeds[3, 4, 4] == 2 and seeds[3, 14, 21] == 3
    assert np.count_nonzero(seeds[1:]) == 2


def test_seeded_watershed_equals_scikit_image_with_lines() -> None:
    rng = np.random.default_rng(7)
    for trial in range(20):
        shape = (5, 9, 11) if trial % 2 else (13, 17)
        # Few intensity levels: many ties, resolved first-in first-out as in scikit-image.
        img = rng.integers(0, 4, shape).astype(float) if trial % 4 < 2 else rng.random(shape)
        seeds = np.zeros(shape, int)
        where = rng.choice(img.size, 4, replace=False)
        seeds.flat[where] = [1, 2, 3, 2]
        img.flat[where] = [-1.0, -2.0, -3.0, -4.0]  # distinct seed intensities
        mask = rng.random(shape) > 0.15 if trial % 3 == 0 else None
        expected = watershed(img, seeds, mask=mask, watershed_line=True)
        assert np.array_equal(morph.seeded_watershed(img, seeds, mask), expected)


def test_seeded_watershed_keeps_touching_seeds_of_different_labels() -> None:
    img = np.random.default_rng(8).random((4, 9, 9))
    seeds = np.zeros(img.shape, int)
    seeds[2, 4, 3], seeds[2, 4, 4], seeds[0, 0, 0] = 1, 2, 3
    img[2, 4, 3], img[2, 4, 4], img[0, 0, 0] = -3.0, -2.0, -1.0
    expected = watershed(img, seeds, watershed_line=True)
    got = morph.seeded_watershed(img, seeds)
    assert np.array_equal(got, expected) and got[2, 4, 3] == 1 and got[2, 4, 4] == 2


def test_thick_boundaries_equal_find_boundaries() -> None:
    mask = np.random.default_rng(3).random((6, 15, 15)) > 0.5
    expected = find_boundaries(mask, connectivity=1, mode="thick")
    assert np.array_equal(morph.thick_boundaries(mask), expected)


# ------------------------------------------------------------------ parity with the reference


@pytest.fixture(scope="module")
def reference_utils():
    from tests.helpers.oracle import reference_module

    return reference_module("core.utils")


@pytest.mark.parametrize(
    ("method", "min_size", "dilate", "extra", "adjust"),
    [
        ("ave", 50, False, False, 1.0),
        ("ave", 50, True, True, 0.98),
        ("triangle", 120, True, False, 0.98),
    ],
)
def test_masked_object_threshold_matches_reference(method, min_size, dilate, extra, adjust) -> None:
    from tests.helpers.oracle import reference_module

    reference = reference_module("core.MO_threshold")
    img = _blobs(seed=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = reference.MO(img, method, min_size, extra, adjust, dilate=dilate)
    got = morph.masked_object_threshold(img, method, min_size, dilate, extra, adjust)
    assert np.array_equal(got, expected)


def test_hole_filling_and_middle_frame_match_reference(reference_utils) -> None:
    img = _blobs(seed=2)
    mask = img > np.percentile(img, 70)
    for low, high in [(0, 81), (1, 1600), (5, 40)]:
        expected = reference_utils.hole_filling(mask, low, high, True)
        assert np.array_equal(morph.fill_holes(mask, low, high), expected)
    assert morph.middle_frame(img) == reference_utils.get_middle_frame(img, "intensity")
    profile = np.random.default_rng(0).integers(0, 500, 37)
    assert morph.histogram_otsu(profile) == reference_utils.histogram_otsu(profile)


# ------------------------------------------------------- exact ties of the reference's queue


def test_seeded_watershed_breaks_ties_among_equal_seeds_as_scikit_image() -> None:
    """A background seed plane of equal intensity (as in LMNB1 interphase) is a tie of
    thousands of seeds, which scikit-image's heap releases in its own order."""
    rng = np.random.default_rng(11)
    for trial in range(60):
        shape = (4, 9, 11)
        img = rng.integers(0, 3, shape).astype(np.float32)
        if trial % 2:
            img[0] = 2  # the seed plane brighter than the cells
        seeds = np.zeros(shape, np.int32)
        seeds[0] = 1
        where = rng.choice(img.size, 3, replace=False)
        seeds.flat[where] = [2, 3, 4]
        expected = watershed(img, seeds, watershed_line=True)
        assert np.array_equal(morph.seeded_watershed(img, seeds), expected), trial


def test_watershed_cut_equals_one_watershed_of_the_whole_volume() -> None:
    """Dense touching dots: the cut must be the reference's single whole-volume watershed
    (a watershed per object breaks distance ties differently)."""
    rng = np.random.default_rng(5)
    image = ndi.gaussian_filter(rng.random((12, 48, 48)).astype(np.float32), 1.2)
    mask = image > np.percentile(image, 70)
    labels = morph.watershed_cut(mask, image, 2)
    objects, _ = ndi.label(mask, structure=np.ones((3, 3, 3)))
    peaks = morph.local_peaks(image, objects, 2)
    seeds = np.zeros(mask.shape, bool)
    seeds[tuple(peaks.T)] = True
    markers, _ = ndi.label(ndi.binary_dilation(seeds, ndi.generate_binary_structure(3, 1)),
                           structure=np.ones((3, 3, 3)))
    markers[~mask] = 0
    expected = watershed(-ndi.distance_transform_edt(mask), markers, mask=mask,
                         watershed_line=True)
    assert len(peaks) > 20 and (expected == 0)[mask].any()  # really cut, along lines
    assert np.array_equal(labels, expected)  # the same labels, not only the same mask


def test_seeded_watershed_returns_where_the_reference_queue_explodes() -> None:
    """Watershed lines in a sheet beside a bright seed plane: scikit-image's queue of
    copies grows without bound there; seglight's replay is capped and returns."""
    img = np.zeros((6, 24, 24), np.float32)
    img[0] = 1.0  # the background seed plane, brighter than everything
    seeds = np.zeros(img.shape, np.int32)
    seeds[0] = 1
    seeds[3, 12, 12] = 2
    labels = morph.seeded_watershed(img, seeds)
    assert labels.shape == img.shape and (labels == 2).any()
