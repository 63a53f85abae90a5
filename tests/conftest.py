"""Shared fixtures: small images on disk, and the team's real sample data when present."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

# Qt widget tests run without a display (CI, ssh); set before pytest-qt makes its QApplication.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(0)


@pytest.fixture
def ovule():
    """The real confocal ovule crop: (raw uint8, label uint16, spacing ZYX µm).

    Skips where ../shared is absent, as in a user's clone."""
    path = SHARED_DATA / "sample_ovule.h5"
    if not path.exists():
        pytest.skip("../shared/data/sample_ovule.h5 is absent (it is only in the team's checkout)")
    h5py = pytest.importorskip("h5py")
    with h5py.File(path, "r") as f:
        raw = f["raw"][:]
        label = f["label"][:]
        spacing = tuple(float(v) for v in f["raw"].attrs["element_size_um"])
    return raw, label, spacing
