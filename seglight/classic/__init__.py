"""Classic structure workflows (Allen Cell Structure Segmenter style) as binarizers.

Each of the 25 structures (``list_workflows()``) is a declarative pipeline of steps
(:mod:`seglight.classic.steps`; the pipelines in :mod:`seglight.classic.workflows`, the
blocks they use in :mod:`seglight.classic.blocks`), with all its parameters, their help and
slider ranges in ``conf/model/classic/<name>.yaml``. The command line and the napari editor
run the same pipelines. This module is the facade:

>>> from seglight.classic import run_workflow, ClassicBinarizer
>>> mask = run_workflow("tomm20", image_zyx)                        # uint8 0/255, ZYX
>>> mask = run_workflow("tomm20", image_zyx, vesselness_cutoff=0.2)  # override a parameter
>>> binarizer = ClassicBinarizer("tomm20", {"min_size": 20})        # seglight.binarizer.Binarizer
>>> custom = ClassicBinarizer("sec61b", steps={"smoothed": {"block": "gaussian_3d"},
...                                            "size_filtered_2d": {"enabled": False}})
>>> outputs = custom.run_steps(image_zyx, cache=StepCache(), on_step=print)  # every step
>>> save_workflow_config("tuned.yaml", "sec61b", {"vesselness_cutoff": 0.2}, custom.steps)
>>> load_workflow_config("tuned.yaml").predict_proba(image_zyx)

:func:`describe` lists a workflow's steps with their parameters (help, kind, slider
ranges) and :func:`workflow_info` its one-line description, for an editor.

Bad input (2D, empty, NaN, non-numeric) is refused with one line before any filter runs
(:mod:`seglight.classic.validation`); a constant image gives an empty mask. An image outside
a workflow's tuned intensity range gets the reference's result and one warning line naming
the parameter to tune, or with ``strict=True`` (``model.params.strict=true``) is refused.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from seglight.binarizer import Record, no_record
from seglight.classic.catalog import (
    ParamInfo,
    Range,
    StepInfo,
    WorkflowInfo,
    describe,
    list_blocks,
    workflow_info,
)
from seglight.classic.registry import (
    config_path,
    get_pipeline,
    list_workflows,
    load_params,
    workflow_parameter_kinds,
)
from seglight.classic.steps import (
    Cancelled,
    StepCache,
    StepEvent,
    StepOverride,
    check_overrides,
    run_pipeline,
)
from seglight.classic.validation import (
    STRICT_KEY,
    as_image_zyx,
    check_intensity_range,
    check_params,
)
from seglight.config import to_plain
from seglight.errors import ConfigError
from seglight.io import ImageZYX

__all__ = [
    "Cancelled",
    "ClassicBinarizer",
    "ParamInfo",
    "Range",
    "StepCache",
    "StepEvent",
    "StepInfo",
    "StepOverride",
    "WorkflowInfo",
    "config_path",
    "describe",
    "list_blocks",
    "list_workflows",
    "load_params",
    "load_workflow_config",
    "run_workflow",
    "save_workflow_config",
    "workflow_info",
]

#: The ``_target_`` of a classic model config, saved ones included.
TARGET = "seglight.classic.ClassicBinarizer"
_SAVED_KEYS = ("_target_", "workflow", "params", "steps")


def _complete_params(name: str, given: Mapping[str, Any], where: str | None = None) -> dict:
    """``given`` checked against the workflow's steps; parameters it lacks come from the
    config file (not read when ``given`` is complete, as Hydra composes it)."""
    kinds = workflow_parameter_kinds(name)
    given = to_plain(given)
    if not set(kinds) <= set(given):
        given = {**load_params(name), **given}
    return check_params(name, given, kinds, where)


class ClassicBinarizer:
    """A classic workflow behind the :class:`seglight.binarizer.Binarizer` interface.

    Configured from ``conf/model/classic/<workflow>.yaml`` (``_target_`` is this class), or
    from a config saved by :func:`save_workflow_config`. Parameters and step overrides are
    checked at construction, so a typo fails before any image is read. Hydra hands over the
    complete, composed parameters, which are used as they are; the config file is read
    only to fill in parameters that a Python caller left out.

    Args:
        workflow: the workflow (structure) name, e.g. ``"tomm20"``.
        params: parameters replacing the config's defaults (all of them, as in the config,
            or only some); ``None`` keeps the defaults.
        steps: step overrides, a custom workflow: step name -> ``{enabled: false}``,
            ``{block: <name>, params: {...}}`` or a :class:`StepOverride`.
        source: what the configuration came from (a file), named in error messages.

    Attributes:
        threshold: 0.5; the probabilities are exactly 0 or 1.
        workflow: the workflow name.
        pipeline: its :class:`~seglight.classic.steps.Pipeline`.
        params: the complete parameters used.
        steps: the checked overrides, step name -> :class:`StepOverride`.
    """

    threshold: float = 0.5

    def __init__(
        self,
        workflow: str,
        params: Mapping[str, Any] | None = None,
        steps: Mapping[str, Any] | None = None,
        source: str | None = None,
    ):
        self.pipeline = get_pipeline(workflow)
        self.workflow = workflow
        self.params = _complete_params(workflow, params or {}, source)
        self.steps = check_overrides(
            self.pipeline, to_plain(steps) if steps is not None else None,
            source or f"classic workflow {workflow!r}",
        )

    def run_steps(
        self,
        image_zyx: Any,
        *,
        targets: Sequence[str] | None = None,
        cache: StepCache | None = None,
        record: Record | None = None,
        on_step: Callable[[StepEvent], None] | None = None,
        should_stop: Callable[[], bool] | None = None,
        given: Mapping[str, np.ndarray] | None = None,
    ) -> dict[str, np.ndarray]:
        """Run the workflow's steps on one image (see
        :func:`~seglight.classic.steps.run_pipeline`).

        Args:
            image_zyx: the raw image, ZYX.
            targets: the outputs wanted (default: every step's).
            cache: a :class:`StepCache` shared between runs: only steps whose inputs or
                parameters changed run again.
            record: called as ``record(name, array)`` with each intermediate output.
            on_step: called with a :class:`StepEvent` after each step.
            should_stop: checked before each step; ``True`` raises :class:`Cancelled`.
            given: outputs computed elsewhere, by step name (not run again; e.g. the
                whole stack's normalization, cropped, for a z-range preview).

        Returns:
            output name -> array. For a constant image, only the mask (all False).
        """
        img = as_image_zyx(self.workflow, image_zyx)
        if img.min() == img.max():  # no structure: an empty mask, no filter run
            return {self.pipeline.output: np.zeros(img.shape, bool)}
        params = dict(self.params)
        check_intensity_range(self.workflow, img, params, bool(params.pop(STRICT_KEY)))
        # Keyed by the caller's array (hashed once per array object), not by the float32
        # copy made of an integer image on every call.
        raw = image_zyx.data if isinstance(image_zyx, ImageZYX) else image_zyx
        key = cache.image_key(raw) if cache is not None and isinstance(raw, np.ndarray) else None
        values = run_pipeline(
            self.pipeline, img, params, overrides=self.steps, targets=targets, cache=cache,
            record=record, on_step=on_step, should_stop=should_stop, image_key=key,
            given=given,
        )
        mask = values.get(self.pipeline.output)
        if mask is not None and mask.shape != img.shape:
            raise RuntimeError(f"classic workflow {self.workflow!r} gave shape {mask.shape} "
                               f"for an image of {img.shape}")
        return values

    def predict_mask(self, image_zyx: Any, record: Record = no_record) -> np.ndarray:
        """The workflow's mask, uint8 0/255, same shape as the ZYX image."""
        values = self.run_steps(image_zyx, targets=(self.pipeline.output,), record=record)
        return values[self.pipeline.output].astype(bool).view(np.uint8) * np.uint8(255)

    def predict_proba(self, image_zyx: Any, record: Record = no_record) -> np.ndarray:
        """The workflow's mask as float32 0/1 probabilities, same shape as the ZYX image."""
        return (self.predict_mask(image_zyx, record) > 0).astype(np.float32)

    def predict_proba_and_labels(
        self, image_zyx: Any, record: Record = no_record
    ) -> tuple[np.ndarray, np.ndarray | None]:
        """Probabilities and label image from one run (see :meth:`predict_labels`)."""
        output, labels = self.pipeline.output, self.pipeline.labels
        targets = (output,) if labels is None else (output, labels)
        values = self.run_steps(image_zyx, targets=targets, record=record)
        mask = values[output].astype(bool)
        if labels is None:
            return mask.astype(np.float32), None
        label_image = values.get(labels)
        if label_image is None:  # a constant image
            label_image = np.zeros(mask.shape, np.int32)
        return mask.astype(np.float32), np.where(mask, label_image, 0).astype(np.int32)

    def predict_labels(self, image_zyx: Any) -> np.ndarray | None:
        """The workflow's own label image restricted to its mask, or ``None`` if it has none.

        The dot workflows (CETN2, DSP, SLC25A17) number the dots their watershed cut; LMNB1
        interphase numbers each nucleus's lamina. Others have no label image of their own
        (label the mask's connected components instead). Runs the workflow; use
        :meth:`predict_proba_and_labels` to get the mask from the same run.

        Returns:
            int32 ZYX labels (0 outside the mask; numbers need not be consecutive), or None.
        """
        if self.pipeline.labels is None:
            return None
        return self.predict_proba_and_labels(image_zyx)[1]

    def __repr__(self) -> str:
        overrides = {name: o.as_config() for name, o in self.steps.items()}
        steps = f", steps={overrides!r}" if overrides else ""
        return f"ClassicBinarizer({self.workflow!r}, {self.params!r}{steps})"


def run_workflow(
    name: str, image_zyx: Any, record: Record = no_record, **overrides: Any
) -> np.ndarray:
    """Segment one structure in a ZYX image with its classic workflow.

    Args:
        name: the workflow (structure) name, one of :func:`list_workflows`.
        image_zyx: the raw single-channel image, shape ``(Z, Y, X)``, any real numeric type
            (an :class:`~seglight.io.ImageZYX` too).
        record: called as ``record(step_name, array)`` with each step's output but the
            mask's (e.g. ``steps.__setitem__``, then
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
    get_pipeline(name)
    params = {**load_params(name), **to_plain(overrides)}
    return ClassicBinarizer(name, params).predict_mask(image_zyx, record)


def save_workflow_config(
    path: str | Path,
    workflow: str,
    params: Mapping[str, Any] | None = None,
    steps: Mapping[str, Any] | None = None,
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

    Returns:
        ``path``.

    Raises:
        SeglightError / ConfigError: unknown workflow, parameters or overrides.
    """
    import yaml

    from seglight.io.atomic import atomic_path

    binarizer = ClassicBinarizer(workflow, params, steps)
    doc: dict[str, Any] = {"_target_": TARGET, "workflow": workflow, "params": binarizer.params}
    if binarizer.steps:
        doc["steps"] = {name: o.as_config() for name, o in binarizer.steps.items()}
    text = (f"# {workflow_info(workflow).description}\n"
            "# tuned; written by seglight.classic.save_workflow_config\n"
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
    if workflow not in list_workflows():
        raise ConfigError(f"{path}: workflow={workflow!r}: unknown classic workflow; choose "
                          f"one of {list_workflows()}")
    for key in ("params", "steps"):
        if doc.get(key) is not None and not isinstance(doc[key], dict):
            raise ConfigError(f"{path}: {key}: expected a mapping, got {doc[key]!r}")
    return ClassicBinarizer(workflow, doc.get("params"), doc.get("steps"), source=str(path))
