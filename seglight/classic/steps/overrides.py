"""Step overrides: how a custom workflow switches a step off or swaps its block.

A :class:`StepOverride` changes one step of a pipeline; :func:`check_overrides` turns a
config's ``steps:`` mapping into checked overrides (one line naming the key on a mistake),
:func:`alternatives` lists the blocks an editor offers for a step, and
:func:`step_arguments` resolves what a step runs with.
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from seglight.classic.steps.block_registry import BLOCKS, Block, get_block
from seglight.classic.steps.pipeline import Pipeline, Step
from seglight.errors import ConfigError


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
