"""Training: compose, check and fit; what ``python -m seglight.train`` and ``seglight.train``
run.

:func:`fit` trains from a composed config and returns where the results are; :func:`train`
is the command-line task (it returns the metric a Hydra sweeper optimizes).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path

import lightning as L
from hydra.utils import instantiate
from lightning.pytorch.callbacks import ProgressBar
from lightning.pytorch.loggers import TensorBoardLogger
from omegaconf import DictConfig, OmegaConf

from seglight.errors import ConfigError
from seglight.io.checkpoint import safe_checkpoint_loading
from seglight.sweep import one_line, record_traceback
from seglight.training.budget import length_callbacks, run_length, user_overrides
from seglight.training.checks import validate_train_config
from seglight.training.init_from import (
    adopt_source,
    check_shrink_perturb,
    freeze,
    fresh_names,
    load_matching,
    read_source,
    shrink_perturb,
)
from seglight.training.precision import select_precision
from seglight.training.record import MetricHistory, RunRecord, log_hparams, metric_mode
from seglight.training.resume import RngStates, continue_in_run_folder, keep_csv_rows
from seglight.training.split import RecordSplit

log = logging.getLogger("seglight.train")


def _instantiate_all(group: DictConfig | None) -> list:
    return [instantiate(c) for c in (group or {}).values() if c and "_target_" in c]


@dataclass(frozen=True)
class TrainResult:
    """What a training run produced.

    Attributes:
        metric: the best value of ``cfg.optimized_metric`` over the run (None if never
            logged): the score of ``best.ckpt`` where that checkpoint monitors it (the default,
            ``val/dice``); also in the run folder's ``result.json``.
        best_checkpoint: ``checkpoints/best.ckpt`` (highest validation Dice), if written.
        last_checkpoint: ``checkpoints/last.ckpt``, if written.
        log_dir: the TensorBoard folder, if a TensorBoard logger ran.
    """

    metric: float | None
    best_checkpoint: Path | None
    last_checkpoint: Path | None
    log_dir: Path | None


def fit(cfg: DictConfig) -> TrainResult:
    """Fit the configured model on the configured data; the run folder's ``result.json``
    records the outcome (:mod:`seglight.training.record`).

    Raises:
        ConfigError: the config cannot work (checked before any work starts).
        SeglightError: a data file or the resume checkpoint is unusable (names the file).
    """
    continues = continue_in_run_folder(cfg)  # a resumed run writes on in its own folder
    with RunRecord(cfg.paths.output_dir, cfg.optimized_metric, continues) as record:
        return _fit(cfg, record)


def _fit(cfg: DictConfig, record: RunRecord) -> TrainResult:
    started = time.monotonic()  # a budget counts from here (reading the data included)
    source = read_source(cfg.init_from) if cfg.get("init_from") else None
    if cfg.get("freeze") and source is None:
        raise ConfigError(f"freeze={cfg.freeze} needs init_from=<checkpoint or package>: "
                          "frozen layers must start from trained weights")
    init = _init_options(cfg, source)
    if source is not None:
        adopt_source(cfg, source)  # its network and recipe, unless the command line chose
    validate_train_config(cfg)
    L.seed_everything(cfg.seed, workers=True)
    datamodule = instantiate(cfg.data)
    datamodule.spacing_um_given = "data.spacing_um" in user_overrides()  # else a config default
    model = instantiate(
        cfg.model,
        normalization=OmegaConf.to_container(cfg.data.normalization, resolve=True),
        patch_zyx=list(cfg.data.patch_zyx),
        spacing_um=OmegaConf.to_container(cfg.data.spacing_um) if cfg.data.spacing_um else None,
        parent={**source.parent(), **init} if source is not None else None,
    )
    if source is not None:
        _warm_start(model.net, source, init)
    if cfg.get("freeze"):
        log.info("freeze=%s: %d parameters kept fixed", cfg.freeze, freeze(model.net, cfg.freeze))
    loggers = _instantiate_all(cfg.get("logger"))
    callbacks = [*_instantiate_all(cfg.get("callbacks")), RecordSplit(),  # split.json + ckpt
                 *length_callbacks(cfg, started)]
    if cfg.trainer.get("enable_progress_bar") is False:  # the user's switch wins over the config
        callbacks = [c for c in callbacks if not isinstance(c, ProgressBar)]
    history = MetricHistory(cfg.optimized_metric, metric_mode(cfg.optimized_metric, callbacks))
    callbacks += [history, RngStates()]
    precision = select_precision(cfg.trainer.get("precision"),
                                 cfg.trainer.get("accelerator", "auto"))
    log.info("training precision: %s (trainer.precision=%s)", precision,
             cfg.trainer.get("precision"))
    trainer: L.Trainer = instantiate(cfg.trainer, callbacks=callbacks, logger=loggers or False,
                                     precision=precision, **run_length(cfg))
    ckpt_path = cfg.get("ckpt_path")
    with safe_checkpoint_loading(ckpt_path), keep_csv_rows(cfg.paths.output_dir, ckpt_path):
        trainer.fit(model, datamodule=datamodule, ckpt_path=ckpt_path, weights_only=True)

    best = last = best_score = None
    for callback in trainer.checkpoint_callbacks:
        if callback.monitor is not None and callback.best_model_path:
            best = Path(callback.best_model_path)
            score = callback.best_model_score
            if callback.monitor == cfg.optimized_metric and score is not None:
                best_score = float(score)
            log.info("best checkpoint: %s (%s %.4f)", best, callback.monitor,
                     float(score) if score is not None else float("nan"))
        elif callback.monitor is None and callback.best_model_path:  # the latest one kept
            last = Path(callback.best_model_path)
    boards = [lg for lg in loggers if isinstance(lg, TensorBoardLogger)]
    log_dir = Path(boards[0].save_dir).resolve() if boards else None
    if log_dir is not None:
        log.info("curves and image panels: tensorboard --logdir %s", log_dir)
    record.finish(history, best_score, best, last)
    metric = record.result["best"]
    log_hparams(loggers, record.result["overrides"], {f"hp/best_{cfg.optimized_metric}": metric})
    return TrainResult(metric, best, last, log_dir)


def _init_options(cfg: DictConfig, source) -> dict:
    """``init.*`` (how a fine-tuned network starts), checked; {} when at their defaults."""
    init = {k: v for k, v in (cfg.get("init") or {}).items()}
    shrink, perturb = float(init.get("shrink", 1.0)), float(init.get("perturb", 0.0))
    reinit = init.get("reinit")
    if (shrink, perturb, reinit) == (1.0, 0.0, None):
        return {}
    if source is None:
        raise ConfigError("init.shrink, init.perturb and init.reinit need init_from=<checkpoint "
                          "or package>: they change how a fine-tuned network starts")
    check_shrink_perturb(shrink, perturb)
    return {"shrink": shrink, "perturb": perturb, "reinit": reinit}


def _warm_start(net, source, init: dict) -> None:
    """Load the source's weights into ``net`` as ``init`` says (fresh parts, shrink and
    perturb), and log what was done."""
    fresh = {k: v.detach().clone() for k, v in net.named_parameters()}
    report = load_matching(net, source, fresh_names(net, init.get("reinit")))
    log.info(report.line(source))
    if init.get("shrink", 1.0) != 1.0 or init.get("perturb", 0.0):
        n = shrink_perturb(net, fresh, report.loaded, init["shrink"], init["perturb"])
        log.info("init: shrink %g and perturb %g (Ash & Adams 2020) applied to %d loaded "
                 "parameters", init["shrink"], init["perturb"], n)


def train(cfg: DictConfig) -> float | None:
    """The command-line task: fit, then return the best value of ``cfg.optimized_metric``
    over the run (what a sweeper optimizes: the score of the ``best.ckpt`` kept).

    In a multirun, a job that fails returns None after its ``result.json`` and log say why,
    so the sweep goes on (the sweep's summary lists it, and the command exits 1 at the end).
    """
    if not in_multirun():
        return fit(cfg).metric
    try:
        return fit(cfg).metric
    except Exception as err:  # noqa: BLE001  (any failure of one job; the others go on)
        log.error("this job failed: %s%s", one_line(err), record_traceback(err, cfg))
        return None


def in_multirun() -> bool:
    """Whether this runs as a job of a Hydra multirun (a sweep)."""
    from hydra.core.hydra_config import HydraConfig
    from hydra.types import RunMode

    return HydraConfig.initialized() and HydraConfig.get().mode == RunMode.MULTIRUN
