"""Learning-rate schedules stepped once per optimizer step, with a linear warm-up.

Both are :class:`torch.optim.lr_scheduler.LambdaLR` factors of the optimizer's ``lr``. The
module gives them ``total_steps`` (Lightning's ``estimated_stepping_batches``: ``max_steps``,
or ``max_epochs`` × batches per epoch), so the decay ends where training ends.

Config (``model.scheduler``)::

    _target_: seglight.training.schedules.warmup_poly
    _partial_: true
    warmup_steps: 20
"""

from __future__ import annotations

import math

import torch
from torch.optim.lr_scheduler import LambdaLR


def _warmup(step: int, warmup_steps: int) -> float:
    return (step + 1) / warmup_steps if step < warmup_steps else 1.0


def warmup_poly(optimizer: torch.optim.Optimizer, total_steps: int, warmup_steps: int = 0,
                exponent: float = 0.9) -> LambdaLR:
    """Linear warm-up over ``warmup_steps``, then ``(1 - t)^exponent`` decay to 0 at
    ``total_steps`` (nnU-Net's poly schedule)."""
    total, warm = max(int(total_steps), 1), max(int(warmup_steps), 0)

    def factor(step: int) -> float:
        if step < warm:
            return _warmup(step, warm)
        t = min((step - warm) / max(total - warm, 1), 1.0)
        return (1.0 - t) ** exponent

    return LambdaLR(optimizer, factor)


def warmup_cosine(optimizer: torch.optim.Optimizer, total_steps: int, warmup_steps: int = 0,
                  final_fraction: float = 0.0) -> LambdaLR:
    """Linear warm-up over ``warmup_steps``, then cosine decay to ``final_fraction`` × lr."""
    total, warm = max(int(total_steps), 1), max(int(warmup_steps), 0)

    def factor(step: int) -> float:
        if step < warm:
            return _warmup(step, warm)
        t = min((step - warm) / max(total - warm, 1), 1.0)
        return final_fraction + (1 - final_fraction) * 0.5 * (1 + math.cos(math.pi * t))

    return LambdaLR(optimizer, factor)
