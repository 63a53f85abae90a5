"""The block library: every block a workflow can be composed from, with its inputs, its
outputs and a default for each argument.

The contract (``tests/classic/test_library.py`` checks it):

- **Nothing is listed by hand.** :func:`block_library` is every block registered with
  :func:`seglight.classic.steps.block` (:mod:`seglight.classic.blocks` and the
  workflow modules): a block registered tomorrow is in the library tomorrow.
- **Every argument has a default, a help line and, for numbers and lists, a slider range.**
  The value is the block's Python default where it has one, else the value the first
  workflow (in :func:`~seglight.classic.list_workflows` order) that uses the block gives
  it (a block no workflow uses: the same argument of the block of its family whose name
  is the closest); help, range and choices come from that workflow's config line
  (``conf/model/classic/<name>.yaml``). A block whose argument has none of these cannot
  be added to a workflow (:attr:`BlockSpec.addable`).
- **Which blocks fit where**: :func:`blocks_valid_at` lists the blocks that can be
  inserted at a position of a pipeline: every input kind the block takes (``image``,
  ``mask``, ``labels``) is the kind of the raw image or of an output of a step before
  that position.

The editor's *Add step…* offers :func:`blocks_valid_at`; :mod:`seglight.classic.compose`
inserts, removes and moves the steps.
"""

from __future__ import annotations

import inspect
import os
from dataclasses import dataclass
from functools import cache
from typing import Any

from seglight.classic.catalog import ParamHelp, parameter_help
from seglight.classic.registry import get_pipeline, list_workflows, load_params
from seglight.classic.steps import BLOCKS, IMAGE, Pipeline


@dataclass(frozen=True)
class ArgumentSpec:
    """One argument of a block, with the default a new step gets.

    Attributes:
        name: the argument.
        kind: ``int``, ``float``, ``bool``, ``str`` or ``list``.
        default: the value a new step starts with (``None``: none known).
        help: its help line, with ``ranges`` and ``choices`` for the editor's control.
        source: where the default comes from: ``"block"`` (its Python default) or
            ``"<workflow>.<key>"`` (a workflow's config); ``""``: nowhere.
    """

    name: str
    kind: str
    default: Any
    help: ParamHelp
    source: str


@dataclass(frozen=True)
class BlockSpec:
    """A block as the library offers it.

    Attributes:
        name: its name in the block registry, e.g. ``"fill_holes_2d"``.
        help: one line, what it does.
        family: what kind of operation it is (``"smoothing"``, ``"size filter"``, ...).
        inputs: the kind of each input (with ``variadic``, the last one repeats).
        outputs: the kind of each output.
        variadic: takes any number of inputs of the last kind.
        arguments: its parameters, with defaults.
    """

    name: str
    help: str
    family: str
    inputs: tuple[str, ...]
    outputs: tuple[str, ...]
    variadic: bool
    arguments: tuple[ArgumentSpec, ...]

    @property
    def addable(self) -> bool:
        """Whether every argument has a default, so that a new step can run it."""
        return all(arg.source for arg in self.arguments)

    def argument(self, name: str) -> ArgumentSpec:
        """The argument ``name`` (KeyError if none)."""
        for arg in self.arguments:
            if arg.name == name:
                return arg
        raise KeyError(name)


def _workflow_examples() -> dict[tuple[str, str], tuple[str, str]]:
    """(block, argument) -> (workflow, config key) of the first workflow that sets it."""
    examples: dict[tuple[str, str], tuple[str, str]] = {}
    for workflow in list_workflows():
        for step in get_pipeline(workflow).steps:
            for arg, key in step.params.items():
                examples.setdefault((step.block, arg), (workflow, key))
    return examples


def _family_example(name: str, arg: str,
                    examples: dict[tuple[str, str], tuple[str, str]]) -> tuple[str, str] | None:
    """For a block no workflow uses: the example of the same argument of a block of its
    family, the one whose name shares the longest start with it (``spot_3d_scales`` takes
    ``spot_2d_scales``'s ``scales``)."""
    family = BLOCKS[name].family
    kin = [other for (other, other_arg) in examples
           if other_arg == arg and BLOCKS[other].family == family]
    if not kin:
        return None
    best = max(kin, key=lambda other: len(os.path.commonprefix([name, other])))
    return examples[best, arg]


@cache
def block_library() -> dict[str, BlockSpec]:
    """Every registered block with its inputs, outputs and argument defaults, by name."""
    examples = _workflow_examples()  # registers the workflows' blocks too
    library = {}
    for name in sorted(BLOCKS):
        blk = BLOCKS[name]
        kinds = blk.argument_kinds()
        arguments = []
        for arg, parameter in blk.arguments().items():
            help_ = ParamHelp("")
            default, source = None, ""
            example = examples.get((name, arg)) or _family_example(name, arg, examples)
            if example is not None:
                workflow, key = example
                help_ = parameter_help(workflow)[key]
                default, source = load_params(workflow)[key], f"{workflow}.{key}"
            if parameter.default is not inspect.Parameter.empty:
                default, source = parameter.default, "block"
            arguments.append(ArgumentSpec(arg, kinds[arg], default, help_, source))
        library[name] = BlockSpec(name, blk.help, blk.family, blk.kind_in, blk.kinds_out,
                                  blk.variadic, tuple(arguments))
    return library


def available_kinds(pipeline: Pipeline, position: int) -> dict[str, str]:
    """The values a step inserted at ``position`` (0: first) can read: the image and the
    outputs of the steps before it, name -> kind, in execution order."""
    kinds = pipeline.kinds()
    names = [IMAGE, *(name for step in pipeline.steps[:position] for name in step.names)]
    return {name: kinds[name] for name in names}


def blocks_valid_at(pipeline: Pipeline, position: int) -> list[str]:
    """The blocks that can be inserted at ``position`` of ``pipeline``: addable ones whose
    every input kind is available there (:func:`available_kinds`), sorted by name."""
    present = set(available_kinds(pipeline, position).values())
    return [spec.name for spec in block_library().values()
            if spec.addable and set(spec.inputs) <= present]
