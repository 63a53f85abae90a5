"""Composing a workflow: add, remove and reorder steps, and write the result as a config.

A composed workflow is a :class:`~seglight.classic.steps.Pipeline` like the 25 built in,
started from one of them or from :data:`BLANK` (the image, normalized, then an automatic
threshold), with its parameters. Every edit returns a new pipeline and parameters, or
refuses with a :class:`ComposeError` (one line) when it would leave a step reading a value
that is not there:

- :func:`insert_step` adds a block of the library (:mod:`seglight.classic.library`) after a
  step. Its inputs are the newest values of the kinds it takes, the step it follows first.
  A block that outputs the kind it reads (a filter: smoothing, hole filling, a size
  filter) is spliced into the chain: the steps that read the step it follows now read it,
  and if that step gave the mask, it gives the mask. Any other block added after the last
  step gives the mask if it makes one (the workflow's label image if it makes labels).
- :func:`remove_step` removes a step no other step reads, or a filter, whose readers then
  read its input (the splice undone). When the removed step gave the mask, its input (a
  filter's) or else the last mask before it does.
- :func:`move_step` moves a step up or down one place: past a step that does not read it,
  or, for two filters of one chain (the second reads only the first), by swapping their
  order in the chain.

Each new step is named after its block (``fill_holes_2d``, ``fill_holes_2d_2``...), and each
of its arguments reads a new parameter ``<step>_<argument>`` (a normalization's,
``intensity_norm``: the intensity-range check reads it) set to the library's default.
Parameters no step reads any more are dropped.

A saved composed workflow holds the steps under ``pipeline:`` (:func:`pipeline_config`),
beside ``workflow:`` (where it started) and ``params:``; :class:`ClassicBinarizer`,
``python -m seglight.predict workflow=FILE`` and the editor's *Load…* read it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from seglight.classic.catalog import ParamHelp, parameter_help
from seglight.classic.library import available_kinds, block_library, blocks_valid_at
from seglight.classic.registry import list_workflows, load_params
from seglight.classic.steps import IMAGE, Pipeline, Step, get_block
from seglight.classic.validation import NORM_KEY, STRICT_KEY
from seglight.errors import ConfigError, SeglightError

#: The name of the blank start: the image normalized, then an automatic threshold.
BLANK = "blank"
_STEP_KEYS = ("name", "block", "inputs", "params", "outputs")


class ComposeError(SeglightError):
    """An edit that would break the workflow (one line: the step and why)."""


# ------------------------------------------------------------------------ the config form


def pipeline_config(pipeline: Pipeline) -> dict[str, Any]:
    """The plain mapping a saved config holds under ``pipeline:``."""
    steps = []
    for step in pipeline.steps:
        entry: dict[str, Any] = {"name": step.name, "block": step.block,
                                 "inputs": list(step.inputs)}
        if step.params:
            entry["params"] = dict(step.params)
        if step.outputs:
            entry["outputs"] = list(step.outputs)
        steps.append(entry)
    out: dict[str, Any] = {"output": pipeline.output}
    if pipeline.labels is not None:
        out["labels"] = pipeline.labels
    out["steps"] = steps
    return out


def _names(value: Any, where: str) -> tuple[str, ...]:
    if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{where}={value!r}: give a list of names")
    return tuple(value)


def pipeline_from_config(doc: Mapping[str, Any], name: str, where: str) -> Pipeline:
    """The pipeline of a config's ``pipeline:`` mapping (:func:`pipeline_config`).

    Raises:
        ConfigError: one line naming ``where`` and the key: a missing or unknown field, an
            unknown block or argument, an input not defined before its step, inputs of
            kinds the block does not take, or an output that is no mask.
    """
    if isinstance(doc, Pipeline):
        return doc
    import seglight.classic.workflows  # noqa: F401 - registers every block on import

    if not isinstance(doc, Mapping):
        raise ConfigError(f"{where}: pipeline: expected a mapping with output: and steps:")
    unknown = sorted(set(doc) - {"output", "labels", "steps"})
    if unknown:
        raise ConfigError(f"{where}: pipeline.{unknown[0]}: unknown key; a pipeline has "
                          "output, labels and steps")
    raw_steps = doc.get("steps")
    if not isinstance(raw_steps, list) or not raw_steps:
        raise ConfigError(f"{where}: pipeline.steps: give a list of steps")
    steps = []
    for i, entry in enumerate(raw_steps):
        at = f"{where}: pipeline.steps[{i}]"
        if not isinstance(entry, Mapping):
            raise ConfigError(f"{at}: expected a mapping with name, block and inputs")
        extra = sorted(set(entry) - set(_STEP_KEYS))
        if extra:
            raise ConfigError(f"{at}.{extra[0]}: unknown field; a step has {list(_STEP_KEYS)}")
        missing = [key for key in ("name", "block", "inputs") if key not in entry]
        if missing:
            raise ConfigError(f"{at}: no {missing[0]}")
        get_block(str(entry["block"]), f"{at}.block")
        params = entry.get("params") or {}
        if not isinstance(params, Mapping) or not all(
                isinstance(v, str) for v in params.values()):
            raise ConfigError(f"{at}.params: give block argument: parameter name")
        steps.append(Step(str(entry["name"]), str(entry["block"]),
                          _names(entry["inputs"], f"{at}.inputs"), dict(params),
                          _names(entry.get("outputs", []), f"{at}.outputs")))
    try:
        return Pipeline(name, tuple(steps), output=str(doc.get("output", steps[-1].name)),
                        labels=doc.get("labels"))
    except (ValueError, KeyError) as err:
        raise ConfigError(f"{where}: pipeline: {err}") from None


# ------------------------------------------------------------------------ parameters


def _readers(pipeline: Pipeline) -> dict[str, tuple[str, str]]:
    """Parameter -> (block, argument) of the first step that reads it."""
    out: dict[str, tuple[str, str]] = {}
    for step in pipeline.steps:
        for arg, key in step.params.items():
            out.setdefault(key, (step.block, arg))
    return out


def default_params(pipeline: Pipeline, start: str | None = None) -> dict[str, Any]:
    """A value for every parameter ``pipeline`` reads: the starting workflow's config
    value where it has the parameter, else the library's default for the argument that
    reads it; ``strict`` false."""
    base = load_params(start) if start in list_workflows() else {}
    library = block_library()
    values = {key: base[key] if key in base else library[blk].argument(arg).default
              for key, (blk, arg) in _readers(pipeline).items()}
    values[STRICT_KEY] = bool(base.get(STRICT_KEY, False))
    return values


def param_helps(pipeline: Pipeline, start: str | None = None) -> dict[str, ParamHelp]:
    """Each parameter's help and range: the starting workflow's config line where it has
    the parameter, else the library's for the argument that reads it."""
    base = parameter_help(start) if start in list_workflows() else {}
    library = block_library()
    helps = {key: base.get(key) or library[blk].argument(arg).help
             for key, (blk, arg) in _readers(pipeline).items()}
    helps[STRICT_KEY] = base.get(STRICT_KEY) or ParamHelp(
        "true: refuse an image outside the tuned intensity range")
    return helps


def _prune(pipeline: Pipeline, params: Mapping[str, Any]) -> dict[str, Any]:
    """``params`` without the parameters no step reads any more."""
    read = set(_readers(pipeline)) | {STRICT_KEY}
    return {key: value for key, value in params.items() if key in read}


# ------------------------------------------------------------------------ edits


def _index(pipeline: Pipeline, name: str) -> int:
    for i, step in enumerate(pipeline.steps):
        if step.name == name:
            return i
    raise ComposeError(f"workflow {pipeline.name!r} has no step {name!r}; its steps are "
                       f"{[s.name for s in pipeline.steps]}")


def _rebuild(pipeline: Pipeline, steps: list[Step], output: str,
             labels: str | None) -> Pipeline:
    try:
        return Pipeline(pipeline.name, tuple(steps), output=output, labels=labels)
    except ValueError as err:  # a bug in an edit: each checks what it changes first
        raise ComposeError(str(err)) from None


def _reroute(steps: list[Step], old: str, new: str) -> list[Step]:
    """The steps with every input ``old`` read as ``new``."""
    return [dataclasses.replace(step, inputs=tuple(new if n == old else n for n in step.inputs))
            for step in steps]


def _is_filter(pipeline: Pipeline, step: Step) -> bool:
    """One output, of the kind of its first input (smoothing, hole filling, size filter)."""
    kinds = pipeline.kinds()
    return not step.outputs and kinds[step.inputs[0]] == kinds[step.name]


def _last_mask(pipeline: Pipeline, before: int) -> str | None:
    """The last mask the steps before index ``before`` give, or None."""
    kinds = pipeline.kinds()
    masks = [n for step in pipeline.steps[:before] for n in step.names if kinds[n] == "mask"]
    return masks[-1] if masks else None


def _unique(name: str, taken: set[str]) -> str:
    if name not in taken:
        return name
    n = 2
    while f"{name}_{n}" in taken:
        n += 1
    return f"{name}_{n}"


def _pick_inputs(spec: Any, available: dict[str, str], after: str | None) -> tuple[str, ...]:
    """The newest available value of each input kind (the step followed first; for a
    further input of a kind, the next newest)."""
    newest = list(reversed(available))
    count = max(len(spec.inputs), 2) if spec.variadic else len(spec.inputs)
    kinds = list(spec.inputs) + [spec.inputs[-1]] * (count - len(spec.inputs))
    chosen: list[str] = []
    for i, kind in enumerate(kinds):
        candidates = [n for n in newest if available[n] == kind and n not in chosen]
        if i == 0 and after is not None and available.get(after) == kind:
            candidates.insert(0, after)
        if not candidates:
            if i >= len(spec.inputs):  # a variadic block's optional extra input
                break
            candidates = [n for n in newest if available[n] == kind]
        chosen.append(candidates[0])
    return tuple(chosen)


def insert_step(pipeline: Pipeline, params: Mapping[str, Any], block: str,
                after: str | None) -> tuple[Pipeline, dict[str, Any]]:
    """Insert a step running ``block`` after step ``after`` (``None``: first).

    Returns:
        The new pipeline and parameters (the step's arguments added with the library's
        defaults).

    Raises:
        ComposeError: an unknown step, or a block whose inputs are not available there
            (the message lists those that are).
    """
    position = 0 if after is None else _index(pipeline, after) + 1
    valid = blocks_valid_at(pipeline, position)
    if block not in valid:
        where = "first" if after is None else f"after {after!r}"
        raise ComposeError(f"block {block!r} cannot go {where}: its inputs "
                           f"{list(get_block(block).kind_in)} are not all there; choose one "
                           f"of {valid}")
    spec = block_library()[block]
    available = available_kinds(pipeline, position)
    taken = set(pipeline.kinds()) | set(params)
    name = _unique(block, taken)
    outputs = tuple(_unique(f"{name}_{i + 2}", taken) for i in range(len(spec.outputs) - 1))
    new_params = dict(params)
    mapping = {}
    for arg in spec.arguments:
        key = (_unique(NORM_KEY, taken) if NORM_KEY in arg.source
               else _unique(f"{name}_{arg.name}", taken))
        taken.add(key)
        mapping[arg.name] = key
        new_params[key] = arg.default
    step = Step(name, block, _pick_inputs(spec, available, after), mapping, outputs)
    before, rest = list(pipeline.steps[:position]), list(pipeline.steps[position:])
    output, labels = pipeline.output, pipeline.labels
    spliced = (after is not None and step.inputs[0] == after and not outputs
               and available[after] == spec.outputs[0])
    if spliced:
        rest = _reroute(rest, after, name)
        output = name if output == after else output
        labels = name if labels == after else labels
    elif position == len(pipeline.steps) and not outputs:  # a new last step
        output = name if spec.outputs[0] == "mask" else output
        labels = name if spec.outputs[0] == "labels" else labels
    return _rebuild(pipeline, [*before, step, *rest], output, labels), new_params


def remove_step(pipeline: Pipeline, params: Mapping[str, Any],
                name: str) -> tuple[Pipeline, dict[str, Any]]:
    """Remove step ``name``; a filter's readers then read its input.

    Raises:
        ComposeError: another step reads its output, or it gives the mask, and it is no
            filter (remove that step first, or swap its block); or it is the only step.
    """
    index = _index(pipeline, name)
    step = pipeline.steps[index]
    if len(pipeline.steps) == 1:
        raise ComposeError(f"cannot remove {name!r}: it is the workflow's only step")
    readers = [s.name for s in pipeline.steps[index + 1:] if set(s.inputs) & set(step.names)]
    gives_mask = pipeline.output in step.names
    rest = list(pipeline.steps[index + 1:])
    output, labels = pipeline.output, pipeline.labels
    if _is_filter(pipeline, step):
        source = step.inputs[0]
        rest = _reroute(rest, name, source)
        output = source if output == name else output
        labels = source if labels == name else labels
    elif gives_mask and not readers and (earlier := _last_mask(pipeline, index)) is not None:
        output = earlier
    elif readers or gives_mask:
        why = f"{readers[0]!r} reads its output" if readers else "it gives the workflow's mask"
        blk = get_block(step.block)
        raise ComposeError(f"cannot remove {name!r}: {why}, and it is no filter (it makes "
                           f"{'+'.join(blk.kinds_out)} of {'+'.join(blk.kind_in)}); remove or "
                           "change that first")
    if labels in step.names:
        labels = None
    new = _rebuild(pipeline, [*pipeline.steps[:index], *rest], output, labels)
    return new, _prune(new, params)


def move_step(pipeline: Pipeline, params: Mapping[str, Any], name: str,
              offset: int) -> tuple[Pipeline, dict[str, Any]]:
    """Move step ``name`` one place up (``offset=-1``) or down (``+1``).

    Past a step that does not read it, the two change places. Two filters of one chain
    (the second reads only the first, and nothing else reads the first) swap their order
    in the chain: ``threshold -> size_filter -> fill_holes_2d`` becomes ``threshold ->
    fill_holes_2d -> size_filter``, and what read the second reads the first.

    Raises:
        ComposeError: it is already first or last, or the move would leave a step before a
            value it reads.
    """
    index = _index(pipeline, name)
    other = index + offset
    if offset not in (-1, 1) or not 0 <= other < len(pipeline.steps):
        where = "first" if other < 0 else "last"
        raise ComposeError(f"cannot move {name!r}: it is already {where}" if offset in (-1, 1)
                           else f"move by -1 or +1, not {offset}")
    lo, hi = sorted((index, other))
    first, second = pipeline.steps[lo], pipeline.steps[hi]
    steps = list(pipeline.steps)
    output, labels = pipeline.output, pipeline.labels
    if not set(second.inputs) & set(first.names):
        steps[lo], steps[hi] = second, first
        return _rebuild(pipeline, steps, output, labels), dict(params)
    kinds = pipeline.kinds()
    other_readers = [s.name for s in pipeline.steps if s is not second
                     and set(s.inputs) & set(first.names)]
    chain = (_is_filter(pipeline, first) and _is_filter(pipeline, second)
             and kinds[first.name] == kinds[second.name]
             and second.inputs == (first.name,) and not other_readers
             and first.name not in (output, labels))
    if not chain:
        why = (f"{other_readers[0]!r} reads it too" if other_readers
               else "they are not two filters of one chain")
        raise ComposeError(f"cannot move {pipeline.steps[index].name!r} "
                           f"{'down' if offset > 0 else 'up'}: {second.name!r} reads the "
                           f"output of {first.name!r}, and {why}")
    later = _reroute(steps[hi + 1:], second.name, first.name)
    steps[lo] = dataclasses.replace(second, inputs=(first.inputs[0],))
    steps[hi] = dataclasses.replace(first, inputs=(second.name, *first.inputs[1:]))
    output = first.name if output == second.name else output
    labels = first.name if labels == second.name else labels
    return _rebuild(pipeline, [*steps[:hi + 1], *later], output, labels), dict(params)


def blank() -> tuple[Pipeline, dict[str, Any]]:
    """The blank start: the image normalized (``N[a, b]``), then an automatic (Otsu)
    threshold, the smallest workflow that gives a mask; its values the library's."""
    steps = (Step("normalize", "normalize", (IMAGE,), {"norm": NORM_KEY}),
             Step("auto_threshold", "auto_threshold", ("normalize",),
                  {"method": "auto_threshold_method", "adjust": "auto_threshold_adjust"}))
    pipeline = Pipeline(BLANK, steps, output="auto_threshold")
    return pipeline, default_params(pipeline)
