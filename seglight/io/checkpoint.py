"""Opening checkpoints without running the code a pickle names.

A ``.ckpt`` is a pickle, and a pickle can name any callable to run when it is loaded. A
checkpoint shared by a colleague or downloaded from anywhere must not execute code when a
user predicts with it, so every checkpoint seglight opens (predict, resume, export, the
Curator) is loaded with ``torch.load(weights_only=True)``: tensors, plain containers and
numbers, plus the few other types a seglight checkpoint holds, allow-listed by name in
:data:`SAFE_GLOBALS`. Anything else is refused in one line, before it runs.
"""

from __future__ import annotations

import contextlib
import pickle
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import torch

from seglight.errors import SeglightError

#: What ``torch.load(weights_only=True)`` accepts besides tensors, plain containers, strings
#: and numbers. A seglight checkpoint holds nothing else: its hyperparameters are stored as
#: plain containers (:mod:`seglight.training.module`) and Lightning's loop and callback states are
#: dicts of numbers, strings and tensors (tests/test_checkpoint.py loads real ones). A type
#: added here is one a checkpoint may construct while loading, so add only plain data types.
SAFE_GLOBALS: list[type] = []


@contextlib.contextmanager
def safe_checkpoint_loading(ckpt_path: str | Path | None) -> Iterator[None]:
    """Allow-list :data:`SAFE_GLOBALS` and turn a refused pickle into one line.

    Raises:
        SeglightError: the checkpoint holds something other than weights and plain data.
    """
    with torch.serialization.safe_globals(SAFE_GLOBALS):
        try:
            yield
        except pickle.UnpicklingError as err:
            first = next((line for line in str(err).splitlines() if "GLOBAL" in line),
                         str(err).splitlines()[0] if str(err) else "")
            raise SeglightError(
                f"ckpt_path={ckpt_path}: refused to open, it holds code to run, not only "
                f"weights ({first.strip()}); use a checkpoint written by python -m seglight.train "
                "from a source you trust"
            ) from None


def load_checkpoint(ckpt_path: str | Path, map_location: Any = "cpu") -> dict[str, Any]:
    """``torch.load`` a checkpoint safely (see the module docstring)."""
    with safe_checkpoint_loading(ckpt_path):
        return torch.load(ckpt_path, map_location=map_location, weights_only=True)
