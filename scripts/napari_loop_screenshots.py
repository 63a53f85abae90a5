"""The whole loop in one napari window, with a screenshot of each widget for docs/napari.md:
editor -> Curator -> Train -> Apply -> Curator (round 2), on the demo images, and the Apply
widget on the team's real ovule crop (``../shared/data/sample_ovule.h5``, when present).

Needs a display with OpenGL (napari's canvas); on a headless machine run it under Xvfb::

    PYTHONPATH=. xvfb-run -a -s "-screen 0 1500x1000x24" \
        python scripts/napari_loop_screenshots.py docs [--steps 60]

Every widget does its real work here (the editor's folder run, the Curator's triplets, a
real training subprocess, the runner): the pictures show what a user gets.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

#: The team's sample, in a ``shared/`` folder beside the clone (or above a worktree).
SAMPLE = next((p / "shared" / "data" / "sample_ovule.h5" for p in Path(__file__).resolve().parents
               if (p / "shared" / "data" / "sample_ovule.h5").exists()),
              Path("shared/data/sample_ovule.h5"))
SPACING = (0.29, 0.108, 0.108)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", type=Path, help="folder for the PNGs (docs)")
    parser.add_argument("--steps", type=int, default=60, help="training steps")
    parser.add_argument("--images", type=int, default=6, help="demo raw images")
    args = parser.parse_args()

    import napari
    from PIL import Image
    from qtpy.QtWidgets import QApplication

    from seglight.curate.napari_widget import SortingWidget
    from seglight.data.demo import make_demo_image
    from seglight.editor.widget import WorkflowEditor
    from seglight.io import write_ome_tiff
    from seglight.widgets.apply import SOURCES, ApplyWidget
    from seglight.widgets.train import TrainWidget

    work = Path(tempfile.mkdtemp(prefix="napari_loop_"))
    os.chdir(work)
    os.environ["SEGLIGHT_STATE_DIR"] = str(work / "state")
    for i in range(args.images):
        write_ome_tiff(work / "raw" / f"cell_{i:02d}.tif", make_demo_image(100 + i)[0], SPACING)
    print(f"working in {work}", flush=True)

    viewer = napari.Viewer(show=True)
    viewer.window.resize(1500, 950)

    def wait(until, timeout_s: float = 3600) -> None:
        started = time.monotonic()
        while not until() and time.monotonic() - started < timeout_s:
            QApplication.processEvents()
            time.sleep(0.01)
        for _ in range(20):
            QApplication.processEvents()

    def shot(name: str) -> None:
        viewer.reset_view()
        wait(lambda: True)
        picture = Image.fromarray(viewer.screenshot(canvas_only=False, flash=False)[..., :3])
        picture.thumbnail((1200, 1200))
        path = args.out / name
        picture.quantize(128).save(path, optimize=True)
        print(f"{path}: {path.stat().st_size // 1024} KB", flush=True)

    docked = []

    def dock(widget, name: str):
        widget.setMaximumWidth(560)  # leave the canvas most of the window
        docked.append(viewer.window.add_dock_widget(widget, name=name, area="right"))
        return docked[-1]

    def clear() -> None:
        """Close the widgets of the last step, then drop their layers."""
        while docked:
            viewer.window.remove_dock_widget(docked.pop())
        wait(lambda: True)
        viewer.layers.clear()
        wait(lambda: True)

    def open_raw(name: str) -> None:
        viewer.open(work / "raw" / f"{name}.tif", name=name, plugin="napari")
        viewer.layers[name].scale = SPACING
        viewer.dims.set_current_step(0, viewer.layers[name].data.shape[0] // 2)

    # 1. editor: tune lmnb1_interphase on one image, run it on the folder (round 1 masks)
    open_raw("cell_00")
    editor = WorkflowEditor(viewer)
    dock(editor, "Workflow editor")
    editor.workflow_combo.setCurrentText("lmnb1_interphase")
    wait(lambda: not editor.busy)
    editor.folder_fields["input"].edit.setText(str(work / "raw"))
    editor.folder_fields["output"].edit.setText(str(work / "seg1"))
    editor.tabs.setCurrentIndex(2)
    editor.run_folder()
    wait(lambda: not editor.folder_busy)
    shot("napari_editor.png")
    editor.shut_down()  # its own window closes with it: a user would close the dock
    viewer.close()
    docked.clear()
    viewer = napari.Viewer(show=True)
    viewer.window.resize(1500, 950)
    workflow = work / "seg1" / "lmnb1_interphase_editor.yaml"

    # 2. Curator: sort the round-1 masks into training triplets
    curator = SortingWidget(viewer)
    dock(curator, "Curator (sorting)")
    for key, folder in (("raw", "raw"), ("seg", "seg1"), ("out", "curated")):
        curator.fields[key].edit.setText(str(work / folder))
    curator.start()
    curator.good()
    shot("napari_curator.png")
    while curator.good_button.isEnabled():
        curator.good()

    # 3. Train on the curated folder (the Curator's output is the default)
    clear()
    train = TrainWidget(viewer)
    dock(train, "Train")
    train.limit_combo.setCurrentIndex(train.limit_combo.findData("steps"))
    train.amount.setValue(args.steps)
    train.extra.setText("data.patch_zyx=[16,64,64] data.samples_per_epoch=20 "
                        "data.num_workers=0 trainer.accelerator=cpu")
    train.start()
    wait(lambda: not train.running)
    wait(lambda: not train._reading)
    train.poll()
    wait(lambda: not train._reading)
    shot("napari_train.png")

    # 4. Apply the best checkpoint to an image and to the raw folder (round 2 masks)
    clear()
    apply = ApplyWidget(viewer)
    train.apply_widget = apply
    train.hand_to_apply()
    dock(apply, "Apply")
    open_raw(f"cell_{args.images - 1:02d}")
    apply._refresh_images()
    apply.apply_to_layer()
    wait(lambda: not apply.busy)
    apply.threshold_spin.setValue(0.6)
    wait(lambda: not apply.cutting)  # the re-cut runs in a worker
    apply.folder.fields["input"].edit.setText(str(work / "raw"))
    apply.folder.fields["output"].edit.setText(str(work / "seg2"))
    apply.folder.run()
    wait(lambda: not apply.folder.busy)
    shot("napari_apply.png")

    if SAMPLE.exists():  # the saved editor workflow on real pixels
        import h5py

        with h5py.File(SAMPLE, "r") as f:
            raw = f["raw"][:]
            spacing = tuple(float(v) for v in f["raw"].attrs["element_size_um"])
        viewer.layers.clear()
        viewer.add_image(raw, name="ovule", scale=spacing)
        viewer.dims.set_current_step(0, raw.shape[0] // 2)
        apply.kind.setCurrentIndex(list(SOURCES).index("classic"))
        apply.classic.setCurrentText("sec61b")
        apply.apply_to_layer()
        wait(lambda: not apply.busy)
        shot("napari_apply_ovule.png")
    print(f"editor workflow saved at {workflow}", flush=True)

    # 5. Curator, round 2: the network's masks, the images it is least sure of first
    clear()
    round2 = SortingWidget(viewer)
    dock(round2, "Curator (sorting), round 2")
    for key, folder in (("raw", "raw"), ("seg", "seg2"), ("out", "curated_round2")):
        round2.fields[key].edit.setText(str(work / folder))
    round2.order.setCurrentIndex(1)
    round2.order_fields["uncertainty_ckpt"].edit.setText(str(train.best[0]))
    round2.start()
    shot("napari_curator_round2.png")
    viewer.close()


if __name__ == "__main__":
    main()
