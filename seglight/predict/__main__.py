"""Binarize images: ``python -m seglight.predict [overrides]``.

Examples::

    python -m seglight.predict ckpt_path=runs/train/<time>/checkpoints/best.ckpt \\
        input=/data/raw output=/data/seg
    python -m seglight.predict model=classic/lmnb1_interphase input=/data/raw output=/data/seg
    python -m seglight.predict workflow=tuned.yaml input=/data/raw output=/data/seg labels=true
    python -m seglight.predict ... input=files.csv channel=Lamin scenes=[0] write_proba=true
    python -m seglight.predict ... trainer.devices=4          # 4 GPUs split the files (DDP)
    python -m seglight.predict --help                          # every option

Outputs whose files exist are skipped (rerun the same command to resume; ``overwrite=true``
recomputes). A broken file is reported in one line and skipped; the run ends with
``N written, M skipped, K failed`` and exits 1 if any file failed. SIGTERM (``kill``, a
scheduler's time limit) stops the run after the file in progress, with exit code 143.
"""

from __future__ import annotations

import logging
import signal
import sys

from hydra.utils import instantiate
from lightning.pytorch.utilities import rank_zero_only
from omegaconf import DictConfig

from seglight.cli import hydra_entry
from seglight.predict.build import build_runner
from seglight.predict.lightning import BinarizerModule, FilesDataModule, StopRequested
from seglight.summary import Summary

log = logging.getLogger("seglight.predict")


def predict(cfg: DictConfig) -> Summary:
    """Binarize every input file with Lightning's predict loop; return the summary of all
    processes (each process logs its own failures as they happen).

    Raises:
        ConfigError: the config cannot work (checked before any work starts).
    """
    # Lightning puts the network on each process's device; it is built on the CPU.
    runner, files = build_runner(cfg, device="cpu")
    trainer = instantiate(cfg.trainer)
    module = BinarizerModule(runner)
    try:
        trainer.predict(module, datamodule=FilesDataModule(files), return_predictions=False)
    except StopRequested:
        log.warning("stopped by SIGTERM after %s; rerun the same command to resume",
                    module.summary.line())
        raise SystemExit(128 + signal.SIGTERM) from None
    return module.total


@hydra_entry("predict")
def main(cfg: DictConfig) -> None:
    summary = predict(cfg)
    if rank_zero_only.rank == 0:
        print(summary.line(), file=sys.stderr, flush=True)
    if summary.failed:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
