"""Classic structure workflows (Allen Cell Structure Segmenter style) as binarizers.

Each of the 25 structures (``list_workflows()``) is a short chain of filters registered in
:mod:`seglight.classic.registry`, with all its parameters in
``conf/model/classic/<name>.yaml``. This module is the facade:

>>> from seglight.classic import run_workflow, ClassicBinarizer
>>> mask = run_workflow("tomm20", image_zyx)                        # uint8 0/255, ZYX
>>> mask = run_workflow("tomm20", image_zyx, vesselness_cutoff=0.2)  # override a parameter
>>> binarizer = ClassicBinarizer("tomm20", {"min_size": 20})        # seglight.binarizer.Binarizer

Bad input (2D, empty, NaN, non-numeric) is refused with one line before any filter runs
(:mod:`seglight.classic.validation`); a constant image gives an empty mask. An image outside
a workflow's tuned intensity range gets the reference's result and one warning line naming
the parameter to tune, or with ``strict=True`` (``model.params.strict=true``) is refused.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np

from seglight import CONF_DIR
from seglight.binarizer import Record, no_record
from seglight.classic.registry import WORKFLOWS, Workflow
from seglight.classic.validation import (
    STRICT_KEY,
    as_image_zyx,
    check_intensity_range,
    check_params,
    parameter_kinds,
)
from seglight.config import to_plain
from seglight.errors import ConfigError, SeglightError

__all__ = ["ClassicBinarizer", "config_path", "list_workflows", "load_params", "run_workflow"]


def _registry() -> dict[str, Workflow]:
    # Imported here, not at the top: the workflow modules import seglight.classic's
    # submodules, and `import seglight.classic` should stay cheap for the CLI.
    import seglight.classic.workflows  # noqa: F401 - registers every workflow on import

    return WORKFLOWS


def list_workflows() -> list[str]:
    """The names of all classic workflows, sorted (``"actb"``, ``"actn1"``, ...)."""
    return sorted(_registry())


def _workflow(name: str) -> Workflow:
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
def _parameter_kinds(name: str) -> dict[str, str]:
    return parameter_kinds(name, _workflow(name))


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
    _workflow(name)
    return copy.deepcopy(_config_params(name))


def _complete_params(name: str, given: Mapping[str, Any]) -> dict[str, Any]:
    """``given`` checked against the workflow's signature; parameters it lacks come from the
    config file (not read when ``given`` is complete, as Hydra composes it)."""
    kinds = _parameter_kinds(name)
    given = to_plain(given)
    if not set(kinds) <= set(given):
        given = {**load_params(name), **given}
    return check_params(name, given, kinds)


def _segment(name: str, image_zyx: Any, params: Mapping[str, Any], record: Record) -> np.ndarray:
    """Run workflow ``name`` with its complete, checked ``params`` (see :func:`run_workflow`)."""
    workflow = _workflow(name)
    params = dict(params)
    strict = bool(params.pop(STRICT_KEY, False))
    img = as_image_zyx(name, image_zyx)
    if img.min() == img.max():
        return np.zeros(img.shape, np.uint8)
    check_intensity_range(name, img, params, strict)
    mask = np.asarray(workflow(img, record=record, **params))
    if mask.shape != img.shape:
        raise RuntimeError(
            f"classic workflow {name!r} returned shape {mask.shape} for an image of {img.shape}"
        )
    return (mask > 0).astype(np.uint8) * np.uint8(255)


def run_workflow(
    name: str, image_zyx: Any, record: Record = no_record, **overrides: Any
) -> np.ndarray:
    """Segment one structure in a ZYX image with its classic workflow.

    Args:
        name: the workflow (structure) name, one of :func:`list_workflows`.
        image_zyx: the raw single-channel image, shape ``(Z, Y, X)``, any real numeric type
            (an :class:`~seglight.io.ImageZYX` too).
        record: called as ``record(step_name, array)`` with each intermediate result (e.g.
            ``steps.__setitem__``, then
            :func:`seglight.classic.intermediates.save_intermediates`).
        **overrides: parameters replacing the config's defaults, by their config names
            (e.g. ``vesselness_cutoff=0.2``); ``strict=True`` refuses an image outside the
            workflow's tuned intensity range instead of warning.

    Returns:
        The mask, uint8 0/255, same shape as the image; all zero for a constant image.

    Raises:
        SeglightError: unknown workflow, unknown parameter, or bad image (see
            :mod:`seglight.classic.validation`); with ``strict``, an image outside the
            tuned intensity range.
    """
    _workflow(name)
    params = {**load_params(name), **to_plain(overrides)}
    params = check_params(name, params, _parameter_kinds(name))
    return _segment(name, image_zyx, params, record)


class ClassicBinarizer:
    """A classic workflow behind the :class:`seglight.binarizer.Binarizer` interface.

    Configured from ``conf/model/classic/<workflow>.yaml`` (``_target_`` is this class).
    Parameters are checked against the workflow's signature at construction, so a typo
    fails before any image is read. Hydra hands over the complete, composed parameters,
    which are used as they are; the config file is read only to fill in parameters that a
    Python caller left out.

    Args:
        workflow: the workflow (structure) name, e.g. ``"tomm20"``.
        params: parameters replacing the config's defaults (all of them, as in the config,
            or only some); ``None`` keeps the defaults.

    Attributes:
        threshold: 0.5; the probabilities are exactly 0 or 1.
        workflow: the workflow name.
        params: the complete parameters used.
    """

    threshold: float = 0.5

    def __init__(self, workflow: str, params: Mapping[str, Any] | None = None):
        _workflow(workflow)
        self.workflow = workflow
        self.params = _complete_params(workflow, params or {})

    def predict_proba(self, image_zyx: Any, record: Record = no_record) -> np.ndarray:
        """The workflow's mask as float32 0/1 probabilities, same shape as the ZYX image."""
        mask = _segment(self.workflow, image_zyx, self.params, record)
        return (mask > 0).astype(np.float32)

    def __repr__(self) -> str:
        return f"ClassicBinarizer({self.workflow!r}, {self.params!r})"
