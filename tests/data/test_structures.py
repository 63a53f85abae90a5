"""The structure-like test images are deterministic, sized as asked, and camera-like."""

from __future__ import annotations

import numpy as np
import pytest

from seglight.data.structures import STRUCTURE_OF, structure_image

GENERATORS = sorted({fn.__name__: name for name, fn in STRUCTURE_OF.items()}.values())


@pytest.mark.parametrize("name", GENERATORS)
def test_structure_image_is_deterministic_and_camera_like(name):
    shape = (12, 64, 96)
    image = structure_image(name, shape)
    assert image.dtype == np.uint16 and image.shape == shape
    np.testing.assert_array_equal(image, structure_image(name, shape))
    assert not np.array_equal(image, structure_image(name, shape, seed=1))
    # Background of a few hundred counts with shot noise, and structures above it.
    background = np.percentile(image, 25)
    assert 380 <= background <= 900
    assert image.max() > background + 150
    assert np.std(image[image < background]) > 5
