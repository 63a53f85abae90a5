"""Shared fixtures: small images on disk, and the team's real sample data when present."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from omegaconf import open_dict

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


@pytest.fixture(scope="session")
def tiny_ckpt(tmp_path_factory) -> Path:
    """A real checkpoint from ``seglight.train``: unet_xy_tiny at width 2, one tiny epoch."""
    from seglight.training import train
    from tests.helpers.hydra_utils import compose_config

    out = tmp_path_factory.mktemp("train")
    cfg = compose_config(
        "train",
        ["model=unet_xy_tiny", "model.net.width=2", "data.demo.n_images=2",
         "data.demo.shape_zyx=[16,64,64]", "data.patch_zyx=[8,32,32]", "data.batch_size=1",
         "data.samples_per_epoch=1", "data.val_patches_per_image=1", "data.num_workers=0",
         "trainer.max_epochs=1", "trainer.accelerator=cpu", "logger=csv", "callbacks=default"],
        out,
    )
    with open_dict(cfg):
        cfg.data.path = str(out / "demo")
    train(cfg)
    return out / "checkpoints" / "last.ckpt"
