"""The compiled histograms behind the masked-object threshold against scikit-image and numpy
on random images: histogram, median and per-object Otsu thresholds all equal."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage as ndi
from skimage.exposure import histogram
from skimage.filters import threshold_otsu

from seglight.classic import morphology as morph


def _random_images():
    rng = np.random.default_rng(2)
    for trial in range(30):
        shape = (int(rng.integers(1, 8)), int(rng.integers(2, 30)), int(rng.integers(2, 30)))
        kind = trial % 5
        if kind == 0:
            img = rng.random(shape)
        elif kind == 1:  # smooth, like the workflows' smoothed images
            img = ndi.gaussian_filter(rng.random(shape), 2.0)
        elif kind == 2:  # a few grey levels: values on bin edges, ties at the median
            img = rng.integers(0, 4, shape) * rng.uniform(0.01, 100)
        elif kind == 3:  # wide range
            img = rng.normal(1000, 300, shape) ** 2
        else:  # tiny values
            img = rng.random(shape) * 1e-30
        yield img.astype(np.float64 if trial % 4 == 3 else np.float32)


@pytest.mark.parametrize("img", list(_random_images()))
def test_histogram_and_median_equal_scikit_image_and_numpy(img) -> None:
    counts, centers = morph.image_histogram(img)
    expected_counts, expected_centers = histogram(img.reshape(-1), 256, source_range="image")
    assert np.array_equal(counts, expected_counts)
    assert centers.dtype == expected_centers.dtype
    assert np.array_equal(centers, expected_centers)
    assert morph.median(img) == float(np.percentile(img, 50))


@pytest.mark.parametrize("img", list(_random_images())[:12])
def test_local_thresholds_equal_scikit_image_otsu_per_object(img) -> None:
    labels, n = ndi.label(img > np.percentile(img, 40))
    objects = np.arange(1, n + 1)
    thresholds = morph._local_thresholds(img, labels, objects, None, 0.98)
    for label in objects:
        values = img[labels == label]
        expected = float(threshold_otsu(values)) * 0.98
        # The mask MO keeps, as numpy compares the image with that Python float.
        assert np.array_equal(values > thresholds[label], values > expected)
