"""The editor's state and actions, without Qt: what the napari widget drives and tests call.

An :class:`EditorSession` holds one image, the chosen workflow, its parameters and step
overrides (switched off, or swapped for another block), and a :class:`StepCache` shared by
every run. Steps can be added from the block library, removed and reordered
(:meth:`EditorSession.add_step`, :meth:`~EditorSession.remove_step`,
:meth:`~EditorSession.move_step`, :mod:`seglight.classic.compose`), from any workflow or
from the blank start (``set_workflow("blank")``): a composed workflow, saved and run like
any other. A run is :meth:`seglight.classic.ClassicBinarizer.run_steps`, the very code
``python -m seglight.predict`` runs, on the whole stack or on a z-range around
the slice being looked at; the cache makes a run after one change recompute only that step
and the steps downstream of it. :meth:`EditorSession.request` freezes the state of a run so
that the widget can execute it in a worker thread while the user goes on changing values.
"""

from __future__ import annotations

import copy
import logging
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from seglight.classic import (
    ClassicBinarizer,
    StepCache,
    StepEvent,
    StepInfo,
    StepOverride,
    compose,
    describe,
    load_params,
    load_workflow_config,
    save_workflow_config,
    workflow_info,
)
from seglight.classic.library import blocks_valid_at
from seglight.classic.registry import get_pipeline
from seglight.classic.steps import IMAGE, Pipeline, alternatives, check_overrides
from seglight.classic.validation import as_image_zyx
from seglight.editor.sweep import Mosaic, build_mosaic, combinations
from seglight.errors import SeglightError
from seglight.measure import measure_objects

OnStep = Callable[[StepEvent], None]
ShouldStop = Callable[[], bool]

#: Half-width of the default z-range scope: the current slice and 3 on each side.
DEFAULT_HALF_Z = 3
#: How many z-range crops of the image are kept (each keeps its cache key).
MAX_CROPS = 4


def _short(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_short(v) for v in value) + "]"
    return str(value)


@dataclass(frozen=True)
class RunRequest:
    """Everything one run needs, frozen when it is asked for.

    Attributes:
        workflow: the workflow name.
        params: its complete parameters.
        overrides: step name -> :class:`StepOverride`.
        image: the float32 ZYX image the run segments (a z-range crop or the whole stack).
        z0: the first slice of ``image`` in the whole stack.
        generation: the session's change counter when the request was made.
        pipeline: a composed workflow's steps (``None``: the registered workflow's).
    """

    workflow: str
    params: Mapping[str, Any]
    overrides: Mapping[str, StepOverride]
    image: np.ndarray
    z0: int
    generation: int
    pipeline: Pipeline | None = None

    def binarizer(self, params: Mapping[str, Any] | None = None) -> ClassicBinarizer:
        """The binarizer that runs this request (with ``params`` instead, for a sweep)."""
        return ClassicBinarizer(self.workflow, self.params if params is None else params,
                                self.overrides, pipeline=self.pipeline)


@dataclass
class RunResult:
    """What a run gave.

    Attributes:
        request: the request it ran.
        outputs: every step's output (name -> ZYX array of the request's image shape).
        mask: the workflow's mask, uint8 0/255 (what ``python -m seglight.predict`` writes).
        events: one :class:`StepEvent` per step, in order.
        warnings: the warnings the run logged (``seglight`` loggers), one line each, e.g.
            the image lying outside the intensity range the workflow is tuned for, with
            the parameter to tune.
    """

    request: RunRequest
    outputs: dict[str, np.ndarray]
    mask: np.ndarray
    events: list[StepEvent] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def z0(self) -> int:
        return self.request.z0

    def ran(self) -> list[str]:
        """The steps that were computed (not cache hits, not switched off)."""
        return [e.step for e in self.events if not e.cached and not e.disabled]


class _ThreadWarnings(logging.Handler):
    """Collects the WARNING lines logged by one thread (the run's) on the ``seglight``
    loggers, so that a run in a worker thread can hand its warnings to the GUI."""

    def __init__(self):
        super().__init__(logging.WARNING)
        self.thread = threading.get_ident()
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.thread == self.thread:
            self.lines.append(record.getMessage())

    def __enter__(self) -> _ThreadWarnings:
        logging.getLogger("seglight").addHandler(self)
        return self

    def __exit__(self, *exc: object) -> None:
        logging.getLogger("seglight").removeHandler(self)


class EditorSession:
    """One image, one workflow, its parameters and overrides, and the step cache.

    Args:
        image_zyx: the raw single-channel image, ZYX, any real numeric type.
        workflow: the workflow to start with, e.g. ``"sec61b"``.
        spacing_um: voxel size (z, y, x) in µm, for the object table (``None``: unknown).
        cache: the step cache (default: a new one with the engine's memory budget).

    Raises:
        SeglightError: unknown workflow, or not a usable 3D image (one line).
    """

    def __init__(self, image_zyx: Any, workflow: str = "sec61b",
                 spacing_um: Sequence[float | None] | None = None,
                 cache: StepCache | None = None):
        self.image = as_image_zyx(workflow, image_zyx)
        self.spacing_um = None if spacing_um is None else tuple(spacing_um)
        self.cache = cache if cache is not None else StepCache()
        self.half_z: int | None = DEFAULT_HALF_Z
        #: Split touching objects in :meth:`labels` with seeds this far apart (µm; None: off).
        self.split_um: float | None = None
        self.center_z = self.image.shape[0] // 2
        self.generation = 0
        self._crops: dict[tuple[int, int], np.ndarray] = {}
        self.set_workflow(workflow)

    # --- state -----------------------------------------------------------------------

    def set_workflow(self, name: str) -> None:
        """Choose a workflow: its default parameters, no overrides (``"blank"``: the blank
        start, :func:`seglight.classic.compose.blank`)."""
        self.workflow = name
        #: Whether the steps are composed here (or loaded so), not the registered ones.
        self.composed = name == compose.BLANK
        if self.composed:
            self.pipeline, self.params = compose.blank()
        else:
            self.pipeline = get_pipeline(name)
            self.params: dict[str, Any] = load_params(name)
        self.overrides: dict[str, StepOverride] = {}
        self._changed()

    def load(self, path: str | Path) -> None:
        """Go on tuning a saved workflow (:meth:`save`, or any classic model config): its
        workflow, parameters and step overrides.

        Raises:
            ConfigError: one line naming the file and what is wrong with it.
        """
        binarizer = load_workflow_config(path)
        self.pipeline = binarizer.pipeline
        self.composed = binarizer.composed
        self.workflow = binarizer.workflow
        self.params = dict(binarizer.params)
        self.overrides = dict(binarizer.steps)
        self._changed()

    def recipe(self) -> str:
        """The workflow as it stands, one line: its structure, then each step's block with
        the values it runs (steps switched off are left out), e.g. ``SEC61B (ER):
        normalize([2.5, 7.5]) -> edge_preserving_smoothing -> vesselness_2d(1, 0.2) ...``.
        Follows every change, unlike the config's comment line (the defaults')."""
        structure = ("Blank" if self.workflow == compose.BLANK
                     else workflow_info(self.workflow).description.split(":")[0])
        if self.composed:
            structure += " (composed)"
        parts = []
        for info in self.steps:
            if not info.enabled:
                continue
            values = ", ".join(_short(p.value) for p in info.params if p.key is not None
                               or info.name in self.overrides)
            parts.append(f"{info.block}({values})" if values else info.block)
        return f"{structure}: " + " -> ".join(parts)

    @property
    def steps(self) -> list[StepInfo]:
        """Each step as the editor shows it (block, arguments with help and ranges), with
        the current values and overrides."""
        return describe(self.workflow, self.params, self.overrides,
                        self.pipeline if self.composed else None)

    def set_param(self, key: str, value: Any) -> None:
        """Set a workflow parameter (a key of its config's ``params``)."""
        if key not in self.params:
            raise SeglightError(f"workflow {self.workflow!r} has no parameter {key!r}; "
                                f"its parameters are {sorted(self.params)}")
        self.params[key] = copy.deepcopy(value)
        self._changed()

    def set_enabled(self, step: str, enabled: bool) -> None:
        """Switch a step on or off (off: its input passes through)."""
        self._override(step, enabled=enabled)

    def swap_block(self, step: str, block: str | None,
                   block_params: Mapping[str, Any] | None = None) -> None:
        """Run ``block`` instead of the step's own (``None``: back to its own)."""
        own = self.pipeline.step(step).block
        self._override(step, block=None if block in (None, own) else block,
                       params=dict(block_params or {}))

    def set_block_param(self, step: str, arg: str, value: Any) -> None:
        """Set an argument of a step's block directly (overrides the workflow parameter)."""
        current = self.overrides.get(step, StepOverride())
        self._override(step, params={**current.params, arg: copy.deepcopy(value)})

    def _override(self, step: str, **change: Any) -> None:
        current = self.overrides.get(step, StepOverride())
        fields = {"enabled": current.enabled, "block": current.block,
                  "params": dict(current.params), **change}
        candidate = {**self.overrides, step: StepOverride(**fields)}
        self.overrides = check_overrides(self.pipeline, candidate, f"workflow {self.workflow}")
        self._changed()

    # --- composing ---------------------------------------------------------------------

    def valid_blocks(self, after: str | None) -> list[str]:
        """The blocks that can be added after step ``after`` (``None``: first): those whose
        inputs exist there (:func:`seglight.classic.library.blocks_valid_at`)."""
        position = 0 if after is None else [s.name for s in self.pipeline.steps].index(after) + 1
        return blocks_valid_at(self.pipeline, position)

    def add_step(self, block: str, after: str | None) -> str:
        """Add a step running ``block`` after step ``after``; returns the new step's name.

        Raises:
            ComposeError: the block's inputs are not there (one line).
        """
        before = {s.name for s in self.pipeline.steps}
        pipeline, params = compose.insert_step(self.pipeline, self.params, block, after)
        self._compose(pipeline, params)
        return next(s.name for s in pipeline.steps if s.name not in before)

    def remove_step(self, step: str) -> None:
        """Remove a step (see :func:`seglight.classic.compose.remove_step`).

        Raises:
            ComposeError: another step needs its output (one line).
        """
        self._compose(*compose.remove_step(self.pipeline, self.params, step))

    def move_step(self, step: str, offset: int) -> None:
        """Move a step up (``-1``) or down (``+1``).

        Raises:
            ComposeError: the move would put a step before a value it reads (one line).
        """
        self._compose(*compose.move_step(self.pipeline, self.params, step, offset))

    def _compose(self, pipeline: Pipeline, params: dict[str, Any]) -> None:
        kept = {name: o for name, o in self.overrides.items()
                if name in {s.name for s in pipeline.steps}}
        self.overrides = check_overrides(pipeline, kept, f"workflow {self.workflow}")
        self.pipeline, self.params, self.composed = pipeline, params, True
        self._changed()

    def alternatives(self, step: str) -> list[str]:
        """The blocks ``step`` can be swapped for, its own included."""
        return alternatives(self.pipeline, step)

    def set_scope(self, half_z: int | None, center_z: int | None = None) -> None:
        """Run on slices ``center_z ± half_z`` (``half_z=None``: the whole stack)."""
        self.half_z = None if half_z is None else max(0, int(half_z))
        if center_z is not None:
            self.center_z = int(np.clip(center_z, 0, self.image.shape[0] - 1))
        self._changed()

    def _changed(self) -> None:
        self.generation += 1

    def z_range(self) -> tuple[int, int]:
        """The slices ``[z0, z1)`` the next run segments."""
        nz = self.image.shape[0]
        if self.half_z is None:
            return 0, nz
        # At least 3 slices: the 3D filters need a neighbourhood in z.
        half = max(self.half_z, 1)
        z0 = max(0, min(self.center_z - half, nz - (2 * half + 1)))
        return z0, min(nz, z0 + 2 * half + 1)

    def _crop(self, z0: int, z1: int) -> np.ndarray:
        """The image's slices ``[z0, z1)``, the same array object each time (the cache keys
        an image by its object), a few ranges kept."""
        if (z0, z1) == (0, self.image.shape[0]):
            return self.image
        crop = self._crops.pop((z0, z1), None)
        if crop is None:
            crop = np.ascontiguousarray(self.image[z0:z1])
        self._crops[(z0, z1)] = crop
        while len(self._crops) > MAX_CROPS:
            self._crops.pop(next(iter(self._crops)))
        return crop

    # --- running ---------------------------------------------------------------------

    def request(self) -> RunRequest:
        """Freeze the current state as a run (for a worker thread)."""
        z0, z1 = self.z_range()
        return RunRequest(self.workflow, copy.deepcopy(self.params), dict(self.overrides),
                          self._crop(z0, z1), z0, self.generation,
                          self.pipeline if self.composed else None)

    def _whole_stack_steps(self, binarizer: ClassicBinarizer, z0: int, z1: int,
                           should_stop: ShouldStop | None = None,
                           on_step: OnStep | None = None) -> dict[str, np.ndarray] | None:
        """For a z-range run: the steps that read the raw image (the normalizations) run on
        the whole stack, cropped to ``[z0, z1)``, so that the preview's intensities, hence
        every cutoff downstream, are those of the whole run; ``None`` on the whole stack."""
        if (z0, z1) == (0, self.image.shape[0]):
            return None
        readers = [step.name for step in binarizer.pipeline.steps if IMAGE in step.inputs]
        whole = binarizer.run_steps(self.image, targets=readers, cache=self.cache,
                                    on_step=on_step, should_stop=should_stop)
        if not set(readers) <= set(whole):  # a constant stack: nothing to normalize
            return None
        return {name: whole[name][z0:z1] for name in readers}

    def execute(self, request: RunRequest, on_step: OnStep | None = None,
                should_stop: ShouldStop | None = None) -> RunResult:
        """Run a request; raises :class:`seglight.classic.steps.Cancelled` when
        ``should_stop()`` turns true between two steps.

        On a z-range, the normalization steps run on the whole stack (cached) and the other
        steps on the crop: a cutoff tuned on the preview means what it will mean on the
        whole stack (3D filters and size filters still see only the crop's slices)."""
        binarizer = request.binarizer()
        events: list[StepEvent] = []
        whole_events: dict[str, StepEvent] = {}

        def whole_step_done(event: StepEvent) -> None:
            whole_events[event.step] = event

        def step_done(event: StepEvent) -> None:
            event = whole_events.get(event.step, event)  # a given step: its whole-stack run
            events.append(event)
            if on_step is not None:
                on_step(event)

        z1 = request.z0 + request.image.shape[0]
        with _ThreadWarnings() as warned:
            given = self._whole_stack_steps(binarizer, request.z0, z1, should_stop,
                                            whole_step_done)
            outputs = binarizer.run_steps(request.image, cache=self.cache, on_step=step_done,
                                          should_stop=should_stop, given=given)
        mask = (outputs[binarizer.pipeline.output] > 0).astype(np.uint8) * np.uint8(255)
        return RunResult(request, outputs, mask, events, list(dict.fromkeys(warned.lines)))

    def run(self, on_step: OnStep | None = None,
            should_stop: ShouldStop | None = None) -> RunResult:
        """Run the current state now (in this thread)."""
        return self.execute(self.request(), on_step, should_stop)

    # --- sweep -----------------------------------------------------------------------

    def sweep(self, first: tuple[str, Sequence[Any]],
              second: tuple[str, Sequence[Any]] | None = None,
              should_stop: ShouldStop | None = None) -> Mosaic:
        """The mask on the current slice for each combination of one or two parameters'
        values, as a mosaic (rows: the first parameter's values, columns: the second's).

        The run covers the current z-range (at least 3 slices around the current one);
        steps upstream of the swept parameters come from the cache.
        """
        for key, _ in (first, second) if second else (first,):
            if key not in self.params:
                raise SeglightError(f"sweep: workflow {self.workflow!r} has no parameter "
                                    f"{key!r}")
        grid = combinations(first, second)
        z0, z1 = self.z_range()
        image = self._crop(z0, z1)
        z = self.center_z - z0
        masks = []
        output = self.pipeline.output
        frozen = self.request()
        for row in grid:
            masks.append([])
            for values in row:
                binarizer = frozen.binarizer({**self.params, **values})
                given = self._whole_stack_steps(binarizer, z0, z1, should_stop)
                out = binarizer.run_steps(image, targets=[output], cache=self.cache,
                                          should_stop=should_stop, given=given)
                masks[-1].append(out[output][z])
        return build_mosaic(image[z], masks, grid)

    # --- objects and saving ------------------------------------------------------------

    def labels(self, result: RunResult) -> np.ndarray:
        """The objects of a run, numbered as ``labels=true`` numbers them
        (:func:`seglight.predict.runner.object_labels`): the workflow's own label step where
        it has one, kept inside the mask, else the mask's 26-connected
        components; touching objects split where :attr:`split_um` is set (as
        ``labels=true split_touching=<µm>``)."""
        from seglight.predict.runner import object_labels

        own = result.outputs.get(self.pipeline.labels) if self.pipeline.labels else None
        return object_labels(result.mask, own, self.workflow, self.split_um, self.spacing_um)

    def objects(self, result: RunResult, labels: np.ndarray) -> dict[str, np.ndarray]:
        """The per-object table of a run's labels (:func:`seglight.measure.measure_objects`),
        intensities from the raw image the run segmented."""
        return measure_objects(labels, result.request.image, self.spacing_um)

    def save(self, path: str | Path) -> Path:
        """Write the tuned workflow as a config ``python -m seglight.predict workflow=PATH``
        runs; returns the path."""
        return save_workflow_config(path, self.workflow, self.params, self.overrides,
                                    self.pipeline if self.composed else None)
