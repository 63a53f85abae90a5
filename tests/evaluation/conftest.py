"""Small mask folders on disk, named as the predict runner and the Curator write them."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from seglight.io import write_ome_tiff

SPACING = (0.5, 0.25, 0.25)


def cube(shape=(8, 12, 12), lo=(2, 2, 2), size=4) -> np.ndarray:
    """uint8 0/255 mask with one ``size``-voxel cube whose low corner is ``lo``."""
    mask = np.zeros(shape, dtype=np.uint8)
    z, y, x = lo
    mask[z:z + size, y:y + size, x:x + size] = 255
    return mask


@pytest.fixture
def mask_folders(tmp_path) -> dict[str, Path]:
    """pred/ and gt/ with ``a`` (perfect) and ``b`` (one voxel off in x)."""
    pred, gt = tmp_path / "pred", tmp_path / "gt"
    for name, shift in (("a", 0), ("b", 1)):
        write_ome_tiff(gt / f"{name}.tif", cube(), SPACING)
        write_ome_tiff(pred / f"{name}_struct_segmentation.tiff", cube(lo=(2, 2, 2 + shift)),
                       SPACING)
    return {"pred": pred, "gt": gt, "tmp": tmp_path}
