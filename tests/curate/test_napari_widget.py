"""The napari dock widgets, driven offscreen with pytest-qt.

The viewer is napari's ``ViewerModel`` (the layer model of a napari window, without its
OpenGL canvas, which the offscreen Qt platform cannot create); the widget only talks to
the layers, so it is driven exactly as in a napari window.
"""

import os
import shutil

import numpy as np
import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
pytest.importorskip("napari")
pytest.importorskip("pytestqt")

from napari.components import ViewerModel  # noqa: E402
from qtpy.QtCore import Qt  # noqa: E402

from seglight.curate.decision_log import DecisionLog  # noqa: E402
from seglight.curate.napari_widget import (  # noqa: E402
    DIFFERENCE,
    EXCLUDING,
    MERGING,
    MergingWidget,
    SortingWidget,
    TakeAllWidget,
    ellipse_outline,
)
from seglight.io import find_triplets, load_triplet, write_ome_tiff  # noqa: E402
from tests.curate.conftest import SPACING  # noqa: E402


def open_widget(qtbot, cls, folders, **fields):
    viewer = ViewerModel()
    widget = cls(viewer)
    qtbot.addWidget(widget)
    values = {"raw": folders["raw"], "seg": folders["seg"], "out": folders["out"], **fields}
    for key, value in values.items():
        if key in widget.fields:
            widget.fields[key].edit.setText(str(value))
    qtbot.mouseClick(widget.start_button, Qt.LeftButton)
    return viewer, widget


def test_sorting_widget_good_bad_skip_writes_and_logs(qtbot, folders):
    viewer, widget = open_widget(qtbot, SortingWidget, folders)
    assert widget.progress.text().startswith("1 of 3: c0.tif")
    assert [layer.name for layer in viewer.layers] == ["raw", "segmentation", EXCLUDING]
    np.testing.assert_array_equal(viewer.layers["raw"].data, folders["data"]["c0"][0])
    assert viewer.dims.current_step[0] == 4  # the middle slice

    # Exclude a square drawn on slice 4; with "every z" ticked it applies through z.
    viewer.layers[EXCLUDING].add_polygons([np.array([[4, 0, 0], [4, 0, 9], [4, 9, 9], [4, 9, 0]])])
    qtbot.mouseClick(widget.good_button, Qt.LeftButton)
    assert widget.progress.text().startswith("2 of 3: c1.tif")
    assert len(viewer.layers[EXCLUDING].data) == 0  # fresh regions for the next image
    qtbot.mouseClick(widget.bad_button, Qt.LeftButton)
    qtbot.mouseClick(widget.skip_button, Qt.LeftButton)
    assert widget.progress.text().startswith("All done (3 images)")
    assert "1 written, 1 bad, 1 skipped, 0 failed" in widget.progress.text()
    assert not widget.good_button.isEnabled()

    (triplet,) = find_triplets(folders["out"])
    sample = load_triplet(triplet)
    np.testing.assert_array_equal(sample.gt, folders["data"]["c0"][1] > 0)
    assert (sample.costmap[:, 5, 5] == 0).all() and (sample.costmap[:, 20, 20] == 1).all()

    log = DecisionLog(folders["out"] / "curation_log.csv")
    status = {e.image: e.status for e in log.entries()}
    assert status == {"c0.tif": "written", "c1.tif": "rejected", "c2.tif": "deferred"}
    assert log.last(folders["raw"] / "c0.tif").exclude.startswith("all: 0,0 0,9")


def test_sorting_resumes_with_the_skipped_image(qtbot, folders):
    _, first = open_widget(qtbot, SortingWidget, folders)
    qtbot.mouseClick(first.good_button, Qt.LeftButton)
    qtbot.mouseClick(first.skip_button, Qt.LeftButton)
    # The session is closed here; a new one shows only what is not done.
    viewer, second = open_widget(qtbot, SortingWidget, folders)
    assert second.progress.text().startswith("2 of 3: c1.tif")
    qtbot.mouseClick(second.good_button, Qt.LeftButton)
    assert second.progress.text().startswith("3 of 3: c2.tif")
    assert [t.name for t in find_triplets(folders["out"])] == ["img_0", "img_1"]


def test_regions_on_one_slice_when_every_z_is_unticked(qtbot, folders):
    viewer, widget = open_widget(qtbot, SortingWidget, folders)
    widget.every_z.setChecked(False)
    viewer.layers[EXCLUDING].add_polygons([np.array([[2, 0, 0], [2, 0, 9], [2, 9, 9], [2, 9, 0]])])
    qtbot.mouseClick(widget.good_button, Qt.LeftButton)
    costmap = load_triplet(find_triplets(folders["out"])[0]).costmap
    assert costmap[2, 5, 5] == 0 and costmap[3, 5, 5] == 1


def test_merging_widget_takes_second_segmentation_inside_drawn_region(qtbot, folders):
    viewer, widget = open_widget(qtbot, MergingWidget, folders, seg1=folders["seg"],
                                 seg2=folders["seg2"])
    assert [layer.name for layer in viewer.layers] == [
        "raw", "segmentation", "segmentation 2", DIFFERENCE, MERGING, EXCLUDING]
    _, seg1, seg2 = folders["data"]["c0"]
    difference = viewer.layers[DIFFERENCE].data  # 1: only in the first, 2: only the second
    np.testing.assert_array_equal(difference == 1, (seg1 > 0) & ~(seg2 > 0))
    np.testing.assert_array_equal(difference == 2, (seg2 > 0) & ~(seg1 > 0))
    viewer.layers[MERGING].add_rectangles([np.array([[4, 0, 0], [4, 0, 31], [4, 63, 31],
                                                     [4, 63, 0]])])
    qtbot.mouseClick(widget.good_button, Qt.LeftButton)
    gt = load_triplet(find_triplets(folders["out"])[0]).gt
    np.testing.assert_array_equal(gt[:, :, :32], seg2[:, :, :32] > 0)
    np.testing.assert_array_equal(gt[:, :, 32:], seg1[:, :, 32:] > 0)


def test_bad_input_is_reported_and_the_widget_moves_on(qtbot, folders):
    (folders["seg"] / "c0_struct_segmentation.tiff").unlink()
    viewer, widget = open_widget(qtbot, SortingWidget, folders)
    assert "c0.tif: no segmentation" in widget.message.text()
    assert widget.progress.text().startswith("2 of 3: c1.tif")
    viewer.layers[EXCLUDING].add_polygons([np.array([[4, 90, 90], [4, 90, 99], [4, 99, 99]])])
    qtbot.mouseClick(widget.good_button, Qt.LeftButton)
    assert "lies outside the image" in widget.message.text()
    assert widget.progress.text().startswith("3 of 3: c2.tif")
    assert find_triplets(folders["out"]) == []


def test_missing_folder_is_a_message_not_a_crash(qtbot, folders):
    viewer, widget = open_widget(qtbot, SortingWidget, folders, raw=folders["tmp"] / "nope")
    assert "raw=" in widget.message.text() and "no such folder" in widget.message.text()
    assert len(viewer.layers) == 0


def test_takeall_widget_writes_everything(qtbot, folders):
    _, widget = open_widget(qtbot, TakeAllWidget, folders)
    assert len(find_triplets(folders["out"])) == 3
    assert "3 written" in widget.progress.text()


def test_ellipse_outline_stays_inside_its_box():
    box = np.array([[0, 0], [0, 10], [20, 10], [20, 0]], float)
    outline = ellipse_outline(box)
    assert outline[:, 0].min() == pytest.approx(0) and outline[:, 0].max() == pytest.approx(20)
    assert outline[:, 1].min() == pytest.approx(0) and outline[:, 1].max() == pytest.approx(10)


def test_npe2_manifest_lists_the_three_widgets():
    npe2 = pytest.importorskip("npe2")
    from importlib.resources import files

    manifest = npe2.PluginManifest.from_file(files("seglight") / "napari.yaml")
    manifest.validate_imports()
    assert [w.display_name for w in manifest.contributions.widgets] == [
        "Curator (sorting)", "Curator (merging)", "Curator (take all)",
        "Workflow editor", "Train", "Apply"]


def test_sorting_widget_resumes_after_the_folders_were_moved(qtbot, folders):
    _, first = open_widget(qtbot, SortingWidget, folders)
    qtbot.mouseClick(first.good_button, Qt.LeftButton)
    qtbot.mouseClick(first.bad_button, Qt.LeftButton)
    qtbot.mouseClick(first.skip_button, Qt.LeftButton)
    moved = dict(folders, raw=folders["raw"].rename(folders["tmp"] / "raw_moved"),
                 seg=folders["seg"].rename(folders["tmp"] / "seg_moved"))
    _, second = open_widget(qtbot, SortingWidget, moved)
    assert second.progress.text().startswith("3 of 3: c2.tif")  # only the skipped one
    qtbot.mouseClick(second.good_button, Qt.LeftButton)
    assert [t.name for t in find_triplets(folders["out"])] == ["img_0", "img_1"]


def test_sorting_widget_shows_the_most_uncertain_image_first(qtbot, folders):
    # c1's second segmentation is the complement of its first: disagreement 1; the others
    # are copies: 0.
    unc = folders["tmp"] / "unc"
    shutil.copytree(folders["seg"], unc)
    write_ome_tiff(unc / "c1_struct_segmentation.tiff", 255 - folders["data"]["c1"][1], SPACING)
    viewer = ViewerModel()
    widget = SortingWidget(viewer)
    qtbot.addWidget(widget)
    for key in ("raw", "seg", "out"):
        widget.fields[key].edit.setText(str(folders[key]))
    widget.order.setCurrentIndex(widget.order.findData("uncertainty"))
    widget.order_fields["uncertainty_seg"].edit.setText(str(unc))
    qtbot.mouseClick(widget.start_button, Qt.LeftButton)
    assert widget.progress.text().startswith("1 of 3: c1.tif (uncertainty 1.000)")
    np.testing.assert_array_equal(viewer.layers["raw"].data, folders["data"]["c1"][0])
    qtbot.mouseClick(widget.good_button, Qt.LeftButton)
    assert widget.progress.text().startswith("2 of 3: c0.tif (uncertainty 0.000)")
    log = DecisionLog(folders["out"] / "curation_log.csv")
    assert log.last(folders["raw"] / "c1.tif").uncertainty == "1.0000"
