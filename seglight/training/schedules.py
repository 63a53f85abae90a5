"""Learning-rate schedules stepped once per optimizer step, with a linear warm-up.

Both are :class:`torch.optim.lr_scheduler.LambdaLR` factors of the optimizer's ``lr``. The
module gives them ``total_steps`` (Lightning's ``estimated_stepping_batches``: ``max_steps``,
or ``max_epochs`` × batches per epoch), so the decay ends where training ends; a time budget
(:mod:`seglight.training.budget`) changes that count during training with :func:`respan`.
The warm-up takes at most a quarter of the run, so a short run is never cut mid-warm-up.

Config (``model.scheduler``)::

    _target_: seglight.training.schedules.warmup_poly
    _partial_: true
    warmup_steps: 20
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
from torch.optim.lr_scheduler import LambdaLR, LRScheduler


class _Span:
    """The run's length as a schedule sees it; :func:`respan` changes it."""

    def __init__(self, total_steps: int, warmup_steps: int):
        self.wanted_warmup = max(int(warmup_steps), 0)
        self.set(total_steps)

    def set(self, total_steps: int) -> None:
        self.total = max(int(total_steps), 1)
        self.warm = min(self.wanted_warmup, self.total // 4)

    def progress(self, step: int) -> float | None:
        """The warm-up factor during warm-up (``(step+1)/warm``), else None; see :meth:`t`."""
        return (step + 1) / self.warm if step < self.warm else None

    def t(self, step: int) -> float:
        """Fraction of the decay done at ``step`` (0 at the end of warm-up, 1 at the end)."""
        return min((step - self.warm) / max(self.total - self.warm, 1), 1.0)


def _scheduler(optimizer: torch.optim.Optimizer, span: _Span,
               decay: Callable[[float], float]) -> LambdaLR:
    def factor(step: int) -> float:
        warming = span.progress(step)
        return warming if warming is not None else decay(span.t(step))

    # On the function, not the scheduler: a scheduler's attributes go into its state_dict
    # (checkpoints, which load weights-only), a plain function's do not.
    factor.span = span
    return LambdaLR(optimizer, factor)


def warmup_poly(optimizer: torch.optim.Optimizer, total_steps: int, warmup_steps: int = 0,
                exponent: float = 0.9) -> LambdaLR:
    """Linear warm-up over ``warmup_steps``, then ``(1 - t)^exponent`` decay to 0 at
    ``total_steps`` (nnU-Net's poly schedule)."""
    return _scheduler(optimizer, _Span(total_steps, warmup_steps),
                      lambda t: (1.0 - t) ** exponent)


def warmup_cosine(optimizer: torch.optim.Optimizer, total_steps: int, warmup_steps: int = 20,
                  final_fraction: float = 0.0) -> LambdaLR:
    """Linear warm-up over ``warmup_steps``, then cosine decay to ``final_fraction`` × lr
    (seglight's default schedule)."""
    return _scheduler(optimizer, _Span(total_steps, warmup_steps),
                      lambda t: final_fraction + (1 - final_fraction) * 0.5
                      * (1 + math.cos(math.pi * t)))


def respan(scheduler: LRScheduler, total_steps: int) -> bool:
    """Make a schedule of this module end at ``total_steps`` instead (the optimizer's current
    learning rate follows at once); False for other schedulers (their length stays theirs)."""
    spans = [getattr(f, "span", None) for f in getattr(scheduler, "lr_lambdas", [])]
    if not spans or not all(isinstance(span, _Span) for span in spans):
        return False
    for span in spans:
        span.set(total_steps)
    groups = scheduler.optimizer.param_groups
    for group, base, factor in zip(groups, scheduler.base_lrs, scheduler.lr_lambdas, strict=True):
        group["lr"] = base * factor(scheduler.last_epoch)
    scheduler._last_lr = [group["lr"] for group in groups]
    return True
