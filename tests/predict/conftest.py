"""Fixtures for predict tests: a tiny trained checkpoint, small images on disk, a toy binarizer."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from seglight.io import write_ome_tiff

SPACING = (0.29, 0.108, 0.108)


class MeanBinarizer:
    """Foreground = brighter than the image mean; counts its calls (a stand-in binarizer)."""

    threshold = 0.5

    def __init__(self):
        self.calls = 0

    def predict_proba(self, image_zyx, record=lambda name, array: None):
        self.calls += 1
        image = np.asarray(image_zyx, np.float32)
        record("mean_removed", image - image.mean())
        return (image > image.mean()).astype(np.float32)


@pytest.fixture
def raw_folder(tmp_path) -> Path:
    """Two good 3D images (with voxel size), a corrupt TIFF and a 2D image."""
    rng = np.random.default_rng(0)
    folder = tmp_path / "raw"
    for i in range(2):
        image = rng.integers(0, 1000, (6, 24, 28)).astype(np.uint16)
        image[2:4, 8:16, 8:16] += 3000
        write_ome_tiff(folder / f"cell_{i}.ome.tif", image, SPACING)
    (folder / "broken.tif").write_bytes(b"II*\x00not really a tiff")
    write_ome_tiff(folder / "flat.ome.tif", np.zeros((1, 24, 28), np.uint16), SPACING)
    return folder
