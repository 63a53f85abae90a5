"""Hydra and OmegaConf helpers shared by the entry points and the packages: the
``seglight_cwd`` resolver and :func:`to_plain` (config values as plain Python)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from omegaconf import OmegaConf


def register_resolvers() -> None:
    """Register ``${seglight_cwd:}``: the working directory, where ``data/`` and ``runs/`` go
    by default (``paths.root_dir=DIR`` chooses another folder; never the install location);
    and ``${seglight_job_dir:...}``, the name of a sweep job's folder (:mod:`seglight.sweep`)."""
    if not OmegaConf.has_resolver("seglight_cwd"):
        OmegaConf.register_new_resolver("seglight_cwd", lambda: os.getcwd())
    from seglight.sweep import register_resolver  # ${seglight_job_dir:...}: sweep job folders

    register_resolver()


register_resolvers()


def to_plain(value: Any) -> Any:
    """``value`` with every OmegaConf container in it turned into plain dicts and lists
    (resolved); anything else is returned as it is, tuples as lists.

    Hydra hands over ``DictConfig``/``ListConfig`` values; workflows, checkpoints and
    ``save_hyperparameters`` get plain Python.
    """
    if OmegaConf.is_config(value):
        return OmegaConf.to_container(value, resolve=True)
    if isinstance(value, Mapping):
        return {k: to_plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_plain(v) for v in value]
    return value
