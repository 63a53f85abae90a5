"""The registry of classic structure workflows.

A workflow is a plain function ``fn(image_zyx: np.ndarray, *, record, **params) -> mask``
registered under its structure name with :func:`workflow`. Its parameters have no defaults
in Python: they all come from ``conf/model/classic/<name>.yaml`` (one source of truth),
and any of them can be overridden by the caller.

``record(step_name, array)`` stores an intermediate result for inspection
(``save_intermediates=true``); it is :func:`seglight.binarizer.no_record` unless inspection is on.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

Workflow = Callable[..., np.ndarray]
WORKFLOWS: dict[str, Workflow] = {}


def workflow(name: str) -> Callable[[Workflow], Workflow]:
    """Register ``fn`` as the workflow for structure ``name`` (lower case, e.g. ``"tomm20"``)."""

    def register(fn: Workflow) -> Workflow:
        if name in WORKFLOWS:
            raise ValueError(f"classic workflow {name!r} is registered twice")
        WORKFLOWS[name] = fn
        return fn

    return register
