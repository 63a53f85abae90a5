"""Recording the data split of a run: ``split.json`` in the run folder and a checkpoint key.

See :mod:`seglight.data.splits` for how the split is made and what reads it back.
"""

from __future__ import annotations

import logging
from typing import Any

import lightning as L
from lightning.pytorch.callbacks import Callback

from seglight.data.splits import CHECKPOINT_KEY, write_split

log = logging.getLogger("seglight.train")


def _split(trainer: L.Trainer) -> dict[str, Any] | None:
    return getattr(trainer.datamodule, "split", None)


class RecordSplit(Callback):
    """Write the DataModule's ``split`` to ``<default_root_dir>/split.json`` when fitting
    starts, and into every checkpoint under :data:`~seglight.data.splits.CHECKPOINT_KEY`."""

    def on_fit_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        split = _split(trainer)
        if split is not None and trainer.is_global_zero:
            path = write_split(split, trainer.default_root_dir)
            log.info("split: %d train, %d val, %d test images (%s)", len(split["train"]),
                     len(split["val"]), len(split["test"]), path)

    def on_save_checkpoint(self, trainer: L.Trainer, pl_module: L.LightningModule,
                           checkpoint: dict[str, Any]) -> None:
        split = _split(trainer)
        if split is not None:
            checkpoint[CHECKPOINT_KEY] = split
