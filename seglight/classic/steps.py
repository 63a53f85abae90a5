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
"""

from __future__ import annotations

import functools
import hashlib
import inspect
import json
import threading
import time
import typing
import weakref
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from seglight.binarizer import Record
from seglight.errors import ConfigError

#: The name under which a pipeline's steps refer to the raw (float32 ZYX) image.
IMAGE = "image"
#: The kinds of value a block takes and returns.
KINDS = ("image", "mask", "labels")
#: The default memory budget of a :class:`StepCache`.
DEFAULT_CACHE_BYTES = 4 * 2**30


# --------------------------------------------------------------------------- blocks


def _param_kind(annotation: Any) -> str:
    """``int``, ``float``, ``bool``, ``str`` or ``list``: the kind of value a block argument
    annotated ``annotation`` takes (a ``Sequence[...]`` is a list)."""
    if annotation in (int, float, bool, str):
        return annotation.__name__
    origin = typing.get_origin(annotation)
    if origin is not None and isinstance(origin, type) and issubclass(origin, Sequence):
        return "list"
    raise TypeError(f"block argument annotated {annotation!r}: no YAML kind for it")


@functools.cache
def _keyword_arguments(fn: Callable[..., Any]) -> tuple[tuple[str, inspect.Parameter], ...]:
    return tuple(
        (p.name, p)
        for p in inspect.signature(fn).parameters.values()
        if p.kind is inspect.Parameter.KEYWORD_ONLY
    )


@functools.cache
def _argument_kinds(fn: Callable[..., Any]) -> tuple[tuple[str, str], ...]:
    hints = typing.get_type_hints(fn)
    return tuple((name, _param_kind(hints[name])) for name, _ in _keyword_arguments(fn))


@dataclass(frozen=True)
class Block:
    """A reusable operation: the unit a user switches off or swaps in a custom workflow.

    Attributes:
        name: the name in :data:`BLOCKS`, e.g. ``"gaussian_3d"``.
        fn: ``fn(*inputs, **arguments)``; arguments are keyword-only and annotated.
        kind_in: the kind of each input (with ``variadic``, the last one repeats).
        kind_out: the kind of the output; a tuple for a block that returns several arrays.
        help: one line for the editor, what the block does.
        family: what kind of operation it is (``"smoothing"``, ``"size filter"``, ...): the
            blocks an editor offers as swaps are those of the step's family.
        variadic: takes any number (>= len(kind_in)) of inputs of the last kind.
    """

    name: str
    fn: Callable[..., Any]
    kind_in: tuple[str, ...]
    kind_out: str | tuple[str, ...]
    help: str
    family: str
    variadic: bool = False

    @property
    def kinds_out(self) -> tuple[str, ...]:
        """The kind of each output (one for most blocks)."""
        return self.kind_out if isinstance(self.kind_out, tuple) else (self.kind_out,)

    def arguments(self) -> dict[str, inspect.Parameter]:
        """The block's keyword-only arguments (its parameters), by name."""
        return dict(_keyword_arguments(self.fn))

    def argument_kinds(self) -> dict[str, str]:
        """Each argument's kind: ``int``, ``float``, ``bool``, ``str`` or ``list``."""
        return dict(_argument_kinds(self.fn))

    def accepts(self, kinds: Sequence[str]) -> bool:
        """Whether the block takes inputs of these kinds, in this order."""
        if self.variadic:
            head, last = self.kind_in[:-1], self.kind_in[-1]
            return (
                len(kinds) >= len(self.kind_in)
                and tuple(kinds[: len(head)]) == head
                and all(k == last for k in kinds[len(head):])
            )
        return tuple(kinds) == self.kind_in


#: Every block, by name (filled by :mod:`seglight.classic.blocks` and the workflow modules).
BLOCKS: dict[str, Block] = {}


def block(
    name: str,
    kind_in: tuple[str, ...],
    kind_out: str | tuple[str, ...],
    *,
    family: str | None = None,
    variadic: bool = False,
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register ``fn`` as block ``name``; its help is the first line of its docstring, its
    family (default: its name) groups the blocks an editor offers as swaps."""

    def register(fn: Callable[..., Any]) -> Callable[..., Any]:
        if name in BLOCKS:
            raise ValueError(f"block {name!r} is registered twice")
        for kind in (*kind_in, *(kind_out if isinstance(kind_out, tuple) else (kind_out,))):
            if kind not in KINDS:
                raise ValueError(f"block {name!r}: kind {kind!r} is not one of {KINDS}")
        help_line = (inspect.getdoc(fn) or name).splitlines()[0]
        BLOCKS[name] = Block(
            name, fn, tuple(kind_in), kind_out, help_line, family or name, variadic
        )
        BLOCKS[name].argument_kinds()  # every argument must have a YAML kind
        return fn

    return register


def get_block(name: str, where: str = "") -> Block:
    """The block ``name``; a :class:`ConfigError` naming the valid ones otherwise."""
    if name not in BLOCKS:
        prefix = f"{where}: " if where else ""
        raise ConfigError(f"{prefix}unknown block {name!r}; choose one of {sorted(BLOCKS)}")
    return BLOCKS[name]


# --------------------------------------------------------------------------- pipelines


@dataclass(frozen=True)
class Step:
    """One step of a pipeline.

    Attributes:
        name: the name of its output (what ``record`` and the editor's layer show).
        block: a name in :data:`BLOCKS`.
        inputs: ``"image"`` or earlier outputs' names, in the block's input order.
        params: block argument -> the workflow parameter (config key) it takes its value
            from. Arguments left out keep the block's default.
        outputs: names of the further outputs of a block that returns several arrays.
    """

    name: str
    block: str
    inputs: tuple[str, ...]
    params: Mapping[str, str] = field(default_factory=dict)
    outputs: tuple[str, ...] = ()

    @property
    def names(self) -> tuple[str, ...]:
        """All its outputs' names, the step's own first."""
        return (self.name, *self.outputs)


@dataclass(frozen=True)
class Pipeline:
    """A classic workflow as a list of steps, in execution order.

    Attributes:
        name: the workflow (structure) name, e.g. ``"sec61b"``.
        steps: the steps; each reads only the image and earlier steps.
        output: the step whose output is the workflow's mask.
        labels: the step whose output is the workflow's own label image (the dot
            workflows' watershed cut, LMNB1 interphase's nuclei), or ``None``.
    """

    name: str
    steps: tuple[Step, ...]
    output: str
    labels: str | None = None

    def __post_init__(self) -> None:
        kinds = self.kinds()
        for target in (self.output, self.labels):
            if target is not None and target not in kinds:
                raise ValueError(f"pipeline {self.name!r}: no step named {target!r}")
        if kinds[self.output] != "mask":
            raise ValueError(f"pipeline {self.name!r}: output {self.output!r} is no mask")
        if self.labels is not None and kinds[self.labels] != "labels":
            raise ValueError(f"pipeline {self.name!r}: {self.labels!r} is no label image")

    def step(self, name: str) -> Step:
        """The step named ``name`` (KeyError if none)."""
        for step in self.steps:
            if step.name == name:
                return step
        raise KeyError(name)

    def kinds(self, blocks: Mapping[str, Block] | None = None) -> dict[str, str]:
        """The kind of every value (the image and each output), checking the wiring.

        Args:
            blocks: step name -> the block it runs (default: each step's own).

        Raises:
            ValueError: a name used twice, an input not defined before its step, or
                inputs of kinds the block does not take (a bug in a pipeline definition).
        """
        kinds = {IMAGE: "image"}
        for step in self.steps:
            blk = (blocks or {}).get(step.name) or get_block(step.block)
            missing = [name for name in step.inputs if name not in kinds]
            if missing:
                raise ValueError(f"pipeline {self.name!r}, step {step.name!r}: "
                                 f"inputs {missing} are not defined before it")
            if not blk.accepts([kinds[name] for name in step.inputs]):
                raise ValueError(f"pipeline {self.name!r}, step {step.name!r}: block "
                                 f"{blk.name!r} does not take {[kinds[n] for n in step.inputs]}")
            if len(step.names) != len(blk.kinds_out):
                raise ValueError(f"pipeline {self.name!r}, step {step.name!r}: block "
                                 f"{blk.name!r} has {len(blk.kinds_out)} output(s)")
            for name, kind in zip(step.names, blk.kinds_out, strict=True):
                if name in kinds:
                    raise ValueError(f"pipeline {self.name!r}: {name!r} is defined twice")
                kinds[name] = kind
            unknown = set(step.params) - set(blk.arguments())
            if unknown:
                raise ValueError(f"pipeline {self.name!r}, step {step.name!r}: block "
                                 f"{blk.name!r} has no argument(s) {sorted(unknown)}")
        return kinds

    def parameter_kinds(self) -> dict[str, str]:
        """Every workflow parameter the steps read, with its kind (``int``, ``float``, ...).

        Raises:
            ValueError: one parameter feeds arguments of different kinds.
        """
        kinds: dict[str, str] = {}
        for step in self.steps:
            arg_kinds = get_block(step.block).argument_kinds()
            for arg, key in step.params.items():
                kind = arg_kinds[arg]
                if kinds.setdefault(key, kind) != kind:
                    raise ValueError(f"pipeline {self.name!r}: parameter {key!r} feeds a "
                                     f"{kinds[key]} and a {kind} argument")
        return kinds


# --------------------------------------------------------------------------- overrides


@dataclass(frozen=True)
class StepOverride:
    """How a custom workflow changes one step.

    Attributes:
        enabled: ``False`` skips the step: its first input passes through unchanged
            (allowed only where that input has the kind the step outputs).
        block: another block of the same input and output kinds to run instead.
        params: block argument -> value, replacing what the workflow's parameters give
            (a swapped-in block's arguments that the step does not map keep their defaults).
    """

    enabled: bool = True
    block: str | None = None
    params: Mapping[str, Any] = field(default_factory=dict)

    def as_config(self) -> dict[str, Any]:
        """The plain mapping that a saved config holds (only what differs from the step)."""
        out: dict[str, Any] = {}
        if not self.enabled:
            out["enabled"] = False
        if self.block is not None:
            out["block"] = self.block
        if self.params:
            out["params"] = dict(self.params)
        return out


_OVERRIDE_KEYS = ("enabled", "block", "params")


def _value_kind_ok(value: Any, kind: str) -> bool:
    if kind == "bool":
        return isinstance(value, bool | np.bool_)
    if kind in ("int", "float"):
        return isinstance(value, int | float | np.integer | np.floating) and not isinstance(
            value, bool | np.bool_
        )
    if kind == "str":
        return isinstance(value, str)
    return isinstance(value, list | tuple)


def check_overrides(
    pipeline: Pipeline, steps: Mapping[str, Any] | None, where: str
) -> dict[str, StepOverride]:
    """Turn a config's ``steps:`` mapping (or :class:`StepOverride` objects) into checked
    overrides.

    Args:
        pipeline: the workflow's pipeline.
        steps: step name -> ``{enabled: false}`` / ``{block: name, params: {...}}`` or a
            :class:`StepOverride`; ``None`` for none.
        where: the start of every error message (the file, or the workflow).

    Returns:
        step name -> :class:`StepOverride`, only the steps that change.

    Raises:
        ConfigError: one line naming ``where`` and the key (``steps.<step>.<field>``): an
            unknown step, field, block or argument, a block of other kinds, a step that
            cannot be switched off, or a value of the wrong kind.
    """
    names = [step.name for step in pipeline.steps]
    checked: dict[str, StepOverride] = {}
    for name, spec in (steps or {}).items():
        key = f"steps.{name}"
        if name not in names:
            raise ConfigError(f"{where}: {key}: workflow {pipeline.name!r} has no step "
                              f"{name!r}; its steps are {names}")
        if isinstance(spec, StepOverride):
            override = spec
        else:
            if not isinstance(spec, Mapping):
                raise ConfigError(f"{where}: {key}={spec!r}: give a mapping such as "
                                  "{enabled: false} or {block: gaussian_3d}")
            unknown = sorted(set(spec) - set(_OVERRIDE_KEYS))
            if unknown:
                raise ConfigError(f"{where}: {key}.{unknown[0]}: unknown field; a step "
                                  f"override has {list(_OVERRIDE_KEYS)}")
            enabled = spec.get("enabled", True)
            if not isinstance(enabled, bool):
                raise ConfigError(f"{where}: {key}.enabled={enabled!r}: give true or false")
            blk = spec.get("block")
            if blk is not None and not isinstance(blk, str):
                raise ConfigError(f"{where}: {key}.block={blk!r}: give a block name")
            params = spec.get("params") or {}
            if not isinstance(params, Mapping):
                raise ConfigError(f"{where}: {key}.params={params!r}: give a mapping "
                                  "argument: value")
            override = StepOverride(enabled, blk, dict(params))
        _check_override(pipeline, pipeline.step(name), override, f"{where}: {key}")
        if override != StepOverride():
            checked[name] = override
    pipeline.kinds({n: get_block(o.block) for n, o in checked.items() if o.block})
    return checked


def _check_override(pipeline: Pipeline, step: Step, override: StepOverride, where: str) -> None:
    kinds = pipeline.kinds()
    original = get_block(step.block)
    if not override.enabled:
        first = step.inputs[0]
        if len(step.names) > 1 or kinds[first] != kinds[step.name]:
            raise ConfigError(
                f"{where}.enabled=false: step {step.name!r} turns a {kinds[first]} into a "
                f"{kinds[step.name]}, so it cannot be switched off (swap its block instead)"
            )
    blk = original
    if override.block is not None:
        blk = get_block(override.block, f"{where}.block")
        in_kinds = [kinds[name] for name in step.inputs]
        if not blk.accepts(in_kinds) or blk.kinds_out != original.kinds_out:
            raise ConfigError(
                f"{where}.block={override.block!r}: it takes {list(blk.kind_in)} and gives "
                f"{blk.kind_out}, the step needs {in_kinds} -> {original.kind_out}; "
                f"choose one of {alternatives(pipeline, step.name)}"
            )
    arg_kinds = blk.argument_kinds()
    for arg, value in override.params.items():
        if arg not in arg_kinds:
            raise ConfigError(f"{where}.params.{arg}: block {blk.name!r} has no such "
                              f"argument; its arguments are {sorted(arg_kinds)}")
        if not _value_kind_ok(value, arg_kinds[arg]):
            raise ConfigError(f"{where}.params.{arg}={value!r}: should be {arg_kinds[arg]}")
    for arg, parameter in blk.arguments().items():
        if (parameter.default is inspect.Parameter.empty and arg not in override.params
                and arg not in step.params):
            raise ConfigError(f"{where}.params.{arg}: block {blk.name!r} needs it; "
                              f"set steps.{step.name}.params.{arg}")


def alternatives(pipeline: Pipeline, step_name: str) -> list[str]:
    """The blocks an editor offers for step ``step_name``: those of its block's family that
    take its inputs and give its outputs' kinds, its own included, sorted. (Any block of
    matching kinds is accepted in an override; the family keeps the offer meaningful.)"""
    kinds = pipeline.kinds()
    step = pipeline.step(step_name)
    in_kinds = [kinds[name] for name in step.inputs]
    own = get_block(step.block)
    return sorted(
        b.name for b in BLOCKS.values()
        if b.family == own.family and b.accepts(in_kinds) and b.kinds_out == own.kinds_out
    )


def step_arguments(
    step: Step, params: Mapping[str, Any], override: StepOverride | None = None
) -> tuple[Block, dict[str, Any]]:
    """The block a step runs and its arguments: the override's values, else the workflow
    parameters the step maps, else the block's defaults."""
    override = override or StepOverride()
    blk = get_block(override.block or step.block)
    kwargs = {}
    for arg, parameter in blk.arguments().items():
        if arg in override.params:
            kwargs[arg] = override.params[arg]
        elif arg in step.params:
            kwargs[arg] = params[step.params[arg]]
        elif parameter.default is not inspect.Parameter.empty:
            kwargs[arg] = parameter.default
    return blk, kwargs


# --------------------------------------------------------------------------- the cache


def _nbytes(value: Any) -> int:
    return sum(np.asarray(v).nbytes for v in (value if isinstance(value, tuple) else (value,)))


class StepCache:
    """Step outputs by content key, least recently used dropped first.

    Args:
        max_bytes: the memory budget of the stored arrays (default 4 GiB); an output larger
            than the budget is not stored.

    The image's key is a hash of its bytes, dtype and shape, computed once per array
    object (an array changed in place keeps its old key: pass a new array instead).
    Stored arrays are shared with every run and caller that gets them: treat them as
    read-only (blocks never modify their inputs). They are not flagged read-only, because
    numba compiles every kernel a second time for read-only arrays (tens of seconds on a
    first run). Safe to share between threads (an editor's cancelled run may still be
    finishing a step while the next one starts).
    """

    def __init__(self, max_bytes: int = DEFAULT_CACHE_BYTES):
        self.max_bytes = int(max_bytes)
        self._values: OrderedDict[str, Any] = OrderedDict()
        self._bytes = 0
        self._image_keys: dict[int, tuple[weakref.ref, str]] = {}
        self._lock = threading.Lock()

    def image_key(self, image: np.ndarray) -> str:
        """The content key of ``image`` (hashed once per array object)."""
        entry = self._image_keys.get(id(image))
        if entry is not None and entry[0]() is image:
            return entry[1]
        data = np.ascontiguousarray(image)
        # SHA-1 for speed (hardware-accelerated: ~0.2 s for 150 MB), not for security.
        digest = hashlib.sha1(data.view(np.uint8).reshape(-1), usedforsecurity=False)
        digest.update(f"{data.dtype.str}{data.shape}".encode())
        key = "image:" + digest.hexdigest()
        with self._lock:
            self._image_keys = {
                i: e for i, e in self._image_keys.items() if e[0]() is not None
            }
            try:
                self._image_keys[id(image)] = (weakref.ref(image), key)
            except TypeError:  # an object without weak references: hash it again next time
                pass
        return key

    def __contains__(self, key: str) -> bool:
        with self._lock:
            return key in self._values

    def get(self, key: str) -> Any | None:
        """The stored value of ``key`` (marked recently used), or None."""
        with self._lock:
            value = self._values.get(key)
            if value is not None:
                self._values.move_to_end(key)
            return value

    def put(self, key: str, value: Any) -> None:
        """Store ``value`` (an array or a tuple of arrays) under ``key``, evicting the least
        recently used values beyond the budget."""
        size = _nbytes(value)
        if size > self.max_bytes:
            return
        with self._lock:
            if key in self._values:
                self._bytes -= _nbytes(self._values.pop(key))
            self._values[key] = value
            self._bytes += size
            while self._bytes > self.max_bytes:
                _, old = self._values.popitem(last=False)
                self._bytes -= _nbytes(old)

    @property
    def nbytes(self) -> int:
        """Bytes held by the stored arrays."""
        return self._bytes

    def __len__(self) -> int:
        return len(self._values)

    def clear(self) -> None:
        """Drop every stored value."""
        with self._lock:
            self._values.clear()
            self._bytes = 0


def _step_key(block_name: str, input_keys: Iterable[str], kwargs: Mapping[str, Any]) -> str:
    payload = json.dumps([block_name, list(input_keys), kwargs], sort_keys=True, default=repr)
    return "step:" + hashlib.blake2b(payload.encode(), digest_size=16).hexdigest()


# --------------------------------------------------------------------------- running


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
