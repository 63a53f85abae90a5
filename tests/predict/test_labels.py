"""labels=true: numbered objects and their table per image, the binarizer's own labels,
resume, images processed window by window; and the progress / cancel API a GUI calls."""

from __future__ import annotations

import csv
import logging

import numpy as np
import pytest

from seglight.binarizer import LabelingBinarizer, LargeImageBinarizer
from seglight.errors import ConfigError
from seglight.io import read_image, write_ome_tiff
from seglight.predict.runner import OutputOptions, PredictRunner, find_inputs
from tests.predict.conftest import MeanBinarizer

#: Anisotropic voxels (z, y, x) in µm: one voxel is 0.5 * 0.2 * 0.1 = 0.01 µm³.
SPACING = (0.5, 0.2, 0.1)
VOXEL_UM3 = 0.01

COLUMNS = ["label", "volume_um3", "surface_um2", "centroid_z_um", "centroid_y_um",
           "centroid_x_um", "bbox_z0", "bbox_y0", "bbox_x0", "bbox_z1", "bbox_y1", "bbox_x1",
           "mean_intensity", "max_intensity"]


class PositiveBinarizer:
    """Foreground = nonzero voxels: the test image is its own mask."""

    threshold = 0.5

    def __init__(self):
        self.calls = 0

    def predict_proba(self, image_zyx, record=lambda name, array: None):
        self.calls += 1
        return (np.asarray(image_zyx) > 0).astype(np.float32)


class WatershedBinarizer(PositiveBinarizer):
    """A binarizer with its own label image (as a workflow's watershed gives)."""

    def __init__(self, labels):
        super().__init__()
        self.labels = labels

    def predict_proba_and_labels(self, image_zyx, record=lambda name, array: None):
        return self.predict_proba(image_zyx, record), self.labels

    def predict_labels(self, image_zyx):
        return self.predict_proba_and_labels(image_zyx)[1]


def _objects_image() -> np.ndarray:
    """A 2x3x4 box (24 voxels), an L of two diagonal voxels (one 26-connected object),
    and a lone voxel; intensities chosen per object."""
    image = np.zeros((6, 10, 12), np.uint16)
    image[1:3, 2:5, 3:7] = 10
    image[1, 3, 4] = 40  # the box's maximum
    image[4, 7, 9] = image[5, 8, 10] = 7  # touching by a corner only
    image[5, 0, 0] = 3
    return image


def _read_table(path) -> tuple[list[str], list[dict[str, str]]]:
    with open(path, newline="") as f:
        reader = csv.DictReader(f)
        return list(reader.fieldnames or []), list(reader)


def _run(paths, out, binarizer, **options):
    runner = PredictRunner(binarizer, OutputOptions(output_dir=out, **options))
    return runner.run(paths, progress=False)


def test_connected_components_and_their_table_in_micrometres(tmp_path):
    image = _objects_image()
    write_ome_tiff(tmp_path / "cell.ome.tif", image, SPACING)
    out = tmp_path / "seg"
    summary = _run([tmp_path / "cell.ome.tif"], out, PositiveBinarizer(), labels=True,
                   min_size=2)
    assert summary.line() == "1 written, 0 skipped, 0 failed"
    labels = read_image(out / "cell_struct_labels.tiff")
    assert labels.data.dtype == np.uint16 and labels.spacing_um == pytest.approx(SPACING)
    # min_size=2 drops the lone voxel; the diagonal pair is one object (26-connected)
    mask = read_image(out / "cell_struct_segmentation.tiff").data
    np.testing.assert_array_equal(labels.data > 0, mask > 0)
    assert labels.data[5, 0, 0] == 0 and labels.data[4, 7, 9] == labels.data[5, 8, 10] == 2
    assert (labels.data == 1).sum() == 24
    columns, rows = _read_table(out / "cell_objects.csv")
    assert columns == COLUMNS and [r["label"] for r in rows] == ["1", "2"]
    box, pair = rows
    assert float(box["volume_um3"]) == pytest.approx(24 * VOXEL_UM3)
    assert float(pair["volume_um3"]) == pytest.approx(2 * VOXEL_UM3)
    # box voxel centres: z 1..2, y 2..4, x 3..6
    assert [float(box[f"centroid_{a}_um"]) for a in "zyx"] == pytest.approx(
        [1.5 * 0.5, 3.0 * 0.2, 4.5 * 0.1])
    assert [int(box[f"bbox_{k}"]) for k in ("z0", "y0", "x0", "z1", "y1", "x1")] == [
        1, 2, 3, 3, 5, 7]
    assert float(box["mean_intensity"]) == pytest.approx((23 * 10 + 40) / 24)
    assert float(box["max_intensity"]) == 40
    assert float(pair["mean_intensity"]) == 7
    assert [float(pair[f"centroid_{a}_um"]) for a in "zyx"] == pytest.approx(
        [4.5 * 0.5, 7.5 * 0.2, 9.5 * 0.1])
    assert float(box["surface_um2"]) > 0
    assert not list(out.glob(".*partial*"))


def test_the_binarizers_own_labels_are_kept_inside_the_final_mask_and_renumbered(tmp_path):
    image = _objects_image()
    own = np.zeros(image.shape, np.int32)
    own[1:3, 2:5, 3:5] = 70  # the box, cut in two by the workflow's watershed
    own[1:3, 2:5, 5:7] = 30
    own[2, 4, 6] = 0  # a watershed line voxel inside the mask
    own[4, 7, 9] = own[5, 8, 10] = 500
    own[5, 0, 0] = 9  # the lone voxel, which min_size removes from the mask
    own[0, 9, 11] = 12  # outside the mask
    binarizer = WatershedBinarizer(own)
    assert isinstance(binarizer, LabelingBinarizer)
    write_ome_tiff(tmp_path / "cell.ome.tif", image, SPACING)
    out = tmp_path / "seg"
    _run([tmp_path / "cell.ome.tif"], out, binarizer, labels=True, min_size=2)
    assert binarizer.calls == 1  # the mask and the labels came from one run
    labels = read_image(out / "cell_struct_labels.tiff").data
    # in the order of the old values: 30 -> 1, 70 -> 2, 500 -> 3; 9 and 12 are gone
    expected = np.zeros(image.shape, np.uint16)
    expected[1:3, 2:5, 5:7] = 1
    expected[2, 4, 6] = 0
    expected[1:3, 2:5, 3:5] = 2
    expected[4, 7, 9] = expected[5, 8, 10] = 3
    np.testing.assert_array_equal(labels, expected)
    _, rows = _read_table(out / "cell_objects.csv")
    assert [float(r["volume_um3"]) for r in rows] == pytest.approx(
        [11 * VOXEL_UM3, 12 * VOXEL_UM3, 2 * VOXEL_UM3])


@pytest.mark.slow
def test_a_classic_workflows_watershed_numbers_touching_dots_apart(tmp_path):
    from scipy import ndimage as ndi

    from seglight.classic import ClassicBinarizer
    from seglight.measure import relabel_consecutive

    rng = np.random.default_rng(0)
    z, y, x = np.mgrid[:12, :40, :40]
    image = rng.normal(400, 20, z.shape)
    for cz, cy, cx in [(6, 20, 15), (6, 20, 20), (6, 8, 30)]:  # two dots touch, one apart
        image += 4000 * np.exp(-((z - cz) ** 2 + (y - cy) ** 2 + (x - cx) ** 2) / 4)
    image = image.clip(0).astype(np.uint16)
    write_ome_tiff(tmp_path / "dots.ome.tif", image, SPACING)
    binarizer = ClassicBinarizer("cetn2", {"intensity_norm_peak": [2000]})
    assert isinstance(binarizer, LabelingBinarizer)
    _run([tmp_path / "dots.ome.tif"], tmp_path / "seg", binarizer, labels=True)
    labels = read_image(tmp_path / "seg" / "dots_struct_labels.tiff").data
    mask = read_image(tmp_path / "seg" / "dots_struct_segmentation.tiff").data
    assert ndi.label(mask, np.ones((3, 3, 3)))[1] == 2 and labels.max() == 3
    _, own = binarizer.predict_proba_and_labels(image)
    np.testing.assert_array_equal(labels, relabel_consecutive(own, mask))
    _, rows = _read_table(tmp_path / "seg" / "dots_objects.csv")
    assert len(rows) == 3


def test_a_binarizer_without_labels_for_this_config_gets_connected_components(tmp_path):
    image = _objects_image()
    write_ome_tiff(tmp_path / "cell.ome.tif", image, SPACING)
    _run([tmp_path / "cell.ome.tif"], tmp_path / "seg", WatershedBinarizer(None), labels=True)
    labels = read_image(tmp_path / "seg" / "cell_struct_labels.tiff").data
    assert labels.max() == 3 and (labels == 1).sum() == 24


def test_a_bad_label_image_from_the_binarizer_fails_that_file_in_one_line(tmp_path):
    write_ome_tiff(tmp_path / "cell.ome.tif", _objects_image(), SPACING)
    summary = _run([tmp_path / "cell.ome.tif"], tmp_path / "seg",
                   WatershedBinarizer(np.zeros((2, 2, 2), np.int32)), labels=True)
    assert summary.failed == 1 and "label image" in summary.failures[0]
    assert "\n" not in summary.failures[0]


def test_an_empty_mask_gives_empty_labels_and_a_header_only_table(tmp_path):
    write_ome_tiff(tmp_path / "dark.ome.tif", np.zeros((3, 8, 8), np.uint16), SPACING)
    _run([tmp_path / "dark.ome.tif"], tmp_path / "seg", PositiveBinarizer(), labels=True)
    assert not read_image(tmp_path / "seg" / "dark_struct_labels.tiff").data.any()
    columns, rows = _read_table(tmp_path / "seg" / "dark_objects.csv")
    assert columns == COLUMNS and rows == []


def test_an_image_counts_as_done_only_when_all_its_outputs_exist(raw_folder, tmp_path):
    out = tmp_path / "seg"
    files = find_inputs(raw_folder, "cell_*")
    _run(files, out, MeanBinarizer())  # masks only
    binarizer = MeanBinarizer()
    summary = _run(files, out, binarizer, labels=True)  # the labels are missing: redo both
    assert (summary.written, summary.skipped, binarizer.calls) == (2, 0, 2)
    (out / "cell_1_objects.csv").unlink()  # as if killed before the table was renamed
    binarizer = MeanBinarizer()
    summary = _run(files, out, binarizer, labels=True)
    assert (summary.written, summary.skipped, binarizer.calls) == (1, 1, 1)
    assert (out / "cell_1_objects.csv").exists()


def test_labels_options_are_checked_before_any_work(tmp_path):
    with pytest.raises(ConfigError, match="threshold=-1"):
        OutputOptions(output_dir=tmp_path, labels=True, threshold=-1)
    with pytest.raises(ConfigError, match="stem"):
        OutputOptions(output_dir=tmp_path, labels=True, objects_name="objects.csv")
    with pytest.raises(ConfigError, match="labels_name"):
        OutputOptions(output_dir=tmp_path, labels=True,
                      labels_name="{stem}_struct_segmentation.tiff")
    opts = OutputOptions(output_dir=tmp_path, labels=True, labels_name="{stem}_l.tif",
                         objects_name="{stem}_t.csv")
    assert [p.name for p in opts.outputs("a")] == ["a_struct_segmentation.tiff", "a_l.tif",
                                                   "a_t.csv"]


class LazyMeanBinarizer(MeanBinarizer):
    """A binarizer that can also predict window by window (as a network does)."""

    def predict_proba_lazy(self, image_zyx, out, weights):
        image = np.asarray(image_zyx, np.float32)
        out[:] = image > image.mean()
        return out


def test_an_image_processed_window_by_window_gets_one_warning_and_no_labels(
        raw_folder, tmp_path, caplog):
    binarizer = LazyMeanBinarizer()
    assert isinstance(binarizer, LargeImageBinarizer)
    out = tmp_path / "seg"
    files = [raw_folder / "cell_0.ome.tif"]
    with caplog.at_level(logging.WARNING, logger="seglight.predict"):
        summary = _run(files, out, binarizer, labels=True, max_in_memory_voxels=100)
    assert summary.written == 1
    assert [p.name for p in out.iterdir()] == ["cell_0_struct_segmentation.tiff"]
    warnings = [r.getMessage() for r in caplog.records if "no labels" in r.getMessage()]
    assert len(warnings) == 1 and "max_in_memory_voxels=100" in warnings[0]
    # its mask is all it gets, so it is done: a rerun skips it
    assert _run(files, out, binarizer, labels=True, max_in_memory_voxels=100).skipped == 1


# -- what a GUI calls: progress and cancel ---------------------------------------------------


def _three_files(folder):
    rng = np.random.default_rng(2)
    for i in range(3):
        write_ome_tiff(folder / f"c{i}.ome.tif",
                       rng.integers(0, 100, (3, 8, 8)).astype(np.uint16), SPACING)
    return find_inputs(folder)


def test_progress_is_reported_per_file_and_cancel_stops_after_the_file_in_progress(tmp_path):
    files = _three_files(tmp_path / "raw")
    out = tmp_path / "seg"
    calls, cancel = [], []

    class CancelledDuringTheFirstFile(MeanBinarizer):
        def predict_proba(self, image_zyx, record=lambda name, array: None):
            cancel.append(True)  # the user presses Cancel while this image is computed
            return super().predict_proba(image_zyx, record)

    runner = PredictRunner(CancelledDuringTheFirstFile(),
                           OutputOptions(output_dir=out, labels=True))
    summary = runner.run(files, progress=False, on_progress=lambda *a: calls.append(a),
                         should_stop=lambda: bool(cancel))
    assert summary.line() == "1 written, 0 skipped, 0 failed"
    assert calls == [(1, 3, files[0])]
    assert sorted(p.name for p in out.iterdir()) == [
        "c0_objects.csv", "c0_struct_labels.tiff", "c0_struct_segmentation.tiff"]
    calls.clear()
    cancel.clear()
    summary = runner.run(files, progress=False, on_progress=lambda *a: calls.append(a),
                         should_stop=lambda: False)
    assert summary.line() == "2 written, 1 skipped, 0 failed"  # the rerun resumes
    assert [c[:2] for c in calls] == [(1, 3), (2, 3), (3, 3)]


def test_cancel_is_also_checked_between_the_timepoints_of_a_file(tmp_path):
    from bioio_base.types import PhysicalPixelSizes
    from bioio_ome_tiff.writers import OmeTiffWriter

    movie = np.random.default_rng(3).integers(0, 100, (3, 4, 8, 8)).astype(np.uint16)
    path = tmp_path / "movie.ome.tiff"
    OmeTiffWriter.save(movie, path, dim_order="TZYX",
                       physical_pixel_sizes=PhysicalPixelSizes(*SPACING))
    binarizer = MeanBinarizer()
    runner = PredictRunner(binarizer, OutputOptions(output_dir=tmp_path / "seg"))
    summary = runner.run([path], progress=False, should_stop=lambda: binarizer.calls >= 2)
    assert summary.written == 2 and binarizer.calls == 2
    assert runner.run([path], progress=False).line() == "1 written, 2 skipped, 0 failed"


@pytest.mark.slow
def test_predict_files_passes_labels_progress_and_cancel(raw_folder, tmp_path):
    import seglight

    calls = []
    summary = seglight.predict_files(
        raw_folder, tmp_path / "seg", "classic/lmnb1_interphase", input_glob="cell_*",
        progress=False, labels=True, params={"intensity_norm": [0], "hole_min": 4},
        on_progress=lambda *a: calls.append(a), should_stop=lambda: bool(calls))
    assert summary.written == 1 and len(calls) == 1
    assert (tmp_path / "seg" / "cell_0_objects.csv").exists()


def test_split_touching_splits_a_binarizers_touching_objects_in_the_written_labels(tmp_path):
    """labels=true split_touching=<µm>: two touching balls of any binarizer's mask come out
    as two objects (one without splitting), the runner passing the file's voxel size."""
    from tests.test_measure import _two_touching_balls

    spacing = (0.3, 0.1, 0.1)
    mask, _ = _two_touching_balls(spacing)
    write_ome_tiff(tmp_path / "pair.ome.tif", mask.astype(np.uint16) * 100, spacing)
    counts = {}
    for split in (None, 1.0):
        out = tmp_path / f"seg_{split}"
        _run([tmp_path / "pair.ome.tif"], out, PositiveBinarizer(), labels=True,
             split_touching=split)
        counts[split] = int(read_image(out / "pair_struct_labels.tiff").data.max())
    assert counts == {None: 1, 1.0: 2}
