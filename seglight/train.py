"""Train a segmentation network: ``python -m seglight.train [overrides]``.

Examples::

    python -m seglight.train                                  # tiny U-Net on the demo data
    python -m seglight.train model=unet_xy data=lamin data.path=/my/curated/lamin
    python -m seglight.train ckpt_path=runs/train/<time>/checkpoints/last.ckpt   # resume
    python -m seglight.train -m model.optimizer.lr=1e-3,3e-4  # a sweep, one folder per job
    python -m seglight.train hparams_search=optuna            # Optuna maximizes val/dice
    python -m seglight.train --help                           # config groups and options
"""

from __future__ import annotations

import logging
from pathlib import Path

import hydra
import lightning as L
from hydra.utils import instantiate
from omegaconf import DictConfig, OmegaConf

from seglight import CONF_DIR
from seglight.config import validate_train_config
from seglight.errors import exit_on_user_error

log = logging.getLogger("seglight.train")


def _instantiate_all(group: DictConfig | None) -> list:
    return [instantiate(c) for c in (group or {}).values() if c and "_target_" in c]


@exit_on_user_error
def train(cfg: DictConfig) -> float | None:
    """Fit the configured model on the configured data; return ``cfg.optimized_metric``.

    Raises:
        ConfigError: the config cannot work (checked before any work starts).
    """
    validate_train_config(cfg)
    L.seed_everything(cfg.seed, workers=True)
    datamodule = instantiate(cfg.data)
    model = instantiate(
        cfg.model,
        normalization=OmegaConf.to_container(cfg.data.normalization, resolve=True),
        patch_zyx=list(cfg.data.patch_zyx),
        spacing_um=OmegaConf.to_container(cfg.data.spacing_um) if cfg.data.spacing_um else None,
    )
    loggers = _instantiate_all(cfg.get("logger"))
    trainer: L.Trainer = instantiate(
        cfg.trainer, callbacks=_instantiate_all(cfg.get("callbacks")), logger=loggers or False
    )
    trainer.fit(model, datamodule=datamodule, ckpt_path=cfg.get("ckpt_path"))

    metric = trainer.callback_metrics.get(cfg.optimized_metric)
    checkpoint = trainer.checkpoint_callback
    if checkpoint is not None and checkpoint.best_model_path:
        best = checkpoint.best_model_score
        log.info("best checkpoint: %s (%s %.4f)", checkpoint.best_model_path,
                 checkpoint.monitor, float(best) if best is not None else float("nan"))
    if loggers:
        log.info("curves and image panels: tensorboard --logdir %s",
                 Path(loggers[0].save_dir).resolve())
    return float(metric) if metric is not None else None


@hydra.main(version_base="1.3", config_path=str(CONF_DIR), config_name="train")
def main(cfg: DictConfig) -> float | None:
    return train(cfg)


if __name__ == "__main__":
    main()
