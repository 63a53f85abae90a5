"""Inspecting a classic workflow: its intermediate results on disk and one QC picture.

The predict runner, with ``save_intermediates=true``, collects the steps while it runs a
workflow and then writes them here::

    steps = {}
    mask = run_workflow("tomm20", image.data, record=steps.__setitem__)
    save_intermediates(out_dir, "cell_01", image, steps, mask)

which writes, under ``out_dir/cell_01_intermediates/``, one OME-TIFF per step in the
order recorded (``01_normalized.ome.tiff``, ``02_smoothed.ome.tiff``, ...) with the
image's voxel size, and ``qc.png``: the input with the mask outlined, each step, and the
mask, as max projection (top row) and middle z-slice (bottom row).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from seglight.io import ImageZYX, write_ome_tiff
from seglight.io.image import Spacing
from seglight.viz import panel, save_png

INTERMEDIATES_SUFFIX = "_intermediates"
QC_NAME = "qc.png"


def _as_volume(name: str, array: np.ndarray) -> np.ndarray:
    """A recorded step as a ZYX volume of a type OME-TIFF stores (a 2D step is one slice)."""
    vol = np.asarray(array)
    if vol.ndim == 2:
        vol = vol[None]
    if vol.ndim != 3:
        raise ValueError(f"recorded step {name!r} has shape {vol.shape}; record 2D or ZYX arrays")
    if vol.dtype == bool:
        return vol.astype(np.uint8)
    if np.issubdtype(vol.dtype, np.floating):
        return vol.astype(np.float32, copy=False)
    if np.issubdtype(vol.dtype, np.integer) and vol.dtype.itemsize > 4:
        # Labels from scipy/skimage come as int64, which OME-TIFF readers handle poorly.
        return vol.astype(np.uint32 if vol.min() >= 0 else np.int32)
    return vol


def _file_name(index: int, name: str) -> str:
    safe = re.sub(r"[^A-Za-z0-9_-]+", "_", name).strip("_") or "step"
    return f"{index:02d}_{safe}.ome.tiff"


def save_intermediates(
    out_dir: str | Path,
    stem: str,
    image: np.ndarray | ImageZYX,
    steps: Mapping[str, np.ndarray],
    mask: np.ndarray,
    spacing_um: Spacing | None = None,
) -> list[Path]:
    """Write a workflow's recorded steps as OME-TIFF and a QC panel PNG.

    Args:
        out_dir: the output folder; files go to ``out_dir/<stem>_intermediates/``.
        stem: the image's name without suffix (see :func:`seglight.io.image_stem`).
        image: the input image, ZYX (an :class:`~seglight.io.ImageZYX` brings its voxel size).
        steps: step name -> array, in the order recorded (2D steps are stored as one slice).
        mask: the workflow's result, ZYX.
        spacing_um: voxel size in micrometres, ZYX; default: the image's, if it has one.

    Returns:
        The written files: one OME-TIFF per step, then the QC PNG.

    Raises:
        ValueError: a recorded step is neither 2D nor 3D (a bug in the workflow).
    """
    if isinstance(image, ImageZYX):
        spacing_um = image.spacing_um if spacing_um is None else spacing_um
        image = image.data
    spacing_um = spacing_um or (None, None, None)
    image = np.asarray(image)
    folder = Path(out_dir) / f"{stem}{INTERMEDIATES_SUFFIX}"
    written = []
    columns = [("input", image)]
    for index, (name, array) in enumerate(steps.items(), start=1):
        vol = _as_volume(name, array)
        written.append(write_ome_tiff(folder / _file_name(index, name), vol, spacing_um, name))
        # A step at another size (a rescaled image) is on disk but cannot share the panel.
        if vol.shape[1:] == image.shape[1:]:
            columns.append((name, vol))
    columns.append(("mask", np.asarray(mask)))
    written.append(save_png(folder / QC_NAME, panel(columns, outline_mask=mask, outline_on=(0,))))
    return written
