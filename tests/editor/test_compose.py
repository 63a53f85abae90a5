"""Composing a workflow in the editor (issue 29, "Compose"): add, remove and reorder steps
from the Steps tab, save, run the saved file from the command line and from Python, and
load it back. Offscreen, on napari's ViewerModel (see test_widget.py)."""

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
pytest.importorskip("napari")
pytest.importorskip("pytestqt")

from qtpy.QtCore import Qt  # noqa: E402

from seglight.classic.library import blocks_valid_at  # noqa: E402
from seglight.data.structures import dna_nuclei  # noqa: E402
from seglight.editor.steps_tab import BlockPicker  # noqa: E402
from seglight.io import read_image, write_ome_tiff  # noqa: E402
from tests.editor.conftest import SPACING  # noqa: E402
from tests.editor.test_widget import idle, open_editor  # noqa: E402

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def nuclei_image() -> np.ndarray:
    return dna_nuclei((10, 64, 64), seed=3)


def compose_h2b(qtbot, editor) -> None:
    """h2b_interphase with hole filling added after its spots and the smoothing removed."""
    editor.scope.setCurrentIndex(editor.scope.findData("stack"))
    tab = editor.steps_tab
    tab.select("spots")
    assert tab.add("fill_holes_2d") == "fill_holes_2d"
    idle(qtbot, editor)
    tab.select("smoothed")
    assert tab.remove()
    idle(qtbot, editor)


def test_add_and_remove_steps_rerun_and_follow_the_layers(qtbot, nuclei_image):
    viewer, editor = open_editor(qtbot, nuclei_image, "h2b_interphase")
    before = editor.result.mask.copy()
    compose_h2b(qtbot, editor)
    assert list(editor.step_boxes) == ["normalized", "spots", "fill_holes_2d",
                                       "size_filtered"]
    assert editor.session.pipeline.step("spots").inputs == ("normalized",)
    names = [layer.name for layer in viewer.layers]
    assert "step: fill_holes_2d [h2b_interphase]" in names
    assert "step: smoothed [h2b_interphase]" not in names  # the removed step's layer went
    assert editor.result.mask.shape == nuclei_image.shape
    assert not np.array_equal(editor.result.mask, before)
    assert "(composed)" in editor.recipe.text() and "fill_holes_2d(" in editor.recipe.text()
    # The new step's arguments are ordinary fields: a change re-runs from that step on.
    editor.step_boxes["fill_holes_2d"].fields["max_size"].spin.setValue(10)
    idle(qtbot, editor)
    shown = {name: box.latency.text() for name, box in editor.step_boxes.items()}
    assert shown["normalized"] == shown["spots"] == "cached"
    assert editor.session.params["fill_holes_2d_max_size"] == 10


def test_refused_edits_say_why_on_the_status_line(qtbot, nuclei_image):
    _, editor = open_editor(qtbot, nuclei_image, "h2b_interphase")
    tab = editor.steps_tab
    steps = list(editor.step_boxes)
    tab.select("spots")
    assert not tab.remove()  # the lines docs/editor.md quotes
    assert editor.status.text() == (
        "cannot remove 'spots': 'size_filtered' reads its output, and it is no filter (it "
        "makes mask of image); remove or change that first")
    assert not tab.move(-1)
    assert editor.status.text() == ("cannot move 'spots' up: 'spots' reads the output of "
                                    "'smoothed', and they are not two filters of one chain")
    tab.select("normalized")
    assert not tab.move(-1) and "already first" in editor.status.text()
    assert list(editor.step_boxes) == steps and not editor.session.composed
    assert not editor.busy


def test_the_picker_offers_the_blocks_whose_inputs_exist_there(qtbot, nuclei_image):
    _, editor = open_editor(qtbot, nuclei_image, "h2b_interphase")
    session = editor.session
    picker = BlockPicker(editor, session.valid_blocks("smoothed"), "smoothed")
    qtbot.addWidget(picker)
    offered = [picker.list.item(i).data(Qt.UserRole) for i in range(picker.list.count())]
    assert offered == blocks_valid_at(session.pipeline, 2)
    assert "size_filter" not in offered and "gaussian_3d" in offered


def test_blank_then_reorder_two_filters(qtbot, nuclei_image):
    viewer, editor = open_editor(qtbot, nuclei_image, workflow=None)
    editor.steps_tab.blank()
    idle(qtbot, editor)
    assert editor.session.workflow == "blank"
    assert list(editor.step_boxes) == ["normalize", "auto_threshold"]
    assert editor.result is not None and editor.result.mask.any()
    tab = editor.steps_tab
    tab.select("auto_threshold")
    tab.add("size_filter")
    tab.add("fill_holes_2d")
    idle(qtbot, editor)
    assert list(editor.step_boxes)[-2:] == ["size_filter", "fill_holes_2d"]
    assert tab.move(-1)
    idle(qtbot, editor)
    assert list(editor.step_boxes)[-2:] == ["fill_holes_2d", "size_filter"]
    assert editor.session.pipeline.output == "size_filter"
    assert tab.selected == "fill_holes_2d"
    tab.select(None)  # nothing selected: added after the last step, which gave the mask
    assert tab.add("size_filter_2d") == "size_filter_2d"
    idle(qtbot, editor)
    assert editor.session.pipeline.output == "size_filter_2d"
    tab.select("size_filter_2d")
    assert tab.remove() and tab.selected == "size_filter"
    idle(qtbot, editor)
    visible = [layer.name for layer in viewer.layers if layer.visible]
    assert visible == ["raw", "step: size_filter [blank]"]  # the mask's layer only


def _docs_block(language: str) -> str:
    """The first ``language`` code block of docs/editor.md's "Compose a workflow"."""
    text = (REPO / "docs" / "editor.md").read_text()
    section = text.split("## Compose a workflow", 1)[1].split("\n## ", 1)[0]
    block = section.split(f"```{language}\n", 1)[1].split("```", 1)[0]
    return textwrap.dedent(block)


def test_a_composed_workflow_saved_loads_back_and_runs_the_same_from_python(
        qtbot, nuclei_image, tmp_path, monkeypatch):
    _, editor = open_editor(qtbot, nuclei_image, "h2b_interphase")
    compose_h2b(qtbot, editor)
    saved = editor.save(tmp_path / "h2b_filled.yaml")
    assert f"workflow={saved}" in editor.status.text()
    assert saved.read_text() == _docs_block("yaml")  # the file the docs show
    monkeypatch.chdir(tmp_path)
    scope = {"image_zyx": nuclei_image}
    exec(_docs_block("python"), scope)  # the docs' Python lines
    np.testing.assert_array_equal(scope["mask"], editor.result.mask)

    _, again = open_editor(qtbot, nuclei_image, workflow="tomm20")
    assert again.load(saved)
    again.scope.setCurrentIndex(again.scope.findData("stack"))
    idle(qtbot, again)
    assert list(again.step_boxes) == list(editor.step_boxes)
    assert again.session.composed and again.session.pipeline == editor.session.pipeline
    np.testing.assert_array_equal(again.result.mask, editor.result.mask)


@pytest.mark.slow
def test_a_composed_workflow_gives_the_editors_mask_from_the_cli(qtbot, nuclei_image,
                                                                 tmp_path):
    _, editor = open_editor(qtbot, nuclei_image, "h2b_interphase")
    compose_h2b(qtbot, editor)
    config = editor.save(tmp_path / "composed.yaml")
    raw = tmp_path / "raw"
    raw.mkdir()
    write_ome_tiff(raw / "nuclei.tif", nuclei_image, SPACING)
    out = tmp_path / "out"
    result = subprocess.run(
        [sys.executable, "-m", "seglight.predict", f"workflow={config}", f"input={raw}",
         f"output={out}", "progress=false"],
        capture_output=True, text=True, cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    assert result.returncode == 0, result.stderr[-2000:]
    mask = read_image(out / "nuclei_struct_segmentation.tiff").data
    np.testing.assert_array_equal(mask, editor.result.mask)
