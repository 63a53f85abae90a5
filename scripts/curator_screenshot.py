"""Screenshot of the napari Curator for the README: ``docs/curator.png`` (sorting), or with
``--merging``, ``docs/curator_merging.png`` (two segmentations and their difference).

Needs a display with OpenGL (napari's canvas); on a headless machine run it under Xvfb::

    PYTHONPATH=. xvfb-run -a -s "-screen 0 1400x900x24" \
        python scripts/curator_screenshot.py docs/curator.png

It curates the team's ovule sample (``../shared/data/sample_ovule.h5``, or the HDF5 file given
as second argument) when present, with a smoothed-threshold segmentation, else synthetic blobs.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import numpy as np
from scipy import ndimage as ndi

from seglight.io import write_ome_tiff

SAMPLE = Path(__file__).resolve().parents[2] / "shared" / "data" / "sample_ovule.h5"


def sample_image(sample: Path) -> tuple[np.ndarray, tuple[float, float, float]]:
    if sample.exists():
        import h5py

        with h5py.File(sample, "r") as f:
            return f["raw"][:], tuple(float(v) for v in f["raw"].attrs["element_size_um"])
    rng = np.random.default_rng(0)
    seeds = np.zeros((16, 128, 128), np.float32)
    seeds[tuple(rng.integers(0, s, 60) for s in seeds.shape)] = 1
    raw = ndi.gaussian_filter(seeds, (1, 3, 3)) * 4000 + rng.normal(100, 10, seeds.shape)
    return raw.clip(0, 65535).astype(np.uint16), (0.5, 0.2, 0.2)


def main(out_png: str, sample: Path = SAMPLE, merging: bool = False) -> None:
    import napari
    from qtpy.QtWidgets import QApplication

    from seglight.curate.napari_widget import EXCLUDING, MergingWidget, SortingWidget

    work = Path(tempfile.mkdtemp(prefix="curator_screenshot_"))
    raw, spacing = sample_image(sample)
    smooth = ndi.gaussian_filter(raw.astype(np.float32), 1)
    seg = (smooth > np.percentile(smooth, 80)).astype(np.uint8) * 255
    for i in range(12):
        write_ome_tiff(work / "raw" / f"cell_{i:02d}.tif", raw, spacing)
        write_ome_tiff(work / "seg" / f"cell_{i:02d}_struct_segmentation.tiff", seg, spacing)
        if merging:  # a second, looser segmentation
            seg2 = (smooth > np.percentile(smooth, 72)).astype(np.uint8) * 255
            write_ome_tiff(work / "seg2" / f"cell_{i:02d}_struct_segmentation.tiff", seg2,
                           spacing)

    viewer = napari.Viewer(show=True)
    viewer.window.resize(1300, 800)
    widget = MergingWidget(viewer) if merging else SortingWidget(viewer)
    viewer.window.add_dock_widget(widget, name=f"Curator ({widget.mode})", area="right")
    keys = {"seg1": "seg", "seg2": "seg2"} if merging else {"seg": "seg"}
    for key, folder in {"raw": "raw", **keys, "out": "out"}.items():
        widget.fields[key].edit.setText(str(work / folder))
    widget.start()
    widget.good()
    widget.good()  # two images done: the progress reads "3 of 12"
    z, y, x = raw.shape
    viewer.layers[EXCLUDING].add_polygons(
        [np.array([[z // 2, y * 0.1, x * 0.55], [z // 2, y * 0.1, x * 0.9],
                   [z // 2, y * 0.45, x * 0.95], [z // 2, y * 0.4, x * 0.6]])])
    viewer.reset_view()
    for _ in range(10):
        QApplication.processEvents()
    from PIL import Image

    shot = viewer.screenshot(canvas_only=False, flash=False)
    image = Image.fromarray(shot[..., :3])
    image.thumbnail((1000, 1000))
    Path(out_png).parent.mkdir(parents=True, exist_ok=True)
    # A 128-colour palette keeps the README picture small (< 300 KB) and sharp.
    image.quantize(128).save(out_png, optimize=True)
    viewer.close()
    print(f"{out_png}: {Path(out_png).stat().st_size // 1024} KB")


if __name__ == "__main__":
    args = [a for a in sys.argv[1:] if a != "--merging"]
    main(args[0] if args else "docs/curator.png",
         Path(args[1]) if len(args) > 1 else SAMPLE, merging="--merging" in sys.argv)
