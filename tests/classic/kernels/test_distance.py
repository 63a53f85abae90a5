"""The exact distance transforms of :mod:`seglight.classic.kernels.distance` against scipy's,
bit for bit, on random masks that take both of their methods (small windows, envelopes)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage as ndi

from seglight.classic.kernels import distance


def squared_edt(mask):
    out = np.empty(mask.shape, np.int32)
    distance.squared_edt(mask, out)
    return out


def squared_edt_per_slice(mask):
    out = np.empty(mask.shape, np.int32)
    distance.squared_edt_per_slice(mask, out)
    return out


def _random_masks():
    rng = np.random.default_rng(3)
    yield ndi.binary_dilation(rng.random((9, 31, 40)) > 0.97, iterations=2)
    for trial in range(40):
        shape = tuple(int(n) for n in rng.integers(1, 24, 3))
        kind = trial % 4
        if kind == 0:  # speckle of any density
            yield rng.random(shape) < rng.uniform(0, 1)
        elif kind == 1:  # dots and rims: distances of a few voxels, the window's case
            yield ndi.binary_dilation(rng.random(shape) > 0.95, iterations=int(rng.integers(1, 4)))
        elif kind == 2:  # wide blobs: the envelope's case
            yield ndi.gaussian_filter(rng.random(shape), 3) > 0.5
        else:  # nearly full: whole lines without background
            mask = np.ones(shape, bool)
            mask.flat[rng.integers(0, mask.size, 2)] = False
            yield mask
    # Distances just inside and just beyond the widest window.
    mask = np.ones((3, 4 * distance.MAX_WINDOW, 4 * distance.MAX_WINDOW + 3), bool)
    mask[:, 0, :] = False
    yield mask


@pytest.mark.parametrize("mask", list(_random_masks()))
def test_squared_edt_equals_scipy(mask) -> None:
    mask = np.ascontiguousarray(mask)
    squared = squared_edt(mask)
    assert squared.dtype == np.int32
    assert np.array_equal(np.sqrt(squared), ndi.distance_transform_edt(mask))
    per_slice = squared_edt_per_slice(mask)
    for got, plane in zip(per_slice, mask, strict=True):
        if plane.all():
            assert (got == -1).all()  # no background in the slice
        else:
            assert np.array_equal(np.sqrt(got), ndi.distance_transform_edt(plane))


def test_squared_edt_of_a_mask_without_background_is_minus_one() -> None:
    assert (squared_edt(np.ones((2, 3, 4), bool)) == -1).all()
    assert (squared_edt(np.zeros((2, 3, 4), bool)) == 0).all()
