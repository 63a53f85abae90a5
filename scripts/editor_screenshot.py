"""Screenshot of the napari workflow editor for the docs: ``docs/editor.png``.

Needs a display with OpenGL (napari's canvas); on a headless machine run it under Xvfb::

    PYTHONPATH=. xvfb-run -a -s "-screen 0 1600x1000x24" \\
        python scripts/editor_screenshot.py docs/editor.png ../shared/data/sample_ovule.h5

The image is the team's ovule sample (HDF5, opened with its voxel size as the layer scale),
the workflow sec61b with labels, split touching objects and the object table on.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

SAMPLE = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "sample_ovule.h5"


def main(out_png: str, sample: Path = SAMPLE) -> None:
    import h5py
    import napari
    from PIL import Image
    from qtpy.QtWidgets import QApplication

    from seglight.editor.widget import WorkflowEditor

    with h5py.File(sample, "r") as f:
        raw = f["raw"][:]
        spacing = tuple(float(v) for v in f["raw"].attrs["element_size_um"])
    viewer = napari.Viewer(show=True)
    viewer.window.resize(1500, 950)
    viewer.add_image(raw, name="ovule", scale=spacing)
    editor = WorkflowEditor(viewer)
    viewer.window.add_dock_widget(editor, name="Workflow editor", area="right")
    app = QApplication.instance()

    def settle() -> None:
        start = time.monotonic()
        while editor.busy or time.monotonic() - start < 0.5:
            app.processEvents()
            time.sleep(0.02)

    editor.with_labels.setChecked(True)
    editor.split.setValue(1.5)
    editor.choose_workflow("sec61b")
    settle()
    editor.step_boxes["filament"].fields["cutoff"].spin.setValue(0.08)
    settle()
    viewer.reset_view()
    settle()
    shot = viewer.screenshot(canvas_only=False, flash=False)
    image = Image.fromarray(shot[..., :3])
    image.thumbnail((1200, 1200))
    Path(out_png).parent.mkdir(parents=True, exist_ok=True)
    image.quantize(128).save(out_png, optimize=True)
    viewer.close()
    print(f"{out_png}: {Path(out_png).stat().st_size // 1024} KB")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "docs/editor.png",
         Path(sys.argv[2]) if len(sys.argv) > 2 else SAMPLE)
