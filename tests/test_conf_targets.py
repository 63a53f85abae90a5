"""Every ``_target_`` in ``conf/**/*.yaml`` resolves: the configs are the only link to some
modules (the schedules, the losses, the recipes), so a moved or renamed target must fail
here, in the quick tier, not in a training run."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import yaml
from hydra.utils import get_object

from seglight import CONF_DIR


def _targets(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "_target_":
                yield value
            else:
                yield from _targets(value)
    elif isinstance(node, list):
        for value in node:
            yield from _targets(value)


TARGETS = sorted({
    (target, str(path.relative_to(CONF_DIR)))
    for path in CONF_DIR.rglob("*.yaml")
    for target in _targets(yaml.safe_load(path.read_text()))
})


def test_the_targets_are_found():
    """The search sees nested ones too (``net:`` inside ``model:``)."""
    names = {target for target, _ in TARGETS}
    assert {"seglight.classic.ClassicBinarizer", "seglight.training.schedules.warmup_poly",
            "seglight.training.losses.MultiHeadLoss", "seglight.networks.UNetXY",
            "hydra_plugins.hydra_optuna_sweeper.optuna_sweeper.OptunaSweeper"} <= names
    assert len(names) >= 20


@pytest.mark.parametrize(("target", "config"), TARGETS, ids=[f"{c}:{t}" for t, c in TARGETS])
def test_every_target_imports(target, config):
    obj = get_object(target)
    assert callable(obj), f"{config}: _target_ {target} is not callable"
