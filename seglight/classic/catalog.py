"""What a workflow shows in an editor: its description, and each step with its parameters,
their help and slider ranges — all read from ``conf/model/classic/<name>.yaml``.

The config is the one place for them. Its first comment line describes the workflow (the
gallery's line); each parameter line under ``params:`` carries its help as a comment, led
by its range (booleans need none)::

    min_size: 15                 # 0..200: remove objects of at most this many voxels ...
    spot_cutoff: 0.04            # 0..0.2 by 0.001: spot response above this is foreground
    intensity_norm: [3, 15]      # [0..20 by 0.5, 0..60 by 0.5]: N[a, b]: clip to ...
    vesselness_scales: [[2, 0.1], [1, 0.04]]  # [0.1..5 by 0.1, 0..0.5 by 0.005]: [sigma, ...
    mo_method: ave               # triangle|median|ave: masked-object low level: ...
    mo_dilate: false             # dilate the low level by ball(2)

``lo..hi`` is the slider's range, ``by`` its step (default 1 for integers, a hundredth of
the range for floats). A list gives one range per element, or, for a list of pairs, one
per column. ``a|b|c`` lists a string's choices. The ranges are what the sliders offer, not
limits: a value outside them is accepted.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

from seglight.classic.registry import config_path, get_pipeline, load_params
from seglight.classic.steps import (
    BLOCKS,
    Pipeline,
    StepOverride,
    alternatives,
    check_overrides,
    get_block,
)
from seglight.classic.validation import STRICT_KEY
from seglight.errors import ConfigError


@dataclass(frozen=True)
class Range:
    """A slider: from ``lo`` to ``hi`` in steps of ``step``."""

    lo: float
    hi: float
    step: float


@dataclass(frozen=True)
class ParamHelp:
    """A workflow parameter's help line, slider range(s) and choices, from its config."""

    help: str
    ranges: tuple[Range, ...] = ()
    choices: tuple[str, ...] = ()


@dataclass(frozen=True)
class ParamInfo:
    """One argument of a step, as an editor shows it.

    Attributes:
        name: the block's argument.
        key: the workflow parameter (config key) it reads; ``None`` where the value is the
            block's default or set by an override.
        value: the current value.
        kind: ``int``, ``float``, ``bool``, ``str`` or ``list``.
        help: one line (the config's comment; empty for a block default).
        ranges: one :class:`Range` for a number; one per element of a flat list, or per
            column of a list of ``[sigma, cutoff]`` pairs; empty for booleans, strings and
            block defaults.
        choices: a string's allowed values.
    """

    name: str
    key: str | None
    value: Any
    kind: str
    help: str
    ranges: tuple[Range, ...] = ()
    choices: tuple[str, ...] = ()


@dataclass(frozen=True)
class StepInfo:
    """One step of a workflow, as an editor shows it.

    Attributes:
        name: the step's output name (the layer's name).
        block: the block it runs (the swapped-in one, with an override).
        inputs: the outputs it reads (``"image"`` for the raw image).
        kind: what it outputs: ``image``, ``mask`` or ``labels``.
        help: the block's one-line help.
        params: its arguments.
        enabled: ``False`` when switched off.
        can_disable: whether it may be switched off (its first input has its kind).
        alternatives: the blocks it can be swapped for (its own included).
        outputs: its further outputs (a block giving several arrays).
    """

    name: str
    block: str
    inputs: tuple[str, ...]
    kind: str
    help: str
    params: tuple[ParamInfo, ...]
    enabled: bool
    can_disable: bool
    alternatives: tuple[str, ...]
    outputs: tuple[str, ...] = ()


@dataclass(frozen=True)
class WorkflowInfo:
    """A workflow for the gallery.

    Attributes:
        name: e.g. ``"sec61b"``.
        description: one line, the config's first comment line (structure and recipe).
        recipe: the config's whole header comment, joined into one line.
        has_labels: the workflow gives its own label image (``predict_labels``).
    """

    name: str
    description: str
    recipe: str
    has_labels: bool


_NUMBER = r"-?\d+(?:\.\d*)?(?:e-?\d+)?"
_RANGE = rf"(?P<lo>{_NUMBER})\.\.(?P<hi>{_NUMBER})(?: by (?P<step>{_NUMBER}))?"
_ONE_RANGE = re.compile(rf"\s*{_RANGE}\s*$")
_PARAM_LINE = re.compile(r"^  (?P<key>\w+):[^#]*#\s*(?P<comment>.*?)\s*$")
_SPEC = rf"\[[^\]]*\]|{_NUMBER}\.\.{_NUMBER}(?: by {_NUMBER})?|\w+(?:\|\w+)+"
_LEADING_SPEC = re.compile(rf"^(?P<spec>{_SPEC}):\s+(?P<help>.+)$")


def _parse_range(text: str, kind: str, where: str) -> Range:
    match = _ONE_RANGE.match(text)
    if match is None:
        raise ConfigError(f"{where}: range {text.strip()!r}: write it as lo..hi or lo..hi by step")
    lo, hi = float(match["lo"]), float(match["hi"])
    if not lo < hi:
        raise ConfigError(f"{where}: range {text.strip()!r}: lo must be below hi")
    default_step = 1.0 if kind == "int" else (hi - lo) / 100
    step = float(match["step"]) if match["step"] else default_step
    return Range(lo, hi, step)


@cache
def _config_comments(name: str) -> tuple[tuple[str, ...], dict[str, str]]:
    """The header comment lines and each ``params`` key's comment, of the workflow's config."""
    lines = config_path(name).read_text().splitlines()
    header = []
    for line in lines:
        if not line.startswith("#"):
            break
        header.append(line.lstrip("#").strip())
    comments: dict[str, str] = {}
    in_params = False
    for line in lines:
        if line.startswith("params:"):
            in_params = True
        elif in_params and line and not line.startswith(" "):
            in_params = False
        elif in_params and (match := _PARAM_LINE.match(line)):
            comments[match["key"]] = match["comment"]
    return tuple(h for h in header if h), comments


@cache
def parameter_help(name: str) -> dict[str, ParamHelp]:
    """Every parameter of workflow ``name`` with its help and ranges, from its config.

    Raises:
        ConfigError: a parameter without a help comment, a number or list without a range,
            a string without its choices, or a range that cannot be read (the message names
            the file and the key).
    """
    path = config_path(name)
    defaults = load_params(name)
    kinds = get_pipeline(name).parameter_kinds()
    _, comments = _config_comments(name)
    out = {}
    for key, value in defaults.items():
        where = f"{path}: params.{key}"
        comment = comments.get(key, "")
        if not comment:
            raise ConfigError(f"{where}: no help comment; add '# <range>: <what it does>'")
        kind = "bool" if key == STRICT_KEY else kinds[key]
        match = _LEADING_SPEC.match(comment)
        if kind == "bool":
            out[key] = ParamHelp(comment)
            continue
        if match is None:
            raise ConfigError(f"{where}: its comment {comment!r} does not start with a range "
                              "('lo..hi: ...', '[lo..hi, ...]: ...' or 'a|b: ...')")
        spec, help_text = match["spec"], match["help"]
        if kind == "str":
            if "|" not in spec or spec.startswith("["):
                raise ConfigError(f"{where}: give its choices as 'a|b|c: ...'")
            choices = tuple(spec.split("|"))
            if value not in choices:
                raise ConfigError(f"{where}: {value!r} is not one of its choices {choices}")
            out[key] = ParamHelp(help_text, choices=choices)
            continue
        if kind == "list":
            if not spec.startswith("["):
                raise ConfigError(f"{where}: give one range per element: '[lo..hi, ...]: ...'")
            nested = bool(value) and isinstance(value[0], list | tuple)
            element_kind = "float"
            ranges = tuple(_parse_range(part, element_kind, where)
                           for part in spec[1:-1].split(","))
            width = len(value[0]) if nested else len(value)
            if len(ranges) != width:
                raise ConfigError(f"{where}: {len(ranges)} range(s) for {width} "
                                  f"{'columns' if nested else 'elements'}")
            out[key] = ParamHelp(help_text, ranges=ranges)
            continue
        out[key] = ParamHelp(help_text, ranges=(_parse_range(spec, kind, where),))
    return out


@cache
def workflow_info(name: str) -> WorkflowInfo:
    """The gallery entry of workflow ``name``: its one-line description and recipe."""
    header, _ = _config_comments(name)
    if not header:
        raise ConfigError(f"{config_path(name)}: no description; start it with a comment line")
    return WorkflowInfo(
        name, header[0], " ".join(header), get_pipeline(name).labels is not None
    )


def describe(
    name: str,
    params: Mapping[str, Any] | None = None,
    steps: Mapping[str, Any] | None = None,
    pipeline: Pipeline | None = None,
) -> list[StepInfo]:
    """The steps of workflow ``name``, each with its arguments, help and slider ranges.

    Args:
        name: the workflow (for a composed one, where it started).
        params: current values of some or all parameters (default: the config's).
        steps: step overrides (a config's ``steps:`` or :class:`StepOverride` objects).
        pipeline: a composed workflow's steps (:mod:`seglight.classic.compose`); its
            parameters' help and ranges are the starting workflow's config lines where it
            has them, else the block library's.

    Returns:
        One :class:`StepInfo` per step, in execution order.

    Raises:
        SeglightError: an unknown workflow; ConfigError: bad overrides.
    """
    if pipeline is None:
        pipeline = get_pipeline(name)
        values = {**load_params(name), **(params or {})}
        helps = parameter_help(name)
    else:
        from seglight.classic.compose import default_params, param_helps

        values = {**default_params(pipeline, name), **(params or {})}
        helps = param_helps(pipeline, name)
    overrides = check_overrides(pipeline, steps, f"classic workflow {name!r}")
    kinds = pipeline.kinds()
    infos = []
    for step in pipeline.steps:
        override = overrides.get(step.name, StepOverride())
        blk = get_block(override.block or step.block)
        arg_kinds = blk.argument_kinds()
        params_info = []
        for arg, parameter in blk.arguments().items():
            if arg in override.params:
                params_info.append(ParamInfo(arg, None, override.params[arg], arg_kinds[arg], ""))
            elif arg in step.params:
                key = step.params[arg]
                info = helps[key]
                params_info.append(ParamInfo(arg, key, values[key], arg_kinds[arg], info.help,
                                             info.ranges, info.choices))
            else:
                params_info.append(ParamInfo(arg, None, parameter.default, arg_kinds[arg], ""))
        first = kinds[step.inputs[0]]
        infos.append(StepInfo(
            name=step.name,
            block=blk.name,
            inputs=step.inputs,
            kind=kinds[step.name],
            help=blk.help,
            params=tuple(params_info),
            enabled=override.enabled,
            can_disable=not step.outputs and first == kinds[step.name],
            alternatives=tuple(alternatives(pipeline, step.name)),
            outputs=step.outputs,
        ))
    return infos


def list_blocks() -> dict[str, str]:
    """Every block's name and one-line help (the library a custom workflow swaps from)."""
    import seglight.classic.workflows  # noqa: F401 - the workflow-specific blocks

    return {name: BLOCKS[name].help for name in sorted(BLOCKS)}
