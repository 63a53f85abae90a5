"""The runner: inputs, outputs with voxel sizes, broken files, resume, options."""

from __future__ import annotations

import numpy as np
import pytest
import tifffile

from seglight.errors import ConfigError
from seglight.io import read_image, write_ome_tiff
from seglight.predict.runner import (
    OutputOptions,
    PredictRunner,
    drop_objects_below,
    find_inputs,
)
from tests.predict.conftest import SPACING, MeanBinarizer


def _run(folder, out, binarizer=None, **options):
    runner = PredictRunner(binarizer or MeanBinarizer(), OutputOptions(output_dir=out, **options))
    return runner, runner.run(find_inputs(folder), progress=False)


def test_folder_with_broken_files_writes_good_ones_and_names_bad_ones(raw_folder, tmp_path):
    out = tmp_path / "seg"
    _, summary = _run(raw_folder, out, write_proba=True, qc=True)
    assert summary.line() == "2 written, 0 skipped, 2 failed"
    assert len(summary.failures) == 2
    assert any("broken.tif" in e for e in summary.failures)
    assert any("flat.ome.tif" in e and "2D" in e for e in summary.failures)
    assert all("\n" not in e for e in summary.failures)
    for i in range(2):
        mask = read_image(out / f"cell_{i}_struct_segmentation.tiff")
        assert mask.spacing_um == pytest.approx(SPACING)
        assert mask.data.dtype == np.uint8 and set(np.unique(mask.data)) == {0, 255}
        raw = read_image(raw_folder / f"cell_{i}.ome.tif").data
        np.testing.assert_array_equal(mask.data > 0, raw > raw.mean())
        proba = read_image(out / f"cell_{i}_struct_probability.tiff")
        assert proba.data.dtype == np.float32 and proba.spacing_um == pytest.approx(SPACING)
        assert (out / f"cell_{i}_qc.png").stat().st_size > 0
    assert not list(out.glob(".*partial*"))


def test_rerun_skips_done_images_and_overwrite_recomputes(raw_folder, tmp_path):
    out = tmp_path / "seg"
    _run(raw_folder, out)
    (out / "cell_1_struct_segmentation.tiff").unlink()  # as if the run was killed there
    binarizer = MeanBinarizer()
    _, summary = _run(raw_folder, out, binarizer)
    assert (summary.written, summary.skipped, summary.failed) == (1, 1, 2)
    assert binarizer.calls == 1
    _, summary = _run(raw_folder, out, binarizer, overwrite=True)
    assert (summary.written, summary.skipped) == (2, 0)


def test_threshold_minus_one_writes_only_the_probability_map_in_float16(raw_folder, tmp_path):
    out = tmp_path / "seg"
    _run(raw_folder / "cell_0.ome.tif", out, threshold=-1, proba_dtype="float16")
    assert sorted(p.name for p in out.iterdir()) == ["cell_0_struct_probability.tiff"]
    with tifffile.TiffFile(out / "cell_0_struct_probability.tiff") as tif:
        assert tif.series[0].dtype == np.float16 and tif.series[0].shape == (6, 24, 28)
        x_res = tif.pages[0].tags["XResolution"].value
        assert x_res[0] / x_res[1] == pytest.approx(1 / SPACING[2], rel=1e-3)


def test_threshold_and_names_are_configurable(raw_folder, tmp_path):
    out = tmp_path / "seg"
    _run(raw_folder / "cell_0.ome.tif", out, threshold=0.99, mask_name="{stem}_mask.tif")
    assert (out / "cell_0_mask.tif").exists()
    with pytest.raises(ConfigError, match="stem"):
        OutputOptions(output_dir=out, mask_name="mask.tif")
    with pytest.raises(ConfigError, match="threshold"):
        OutputOptions(output_dir=out, threshold=2)


def test_small_objects_are_removed():
    mask = np.zeros((5, 20, 20), bool)
    mask[1:4, 2:6, 2:6] = True  # 48 voxels
    mask[2, 15, 15] = True      # 1 voxel
    kept = drop_objects_below(mask, 10)
    assert kept.sum() == 48 and not kept[2, 15, 15]


def test_min_size_keeps_objects_of_exactly_min_size_and_joins_diagonals():
    mask = np.zeros((3, 20, 20), bool)
    mask[1, 1, 1:5] = True                   # 4 voxels
    mask[1, 10, 1:6] = True                  # 5 voxels
    mask[1, 15, 15] = mask[0, 16, 16] = True  # 2 voxels touching by a corner: one object
    kept = drop_objects_below(mask, 5)
    assert not kept[1, 1].any() and kept[1, 10].sum() == 5
    assert drop_objects_below(mask, 2)[0, 16, 16]


def test_csv_input_lists_files_relative_to_it(raw_folder, tmp_path):
    listing = raw_folder / "list.csv"
    absolute = raw_folder / "cell_0.ome.tif"
    listing.write_text(f"path,condition\ncell_1.ome.tif,a\n{absolute},b\n")
    assert find_inputs(listing) == [raw_folder / "cell_1.ome.tif", raw_folder / "cell_0.ome.tif"]
    with pytest.raises(ConfigError, match="input_glob"):
        find_inputs(raw_folder, "*.czi")
    with pytest.raises(ConfigError, match="no such"):
        find_inputs(tmp_path / "nothing")


def test_each_timepoint_is_written_separately_and_can_be_chosen(tmp_path):
    from bioio_base.types import PhysicalPixelSizes
    from bioio_ome_tiff.writers import OmeTiffWriter

    rng = np.random.default_rng(1)
    movie = rng.integers(0, 100, (2, 2, 5, 16, 16)).astype(np.uint16)  # T C Z Y X
    path = tmp_path / "movie.ome.tiff"
    OmeTiffWriter.save(movie, path, dim_order="TCZYX", channel_names=["dna", "lamin"],
                       physical_pixel_sizes=PhysicalPixelSizes(*SPACING))
    binarizer = MeanBinarizer()
    runner, summary = _run(path, tmp_path / "all", binarizer, channel="lamin")
    assert summary.written == 2
    mask = read_image(tmp_path / "all" / "movie_T1_struct_segmentation.tiff").data
    np.testing.assert_array_equal(mask > 0, movie[1, 1] > movie[1, 1].mean())
    _, summary = _run(path, tmp_path / "one", timepoints=[1])
    assert [p.name for p in (tmp_path / "one").iterdir()] == ["movie_T1_struct_segmentation.tiff"]
    _, summary = _run(path, tmp_path / "bad", timepoints=[5])
    assert summary.failed == 1 and "timepoint [5]" in summary.failures[0]


def test_save_intermediates_writes_recorded_steps(raw_folder, tmp_path):
    out = tmp_path / "seg"
    _run(raw_folder / "cell_0.ome.tif", out, save_intermediates=True)
    folder = out / "cell_0_intermediates"
    assert (folder / "01_mean_removed.ome.tiff").exists() and (folder / "qc.png").exists()


def test_partial_file_from_a_killed_run_is_not_an_output(raw_folder, tmp_path):
    out = tmp_path / "seg"
    out.mkdir()
    (out / ".cell_0_struct_segmentation.tiff.abc.partial.ome.tif").write_bytes(b"half")
    write_ome_tiff(out / "cell_1_struct_segmentation.tiff", np.zeros((6, 24, 28), np.uint8))
    _, summary = _run(raw_folder, out)
    assert (summary.written, summary.skipped) == (1, 1)
