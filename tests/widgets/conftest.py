"""Shared by the Train and Apply widget tests: a
tiny training recipe (the demo data, unet_xy_tiny at width 2, 8x32x32 patches) that trains
in seconds on two cores."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

#: Overrides that make a run tiny (what the Train widget's "overrides" field takes).
TINY = ("model.net.width=2 data.demo.n_images=2 data.demo.shape_zyx=[16,64,64] "
        "data.patch_zyx=[8,32,32] data.batch_size=1 data.val_patches_per_image=1 "
        "trainer.accelerator=cpu")
