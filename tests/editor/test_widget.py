"""The workflow editor dock widget, driven offscreen with pytest-qt.

As for the Curator (tests/curate/test_napari_widget.py), the viewer is napari's
``ViewerModel``: the layer model of a napari window without its OpenGL canvas, which the
offscreen Qt platform cannot create. Runs happen in napari thread workers, as in napari;
each test waits for them with ``qtbot.waitUntil``.
"""

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
pytest.importorskip("napari")
pytest.importorskip("pytestqt")

from napari.components import ViewerModel  # noqa: E402
from qtpy.QtCore import Qt  # noqa: E402

from seglight.classic import describe, list_workflows  # noqa: E402
from seglight.editor.widget import (  # noqa: E402
    SWEEP_MASK,
    SWEEP_VALUES,
    GalleryDialog,
    WorkflowEditor,
)
from seglight.io import read_image, write_ome_tiff  # noqa: E402
from tests.editor.conftest import SPACING  # noqa: E402

WAIT_MS = 120_000


def open_editor(qtbot, image, workflow: str | None = "sec61b",
                scale=SPACING) -> tuple[ViewerModel, WorkflowEditor]:
    viewer = ViewerModel()
    viewer.add_image(image, name="raw", scale=scale)
    editor = WorkflowEditor(viewer)
    qtbot.addWidget(editor)
    if workflow is not None:
        editor.choose_workflow(workflow)
    idle(qtbot, editor)
    return viewer, editor


def idle(qtbot, editor: WorkflowEditor) -> None:
    qtbot.waitUntil(lambda: not editor.busy, timeout=WAIT_MS)


def latencies(editor: WorkflowEditor) -> dict[str, str]:
    return {name: box.latency.text() for name, box in editor.step_boxes.items()}


def test_choose_a_workflow_change_a_value_and_only_downstream_steps_rerun(qtbot, er_image):
    viewer, editor = open_editor(qtbot, er_image)
    assert editor.session.workflow == "sec61b"
    editor.workflow_combo.setCurrentText("tomm20")
    idle(qtbot, editor)
    steps = [info.name for info in describe("tomm20")]
    assert list(editor.step_boxes) == steps
    names = [layer.name for layer in viewer.layers]
    assert names == ["raw"] + [f"step: {s} [tomm20]" for s in steps]
    visible = [layer.name for layer in viewer.layers if layer.visible]
    assert visible == ["raw", f"step: {steps[-1]} [tomm20]"]  # the final mask
    assert editor.recipe.text().startswith("TOMM20")
    assert all(text.endswith(("ms", " s")) for text in latencies(editor).values())

    layer = viewer.layers["step: filament [tomm20]"]
    before = np.array(layer.data)
    assert layer.translate[0] == pytest.approx(editor.result.z0 * SPACING[0])
    editor.step_boxes["filament"].fields["cutoff"].spin.setValue(0.3)  # as a user types it
    idle(qtbot, editor)
    shown = latencies(editor)
    assert [s for s in steps if shown[s] == "cached"] == steps[:steps.index("filament")]
    assert all(shown[s].endswith(("ms", " s")) for s in steps[steps.index("filament"):])
    assert viewer.layers["step: filament [tomm20]"] is layer  # updated in place
    assert layer.data.sum() < before.sum()  # a higher cutoff keeps less
    assert "recomputed" in editor.status.text()
    assert "threshold(0.3" in editor.recipe.text()  # the recipe line follows the change


def test_the_newest_change_wins(qtbot, er_image):
    _, editor = open_editor(qtbot, er_image)
    field = editor.step_boxes["filament"].fields["cutoff"]
    field.spin.setValue(0.3)
    field.spin.setValue(0.05)  # while the first run is in progress: it stops, this one runs
    idle(qtbot, editor)
    assert editor.result.request.params["vesselness_cutoff"] == 0.05
    assert editor.session.params["vesselness_cutoff"] == 0.05


@pytest.mark.slow
def test_saved_config_run_by_the_cli_gives_the_widgets_mask_and_labels(qtbot, er_image,
                                                                      er_folder):
    viewer, editor = open_editor(qtbot, er_image)
    editor.scope.setCurrentIndex(editor.scope.findData("stack"))
    editor.step_boxes["smoothed"].block.setCurrentText("gaussian_3d")  # a custom workflow
    editor.step_boxes["size_filtered_2d"].setChecked(False)
    editor.step_boxes["filament"].fields["cutoff"].spin.setValue(0.12)
    editor.with_labels.setChecked(True)
    idle(qtbot, editor)
    assert editor.result.mask.shape == er_image.shape
    labels_layer = viewer.layers["labels [sec61b]"]
    assert editor.table.rowCount() == labels_layer.data.max() > 0
    assert editor.table.horizontalHeaderItem(1).text() == "volume_um3"

    config = editor.save(er_folder["tmp"] / "tuned.yaml")
    assert f"workflow={config}" in editor.status.text()
    raw = er_folder["tmp"] / "one"
    raw.mkdir()
    write_ome_tiff(raw / "er0.tif", er_image, SPACING)  # the image the widget tuned on
    out = er_folder["tmp"] / "cli"
    result = subprocess.run(
        [sys.executable, "-m", "seglight.predict", f"workflow={config}", f"input={raw}",
         f"output={out}", "labels=true", "progress=false"],
        capture_output=True, text=True, cwd=Path(__file__).resolve().parents[2],
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])},
    )
    assert result.returncode == 0, result.stderr[-2000:]
    mask = read_image(out / "er0_struct_segmentation.tiff").data
    np.testing.assert_array_equal(mask, editor.result.mask)
    labels = read_image(out / "er0_struct_labels.tiff").data
    np.testing.assert_array_equal(labels, labels_layer.data)
    rows = (out / "er0_objects.csv").read_text().splitlines()
    assert len(rows) - 1 == editor.table.rowCount()
    # The table's volumes (µm³, from the layer's scale) are the command line's.
    column = rows[0].split(",").index("volume_um3")
    cli = np.array([float(row.split(",")[column]) for row in rows[1:]])
    np.testing.assert_allclose(table_column(editor, "volume_um3"), cli, rtol=1e-3)


def test_run_on_folder_cancels_and_resumes(qtbot, er_image, er_folder):
    _, editor = open_editor(qtbot, er_image)
    editor.folder_tab.fields["input"].edit.setText(str(er_folder["raw"]))
    editor.folder_tab.fields["output"].edit.setText(str(er_folder["out"]))
    editor.folder_tab.labels.setChecked(True)
    # Cancel as soon as the first file is done, from the worker thread itself, so that the
    # runner sees it before the second file (a click would arrive at some later point).
    stop_after_first = lambda done, total, name: setattr(editor.folder_tab, "stop", True)  # noqa: E731
    editor.relay.progress.connect(stop_after_first, Qt.DirectConnection)
    qtbot.mouseClick(editor.folder_tab.run_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: not editor.folder_tab.busy, timeout=WAIT_MS)
    assert editor.folder_tab.status.text().startswith("1 written, 0 skipped, 0 failed (cancelled")
    assert editor.folder_tab.progress.value() == 1 and editor.folder_tab.progress.maximum() == 3
    assert sorted(p.name for p in er_folder["out"].glob("*_struct_segmentation.tiff")) == [
        "er0_struct_segmentation.tiff"]
    assert (er_folder["out"] / "er0_objects.csv").exists()
    assert (er_folder["out"] / "sec61b_editor.yaml").exists()

    editor.relay.progress.disconnect(stop_after_first)
    (er_folder["raw"] / "er2.tif").write_bytes(b"not a tiff")  # a broken file: one line
    qtbot.mouseClick(editor.folder_tab.run_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: not editor.folder_tab.busy, timeout=WAIT_MS)
    lines = editor.folder_tab.status.text().splitlines()
    assert lines[0] == "1 written, 1 skipped, 1 failed"
    assert len(lines) == 3 and "er2.tif" in lines[1]
    assert lines[2] == "2 result(s) to open: pick one under *results*"
    assert (er_folder["out"] / "er1_struct_labels.tiff").exists()

    # The results open in the viewer: raw image, mask and labels, each with its voxel size.
    tab = editor.folder_tab
    assert [tab.results.itemText(i) for i in range(tab.results.count())] == ["er0", "er1"]
    tab.results.setCurrentText("er1")
    qtbot.mouseClick(tab.open_button, Qt.LeftButton)
    viewer = editor.viewer
    added = {layer.name: layer for layer in viewer.layers if "er1" in layer.name}
    assert sorted(added) == ["er1", "er1_struct_labels", "er1_struct_segmentation"]
    assert type(added["er1_struct_segmentation"]).__name__ == "Labels"
    assert type(added["er1_struct_labels"]).__name__ == "Labels"
    for layer in added.values():
        np.testing.assert_allclose(layer.scale, SPACING, rtol=1e-5)
    np.testing.assert_array_equal(added["er1"].data, er_folder["images"]["er1"])


def test_sweep_shows_a_mosaic_with_the_values(qtbot, er_image):
    viewer, editor = open_editor(qtbot, er_image)
    editor.sweep_tab.keys[0].setCurrentText("vesselness_cutoff")
    editor.sweep_tab.values[0].setText("0.1, 0.2")
    editor.sweep_tab.keys[1].setCurrentText("min_size")
    editor.sweep_tab.values[1].setText("5, 40")
    qtbot.mouseClick(editor.sweep_tab.button, Qt.LeftButton)
    idle(qtbot, editor)
    assert viewer.layers[SWEEP_MASK].data.shape == (2 * 64 + 6, 2 * 64 + 6)
    # In view: the camera looks at the mosaic's middle (it is larger than the stack).
    middle = np.asarray(viewer.layers[SWEEP_MASK].data.shape) * SPACING[1:] / 2
    np.testing.assert_allclose(viewer.camera.center[-2:], middle, rtol=0.05)
    assert not viewer.layers["raw"].visible  # the mosaic alone on screen
    assert list(viewer.layers[SWEEP_VALUES].features["values"]) == ["0.1, 5", "0.1, 40",
                                                                  "0.2, 5", "0.2, 40"]
    assert list(viewer.layers[SWEEP_VALUES].features["caption"]) == [
        "vesselness_cutoff=0.1, min_size=5", "vesselness_cutoff=0.1, min_size=40",
        "vesselness_cutoff=0.2, min_size=5", "vesselness_cutoff=0.2, min_size=40"]
    editor.sweep_tab.values[1].setText("5, forty")
    qtbot.mouseClick(editor.sweep_tab.button, Qt.LeftButton)
    assert editor.status.text().startswith("sweep min_size: 'forty' is not an integer")


def test_a_non_zyx_layer_is_a_message(qtbot):
    viewer = ViewerModel()
    viewer.add_image(np.zeros((32, 32)), name="flat")
    editor = WorkflowEditor(viewer)
    qtbot.addWidget(editor)
    assert "flat: shape (32, 32); choose a single-channel ZYX image layer" in (
        editor.status.text())
    assert editor.session is None


def test_npe2_manifest_lists_the_workflow_editor():
    npe2 = pytest.importorskip("npe2")
    from importlib.resources import files

    manifest = npe2.PluginManifest.from_file(files("seglight") / "napari.yaml")
    manifest.validate_imports()
    assert "Workflow editor" in [w.display_name for w in manifest.contributions.widgets]


def test_a_shared_parameter_and_the_z_slider(qtbot, er_image):
    viewer, editor = open_editor(qtbot, er_image)
    first, again = (editor.step_boxes[s].fields["min_size"]
                    for s in ("size_filtered", "size_filtered_again"))
    first.spin.setValue(25)
    idle(qtbot, editor)
    assert again.spin.value() == 25 and editor.session.params["min_size"] == 25
    z = viewer.dims.current_step[0]
    assert editor.result.z0 == z - 3 and editor.result.mask.shape[0] == 7  # z ± 3
    viewer.dims.set_current_step(0, z + 2)  # inside the range: nothing to run
    assert not editor.busy
    viewer.dims.set_current_step(0, 0)  # beyond it: the range follows (0 ± 3 is 0..6)
    idle(qtbot, editor)
    assert editor.result.z0 == 0 and editor.result.mask.shape[0] == 7
    layer = viewer.layers["step: size_filtered_again [sec61b]"]
    assert layer.translate[0] == 0


def test_the_object_table_selects_labels(qtbot, er_image):
    viewer, editor = open_editor(qtbot, er_image)
    editor.step_boxes["filament"].fields["cutoff"].spin.setValue(0.45)  # several objects
    editor.with_labels.setChecked(True)
    idle(qtbot, editor)
    layer = viewer.layers["labels [sec61b]"]
    assert editor.table.rowCount() == layer.data.max() >= 2
    editor.table.selectRow(1)
    assert layer.selected_label == 2 and layer.show_selected_label


def test_gallery_lists_every_workflow_with_its_thumbnail(qtbot, er_image):
    _, editor = open_editor(qtbot, er_image)
    dialog = GalleryDialog(editor, "sec61b")
    qtbot.addWidget(dialog)
    items = [dialog.list.item(i) for i in range(dialog.list.count())]
    assert [item.text().split("\n")[0] for item in items] == list_workflows()
    assert all(not item.icon().isNull() for item in items)
    assert dialog.chosen() == "sec61b"
    assert "N[2.5,7.5]" in items[list_workflows().index("sec61b")].toolTip()
    dialog.list.setCurrentRow(list_workflows().index("cetn2"))
    editor.choose_workflow(dialog.chosen())
    idle(qtbot, editor)
    assert editor.session.workflow == "cetn2" and editor.workflow_combo.currentText() == "cetn2"


def test_every_workflow_lays_out_its_steps(qtbot, er_image):
    _, editor = open_editor(qtbot, er_image)
    editor.live.setChecked(False)  # lay out only; no runs
    for name in list_workflows():
        editor.choose_workflow(name)
        infos = describe(name)
        assert list(editor.step_boxes) == [info.name for info in infos], name
        for info in infos:
            box = editor.step_boxes[info.name]
            assert box.isCheckable() == info.can_disable
            assert list(box.fields) == [p.name for p in info.params]
    assert not editor.busy


# --- issue 29: units, names, warnings, round trips ---------------------------------------


def test_the_reader_gives_the_voxel_size_and_labels(qtbot, er_image, tmp_path):
    from napari.layers import Image, Labels

    from seglight.napari_reader import get_reader

    write_ome_tiff(tmp_path / "cell.tif", er_image, SPACING)
    mask = (er_image > np.percentile(er_image, 90)).astype(np.uint8) * 255
    write_ome_tiff(tmp_path / "cell_struct_segmentation.tiff", mask, SPACING)
    viewer = ViewerModel()
    for path in ("cell.tif", "cell_struct_segmentation.tiff"):
        reader = get_reader(str(tmp_path / path))
        for data, kwargs, kind in reader(str(tmp_path / path)):
            getattr(viewer, f"add_{kind}")(data, **kwargs)
    image, seg = viewer.layers["cell"], viewer.layers["cell_struct_segmentation"]
    assert isinstance(image, Image) and isinstance(seg, Labels)
    np.testing.assert_allclose(image.scale, SPACING, rtol=1e-6)
    np.testing.assert_allclose(seg.scale, SPACING, rtol=1e-6)
    np.testing.assert_array_equal(seg.data, mask)
    assert get_reader(str(tmp_path / "notes.txt")) is None

    editor = WorkflowEditor(viewer)  # the editor measures in µm from the reader's scale
    qtbot.addWidget(editor)
    editor.with_labels.setChecked(True)
    editor.choose_workflow("sec61b")
    idle(qtbot, editor)
    assert editor.table.horizontalHeaderItem(1).text() == "volume_um3"
    assert editor.units.isHidden()


def table_column(editor, name: str) -> np.ndarray:
    header = [editor.table.horizontalHeaderItem(c).text()
              for c in range(editor.table.columnCount())]
    c = header.index(name)
    return np.array([float(editor.table.item(r, c).text())
                     for r in range(editor.table.rowCount())])


def test_scale_one_measures_in_voxels_and_a_later_scale_is_followed(qtbot, er_image):
    viewer, editor = open_editor(qtbot, er_image, scale=(1, 1, 1))
    editor.scope.setCurrentIndex(editor.scope.findData("stack"))  # the same voxels after
    editor.with_labels.setChecked(True)
    idle(qtbot, editor)
    assert editor.table.horizontalHeaderItem(1).text() == "volume_vox3"
    assert not editor.units.isHidden()  # the note that the table is in voxels
    voxels = table_column(editor, "volume_vox3")

    viewer.layers["raw"].scale = SPACING  # the user sets the voxel size afterwards
    idle(qtbot, editor)
    assert editor.units.isHidden()
    assert editor.table.horizontalHeaderItem(1).text() == "volume_um3"
    np.testing.assert_allclose(table_column(editor, "volume_um3"),
                               voxels * np.prod(SPACING), rtol=1e-3)
    for layer in editor.layers.values():  # the editor's layers still overlay the image
        np.testing.assert_allclose(layer.scale, SPACING)
        assert layer.translate[0] == pytest.approx(editor.result.z0 * SPACING[0])
    assert editor.result.z0 == 0


def test_nothing_runs_before_a_workflow_is_picked(qtbot, er_image):
    viewer, editor = open_editor(qtbot, er_image, workflow=None)
    assert editor.session is None and not editor.busy
    assert [layer.name for layer in viewer.layers] == ["raw"]
    assert "choose a workflow" in editor.status.text()


def test_step_and_result_layers_do_not_clash(qtbot, er_image):
    viewer, editor = open_editor(qtbot, er_image, workflow="npm1")
    editor.with_labels.setChecked(True)
    idle(qtbot, editor)
    step, labels = viewer.layers["step: objects [npm1]"], viewer.layers["labels [npm1]"]
    assert step is not labels
    assert set(np.unique(step.data)) <= {0, 1}  # the step's mask, not the numbered objects
    assert labels.data.dtype == np.uint16


def test_a_run_warning_reaches_the_status_line(qtbot, er_image):
    bright = (er_image.astype(np.int32) + 5000).astype(np.uint16)  # above N[4000]'s bound
    _, editor = open_editor(qtbot, bright, workflow="lmnb1_interphase")
    text = editor.status.text()
    assert text.startswith("⚠ classic workflow 'lmnb1_interphase':")
    assert "intensity_norm" in text and "recomputed" in text


def test_load_and_autosave_restore_a_tuned_workflow(qtbot, er_image, tmp_path,
                                                    editor_config_dir):
    _, editor = open_editor(qtbot, er_image)
    editor.step_boxes["size_filtered_2d"].setChecked(False)
    editor.step_boxes["filament"].fields["cutoff"].spin.setValue(0.2)
    idle(qtbot, editor)
    saved = editor.save(tmp_path / "tuned.yaml")
    assert (editor_config_dir / "editor_last.yaml").read_text() == saved.read_text()

    _, again = open_editor(qtbot, er_image, workflow="tomm20")
    assert again.load(saved)
    idle(qtbot, again)
    assert again.session.workflow == "sec61b"
    assert again.session.params["vesselness_cutoff"] == 0.2
    assert not again.step_boxes["size_filtered_2d"].isChecked()
    assert again.step_boxes["filament"].fields["cutoff"].value() == 0.2
    assert "threshold(0.2" in again.recipe.text()

    # A new editor offers the last session (after a crash, say) and restores it.
    _, third = open_editor(qtbot, er_image, workflow=None)
    index = third.workflow_combo.findData("last session")
    assert index == 1
    third.workflow_combo.setCurrentIndex(index)
    idle(qtbot, third)
    assert third.session.params["vesselness_cutoff"] == 0.2
    np.testing.assert_array_equal(third.result.mask, again.result.mask)
