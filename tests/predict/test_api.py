"""seglight.binarize and seglight.predict_files."""

from __future__ import annotations

import numpy as np
import pytest

import seglight
from seglight.errors import ConfigError
from seglight.io import read_image
from seglight.predict.network import NetworkBinarizer


@pytest.fixture
def image():
    rng = np.random.default_rng(0)
    img = rng.integers(0, 500, (6, 24, 28)).astype(np.uint16)
    img[2:4, 8:16, 8:16] += 3000
    return img


@pytest.mark.slow
def test_binarize_with_checkpoint_matches_the_binarizer(tiny_ckpt, image):
    mask = seglight.binarize(image, ckpt_path=tiny_ckpt, precision="32")
    proba = NetworkBinarizer.from_checkpoint(tiny_ckpt, precision="32").predict_proba(image)
    assert mask.dtype == np.uint8 and mask.shape == image.shape
    np.testing.assert_array_equal(mask > 0, proba > 0.5)
    assert set(np.unique(mask)) <= {0, 255}


def test_binarize_with_classic_workflow_takes_parameter_overrides(image):
    from seglight.classic import run_workflow

    mask = seglight.binarize(image, "classic/lmnb1_interphase", intensity_norm=[0], hole_min=4)
    expected = run_workflow("lmnb1_interphase", image, intensity_norm=[0], hole_min=4)
    np.testing.assert_array_equal(mask, expected)
    with pytest.raises(ConfigError, match="classic"):
        seglight.binarize(image, "nonsense")
    with pytest.raises(ConfigError, match="not both"):
        seglight.binarize(image, "classic/dsp", ckpt_path="x.ckpt")


@pytest.mark.slow
def test_resize_is_undone(tiny_ckpt, image):
    proba = NetworkBinarizer.from_checkpoint(tiny_ckpt, resize_zyx=[1, 0.5, 0.5],
                                             precision="32").predict_proba(image)
    assert proba.shape == image.shape and proba.dtype == np.float32


@pytest.mark.slow
def test_predict_files_returns_the_summary(tiny_ckpt, raw_folder, tmp_path):
    summary = seglight.predict_files(raw_folder, tmp_path / "seg", ckpt_path=tiny_ckpt,
                                     progress=False, min_size=2, inference={"precision": "32"})
    assert summary.line() == "2 written, 0 skipped, 2 failed"
    assert read_image(tmp_path / "seg" / "cell_0_struct_segmentation.tiff").shape == (6, 24, 28)


@pytest.mark.slow
def test_image_larger_than_memory_limit_is_processed_window_by_window(tiny_ckpt, raw_folder,
                                                                      tmp_path):
    source = raw_folder / "cell_0.ome.tif"
    results, masks = {}, {}
    for name, limit in (("memory", 10**9), ("lazy", 100)):
        summary = seglight.predict_files(
            source, tmp_path / name, ckpt_path=tiny_ckpt, progress=False, write_proba=True,
            qc=True, max_in_memory_voxels=limit, threshold=0.45, min_size=3,
            inference={"precision": "32", "window_zyx": [8, 16, 32]},
        )
        assert summary.written == 1
        results[name] = read_image(tmp_path / name / "cell_0_struct_probability.tiff")
        masks[name] = read_image(tmp_path / name / "cell_0_struct_segmentation.tiff").data
        assert (tmp_path / name / "cell_0_qc.png").exists()
    np.testing.assert_allclose(results["lazy"].data, results["memory"].data, atol=1e-4)
    assert results["lazy"].spacing_um == results["memory"].spacing_um
    np.testing.assert_array_equal(masks["lazy"], masks["memory"])
    assert not list((tmp_path / "lazy").glob(".*"))  # scratch memory maps are gone


@pytest.mark.slow
def test_ome_zarr_input_in_memory_and_window_by_window(tiny_ckpt, tmp_path):
    """An OME-Zarr image is a folder: found in an input folder, read with its voxel size,
    and predicted in memory or lazily with the same result."""
    writers = pytest.importorskip("bioio_ome_zarr.writers")
    rng = np.random.default_rng(0)
    image = rng.integers(0, 1000, (1, 1, 6, 24, 28)).astype(np.uint16)
    image[..., 2:4, 8:16, 8:16] += 3000
    raw = tmp_path / "raw"
    writers.OMEZarrWriter(raw / "cell.ome.zarr", level_shapes=[image.shape], dtype=image.dtype,
                          physical_pixel_size=[1, 1, 0.29, 0.108, 0.108]).write_full_volume(image)
    results = {}
    for name, limit in (("memory", 10**9), ("lazy", 100)):
        summary = seglight.predict_files(raw, tmp_path / name, ckpt_path=tiny_ckpt,
                                         progress=False, write_proba=True,
                                         max_in_memory_voxels=limit,
                                         inference={"precision": "32"})
        assert summary.line() == "1 written, 0 skipped, 0 failed"
        results[name] = read_image(tmp_path / name / "cell_struct_probability.tiff")
        assert results[name].spacing_um == pytest.approx((0.29, 0.108, 0.108))
    np.testing.assert_allclose(results["lazy"].data, results["memory"].data, atol=1e-4)
