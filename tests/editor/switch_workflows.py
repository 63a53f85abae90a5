"""Switch the editor's workflow N times with "labels + object table" ticked, in a real
napari window (``napari.Viewer``): the loop that crashed napari 0.9.2 in vispy's
``glDrawArrays`` under Xvfb (issue 29). Prints one line per switch and ``OK <n>`` at the end;
a crash ends the process with a signal instead.

    xvfb-run -a python tests/editor/switch_workflows.py 20      # a real X display, by hand
"""

from __future__ import annotations

import sys
import time

WORKFLOWS = ("npm1", "h2b_interphase", "cetn2", "lmnb1_interphase", "sec61b")


def main(n: int = 20, window: bool = True) -> int:
    """``window``: a napari window (its canvas drawn by OpenGL: needs a display); else
    napari's ``ViewerModel`` (the same layer list, no canvas: the offscreen platform)."""
    import napari
    from napari.components import ViewerModel
    from qtpy.QtWidgets import QApplication

    from seglight.data.structures import structure_image
    from seglight.editor.widget import WorkflowEditor

    viewer = napari.Viewer() if window else ViewerModel()
    viewer.add_image(structure_image("npm1", (10, 64, 64), seed=1), name="raw",
                     scale=(0.29, 0.108, 0.108))
    editor = WorkflowEditor(viewer)
    if window:
        viewer.window.add_dock_widget(editor)
    app = QApplication.instance()

    def settle() -> None:
        start = time.monotonic()
        while (editor.busy or time.monotonic() - start < 0.2) and time.monotonic() - start < 120:
            app.processEvents()  # draws the canvas, as napari's event loop does
            time.sleep(0.01)

    editor.with_labels.setChecked(True)
    for i in range(n):
        name = WORKFLOWS[i % len(WORKFLOWS)]
        editor.choose_workflow(name)
        settle()
        names = [layer.name for layer in viewer.layers]
        assert f"labels [{name}]" in names, names
        print(f"switch {i + 1}: {name}, {len(names)} layers", flush=True)
    if window:
        viewer.close()
    print(f"OK {n}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(int(sys.argv[1]) if len(sys.argv) > 1 else 20))
