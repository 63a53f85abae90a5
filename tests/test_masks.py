"""The one size filter of seglight: boundary rule and connectivity are explicit arguments."""

from __future__ import annotations

import numpy as np
import pytest

from seglight.errors import ConfigError
from seglight.masks import connectivity_structure, kept_labels, remove_small_objects


def _objects() -> np.ndarray:
    """A 3-voxel line, and two voxels touching only at a corner (1 voxel each, or one
    object of 2 when corners connect)."""
    mask = np.zeros((3, 8, 8), bool)
    mask[1, 1, 1:4] = True
    mask[0, 5, 5] = mask[1, 6, 6] = True
    return mask


@pytest.mark.parametrize(
    ("keep_equal", "connectivity", "expected_sum"),
    [
        (True, 3, 5),  # line (3 >= 2) and the corner pair (2 >= 2) kept
        (False, 3, 3),  # the pair of exactly 2 dropped, the line kept
        (True, 1, 3),  # face-connected: the pair is two objects of 1, dropped
        (False, 1, 3),
    ],
)
def test_boundary_and_connectivity(keep_equal, connectivity, expected_sum):
    out = remove_small_objects(_objects(), 2, connectivity=connectivity, keep_equal=keep_equal)
    assert out.dtype == bool and out.sum() == expected_sum
    assert out[1, 1, 1:4].all()


def test_min_size_one_keeps_everything_when_equal_is_kept():
    mask = _objects()
    np.testing.assert_array_equal(
        remove_small_objects(mask, 1, connectivity=1, keep_equal=True), mask
    )
    assert not remove_small_objects(mask, 1, connectivity=1, keep_equal=False)[0].any()


def test_kept_labels_never_keeps_background():
    sizes = np.array([100, 2, 3])
    np.testing.assert_array_equal(kept_labels(sizes, 2, keep_equal=True), [False, True, True])
    np.testing.assert_array_equal(kept_labels(sizes, 2, keep_equal=False), [False, False, True])


def test_per_slice_structure_does_not_connect_across_z():
    structure = connectivity_structure(3, 3, per_slice=True)
    assert structure[1].all() and not structure[0].any() and not structure[2].any()


def test_bad_connectivity_is_a_config_error():
    with pytest.raises(ConfigError, match="connectivity=4"):
        remove_small_objects(_objects(), 2, connectivity=4, keep_equal=True)


def test_size_filter_by_runs_equals_scipy_labelling_on_random_masks() -> None:
    """Masks of up to 3 axes with face or full connectivity are filtered from their runs
    (seglight.classic.kernels.components); the objects and sizes are scipy's."""
    from scipy import ndimage as ndi

    rng = np.random.default_rng(0)
    for trial in range(40):
        ndim = 1 + trial % 3
        mask = rng.random(tuple(int(n) for n in rng.integers(1, 16, ndim))) < 0.4
        for connectivity in {1, ndim}:
            structure = ndi.generate_binary_structure(ndim, connectivity)
            labels, _ = ndi.label(mask, structure=structure)
            sizes = np.bincount(labels.ravel())
            for min_size, keep_equal in [(3, False), (3, True), (6, False)]:
                keep = (sizes >= min_size) if keep_equal else (sizes > min_size)
                keep[0] = False
                got = remove_small_objects(
                    mask, min_size, connectivity=connectivity, keep_equal=keep_equal
                )
                assert np.array_equal(got, keep[labels])
