"""QC pictures: contrast, the two views (also of lazy arrays), outlines, panels and PNGs."""

from __future__ import annotations

import dask.array as da
import numpy as np
from PIL import Image

from seglight.viz import OUTLINE_RGB, outline, panel, save_png, to_uint8, views


def test_to_uint8_stretches_between_percentiles_and_keeps_constant_images_flat():
    img = np.linspace(0, 1000, 100).reshape(10, 10)
    out = to_uint8(img)
    assert out.dtype == np.uint8 and out.min() == 0 and out.max() == 255
    assert (to_uint8(np.zeros((4, 4))) == 0).all() and (to_uint8(np.ones((4, 4))) == 255).all()


def test_views_are_max_projection_and_middle_slice_also_of_lazy_arrays(rng):
    volume = rng.random((5, 8, 9)).astype(np.float32)
    proj, mid = views(volume)
    np.testing.assert_array_equal(proj, volume.max(axis=0))
    np.testing.assert_array_equal(mid, volume[2])
    lazy_proj, lazy_mid = views(da.from_array(volume, chunks=(2, 4, 4)))
    assert isinstance(lazy_proj, np.ndarray)
    np.testing.assert_array_equal(lazy_proj, proj)
    np.testing.assert_array_equal(lazy_mid, mid)


def test_outline_is_the_inner_boundary():
    mask = np.zeros((7, 7), bool)
    mask[1:6, 1:6] = True
    edge = outline(mask)
    assert edge.sum() == 16 and not edge[3, 3]


def test_panel_draws_the_mask_outline_on_the_input_column_only(tmp_path, rng):
    image = rng.random((4, 12, 10)).astype(np.float32)
    mask = np.zeros(image.shape, np.uint8)
    mask[:, 3:9, 3:7] = 1
    rgb = panel([("input", image), ("mask", mask)], outline_mask=mask, outline_on=(0,))
    assert rgb.shape == (14 + 2 * 12 + 4, 2 * 10 + 4, 3)
    coloured = (rgb == OUTLINE_RGB).all(axis=-1)
    assert coloured[:, :10].any() and not coloured[:, 14:].any()
    path = save_png(tmp_path / "qc.png", rgb)
    np.testing.assert_array_equal(np.asarray(Image.open(path)), rgb)
    assert [p.name for p in tmp_path.iterdir()] == ["qc.png"]  # no temp file left
