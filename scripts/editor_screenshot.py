"""Screenshots of the napari workflow editor for the docs: ``docs/editor.png`` and, with
``--compose``, ``docs/editor_compose.png``.

Needs a display with OpenGL (napari's canvas); on a headless machine run it under Xvfb::

    PYTHONPATH=. xvfb-run -a -s "-screen 0 1600x1000x24" \\
        python scripts/editor_screenshot.py docs/editor.png ../shared/data/sample_ovule.h5
    PYTHONPATH=. xvfb-run -a -s "-screen 0 1600x1000x24" \\
        python scripts/editor_screenshot.py --compose docs/editor_compose.png

The first is the team's ovule sample (HDF5, opened with its voxel size as the layer scale),
the workflow sec61b with labels, split touching objects and the object table on. The second
composes filled nuclei from the blank start on a synthetic DNA-stained nuclei stack
(:func:`seglight.data.structures.dna_nuclei`) through the Steps tab's buttons.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

SAMPLE = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "sample_ovule.h5"


def _open(image, name: str, spacing):
    import napari

    from seglight.editor.widget import WorkflowEditor

    viewer = napari.Viewer(show=True)
    viewer.window.resize(1500, 950)
    viewer.add_image(image, name=name, scale=spacing)
    editor = WorkflowEditor(viewer)
    viewer.window.add_dock_widget(editor, name="Workflow editor", area="right")
    return viewer, editor


def _settle(editor) -> None:
    from qtpy.QtWidgets import QApplication

    app = QApplication.instance()
    start = time.monotonic()
    while editor.busy or time.monotonic() - start < 0.5:
        app.processEvents()
        time.sleep(0.02)


def _shoot(viewer, editor, out_png: str) -> None:
    from PIL import Image

    viewer.reset_view()
    _settle(editor)
    shot = viewer.screenshot(canvas_only=False, flash=False)
    image = Image.fromarray(shot[..., :3])
    image.thumbnail((1200, 1200))
    Path(out_png).parent.mkdir(parents=True, exist_ok=True)
    image.quantize(128).save(out_png, optimize=True)
    viewer.close()
    print(f"{out_png}: {Path(out_png).stat().st_size // 1024} KB")


def tuned(out_png: str, sample: Path = SAMPLE) -> None:
    """sec61b on the ovule, its filament cutoff lowered, labels split and measured."""
    import h5py

    with h5py.File(sample, "r") as f:
        raw = f["raw"][:]
        spacing = tuple(float(v) for v in f["raw"].attrs["element_size_um"])
    viewer, editor = _open(raw, "ovule", spacing)
    editor.with_labels.setChecked(True)
    editor.split.setValue(1.5)
    editor.choose_workflow("sec61b")
    _settle(editor)
    editor.step_boxes["filament"].fields["cutoff"].spin.setValue(0.08)
    _settle(editor)
    _shoot(viewer, editor, out_png)


def composed(out_png: str) -> None:
    """Filled nuclei composed from the blank start, by the Steps tab's buttons: Blank, then
    gaussian_3d added after the normalization, fill_holes_2d (enclosed holes only) and
    size_filter after the threshold."""
    from seglight.data.structures import dna_nuclei

    viewer, editor = _open(dna_nuclei((24, 128, 128), seed=0), "nuclei", (0.29, 0.1, 0.1))
    tab = editor.steps_tab
    tab.buttons["Blank"].click()
    editor.scope.setCurrentIndex(editor.scope.findData("stack"))
    _settle(editor)
    for after, block in (("normalize", "gaussian_3d"), ("auto_threshold", "fill_holes_2d"),
                         ("fill_holes_2d", "size_filter")):
        tab.select(after)
        tab.add(block)  # what Add step… does with the block picked
        _settle(editor)
    editor.step_boxes["fill_holes_2d"].fields["fill_border"].setChecked(False)  # enclosed only
    _settle(editor)
    _shoot(viewer, editor, out_png)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out_png", nargs="?", default=None)
    parser.add_argument("sample", nargs="?", type=Path, default=SAMPLE)
    parser.add_argument("--compose", action="store_true",
                        help="the composed-workflow screenshot (docs/editor_compose.png)")
    args = parser.parse_args(argv)
    if args.compose:
        composed(args.out_png or "docs/editor_compose.png")
    else:
        tuned(args.out_png or "docs/editor.png", args.sample)


if __name__ == "__main__":
    main()
