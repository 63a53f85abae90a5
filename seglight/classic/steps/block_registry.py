"""The block registry: every reusable operation a classic workflow's steps can run.

A :class:`Block` wraps one function (defined in :mod:`seglight.classic.blocks` and the
workflow modules) with the kinds of values it takes and returns, its help line and its
family (what an editor offers as a swap). :func:`block` registers a function under a name
in :data:`BLOCKS`; :func:`get_block` looks one up.

Kinds of values: ``"image"`` (float32 ZYX), ``"mask"`` (bool ZYX), ``"labels"`` (int ZYX).
"""

from __future__ import annotations

import functools
import inspect
import typing
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from seglight.errors import ConfigError

#: The kinds of value a block takes and returns.
KINDS = ("image", "mask", "labels")


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
