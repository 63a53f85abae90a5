"""Each step of a classic run written to disk, readable, with its voxel size, and a QC strip."""

from __future__ import annotations

import numpy as np
import pytest

from seglight.classic import run_workflow
from seglight.classic.intermediates import QC_NAME, save_intermediates
from seglight.data.structures import structure_image
from seglight.io import read_image


@pytest.fixture(scope="module")
def tomm20_image() -> np.ndarray:
    return structure_image("tomm20", (16, 96, 96))


def test_intermediates_are_written_and_readable(tmp_path, tomm20_image):
    steps: dict[str, np.ndarray] = {}
    mask = run_workflow("tomm20", tomm20_image, record=steps.__setitem__)
    assert len(steps) >= 3
    spacing = (0.29, 0.108, 0.108)
    written = save_intermediates(tmp_path, "cell_01", tomm20_image, steps, mask, spacing)

    folder = tmp_path / "cell_01_intermediates"
    assert [p.parent for p in written] == [folder] * (len(steps) + 1)
    assert written[-1].name == QC_NAME
    for path, (step, array) in zip(written, steps.items(), strict=False):
        assert step.replace(" ", "_") in path.name
        image = read_image(path, require_3d=False)
        assert image.spacing_um == pytest.approx(spacing)
        expected = np.asarray(array)
        expected = expected.astype(np.uint8) if expected.dtype == bool else expected
        np.testing.assert_allclose(image.data, expected.reshape(image.data.shape), rtol=1e-6)

    from PIL import Image

    with Image.open(written[-1]) as png:
        # input, each step and the mask side by side, 4 px apart.
        columns = len(steps) + 2
        assert png.size[0] == columns * tomm20_image.shape[2] + (columns - 1) * 4
