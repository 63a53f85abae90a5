"""Module paths that moved, kept importable for what stored them.

Checkpoints record their network, loss and scheduler by dotted path (``_target_``), and users'
configs and scripts name modules too; a path written before a move must keep resolving. Each
old path below is an alias of the module that now holds the code: ``import seglight.module``
returns :mod:`seglight.training.module` itself (the same module object, so classes compare
equal). Installed by ``import seglight``; add a line here when a module moves.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.util
import sys

#: old dotted path -> where the module lives now
MOVED: dict[str, str] = {
    "seglight.training_checks": "seglight.training.checks",
    "seglight.module": "seglight.training.module",
    "seglight.metrics": "seglight.training.metrics",
    "seglight.precision": "seglight.training.precision",
    "seglight.schedules": "seglight.training.schedules",
    "seglight.losses": "seglight.training.losses",
    "seglight.checkpoint": "seglight.io.checkpoint",
}


class _Alias(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Finds an old path and loads it as the module it moved to."""

    def find_spec(self, fullname, path=None, target=None):
        if fullname not in MOVED:
            return None
        return importlib.util.spec_from_loader(fullname, self)

    def create_module(self, spec):
        return importlib.import_module(MOVED[spec.name])

    def exec_module(self, module):
        """Nothing to run: the module it moved to was executed when imported."""


def install() -> None:
    """Make the old paths importable (idempotent)."""
    if not any(isinstance(f, _Alias) for f in sys.meta_path):
        sys.meta_path.append(_Alias())
