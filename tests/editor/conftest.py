"""A small ER-like stack (the structure sec61b is tuned for) and a folder of them."""

from __future__ import annotations

import numpy as np
import pytest

from seglight.data.structures import structure_image
from seglight.io import write_ome_tiff

SHAPE = (10, 64, 64)
SPACING = (0.29, 0.108, 0.108)


@pytest.fixture(scope="session")
def er_image() -> np.ndarray:
    """uint16 ZYX, an ER network with the microscope's blur and noise."""
    return structure_image("sec61b", SHAPE, seed=1)


@pytest.fixture
def er_folder(tmp_path) -> dict:
    """raw/ with three ER stacks er0..er2 (OME-TIFF with voxel size); out/ not yet made."""
    raw = tmp_path / "raw"
    raw.mkdir()
    images = {}
    for i in range(3):
        images[f"er{i}"] = structure_image("sec61b", SHAPE, seed=10 + i)
        write_ome_tiff(raw / f"er{i}.tif", images[f"er{i}"], SPACING)
    return {"raw": raw, "out": tmp_path / "out", "images": images, "tmp": tmp_path}


@pytest.fixture(autouse=True)
def editor_config_dir(tmp_path, monkeypatch):
    """The editor's autosave goes to a test folder, never the user's config folder."""
    folder = tmp_path / "config"
    monkeypatch.setenv("SEGLIGHT_CONFIG_DIR", str(folder))
    return folder
