"""The registry of classic workflows (seglight.classic.registry)."""

from __future__ import annotations

import numpy as np
import pytest

from seglight.classic import config_path, list_reference_workflows, list_workflows, run_workflow
from seglight.classic.registry import WORKFLOWS, get_pipeline, register, workflow_parameter_kinds
from seglight.classic.steps import IMAGE, Pipeline, Step

# Register the blocks and the workflows now, whichever test runs first: the tests below
# patch the registry with a copy, and what registers into the copy would be lost.
list_workflows()


def _one_step(name: str) -> Pipeline:
    return Pipeline(name, (Step("mask", "threshold", (IMAGE,), {"cutoff": "spot_cutoff"}),),
                    output="mask")


def test_pipeline_registers_under_its_name(monkeypatch):
    monkeypatch.setattr("seglight.classic.registry.WORKFLOWS", dict(WORKFLOWS))
    from seglight.classic import registry

    demo = _one_step("demo_structure")
    register(demo)
    assert registry.WORKFLOWS["demo_structure"] is demo


def test_a_name_cannot_be_registered_twice(monkeypatch):
    monkeypatch.setattr("seglight.classic.registry.WORKFLOWS", dict(WORKFLOWS))
    with pytest.raises(ValueError, match="'tomm20' is registered twice"):
        register(_one_step("tomm20"))


def test_every_registered_workflow_has_its_config_file():
    names = list_workflows()
    assert len(names) == 26 and len(list_reference_workflows()) == 25
    for name in names:
        assert name == name.lower()
        assert config_path(name).is_file()
        assert get_pipeline(name).name == name


def test_the_registered_pipeline_is_the_one_run(monkeypatch):
    image = np.zeros((4, 16, 16), np.float32)
    image[1:3, 4:12, 4:12] = 1.0
    original = get_pipeline("rab5a")
    # rab5a's config file names the real pipeline's parameters; the one-step stand-in has one
    monkeypatch.setattr("seglight.classic.binarizer.load_params",
                        lambda name: {"spot_cutoff": 0.9, "strict": False})
    try:
        WORKFLOWS["rab5a"] = _one_step("rab5a")
        workflow_parameter_kinds.cache_clear()  # cached per name, from whichever ran first
        mask = run_workflow("rab5a", image, spot_cutoff=0.5)
    finally:
        WORKFLOWS["rab5a"] = original
        workflow_parameter_kinds.cache_clear()
    np.testing.assert_array_equal(mask > 0, image > 0.5)
