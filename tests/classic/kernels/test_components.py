"""The run-based connected components of :mod:`seglight.classic.kernels.components` against
``scipy.ndimage.label`` on random masks: the same labels, numbered the same way."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage as ndi

from seglight.classic import morphology as morph


def _random_masks():
    rng = np.random.default_rng(0)
    for trial in range(24):
        shape = tuple(int(n) for n in rng.integers(1, 20, 3))
        if trial % 3 == 0:
            yield rng.random(shape) < rng.uniform(0, 1)
        elif trial % 3 == 1:  # blobs with long runs
            yield ndi.gaussian_filter(rng.random(shape), 1.5) > rng.uniform(0.45, 0.55)
        else:  # sparse speckle: diagonal contacts everywhere
            yield rng.random(shape) < 0.1


@pytest.mark.parametrize("mask", list(_random_masks()))
@pytest.mark.parametrize("full", [False, True])
def test_label_components_equals_scipy(mask, full) -> None:
    expected, n = ndi.label(mask, structure=np.ones((3, 3, 3)) if full else None)
    labels, count = morph.label_components(mask, full)
    assert labels.dtype == np.int32 and count == n
    assert np.array_equal(labels, expected)


def test_label_components_of_a_2d_mask_and_an_empty_one() -> None:
    mask = np.random.default_rng(1).random((17, 23)) < 0.4
    assert np.array_equal(morph.label_components(mask)[0], ndi.label(mask)[0])
    labels, count = morph.label_components(np.zeros((3, 4, 5), bool))
    assert count == 0 and not labels.any()
