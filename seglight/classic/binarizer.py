"""The classic workflows behind the :class:`seglight.binarizer.Binarizer` interface:
:class:`ClassicBinarizer` (what ``conf/model/classic/<name>.yaml`` builds) and
:func:`run_workflow`, one call for one image."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from seglight.binarizer import Record, no_record
from seglight.classic.registry import get_pipeline, load_params, workflow_parameter_kinds
from seglight.classic.steps import (
    Pipeline,
    StepCache,
    StepEvent,
    check_overrides,
    run_pipeline,
)
from seglight.classic.validation import (
    STRICT_KEY,
    as_image_zyx,
    check_intensity_range,
    check_params,
    parameter_kinds,
)
from seglight.config import to_plain
from seglight.io import ImageZYX


def _complete_params(name: str, given: Mapping[str, Any], where: str | None = None,
                     composed: Pipeline | None = None) -> dict:
    """``given`` checked against the workflow's steps; parameters it lacks come from the
    config file (not read when ``given`` is complete, as Hydra composes it), or for a
    composed pipeline from :func:`seglight.classic.compose.default_params`."""
    kinds = workflow_parameter_kinds(name) if composed is None else parameter_kinds(composed)
    given = to_plain(given)
    if not set(kinds) <= set(given):
        if composed is None:
            defaults = load_params(name)
        else:
            from seglight.classic.compose import default_params

            defaults = default_params(composed, name)
        given = {**defaults, **given}
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
        pipeline: a composed workflow's steps (a config's ``pipeline:`` mapping, see
            :mod:`seglight.classic.compose`, or a :class:`Pipeline`) instead of the
            registered ones; ``workflow`` then names where it started (a workflow, or
            ``blank``), and parameters the pipeline reads that ``params`` lacks get the
            starting workflow's or the block library's defaults.

    Attributes:
        threshold: 0.5; the probabilities are exactly 0 or 1.
        workflow: the workflow name.
        pipeline: its :class:`~seglight.classic.steps.Pipeline`.
        composed: whether the pipeline was given (not the registered one).
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
        pipeline: Mapping[str, Any] | Pipeline | None = None,
    ):
        where = source or f"classic workflow {workflow!r}"
        self.composed = pipeline is not None
        if pipeline is None:
            self.pipeline = get_pipeline(workflow)
        else:
            from seglight.classic.compose import pipeline_from_config

            self.pipeline = pipeline_from_config(
                pipeline if isinstance(pipeline, Pipeline) else to_plain(pipeline),
                workflow, where)
        self.workflow = workflow
        self.params = _complete_params(workflow, params or {}, source,
                                       self.pipeline if self.composed else None)
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
        composed = f", pipeline=<{len(self.pipeline.steps)} steps>" if self.composed else ""
        return f"ClassicBinarizer({self.workflow!r}, {self.params!r}{steps}{composed})"


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
