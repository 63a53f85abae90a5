"""Tiny raw images and segmentations on disk, laid out as the predict runner writes them."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from seglight.io import write_ome_tiff

SHAPE = (8, 64, 64)
SPACING = (0.5, 0.1, 0.1)


def make_pair(raw_dir: Path, seg_dir: Path, stem: str, rng: np.random.Generator,
              seg_value: int = 255, shape=SHAPE) -> tuple[np.ndarray, np.ndarray]:
    """Write ``raw_dir/<stem>.tif`` (uint16) and ``seg_dir/<stem>_struct_segmentation.tiff``."""
    raw = rng.integers(100, 4000, size=shape, dtype=np.uint16)
    seg = (rng.random(shape) > 0.7).astype(np.uint8) * seg_value
    write_ome_tiff(raw_dir / f"{stem}.tif", raw, SPACING)
    write_ome_tiff(seg_dir / f"{stem}_struct_segmentation.tiff", seg, SPACING)
    return raw, seg


@pytest.fixture
def folders(tmp_path, rng):
    """raw/ and seg/ with three images c0..c2, and an empty out/ path; returns a dict."""
    raw_dir, seg_dir, seg2_dir = tmp_path / "raw", tmp_path / "seg", tmp_path / "seg2"
    for d in (raw_dir, seg_dir, seg2_dir):
        d.mkdir()
    data = {}
    for i in range(3):
        raw, seg = make_pair(raw_dir, seg_dir, f"c{i}", rng)
        seg2 = (rng.random(SHAPE) > 0.4).astype(np.uint8) * 255
        write_ome_tiff(seg2_dir / f"c{i}_struct_segmentation.tiff", seg2, SPACING)
        data[f"c{i}"] = (raw, seg, seg2)
    return {"raw": raw_dir, "seg": seg_dir, "seg2": seg2_dir, "out": tmp_path / "out",
            "data": data, "tmp": tmp_path}
