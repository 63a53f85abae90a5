"""The registry of classic structure workflows and their parameter files.

A workflow is a :class:`~seglight.classic.steps.Pipeline` registered under its structure
name with :func:`register` (by :mod:`seglight.classic.workflows`, imported on first use).
Its parameters have no defaults in Python: they all come from
``conf/model/classic/<name>.yaml`` (one source of truth, :func:`load_params`), and any of
them can be overridden by the caller.
"""

from __future__ import annotations

import copy
from functools import cache
from pathlib import Path
from typing import Any

from seglight import CONF_DIR
from seglight.classic.steps import Pipeline
from seglight.classic.validation import parameter_kinds
from seglight.config import to_plain
from seglight.errors import ConfigError, SeglightError

WORKFLOWS: dict[str, Pipeline] = {}
#: seglight's own workflows, composed from the same blocks, which the reference Allen Cell
#: Structure Segmenter lacks (no parity to check): nuclei in a DNA / H2B stain, filled.
OWN_WORKFLOWS = ("nucleus",)


def register(*pipelines: Pipeline) -> None:
    """Register each pipeline under its name (lower case, e.g. ``"tomm20"``)."""
    for pipeline in pipelines:
        if pipeline.name in WORKFLOWS:
            raise ValueError(f"classic workflow {pipeline.name!r} is registered twice")
        pipeline.parameter_kinds()  # one parameter, one kind
        WORKFLOWS[pipeline.name] = pipeline


def _registry() -> dict[str, Pipeline]:
    # Imported here, not at the top: the workflow modules import the filters (numba), and
    # `import seglight.classic` should stay cheap for the CLI.
    import seglight.classic.workflows  # noqa: F401 - registers every workflow on import

    return WORKFLOWS


def list_workflows() -> list[str]:
    """The names of all classic workflows, sorted (``"actb"``, ``"actn1"``, ...)."""
    return sorted(_registry())


def list_reference_workflows() -> list[str]:
    """The 25 workflows that reproduce the reference's (:func:`list_workflows` without
    :data:`OWN_WORKFLOWS`), sorted."""
    return [name for name in list_workflows() if name not in OWN_WORKFLOWS]


def get_pipeline(name: str) -> Pipeline:
    """The pipeline of workflow ``name``.

    Raises:
        SeglightError: an unknown name (the message lists the valid ones).
    """
    registry = _registry()
    if name not in registry:
        raise SeglightError(
            f"unknown classic workflow {name!r}; choose one of {sorted(registry)}"
        )
    return registry[name]


def config_path(name: str) -> Path:
    """The config file that holds the parameters of workflow ``name``."""
    return CONF_DIR / "model" / "classic" / f"{name}.yaml"


@cache
def workflow_parameter_kinds(name: str) -> dict[str, str]:
    """The parameters of workflow ``name`` and their kinds (see
    :func:`~seglight.classic.validation.parameter_kinds`)."""
    return parameter_kinds(get_pipeline(name))


@cache
def _config_params(name: str) -> dict[str, Any]:
    """The ``params`` of ``conf/model/classic/<name>.yaml``, read once per process."""
    from omegaconf import OmegaConf

    path = config_path(name)
    if not path.exists():
        raise ConfigError(f"{path}: missing; every classic workflow needs its parameter file")
    params = OmegaConf.load(path).get("params")
    if params is None or not OmegaConf.is_dict(params):
        raise ConfigError(
            f"{path}: no 'params' mapping; add the workflow's parameters under params:"
        )
    return to_plain(params)


def load_params(name: str) -> dict[str, Any]:
    """The default parameters of workflow ``name``, from ``conf/model/classic/<name>.yaml``
    (read from disk once per process).

    Returns:
        A new plain dict (lists, numbers), safe to modify.

    Raises:
        SeglightError: an unknown workflow name.
        ConfigError: the config file is missing or has no ``params`` mapping.
    """
    get_pipeline(name)
    return copy.deepcopy(_config_params(name))
