"""What a training run records about itself: ``result.json`` in its folder, the history of
the optimized metric, and its hyperparameters in TensorBoard's HParams view.

``result.json`` is written when the run starts (``status: running``) and again when it ends
(``done``, ``failed`` with the one-line error, or ``interrupted``); a sweep's summary
(:mod:`seglight.sweep`) gathers them. Its keys: ``status``, ``error``, ``job`` (the sweep's
job number), ``overrides`` (the run's command-line overrides), ``metric`` (the optimized
metric's name), ``mode`` (``max`` or ``min``), ``best`` (its best value over the run: the
score of ``best.ckpt`` when that checkpoint monitors it), ``best_step``/``best_epoch`` (where
it was reached), ``last`` (its last value), ``wall_s``/``cpu_s`` (this process's seconds,
summed over resumed parts), ``best_checkpoint``/``last_checkpoint``, ``started``/``ended`` and,
after a resume, ``resumed_with`` (the resuming command's overrides).
"""

from __future__ import annotations

import logging
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import lightning as L
from lightning.pytorch.callbacks import ModelCheckpoint

from seglight.sweep import RESULT_FILE, job_number, one_line, read_result, write_result

log = logging.getLogger("seglight.train")


def metric_mode(metric: str, callbacks: list) -> str:
    """``max`` or ``min``: the mode of the checkpoint callback that monitors ``metric``;
    where none does, ``min`` for a loss and ``max`` for anything else (a score)."""
    for callback in callbacks:
        if isinstance(callback, ModelCheckpoint) and callback.monitor == metric:
            return callback.mode
    return "min" if "loss" in metric else "max"


class MetricHistory(L.Callback):
    """Every validation value of one metric, with the step and epoch it was logged at.

    Its state goes into checkpoints, so a resumed run's best is the best of the whole run.
    """

    def __init__(self, metric: str, mode: str = "max"):
        self.metric, self.mode = metric, mode
        self.values: list[tuple[int, int, float]] = []  # (global step, epoch, value)

    @property
    def state_key(self) -> str:
        return f"MetricHistory[{self.metric}]"

    def on_validation_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        value = trainer.callback_metrics.get(self.metric)
        if trainer.sanity_checking or value is None:
            return
        self.values.append((int(trainer.global_step), int(trainer.current_epoch), float(value)))

    def best(self) -> tuple[int, int, float] | None:
        """(step, epoch, value) of the best value (the first of equals), or None."""
        best = None
        for entry in self.values:
            if best is None or (entry[2] > best[2] if self.mode == "max" else entry[2] < best[2]):
                best = entry
        return best

    def last(self) -> float | None:
        return self.values[-1][2] if self.values else None

    def state_dict(self) -> dict[str, Any]:
        return {"values": [list(v) for v in self.values]}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        self.values = [(int(s), int(e), float(v)) for s, e, v in state_dict.get("values", [])]


def _hydra_job() -> tuple[int | None, list[str]]:
    """The sweep's job number (None outside a multirun) and the run's overrides."""
    try:
        from hydra.core.hydra_config import HydraConfig
        from hydra.types import RunMode

        hydra = HydraConfig.get()
    except ValueError:  # not in a Hydra app (tests, notebooks)
        return None, []
    overrides = [str(o) for o in hydra.overrides.task]
    if hydra.mode != RunMode.MULTIRUN:
        return None, overrides
    return job_number(hydra), overrides


class RunRecord:
    """Writes the run folder's ``result.json`` at the start and at the end of a run.

    Use as a context manager around the run; an exception leaves ``status: failed`` (or
    ``interrupted``) with its one-line error and propagates. With ``continues`` (a resumed
    run in its own folder), the times of the earlier parts (the folder's ``result.json``) are
    added, and its start, job number and overrides kept (the resuming command's are in
    ``resumed_with``).
    """

    def __init__(self, folder: str | Path, metric: str, continues: bool = False):
        self.folder = Path(folder)
        job, overrides = _hydra_job()
        earlier = (read_result(self.folder) or {}) if continues else {}
        self.result: dict[str, Any] = {
            "status": "running", "error": None, "job": job, "overrides": overrides,
            "metric": metric, "mode": None, "best": None, "best_step": None, "best_epoch": None,
            "last": None, "wall_s": None, "cpu_s": None, "best_checkpoint": None,
            "last_checkpoint": None, "started": earlier.get("started") or _now(), "ended": None,
        }
        if earlier.get("job") is not None and job is None:
            self.result["job"] = earlier["job"]
        if earlier.get("overrides"):  # the run's own; the resuming command's beside them
            self.result.update(overrides=earlier["overrides"], resumed_with=overrides)
        self._earlier = (float(earlier.get("wall_s") or 0), float(earlier.get("cpu_s") or 0))
        self._t0 = (time.perf_counter(), time.process_time())

    def __enter__(self) -> RunRecord:
        self._write()
        return self

    def __exit__(self, kind, err, tb) -> None:
        if isinstance(err, KeyboardInterrupt | SystemExit):  # Lightning exits 1 on Ctrl+C
            self.result.update(status="interrupted", error="interrupted")
        elif err is not None:
            self.result.update(status="failed", error=one_line(err))
        elif self.result["status"] == "running":
            self.result["status"] = "done"
        try:
            self._write()
        except OSError as write_err:  # never hide the run's own error behind this one
            log.warning("could not write %s: %s", self.folder / RESULT_FILE, write_err)

    def finish(self, history: MetricHistory, best_score: float | None,
               best_checkpoint: Path | None, last_checkpoint: Path | None) -> None:
        """Fill in the metric (``best_score``: the best checkpoint's, where it monitors the
        metric) and the checkpoints."""
        best = history.best()
        self.result.update(
            mode=history.mode,
            best=best_score if best_score is not None else (best[2] if best else None),
            best_step=best[0] if best else None, best_epoch=best[1] if best else None,
            last=history.last(),
            best_checkpoint=str(best_checkpoint) if best_checkpoint else None,
            last_checkpoint=str(last_checkpoint) if last_checkpoint else None,
        )

    def _write(self) -> None:
        wall, cpu = time.perf_counter() - self._t0[0], time.process_time() - self._t0[1]
        self.result.update(wall_s=round(self._earlier[0] + wall, 2),
                           cpu_s=round(self._earlier[1] + cpu, 2))
        if self.result["status"] != "running":
            self.result["ended"] = _now()
        write_result(self.folder, self.result)


def _now() -> str:
    return datetime.now().isoformat(timespec="seconds")


def log_hparams(loggers: list, overrides: list[str], metrics: dict[str, float | None]) -> None:
    """Log the run's overrides, as a flat dict, with ``metrics`` to TensorBoard's HParams
    view (every TensorBoard logger), so the runs of a sweep can be compared there."""
    from lightning.pytorch.loggers import TensorBoardLogger

    boards = [lg for lg in loggers if isinstance(lg, TensorBoardLogger)]
    metrics = {k: float(v) for k, v in metrics.items() if v is not None}
    if not boards or not metrics:
        return
    params = {"overrides": " ".join(overrides) or "(none)"}
    for override in overrides:
        key, sep, value = override.lstrip("+~").partition("=")
        if sep and not key.startswith("hydra"):
            params[key] = _hparam_value(value)
    for board in boards:
        board.log_hyperparams(params, metrics)


def _hparam_value(text: str) -> float | int | str:
    """A number where the override is one (TensorBoard then sorts and plots it), else text."""
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text
