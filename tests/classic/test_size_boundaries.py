"""Which objects and holes of exactly the size bound survive the classic size filters.

Every size filter of the classic workflows drops objects of ``n`` voxels *or fewer* (the
reference's scikit-image "at most n" filter); hole filling fills holes whose size is in
``[min, max]``, both ends included; PXN's z pruning stops at slices of *fewer than* ``n``
voxels. Each test builds objects of exactly ``n - 1``, ``n`` and ``n + 1`` voxels.
``tests/parity/test_size_boundaries.py`` checks that the reference agrees.
"""

from __future__ import annotations

import numpy as np
import pytest

from seglight.classic import morphology as morph
from seglight.classic.postprocess import size_filter
from seglight.classic.workflows.filament_spot import prune_z
from seglight.masks import remove_small_objects

N = 6
SIZES = (N - 1, N, N + 1)


def lines(sizes=SIZES, shape=(1, 16, 24)) -> np.ndarray:
    """One straight object per size, on rows 2, 5, 8, ... of slice 0, starting at x = 2."""
    mask = np.zeros(shape, bool)
    for i, size in enumerate(sizes):
        mask[0, 2 + 3 * i, 2 : 2 + size] = True
    return mask


def survivors(mask: np.ndarray, sizes=SIZES) -> list[bool]:
    """Per object of :func:`lines`, whether any of it is still in ``mask``."""
    return [bool(mask[0, 2 + 3 * i].any()) for i in range(len(sizes))]


def holes(sizes=SIZES, shape=(1, 5, 30)) -> np.ndarray:
    """A full slab with one straight hole per size on row 2, separated by 2 voxels."""
    mask = np.ones(shape, bool)
    x = 1
    for size in sizes:
        mask[:, 2, x : x + size] = False
        x += size + 2
    return mask


def filled(mask: np.ndarray, sizes=SIZES) -> list[bool]:
    """Per hole of :func:`holes`, whether it is filled."""
    x, out = 1, []
    for size in sizes:
        out.append(bool(mask[:, 2, x : x + size].all()))
        x += size + 2
    return out


def test_size_filter_drops_objects_of_exactly_min_size() -> None:
    assert survivors(size_filter(lines(), N)) == [False, False, True]
    assert survivors(size_filter(lines(), N, per_slice=True)) == [False, False, True]


def test_reference_rule_drops_components_of_exactly_min_size_in_2d_and_3d() -> None:
    mask = lines()
    assert survivors(remove_small_objects(mask, N, connectivity=1, keep_equal=False)) == [
        False,
        False,
        True,
    ]
    kept = remove_small_objects(mask[0], N, connectivity=1, keep_equal=False)
    assert survivors(kept[None]) == [False, False, True]


def test_masked_object_threshold_low_level_drops_objects_of_exactly_min_size() -> None:
    # Mostly zero image: the median threshold is 0, so every line is one low-level object;
    # graded values give each object a proper local Otsu threshold.
    img = np.zeros((1, 16, 24), np.float32)
    for i, size in enumerate(SIZES):
        img[0, 2 + 3 * i, 2 : 2 + size] = np.linspace(0.5, 1.0, size)
    high, low = morph.masked_object_threshold(img, "median", N, False, False, 1.0, return_low=True)
    assert survivors(low) == [False, False, True]
    assert survivors(high) == [False, False, True]
    # Below the bound, all three pass the low level.
    _, low = morph.masked_object_threshold(img, "median", N - 2, False, False, 1.0, return_low=True)
    assert survivors(low) == [True, True, True]


def test_remove_small_labels_drops_labels_of_exactly_min_size() -> None:
    labels = np.zeros((1, 16, 24), np.int32)
    for i, size in enumerate(SIZES):
        labels[0, 2 + 3 * i, 2 : 2 + size] = i + 1
    # A label is one object even in pieces: two parts of N - 1 and 2 voxels make N + 1.
    labels[0, 11, 2 : 2 + N - 1] = 4
    labels[0, 14, 2:4] = 4
    kept = morph.remove_small_labels(labels, N)
    assert survivors(kept, (*SIZES, N + 1)) == [False, False, True, True]
    assert kept[0, 14, 2:4].all()


@pytest.mark.parametrize("per_slice", [True, False])
def test_fill_holes_fills_holes_of_exactly_min_and_max_size(per_slice: bool) -> None:
    mask = holes()
    assert filled(morph.fill_holes(mask, N, 100, per_slice)) == [False, True, True]
    assert filled(morph.fill_holes(mask, 0, N, per_slice)) == [True, True, False]
    assert filled(morph.fill_holes(mask, N, N, per_slice)) == [False, True, False]


def test_fill_holes_of_a_yx_mask_uses_the_same_bounds() -> None:
    assert filled(morph.fill_holes(holes()[0], N, N)[None]) == [False, True, False]


def test_seeds_skip_objects_of_exactly_min_size() -> None:
    objects = lines()[0]
    seeds = morph.seeds_from_middle_slice(objects, (3, *objects.shape), 1, N)
    # Only the (N + 1)-pixel line gets a seed (label 2), at its centroid on slice 1.
    assert survivors(seeds[1][None] > 0) == [False, False, True]
    assert np.count_nonzero(seeds[1:]) == 1 and seeds[1, 8, 5] == 2


def test_pxn_pruning_stops_at_slices_of_fewer_than_min_slice_voxels() -> None:
    def kept_slices(count: int) -> list[int]:
        mask = np.zeros((6, 20, 20), bool)
        for z, n in enumerate([0, 200, count, 400, count, 200]):
            mask[z].flat[:n] = True
        return np.flatnonzero(prune_z(mask, min_slice_voxels=100).any(axis=(1, 2))).tolist()

    assert kept_slices(99) == [2, 3, 4]  # sparse: the walk stops on it, both ways
    assert kept_slices(100) == [1, 2, 3, 4]  # not sparse (the last slice always goes)
    assert kept_slices(101) == [1, 2, 3, 4]
