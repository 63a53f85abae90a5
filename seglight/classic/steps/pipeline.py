"""The pipeline model: a classic workflow as a :class:`Pipeline` of :class:`Step` s.

Each step applies one registered block (:mod:`seglight.classic.steps.block_registry`) to the
raw image (:data:`IMAGE`) or to earlier steps' outputs, with its arguments taken from the
workflow's parameters (``conf/model/classic/<name>.yaml``) by key. The model only describes
and checks the wiring; :mod:`seglight.classic.steps.run` executes it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from seglight.classic.steps.block_registry import Block, get_block

#: The name under which a pipeline's steps refer to the raw (float32 ZYX) image.
IMAGE = "image"


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
