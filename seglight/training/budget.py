"""How long training runs: a wall-time budget, the step/epoch limits, and why it stopped.

``budget=30min`` (or ``2h``, ``900`` seconds, ``1h30min``) ends training on time, counted
from the start of :func:`seglight.training.fit.fit` (reading the data included); with
``budget_clock=cpu`` the budget is the process's CPU seconds since it started (planning and
imports included: what ``time`` reports as user + sys), for a machine shared with others. The
:class:`TimeBudget` callback times the first training steps and the sanity validation,
then sets the run's step count so that the steps *and* the validations still to come fit
what is left, and re-plans after every step from the measured rates (a shared machine's
speed drifts). Each re-plan gives the new count to the learning-rate schedule
(:func:`seglight.training.schedules.respan`), so the warm-up and the decay span the budget
and the schedule is at its end when the budget is; a hard stop ends the run if a step would
overrun it anyway.

Training always ends on a validation (:class:`FinalValidation`): when the last step falls
between two scheduled validations, one more runs, so ``best.ckpt`` can be the final weights
(whose learning rate had decayed to its end). A budget counts that validation in.

``trainer.max_steps`` sets the run's length unless ``trainer.max_epochs`` is also given on
the command line (the config's default epoch count would otherwise stop it first, silently);
:class:`StopReason` logs one line saying which limit ended training.
"""

from __future__ import annotations

import logging
import math
import re
import time

import lightning as L
from omegaconf import DictConfig

from seglight.errors import ConfigError
from seglight.training.schedules import respan

log = logging.getLogger("seglight.train")

_UNITS = {"h": 3600.0, "min": 60.0, "m": 60.0, "s": 1.0, "": 1.0}
_PART = re.compile(r"(\d+(?:\.\d*)?|\.\d+)\s*(h|min|m|s|)")
#: Placeholder step limit while a budget has not yet been planned (before the first steps).
_UNPLANNED = 10**9
#: The clocks a budget can count on.
CLOCKS = {"wall": time.monotonic, "cpu": time.process_time}


def parse_budget(value: object) -> float | None:
    """Seconds of a budget: ``900``, ``"900"``, ``"90s"``, ``"30min"``, ``"2h"``,
    ``"1h30min"``; ``None``/``"null"``/``0`` is no budget.

    Raises:
        ConfigError: a value that is not a positive duration.
    """
    if value is None or value is False:
        return None
    if isinstance(value, int | float):
        seconds = float(value)
    else:
        text = str(value).strip().lower().replace(" ", "")
        if text in ("", "null", "none", "off", "0"):
            return None
        parts = _PART.findall(text)
        if not parts or "".join(n + u for n, u in parts) != text:
            raise ConfigError(f"budget={value}: not a duration; write e.g. budget=30min, "
                              "budget=2h, budget=1h30min or budget=900 (seconds)")
        seconds = sum(float(n) * _UNITS[u] for n, u in parts)
    if seconds <= 0 or not math.isfinite(seconds):
        return None if seconds == 0 else _raise_bad(value)
    return seconds


def _raise_bad(value: object) -> float:
    raise ConfigError(f"budget={value}: must be a positive duration (e.g. 30min)")


def format_seconds(seconds: float) -> str:
    """``5400`` -> ``"1h30min"``, ``90`` -> ``"1min30s"``, ``4.5`` -> ``"4.5s"``."""
    if seconds < 60:
        return f"{seconds:.3g}s"
    h, rest = divmod(round(seconds), 3600)
    m, s = divmod(rest, 60)
    return "".join(f"{v}{u}" for v, u in ((h, "h"), (m, "min"), (s, "s")) if v)


def user_overrides() -> set[str]:
    """The keys the user set on the command line (or as ``seglight.train(...)`` keywords),
    from Hydra's record of the job's overrides; empty outside a Hydra job."""
    try:
        from hydra.core.hydra_config import HydraConfig

        task = HydraConfig.get().overrides.task
    except (ValueError, AttributeError):
        return set()
    return {str(o).split("=", 1)[0].lstrip("+~") for o in task if "=" in str(o)}


def run_length(cfg: DictConfig) -> dict:
    """``max_epochs``/``max_steps`` for the Trainer, as the user meant them.

    A budget or a ``trainer.max_steps`` the user gave sets the length: the config's epoch
    count (the trainer config's default) no longer cuts it short, unless the user also gave
    ``trainer.max_epochs``. A budget's step count is planned during training
    (:class:`TimeBudget`); a ``max_steps`` given with it stays a cap.
    """
    trainer = cfg.trainer
    max_steps = int(trainer.get("max_steps", -1) if trainer.get("max_steps") is not None else -1)
    max_epochs = trainer.get("max_epochs")
    given = user_overrides()
    budget = parse_budget(cfg.get("budget"))
    if (budget or max_steps > 0) and "trainer.max_epochs" not in given:
        if max_epochs not in (None, -1):
            log.info("%s sets the length of training (the config's trainer.max_epochs=%s does "
                     "not apply; give trainer.max_epochs too to cap both)",
                     f"budget={cfg.budget}" if budget else f"trainer.max_steps={max_steps}",
                     max_epochs)
        max_epochs = -1
    if budget and max_steps <= 0:
        max_steps = _UNPLANNED
    return {"max_epochs": max_epochs, "max_steps": max_steps}


def validation_interval(trainer) -> int | None:
    """Training steps between validations (None: none will run); known before the first."""
    every = trainer.val_check_batch
    if not trainer.enable_validation or every in (None, float("inf")):
        return None
    return int(every) * int(trainer.check_val_every_n_epoch or 1)


class TimeBudget(L.Callback):
    """End training within ``seconds`` of ``start`` (a reading of its clock), with the
    learning-rate schedule spanning the steps the budget buys.

    Args:
        seconds: the budget.
        start: when the budget's clock started, a reading of ``clock`` (default: when this
            callback was made).
        probe_steps: training steps timed before the first plan (the first one, which warms
            up allocators and caches, is not counted in the rate).
        cap_steps: a step limit the plan never exceeds (the user's ``trainer.max_steps``).
        clock: ``wall`` (:func:`time.monotonic`) or ``cpu`` (:func:`time.process_time`: this
            process's CPU seconds, all threads).
    """

    def __init__(self, seconds: float, start: float | None = None, probe_steps: int = 3,
                 cap_steps: int | None = None, clock: str = "wall"):
        if clock not in CLOCKS:
            raise ConfigError(f"budget_clock={clock}: use wall or cpu")
        self.clock_name = clock
        self.clock = CLOCKS[clock]
        self.seconds = float(seconds)
        self.start = self.clock() if start is None else float(start)
        self.deadline = self.start + self.seconds
        self.probe_steps = max(int(probe_steps), 2)
        self.cap_steps = cap_steps if cap_steps and cap_steps > 0 else None
        self.planned_steps: int | None = None
        self.stopped_by_budget = False
        self._train_s = 0.0      # training time of the timed steps (validation excluded)
        self._timed_steps = 0
        self._val_s = 0.0        # time of the validations run so far, and their batches
        self._val_batches = 0
        self._last_end: float | None = None
        self._val_start: float | None = None
        self.ended_at: float | None = None

    # -- measurements ------------------------------------------------------------------------

    def on_validation_start(self, trainer, pl_module) -> None:
        self._val_start = self.clock()

    def on_validation_end(self, trainer, pl_module) -> None:
        if self._val_start is None:
            return
        spent = self.clock() - self._val_start
        batches = sum(int(n) for n in (trainer.num_sanity_val_batches if trainer.sanity_checking
                                       else trainer.num_val_batches))
        self._val_s += spent
        self._val_batches += batches
        if self._last_end is not None:
            self._last_end += spent  # the next step's interval excludes this validation
        self._val_start = None

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        now = self.clock()
        if self._last_end is not None:  # the first step (warm-up) is not timed
            self._train_s += now - self._last_end
            self._timed_steps += 1
        self._last_end = now
        if self._timed_steps + 1 >= self.probe_steps:
            self._plan(trainer, now)
        elif now + 0.5 * self.step_seconds() > self.deadline:  # spent before it was planned
            self._plan(trainer, now, stop=True)

    def on_train_end(self, trainer, pl_module) -> None:
        self.ended_at = self.clock()

    # -- planning ----------------------------------------------------------------------------

    def step_seconds(self) -> float:
        return self._train_s / max(self._timed_steps, 1)

    def validation_seconds(self, trainer) -> float:
        """Expected time of one validation run: its batches at the measured time per batch."""
        if not self._val_batches:
            return 0.0
        batches = sum(int(n) for n in trainer.num_val_batches if n != float("inf"))
        return self._val_s / self._val_batches * batches

    def steps_that_fit(self, trainer, now: float) -> int:
        """The largest total step count whose remaining steps and validations end by the
        deadline, at the measured rates."""
        done = trainer.global_step
        left = self.deadline - now
        step_s, val_s = self.step_seconds(), self.validation_seconds(trainer)
        every = validation_interval(trainer)

        def cost(n: int) -> float:
            vals = (done + n) // every - done // every if every and val_s else 0
            if every and val_s and n and (done + n) % every:
                vals += 1  # the validation FinalValidation adds at the end
            return n * step_s + vals * val_s

        lo, hi = 0, 1
        while cost(hi) <= left and hi < _UNPLANNED:
            lo, hi = hi, hi * 2
        while hi - lo > 1:  # largest n with cost(n) <= left
            mid = (lo + hi) // 2
            lo, hi = (mid, hi) if cost(mid) <= left else (lo, mid)
        return done + lo

    def _plan(self, trainer, now: float, stop: bool = False) -> None:
        total = self.steps_that_fit(trainer, now) if not stop else trainer.global_step
        if self.cap_steps:
            total = min(total, self.cap_steps)
        total = max(total, trainer.global_step)  # at least stop now
        if stop or now + 0.5 * self.step_seconds() > self.deadline:
            total = trainer.global_step  # hard stop: the next step would overrun the budget
            self.stopped_by_budget = True
        if total != self.planned_steps:
            if self.planned_steps is None:
                log.info("budget %s: %.2f s per step, %.2f s per validation: %d steps",
                         format_seconds(self.seconds), self.step_seconds(),
                         self.validation_seconds(trainer), total)
            self.planned_steps = total
            trainer.fit_loop.epoch_loop.max_steps = total
            per_epoch = trainer.num_training_batches
            for config in trainer.lr_scheduler_configs:
                units = total if config.interval == "step" or per_epoch in (0, float("inf")) \
                    else math.ceil(total / per_epoch)
                respan(config.scheduler, units)

    def summary(self) -> str:
        spent = (self.ended_at or self.clock()) - self.start
        return (f"budget {format_seconds(self.seconds)}: {self.planned_steps} steps "
                f"({self.step_seconds():.2f} s each), validation {self._val_s:.1f} s, "
                f"{spent:.1f} s in all")


class FinalValidation(L.Callback):
    """Validate after the last step when it falls between two scheduled validations.

    A run that stops on ``trainer.max_steps`` (or a budget) in the middle of an epoch would
    otherwise end without validating its final weights, and ``best.ckpt`` would miss the end
    of the schedule: planned runs on the benchmark stopped 26 steps after their last
    validation. Setting ``trainer.should_stop`` at the last step makes Lightning run the
    validation it allows for a stopping run, then end.
    """

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        max_steps = trainer.max_steps
        if max_steps in (None, -1) or max_steps >= _UNPLANNED or trainer.global_step < max_steps:
            return
        every = validation_interval(trainer)
        if every and trainer.global_step % every:
            # Lightning's implicit min_epochs=1 would veto the stop (and the validation) of a
            # run ending inside its first epoch; this is the last step, so lift it.
            trainer.fit_loop.min_epochs = None
            trainer.should_stop = True


class StopReason(L.Callback):
    """Logs one line at the end of training: which limit ended it, after how many steps."""

    def __init__(self, budget: TimeBudget | None = None):
        self.budget = budget
        self.reason: str | None = None

    def on_train_end(self, trainer, pl_module) -> None:
        steps, epochs = trainer.global_step, trainer.current_epoch
        max_steps, max_epochs = trainer.max_steps, trainer.max_epochs
        if self.budget is not None and self.budget.planned_steps is not None and \
                steps >= self.budget.planned_steps and \
                (self.budget.cap_steps is None or steps < self.budget.cap_steps):
            self.reason = self.budget.summary()
        elif max_steps not in (None, -1) and steps >= max_steps:
            self.reason = f"trainer.max_steps={max_steps} reached"
        elif max_epochs not in (None, -1) and epochs >= max_epochs:
            self.reason = f"trainer.max_epochs={max_epochs} reached"
            if max_steps not in (None, -1, _UNPLANNED):
                self.reason += f" before trainer.max_steps={max_steps}"
        elif trainer.interrupted:
            self.reason = "interrupted"
        else:
            self.reason = "stopped by a callback (e.g. early stopping)"
        per_epoch = trainer.num_training_batches
        done = f" ({steps / per_epoch:.3g} epochs)" if per_epoch not in (0, float("inf")) else ""
        log.info("training ended: %s, after %d steps%s", self.reason, steps, done)


def length_callbacks(cfg: DictConfig, start: float) -> list[L.Callback]:
    """The callbacks that end training on time and say why it ended."""
    seconds = parse_budget(cfg.get("budget"))
    budget = None
    if seconds:
        cap = cfg.trainer.get("max_steps")
        clock = str(cfg.get("budget_clock") or "wall")
        budget = TimeBudget(seconds, start=0.0 if clock == "cpu" else start,
                            cap_steps=int(cap) if cap else None, clock=clock)
    return [c for c in (budget, FinalValidation(), StopReason(budget)) if c is not None]
