"""Hand-built curated folders with known geometry, for the planner's tests."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from seglight.io.curated import write_triplet


def ball(shape, center, radius_vox) -> np.ndarray:
    grid = np.indices(shape)
    d2 = sum(((g - c) / r) ** 2 for g, c, r in zip(grid, center, radius_vox, strict=True))
    return d2 <= 1


def write_folder(folder: Path, masks, spacing, costmaps=None, seed=0) -> Path:
    """One triplet per mask: image = 100 + 400 * mask + noise (uint16)."""
    rng = np.random.default_rng(seed)
    for i, mask in enumerate(masks):
        image = (100 + 400 * mask + rng.normal(0, 10, mask.shape)).astype(np.uint16)
        cm = None if costmaps is None else costmaps[i]
        write_triplet(folder, f"img_{i}", image, mask.astype(np.uint8), cm, tuple(spacing))
    return folder


@pytest.fixture
def balls(tmp_path) -> Path:
    """Two images of 64x48x48 at 0.2 um isotropic (z is pooled only with 64+ slices), each
    with one ball of radius 6 voxels."""
    masks = [ball((64, 48, 48), (32, 24, 24), (6, 6, 6)) for _ in range(2)]
    return write_folder(tmp_path / "balls", masks, (0.2, 0.2, 0.2))


@pytest.fixture
def shells(tmp_path) -> Path:
    """Two images of 24x64x64 at 0.5 x 0.1 x 0.1 um, each with a hollow ellipsoid whose wall
    is about 2 voxels thick in xy."""
    shape = (24, 64, 64)
    outer = ball(shape, (12, 32, 32), (8, 22, 22))
    inner = ball(shape, (12, 32, 32), (7, 20, 20))
    return write_folder(tmp_path / "shells", [outer & ~inner] * 2, (0.5, 0.1, 0.1))
