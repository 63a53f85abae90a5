"""Kernels of :mod:`seglight.classic.kernels.morphology` against scipy and scikit-image on
random inputs."""

from __future__ import annotations

import numpy as np
from scipy import ndimage as ndi
from skimage.segmentation import watershed

from seglight.classic import morphology as morph
from seglight.classic.kernels.morphology import label_voxels


def test_label_voxels_numbers_components_as_scipy() -> None:
    rng = np.random.default_rng(0)
    for _ in range(30):
        shape = tuple(int(n) for n in rng.integers(1, 16, 3))
        mask = rng.random(shape) < rng.uniform(0, 0.5)
        expected, _ = ndi.label(mask, structure=np.ones((3, 3, 3)))
        voxels = np.flatnonzero(mask)
        index = np.full(shape, -1, np.int32)
        assert np.array_equal(label_voxels(voxels, index), expected.reshape(-1)[voxels])
        assert (index == -1).all()  # the scratch is left as it was


def test_seeded_watershed_of_distance_ties_equals_scikit_image() -> None:
    """The watershed cut's case: -EDT has a handful of values, so seeds of many labels
    tie at every rank and the heap is replayed without a trial flood."""
    rng = np.random.default_rng(4)
    for _ in range(40):
        shape = tuple(int(n) for n in rng.integers(4, 14, 3))
        img = ndi.gaussian_filter(rng.random(shape), rng.uniform(0.7, 1.5))
        mask = img > np.percentile(img, rng.uniform(40, 80))
        distance = ndi.distance_transform_edt(mask)
        points = np.argwhere(mask)
        points = points[rng.choice(len(points), min(len(points), 10), replace=False)]
        seeds = np.zeros(shape, bool)
        seeds[tuple(points.T)] = True
        seeds = ndi.binary_dilation(seeds, ndi.generate_binary_structure(3, 1))
        markers, _ = ndi.label(seeds, structure=np.ones((3, 3, 3)))
        markers[~mask] = 0
        expected = watershed(-distance, markers, mask=mask, watershed_line=True)
        got = morph.seeded_watershed(-(distance**2).astype(np.float32), markers, mask)
        assert np.array_equal(got, expected)
