"""The object, dot and shell workflows (seglight.classic.workflows.objects)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage as ndi

from seglight.classic import load_params, run_workflow
from seglight.classic.filters import filament_2d_slice, spot_response_2d
from seglight.data.structures import two_touching_dots


@pytest.mark.parametrize("name", ["dsp", "slc25a17"])
def test_dot_workflows_record_their_steps_and_keep_the_cut_inside_the_mask(name):
    img = two_touching_dots()
    steps = {}
    mask = run_workflow(name, img, record=steps.__setitem__) > 0
    assert list(steps)[-4:] == ["spot_response", "spots", "pre_cut_mask", "cut_labels"]
    assert mask.any()
    # The cut only removes voxels (watershed lines, unseeded and small pieces).
    assert not np.any(mask & ~steps["pre_cut_mask"])
    assert not np.any((steps["cut_labels"] > 0) & ~steps["pre_cut_mask"])


def test_npm1_dark_holes_equal_spots_of_the_inverted_image():
    """NPM1 finds the dark holes from the bright response (the LoG is linear); that must be
    what the LoG of the inverted image gives."""
    rng = np.random.default_rng(0)
    img = ndi.gaussian_filter(rng.random((8, 48, 48)).astype(np.float32), 2) * 2000 + 300
    steps = {}
    run_workflow("npm1", img, record=steps.__setitem__)
    smooth = steps["smoothed"]
    expected = np.zeros(img.shape, bool)
    for sigma, cutoff in load_params("npm1")["dark_spot_scales"]:
        expected |= spot_response_2d(1 - smooth, sigma) > cutoff
    np.testing.assert_array_equal(steps["dark_holes"], expected)


def test_lmnb1_interphase_outlines_each_nucleus():
    """Two ring-shaped nuclei: the mask is the lamina around each, its inside empty."""
    z, y, x = np.mgrid[:9, :64, :96].astype(np.float32)
    img = np.full(z.shape, 300.0, np.float32)
    centres = ((32, 28), (32, 68))
    for cy, cx in centres:
        r = np.sqrt((y - cy) ** 2 + (x - cx) ** 2 + (2.5 * (z - 4)) ** 2)
        img += 1500 * np.exp(-((r - 12) ** 2) / 4)
    mask = run_workflow("lmnb1_interphase", img, hole_min=50) > 0
    for cy, cx in centres:
        assert not mask[4, cy, cx]  # the inside of the nucleus
        ring = mask[4, cy, cx - 16 : cx + 17]
        assert ring.any()
    assert ndi.label(mask[4], np.ones((3, 3)))[1] >= 2


def test_filament_2d_slice_smooths_at_each_scale():
    """A thin line is found; a scale whose cutoff is out of reach adds nothing."""
    img = np.zeros((32, 32), np.float32)
    img[16, 4:28] = 1.0
    one = filament_2d_slice(img, [[1.0, 0.1]])
    both = filament_2d_slice(img, [[1.0, 0.1], [2.0, 2.0]])
    assert one[16, 8:24].all() and not one[4].any()
    np.testing.assert_array_equal(one, both)
