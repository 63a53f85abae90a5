"""``model=unet_xy data=lamin data.path=DIR trainer.max_epochs=2`` on real pixels: the team's
confocal ovule stack, whose cell-wall boundaries are a thin-shell target like Lamin B1."""

from __future__ import annotations

import numpy as np
import pytest
from skimage.segmentation import find_boundaries

from seglight.io import write_triplet
from seglight.training import train
from tests.hydra_utils import compose_config

pytestmark = pytest.mark.slow  # end to end: trains a network


def test_unet_xy_trains_on_a_real_curated_folder(ovule, tmp_path):
    raw, label, spacing = ovule
    gt = find_boundaries(label, mode="inner").astype(np.uint8)
    folder = tmp_path / "curated"
    costmap = np.ones(raw.shape, np.float32)
    costmap[:, :, :16] = 0  # an excluded strip, as a curator would draw
    write_triplet(folder, "ovule_0", raw, gt, costmap, spacing)
    write_triplet(folder, "ovule_1", raw[:, ::-1].copy(), gt[:, ::-1].copy(), None, spacing)
    cfg = compose_config(
        "train",
        ["model=unet_xy", "data=lamin", f"data.path={folder}", "trainer.max_epochs=2",
         # CPU-sized: narrower network and the smallest valid unet_xy patch
         "model.net.width=4", "data.patch_zyx=[29,92,92]", "data.batch_size=1",
         "data.samples_per_epoch=2", "data.val_fraction=0.5", "data.val_patches_per_image=2",
         "data.num_workers=0",
         "trainer.accelerator=cpu", "logger=csv"],
        tmp_path / "run",
    )
    dice = train(cfg)
    assert dice is not None and 0.0 <= dice <= 1.0
    assert (tmp_path / "run" / "checkpoints" / "best.ckpt").is_file()
