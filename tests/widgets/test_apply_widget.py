"""The Apply widget, offscreen with pytest-qt: a checkpoint applied to the layer on screen
(equal to ``python -m seglight.predict`` on the same image), the live threshold, a classic
workflow, and a folder with a broken file."""

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

from seglight.data.structures import structure_image  # noqa: E402
from seglight.io import read_image, write_ome_tiff  # noqa: E402
from seglight.widgets import recent  # noqa: E402
from seglight.widgets.apply import SOURCES, ApplyWidget, cut  # noqa: E402
from seglight.widgets.heartbeat import StallMeter  # noqa: E402

SHAPE = (16, 64, 64)
SPACING = (0.29, 0.108, 0.108)
WAIT_MS = 180_000
ROOT = Path(__file__).resolve().parents[2]


def open_widget(qtbot, image, scale=SPACING) -> tuple[ViewerModel, ApplyWidget]:
    viewer = ViewerModel()
    viewer.add_image(image, name="cell", scale=scale)
    widget = ApplyWidget(viewer)
    qtbot.addWidget(widget)
    qtbot.waitUntil(lambda: widget.warm_up.loaded, timeout=300_000)  # background imports
    return viewer, widget


def choose(widget: ApplyWidget, kind: str, value: str) -> None:
    widget.kind.setCurrentIndex(list(SOURCES).index(kind))
    if kind == "classic":
        widget.classic.setCurrentText(value)
    else:
        widget.path_field.edit.setText(value)


def apply_and_wait(qtbot, widget: ApplyWidget) -> None:
    widget.apply_button.click()
    qtbot.waitUntil(lambda: not widget.busy, timeout=WAIT_MS)


@pytest.fixture(scope="module")
def image() -> np.ndarray:
    return structure_image("lmnb1_interphase", SHAPE, seed=3)


@pytest.mark.slow
def test_a_checkpoint_on_the_layer_equals_the_command_line(qtbot, tmp_path, image, tiny_ckpt):
    path = tmp_path / "cell.tif"
    write_ome_tiff(path, image, SPACING)
    subprocess.run([sys.executable, "-m", "seglight.predict", f"ckpt_path={tiny_ckpt}",
                    f"input={path}", f"output={tmp_path / 'cli'}", "write_proba=true"],
                   check=True, cwd=tmp_path, capture_output=True,
                   env={**os.environ, "PYTHONPATH": str(ROOT)})
    cli_mask = read_image(tmp_path / "cli" / "cell_struct_segmentation.tiff").data
    cli_proba = read_image(tmp_path / "cli" / "cell_struct_probability.tiff").data

    recent.remember("checkpoint", tiny_ckpt)  # what the Train widget leaves
    viewer, widget = open_widget(qtbot, image)
    assert widget.path_field.value() == str(tiny_ckpt)
    meter = StallMeter().start()
    apply_and_wait(qtbot, widget)
    meter.stop()
    print(f"event-loop stall while applying a network: max {meter.max_stall_ms:.0f} ms")
    run = tiny_ckpt.parent.parent.name
    mask_name, proba_name = f"cell mask [{run}/last]", f"cell probability [{run}/last]"
    assert mask_name in widget.status.text()
    mask, proba = viewer.layers[mask_name], viewer.layers[proba_name]
    assert mask.data.dtype == np.uint8 and 0 < mask.data.sum() < mask.data.size
    np.testing.assert_array_equal(mask.data > 0, cli_mask > 0)
    np.testing.assert_allclose(proba.data, cli_proba, atol=1e-6)
    assert tuple(mask.scale) == tuple(proba.scale) == SPACING

    # re-threshold live: no network run, the mask follows the probability map
    before = mask.data.copy()
    widget.threshold_slider.setValue(900)  # as a user drags it
    assert widget.threshold_spin.value() == pytest.approx(0.9)
    assert not widget.busy
    qtbot.waitUntil(lambda: not widget.cutting, timeout=10_000)
    assert viewer.layers[mask_name] is mask
    np.testing.assert_array_equal(mask.data, (proba.data > 0.9).astype(np.uint8))
    assert mask.data.sum() < before.sum()
    widget.threshold_spin.setValue(0.1)
    qtbot.waitUntil(lambda: not widget.cutting, timeout=10_000)
    np.testing.assert_array_equal(mask.data, (proba.data > 0.1).astype(np.uint8))

    # the same again updates the layers in place
    apply_and_wait(qtbot, widget)
    assert viewer.layers[mask_name] is mask and len(viewer.layers) == 3


def test_a_classic_workflow_gives_a_mask_and_nothing_to_rethreshold(qtbot, image):
    viewer, widget = open_widget(qtbot, image, scale=(1, 1, 1))
    choose(widget, "classic", "lmnb1_interphase")
    apply_and_wait(qtbot, widget)
    names = [layer.name for layer in viewer.layers]
    assert names == ["cell", "cell mask [classic/lmnb1_interphase]"]
    assert viewer.layers[1].data.max() == 1
    assert not widget.threshold_slider.isEnabled()


def test_a_missing_file_is_one_line(qtbot, tmp_path, image):
    _, widget = open_widget(qtbot, image)
    choose(widget, "checkpoint", str(tmp_path / "nope.ckpt"))
    apply_and_wait(qtbot, widget)
    text = widget.status.text()
    assert "nope.ckpt" in text and "\n" not in text and "Traceback" not in text


@pytest.mark.slow
def test_a_folder_with_a_broken_file(qtbot, tmp_path, image, tiny_ckpt):
    raw, out = tmp_path / "raw", tmp_path / "out"
    raw.mkdir()
    for i in range(2):
        write_ome_tiff(raw / f"cell{i}.tif", np.roll(image, 7 * i, axis=2), SPACING)
    (raw / "broken.tif").write_bytes(b"not a tiff at all")
    _, widget = open_widget(qtbot, image)
    choose(widget, "checkpoint", str(tiny_ckpt))
    widget.folder.fields["input"].edit.setText(str(raw))
    widget.folder.fields["output"].edit.setText(str(out))
    widget.folder.run_button.click()
    qtbot.waitUntil(lambda: not widget.folder.busy, timeout=WAIT_MS)
    lines = widget.folder.status.text().splitlines()
    assert lines[0].startswith("2 written, 0 skipped, 1 failed")
    assert len(lines) == 2 and "broken.tif" in lines[1]
    assert {p.name for p in out.glob("*.tiff")} == {"cell0_struct_segmentation.tiff",
                                                     "cell1_struct_segmentation.tiff"}
    assert widget.folder.bar.value() == widget.folder.bar.maximum() == 3
    widget.folder.run_button.click()  # again: resumes, nothing to redo
    qtbot.waitUntil(lambda: not widget.folder.busy, timeout=WAIT_MS)
    assert widget.folder.status.text().startswith("0 written, 2 skipped, 1 failed")


def test_a_dragged_threshold_cuts_in_a_worker_and_ends_at_the_last_value(qtbot, image):
    viewer, widget = open_widget(qtbot, image)
    proba = np.random.default_rng(0).random((16, 128, 128), dtype=np.float32)
    # what an Apply leaves: the probability map kept, its mask on screen
    widget._show_result(widget.layer_names("cell", "net"), {"scale": SPACING}, proba,
                        cut(proba, 0.5), int(cut(proba, 0.5).sum()), 0.5, False, [],
                        [None, None])
    qtbot.waitUntil(lambda: not widget.busy, timeout=10_000)
    mask = widget.mask_layer
    cuts = []
    widget.cut_shown.connect(cuts.append)
    values = [0.1 + 0.8 * i / 49 for i in range(50)]
    for value in values:  # faster than the cuts: they are not queued one per value
        widget.threshold_spin.setValue(value)
    qtbot.waitUntil(lambda: not widget.cutting, timeout=30_000)
    assert cuts[-1] == pytest.approx(values[-1], abs=1e-3) and len(cuts) < len(values)
    assert viewer.layers[mask.name] is mask
    np.testing.assert_array_equal(mask.data, (proba > widget.threshold_spin.value()))
    assert f"{int(mask.data.sum())} foreground voxels" in widget.status.text()


@pytest.mark.slow
def test_napari_s_process_never_loads_torch_tensorboard_or_matplotlib(tmp_path, image):
    """The Apply and Train widgets leave them to their child processes (a thread loading
    torch held the interpreter, and the viewer, for seconds)."""
    write_ome_tiff(tmp_path / "cell.tif", image, SPACING)  # napari reads files
    script = """
import sys
from napari.components import ViewerModel
from qtpy.QtWidgets import QApplication
from seglight.io import read_image
app = QApplication([])
viewer = ViewerModel()
viewer.add_image(read_image("cell.tif").data, name="cell")
from seglight.widgets.apply import ApplyWidget
from seglight.widgets.train import TrainWidget
apply, train = ApplyWidget(viewer), TrainWidget(viewer)
apply.classic.setCurrentText("lmnb1_interphase")
apply.kind.setCurrentIndex(apply.kind.findData("classic"))
apply.apply_to_layer()
while apply.busy or not (apply.warm_up.loaded and train.warm_up.loaded):
    app.processEvents()
print("layers:", len(viewer.layers), "loaded:",
      sorted(m for m in ("torch", "monai", "tensorboard", "matplotlib") if m in sys.modules))
"""
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         cwd=tmp_path, timeout=600,
                         env={**os.environ, "PYTHONPATH": str(ROOT),
                              "SEGLIGHT_STATE_DIR": str(tmp_path)})
    assert out.returncode == 0, out.stderr[-2000:]
    assert "layers: 2 loaded: []" in out.stdout


@pytest.mark.slow
def test_cancel_stops_a_run_on_the_layer_and_the_next_apply_works(qtbot, image, tiny_ckpt):
    viewer, widget = open_widget(qtbot, image)
    choose(widget, "checkpoint", str(tiny_ckpt))
    widget.apply_button.click()
    assert widget.cancel_button.isEnabled()
    qtbot.waitUntil(lambda: widget.predictor._current == "layer", timeout=WAIT_MS)
    widget.cancel_button.click()
    qtbot.waitUntil(lambda: not widget.busy, timeout=WAIT_MS)
    assert widget.status.text() == "cancelled" and len(viewer.layers) == 1
    assert not widget.cancel_button.isEnabled() and widget.apply_button.isEnabled()
    apply_and_wait(qtbot, widget)  # a new prediction process
    assert len(viewer.layers) == 3 and "foreground voxels" in widget.status.text()


@pytest.mark.slow
def test_the_prediction_process_keeps_the_network_while_its_file_is_unchanged(image,
                                                                             tiny_ckpt):
    from seglight.widgets.predict_process import predict_layer

    cache: dict = {}
    first = predict_layer("checkpoint", str(tiny_ckpt), image, SPACING, "cell", cache=cache)
    built = next(iter(cache.values()))
    again = predict_layer("checkpoint", str(tiny_ckpt), image, SPACING, "cell", cache=cache)
    assert next(iter(cache.values())) is built  # not built again
    np.testing.assert_array_equal(first[0], again[0])
    stat = tiny_ckpt.stat()
    os.utime(tiny_ckpt, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))  # rewritten
    predict_layer("checkpoint", str(tiny_ckpt), image, SPACING, "cell", cache=cache)
    assert len(cache) == 1 and next(iter(cache.values())) is not built
