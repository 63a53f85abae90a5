"""napari reader: microscopy files with their voxel size, seglight's outputs as Labels.

napari's built-in TIFF reader drops the voxel size, so an object table made from its
layers would be in voxels called µm. This reader (*File > Open*, or ``napari cell.tif``
with seglight chosen as the reader) opens TIFF, OME-TIFF, OME-Zarr and CZI through bioio,
the same reading as :func:`seglight.io.read_image`, and gives each layer:

- ``scale``: the voxel size in µm (ZYX; 1 on an axis the file does not describe);
- ``metadata["spacing_um"]``: the voxel size as the file gives it (``None`` where it
  does not say), which is how the widgets tell "1 µm" from "unknown";
- one Image layer per channel (multi-channel files), named after the channel;
- seglight's outputs (``*_struct_segmentation.tiff`` masks, ``*_struct_labels.tiff``
  objects, curated ``*_GT`` ground truth) as Labels layers with their scale.

Scene 0 is read; a time series keeps its T axis (scale 1 on it).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from seglight.io.image import Spacing, _spacing_of, image_stem, is_image_file, open_image

#: Name endings (before the image suffix) of the files seglight writes as labels.
LABEL_STEMS = ("_struct_segmentation", "_struct_labels", "_GT")
#: The metadata key of the voxel size as the file gives it.
SPACING_KEY = "spacing_um"


def is_labels_file(path: str | Path) -> bool:
    """Whether ``path`` is one of seglight's label outputs (mask, labels, ground truth)."""
    return image_stem(path).endswith(LABEL_STEMS)


def get_reader(path: str | list[str]):
    """napari's reader hook: a function for a file seglight reads, else ``None``."""
    if isinstance(path, list):
        return read_layers if path and all(_readable(p) for p in path) else None
    return read_layers if _readable(path) else None


def _readable(path: str | Path) -> bool:
    path = Path(path)
    return is_image_file(path) and (path.is_file() or path.name.lower().endswith(".zarr"))


def spacing_scale(spacing_um: Spacing) -> tuple[float, float, float]:
    """A layer scale from a voxel size: 1 on an axis whose size is unknown."""
    return tuple(float(s) if s else 1.0 for s in spacing_um)  # type: ignore[return-value]


def read_layers(path: str | list[str]) -> list[tuple[Any, dict, str]]:
    """The layers of one file (or of each file of a list), as napari's layer data tuples.

    Raises:
        SeglightError: the file cannot be read (one line naming it).
    """
    if isinstance(path, list):
        return [layer for p in path for layer in read_layers(p)]
    return file_layers(path)


def file_layers(path: str | Path) -> list[tuple[Any, dict, str]]:
    """The layer data tuples of one file: ``(data, kwargs, "image" | "labels")``."""
    path = Path(path)
    img = open_image(path)
    spacing = _spacing_of(img)
    stem = image_stem(path)
    data = img.get_image_dask_data("TCZYX")
    n_t, n_c = int(data.shape[0]), int(data.shape[1])
    scale = spacing_scale(spacing)
    if n_t > 1:
        scale = (1.0, *scale)
    meta = {SPACING_KEY: spacing, "path": str(path)}
    names = [str(n) for n in (img.channel_names or [])]
    if is_labels_file(path):
        labels = np.asarray(data[:, 0] if n_t > 1 else data[0, 0])
        if not np.issubdtype(labels.dtype, np.integer):
            labels = labels.astype(np.uint32)
        return [(labels, {"name": stem, "scale": scale, "metadata": meta, "opacity": 0.6},
                 "labels")]
    layers = []
    for c in range(n_c):
        channel = data[:, c] if n_t > 1 else data[0, c]
        name = stem if n_c == 1 else f"{stem} [{names[c] if c < len(names) else c}]"
        layers.append((channel, {"name": name, "scale": scale, "metadata": dict(meta),
                                 "blending": "additive" if n_c > 1 else "translucent"},
                       "image"))
    return layers

