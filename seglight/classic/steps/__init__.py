"""The step engine: a classic workflow is a declarative :class:`Pipeline` of steps.

Each :class:`Step` applies one :class:`Block` (a reusable operation from :data:`BLOCKS`,
defined in :mod:`seglight.classic.blocks`) to the raw image or to earlier steps' outputs,
with its arguments taken from the workflow's parameters (``conf/model/classic/<name>.yaml``)
by key. :func:`run_pipeline` executes a pipeline; the command line (``run_workflow``,
``ClassicBinarizer``) and the napari editor run the same pipelines through it, so no step
has a second implementation.

What the engine adds to a plain chain of calls:

- **a content-keyed cache** (:class:`StepCache`): a step's key hashes its block, the keys of
  its inputs and its argument values; the raw image's key hashes its content. Changing one
  parameter therefore recomputes exactly the steps that use it and the steps downstream of
  them; every other step is a cache hit. LRU under a memory budget.
- **overrides** (:class:`StepOverride`): a step can be switched off (its first input passes
  through; only where that input has the kind the step outputs) or its block swapped for
  another of the same kinds (``gaussian_3d`` for ``edge_preserving_smoothing``,
  ``vesselness_3d`` for ``vesselness_2d``) — a custom workflow.
- **callbacks**: ``on_step(StepEvent(step, seconds, cached))`` after each step (per-step
  latency, and which steps really ran), ``record(name, array)`` with each intermediate
  result (``save_intermediates``), and ``should_stop()`` checked before each step
  (cooperative cancel: :class:`Cancelled` is raised).

Kinds of values: ``"image"`` (float32 ZYX), ``"mask"`` (bool ZYX), ``"labels"`` (int ZYX).

Where each part lives (every name is importable from ``seglight.classic.steps``, as saved
configs and other modules do):

- :mod:`~seglight.classic.steps.block_registry`: :class:`Block`, :data:`BLOCKS`,
  :func:`block`, :func:`get_block`;
- :mod:`~seglight.classic.steps.pipeline`: :class:`Step`, :class:`Pipeline`, :data:`IMAGE`;
- :mod:`~seglight.classic.steps.overrides`: :class:`StepOverride`, :func:`check_overrides`,
  :func:`alternatives`, :func:`step_arguments`;
- :mod:`~seglight.classic.steps.cache`: :class:`StepCache`;
- :mod:`~seglight.classic.steps.run`: :func:`run_pipeline`, :func:`needed_steps`,
  :class:`StepEvent`, :class:`Cancelled`.
"""

from seglight.classic.steps.block_registry import BLOCKS, KINDS, Block, block, get_block
from seglight.classic.steps.cache import DEFAULT_CACHE_BYTES, StepCache
from seglight.classic.steps.overrides import (
    StepOverride,
    alternatives,
    check_overrides,
    step_arguments,
)
from seglight.classic.steps.pipeline import IMAGE, Pipeline, Step
from seglight.classic.steps.run import Cancelled, StepEvent, needed_steps, run_pipeline

__all__ = [
    "BLOCKS",
    "DEFAULT_CACHE_BYTES",
    "IMAGE",
    "KINDS",
    "Block",
    "Cancelled",
    "Pipeline",
    "Step",
    "StepCache",
    "StepEvent",
    "StepOverride",
    "alternatives",
    "block",
    "check_overrides",
    "get_block",
    "needed_steps",
    "run_pipeline",
    "step_arguments",
]
