"""Running a pipeline: :func:`run_pipeline` executes the steps a run needs, with the cache,
the overrides and the callbacks (``on_step``, ``record``, ``should_stop``)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from seglight.binarizer import Record
from seglight.classic.steps.block_registry import Block
from seglight.classic.steps.cache import StepCache, _step_key
from seglight.classic.steps.overrides import StepOverride, step_arguments
from seglight.classic.steps.pipeline import IMAGE, Pipeline, Step


@dataclass(frozen=True)
class StepEvent:
    """What one step of a run did.

    Attributes:
        step: the step's name.
        seconds: wall-clock seconds it took (a cache lookup's for a hit).
        cached: its output came from the cache.
        disabled: it is switched off (its input passed through).
    """

    step: str
    seconds: float
    cached: bool
    disabled: bool = False


class Cancelled(Exception):
    """A run stopped because ``should_stop()`` said so; ``step`` is the step not started."""

    def __init__(self, step: str):
        super().__init__(f"cancelled before step {step!r}")
        self.step = step


def needed_steps(
    pipeline: Pipeline, targets: Iterable[str], available: Iterable[str] = ()
) -> list[Step]:
    """The steps that ``targets`` (output names) depend on, in execution order.

    Args:
        pipeline: the steps.
        targets: the outputs wanted.
        available: steps whose outputs are at hand (cached): their inputs are not needed.
    """
    producer = {name: step for step in pipeline.steps for name in step.names}
    available = set(available)
    wanted = set()
    todo = [producer[name] for name in targets]
    while todo:
        step = todo.pop()
        if step.name not in wanted:
            wanted.add(step.name)
            if step.name not in available:
                todo.extend(producer[name] for name in step.inputs if name != IMAGE)
    return [step for step in pipeline.steps if step.name in wanted]


def _plan(
    pipeline: Pipeline,
    params: Mapping[str, Any],
    overrides: Mapping[str, StepOverride],
    image_key: str | None,
    given_keys: Mapping[str, str] | None = None,
) -> dict[str, tuple[Block | None, dict[str, Any], str | None]]:
    """Per step: the block to run (None: switched off), its arguments, and its cache key
    (None without a cache). Keys depend only on the image's key and the arguments, so the
    whole run's keys are known before any step runs; a step whose output is given (see
    :func:`run_pipeline`) is keyed by that output's content."""
    keys = {IMAGE: image_key}
    plan = {}
    for step in pipeline.steps:
        if given_keys and step.name in given_keys:
            blk, kwargs = step_arguments(step, params, overrides.get(step.name))
            keys[step.name] = given_keys[step.name]
            plan[step.name] = (blk, kwargs, None)
            continue
        override = overrides.get(step.name)
        if override is not None and not override.enabled:
            keys[step.name] = keys[step.inputs[0]]
            plan[step.name] = (None, {}, None)
            continue
        blk, kwargs = step_arguments(step, params, override)
        key = None
        if image_key is not None:
            key = _step_key(blk.name, [keys[name] for name in step.inputs], kwargs)
        for i, name in enumerate(step.names):
            keys[name] = None if key is None else f"{key}#{i}"
        plan[step.name] = (blk, kwargs, key)
    return plan


def run_pipeline(
    pipeline: Pipeline,
    image: np.ndarray,
    params: Mapping[str, Any],
    *,
    overrides: Mapping[str, StepOverride] | None = None,
    targets: Sequence[str] | None = None,
    cache: StepCache | None = None,
    record: Record | None = None,
    on_step: Callable[[StepEvent], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
    image_key: str | None = None,
    given: Mapping[str, np.ndarray] | None = None,
) -> dict[str, np.ndarray]:
    """Run a pipeline on one image.

    Args:
        pipeline: the workflow's steps.
        image: the raw image as float32 ZYX (already checked).
        params: the workflow's complete, checked parameters.
        overrides: step name -> :class:`StepOverride` (checked by :func:`check_overrides`).
        targets: the outputs wanted; only the steps they depend on run, and only they are
            returned (intermediates are freed as soon as no later step needs them).
            ``None``: every step runs and every output is returned.
        cache: where outputs are looked up and stored (default: none).
        record: called as ``record(name, array)`` with every output but the pipeline's
            mask, in order.
        on_step: called with a :class:`StepEvent` after each step.
        should_stop: called before each step; ``True`` raises :class:`Cancelled`.
        image_key: the image's cache key, when the caller has it (default, with a cache:
            ``cache.image_key(image)``).
        given: outputs computed elsewhere, by step name: those steps do not run and their
            values are used as they are (the editor's z-range preview passes the
            normalization of the whole stack, cropped, so that the preview's intensities
            are the whole run's). Reported as cache hits.

    Returns:
        output name -> array.

    Raises:
        Cancelled: ``should_stop()`` returned True.
    """
    overrides = overrides or {}
    given = dict(given or {})
    unknown = set(given) - {step.name for step in pipeline.steps}
    if unknown:
        raise ValueError(f"given outputs {sorted(unknown)} are not steps of {pipeline.name!r}")
    if any(step.outputs for step in pipeline.steps if step.name in given):
        raise ValueError("only single-output steps can be given")
    if cache is not None and image_key is None:
        image_key = cache.image_key(image)
    given_keys = {name: cache.image_key(value) for name, value in given.items()} \
        if cache is not None else {}
    plan = _plan(pipeline, params, overrides, image_key if cache is not None else None,
                 given_keys)
    if targets is None:
        steps = list(pipeline.steps)
    else:
        # A cached step needs none of its inputs: only what leads to the misses runs.
        cached = [name for name, (_, _, key) in plan.items() if key is not None and key in cache]
        steps = needed_steps(pipeline, targets, [*cached, *given])
    # Held from the start: storing new outputs cannot evict what this run counts on.
    hits = {step.name: cache.get(plan[step.name][2]) for step in steps
            if cache is not None and step.name not in given and plan[step.name][2] in cache}
    hits.update(given)
    keep = None if targets is None else set(targets)
    last_use: dict[str, int] = {}
    for index, step in enumerate(steps):
        for name in step.inputs:
            last_use[name] = index
    values: dict[str, Any] = {IMAGE: image}
    for index, step in enumerate(steps):
        if should_stop is not None and should_stop():
            raise Cancelled(step.name)
        blk, kwargs, key = plan[step.name]
        start = time.perf_counter()
        hit = hits.get(step.name)
        if blk is None:
            outputs = (values[step.inputs[0]],)
        elif hit is not None:
            outputs = hit if isinstance(hit, tuple) else (hit,)
        else:
            result = blk.fn(*(values[name] for name in step.inputs), **kwargs)
            outputs = tuple(result) if step.outputs else (result,)
            if key is not None:
                cache.put(key, outputs if step.outputs else result)
        seconds = time.perf_counter() - start
        for name, value in zip(step.names, outputs, strict=True):
            values[name] = value
            if record is not None and name != pipeline.output:
                record(name, value)
        if keep is not None:
            for name in step.inputs:
                if last_use[name] == index and name not in keep and name != IMAGE:
                    values.pop(name, None)
        if on_step is not None:
            on_step(StepEvent(step.name, seconds, hit is not None, blk is None))
    del values[IMAGE]
    if targets is not None:
        return {name: values[name] for name in targets}
    return values
