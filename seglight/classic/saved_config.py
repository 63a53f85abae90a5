"""Saving a tuned classic workflow as a model config, and loading one back.

A saved file is a valid classic model config (``_target_: seglight.classic.ClassicBinarizer``)
that ``python -m seglight.predict workflow=FILE`` and the napari editor read. A composed
workflow (steps added, removed or reordered, :mod:`seglight.classic.compose`) also holds
its steps under ``pipeline:``; ``workflow:`` then names where it started (one of the
classic workflows, or ``blank``).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from seglight.classic.binarizer import ClassicBinarizer
from seglight.classic.catalog import workflow_info
from seglight.classic.compose import BLANK
from seglight.classic.registry import list_workflows
from seglight.errors import ConfigError

#: The ``_target_`` of a classic model config, saved ones included.
TARGET = "seglight.classic.ClassicBinarizer"
_SAVED_KEYS = ("_target_", "workflow", "params", "steps", "pipeline")


def save_workflow_config(
    path: str | Path,
    workflow: str,
    params: Mapping[str, Any] | None = None,
    steps: Mapping[str, Any] | None = None,
    pipeline: Any = None,
) -> Path:
    """Write a tuned workflow as a model config (atomically).

    The file is a valid classic model config (``_target_: seglight.classic.ClassicBinarizer``,
    ``workflow:``, every parameter under ``params:``, the overrides under ``steps:``), read
    back by :func:`load_workflow_config`.

    Args:
        path: the YAML file to write.
        workflow: the workflow name.
        params: the tuned parameters (the rest keep the config's defaults).
        steps: step overrides (see :class:`ClassicBinarizer`).
        pipeline: a composed workflow's steps (a :class:`~seglight.classic.steps.Pipeline`
            or its ``pipeline:`` mapping); ``None``: the registered workflow's.

    Returns:
        ``path``.

    Raises:
        SeglightError / ConfigError: unknown workflow, parameters or overrides.
    """
    import yaml

    from seglight.classic.compose import pipeline_config
    from seglight.io.atomic import atomic_path

    binarizer = ClassicBinarizer(workflow, params, steps, pipeline=pipeline)
    doc: dict[str, Any] = {"_target_": TARGET, "workflow": workflow, "params": binarizer.params}
    if binarizer.steps:
        doc["steps"] = {name: o.as_config() for name, o in binarizer.steps.items()}
    if binarizer.composed:
        doc["pipeline"] = pipeline_config(binarizer.pipeline)
        chain = " -> ".join(step.block for step in binarizer.pipeline.steps)
        header = f"# Composed from {workflow}: {chain}\n"
    else:
        header = f"# {workflow_info(workflow).description}\n"
    text = (header + "# tuned; written by seglight.classic.save_workflow_config\n"
            + yaml.safe_dump(doc, sort_keys=False, default_flow_style=None))
    path = Path(path)
    with atomic_path(path, suffix=path.suffix) as tmp:
        tmp.write_text(text)
    return path


def load_workflow_config(path: str | Path) -> ClassicBinarizer:
    """The binarizer of a saved workflow config (:func:`save_workflow_config`), or of any
    classic model config.

    Raises:
        ConfigError: one line naming the file and the key: a missing or unreadable file,
            an unknown key, workflow, parameter, step or block, or a value of the wrong kind.
    """
    import yaml

    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"{path}: no such file; give a workflow config saved by the editor")
    try:
        doc = yaml.safe_load(path.read_text())
    except yaml.YAMLError as err:
        reason = " ".join(str(err).split())
        raise ConfigError(f"{path}: not valid YAML ({reason})") from None
    if not isinstance(doc, dict):
        raise ConfigError(f"{path}: expected a mapping with {list(_SAVED_KEYS)}")
    unknown = [key for key in doc if key not in _SAVED_KEYS]
    if unknown:
        raise ConfigError(f"{path}: {unknown[0]}: unknown key; a workflow config has "
                          f"{list(_SAVED_KEYS)}")
    if doc.get("_target_", TARGET) != TARGET:
        raise ConfigError(f"{path}: _target_={doc['_target_']!r}: a workflow config's "
                          f"_target_ is {TARGET}")
    workflow = doc.get("workflow")
    composed = doc.get("pipeline") is not None
    if composed and not (isinstance(workflow, str) and workflow.isidentifier()):
        raise ConfigError(f"{path}: workflow={workflow!r}: name where the composed workflow "
                          f"started: one of {list_workflows()} or {BLANK}")
    if not composed and workflow not in list_workflows():
        raise ConfigError(f"{path}: workflow={workflow!r}: unknown classic workflow; choose "
                          f"one of {list_workflows()}")
    for key in ("params", "steps", "pipeline"):
        if doc.get(key) is not None and not isinstance(doc[key], dict):
            raise ConfigError(f"{path}: {key}: expected a mapping, got {doc[key]!r}")
    return ClassicBinarizer(workflow, doc.get("params"), doc.get("steps"), source=str(path),
                            pipeline=doc.get("pipeline"))
