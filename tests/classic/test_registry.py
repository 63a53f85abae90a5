"""The registry of classic workflows (seglight.classic.registry)."""

from __future__ import annotations

import numpy as np
import pytest

from seglight.classic import config_path, list_workflows, run_workflow
from seglight.classic.registry import WORKFLOWS, workflow


def test_workflow_registers_under_its_name(monkeypatch):
    monkeypatch.setattr("seglight.classic.registry.WORKFLOWS", dict(WORKFLOWS))
    from seglight.classic import registry

    @workflow("demo_structure")
    def demo(image, *, record):
        return image > 0

    assert registry.WORKFLOWS["demo_structure"] is demo


def test_a_name_cannot_be_registered_twice(monkeypatch):
    monkeypatch.setattr("seglight.classic.registry.WORKFLOWS", dict(WORKFLOWS))
    with pytest.raises(ValueError, match="'tomm20' is registered twice"):
        workflow("tomm20")(lambda image, *, record: image)


def test_every_registered_workflow_has_its_config_file():
    names = list_workflows()
    assert len(names) == 25
    for name in names:
        assert name == name.lower()
        assert config_path(name).is_file()


def test_the_registered_function_is_the_one_run():
    image = np.zeros((4, 16, 16), np.float32)
    image[1:3, 4:12, 4:12] = 1.0
    calls = []
    run_workflow("rab5a", image)  # the parameters' kinds are read once, from the real one
    original = WORKFLOWS["rab5a"]
    try:
        WORKFLOWS["rab5a"] = lambda img, *, record, **params: calls.append(params) or img > 0.5
        mask = run_workflow("rab5a", image)
    finally:
        WORKFLOWS["rab5a"] = original
    assert len(calls) == 1 and "strict" not in calls[0]
    np.testing.assert_array_equal(mask > 0, image > 0.5)
