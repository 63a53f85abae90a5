"""Lightning callbacks of seglight's training configs (``conf/callbacks/``)."""

from __future__ import annotations

import logging
from pathlib import Path

import lightning as L
from lightning.pytorch.utilities.exceptions import SIGTERMException

log = logging.getLogger("seglight.train")


class CheckpointOnInterrupt(L.Callback):
    """Save the training state when a run is stopped (Ctrl-C, or SIGTERM as sent by the
    napari Train widget's Cancel, a job scheduler or ``kill``), so the work done since the
    last epoch is kept and ``ckpt_path=`` resumes from there.

    Lightning's own ``OnExceptionCheckpoint`` also fires on crashes (a checkpoint of a failed
    state) and makes every later ``fit`` resume from "last"; this one only saves on a stop.

    Args:
        dirpath: the checkpoint folder.
        filename: the checkpoint's name without ``.ckpt`` (``last``: the file the
            end-of-epoch checkpoint keeps, so resuming has one name).
    """

    def __init__(self, dirpath: str | Path, filename: str = "last"):
        self.path = Path(dirpath) / f"{filename}.ckpt"

    def on_exception(self, trainer: L.Trainer, pl_module: L.LightningModule,
                     exception: BaseException) -> None:
        if not isinstance(exception, KeyboardInterrupt | SIGTERMException):
            return
        if trainer.global_step == 0:
            return  # nothing learnt yet: keep whatever is there
        trainer.save_checkpoint(self.path)
        log.info("stopped at epoch %d, step %d: saved %s (resume with ckpt_path=%s)",
                 trainer.current_epoch, trainer.global_step, self.path, self.path)
