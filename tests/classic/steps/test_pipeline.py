"""The pipeline model (seglight.classic.steps.pipeline): the wiring is checked when a
pipeline is defined, so a mistake in a workflow definition fails on import."""

from __future__ import annotations

import pytest

from seglight.classic import blocks  # noqa: F401 - registers the blocks the toy pipelines use
from seglight.classic.registry import get_pipeline, list_workflows
from seglight.classic.steps import IMAGE, Pipeline, Step


def _steps(*extra: Step) -> tuple[Step, ...]:
    return (Step("smoothed", "gaussian_3d", (IMAGE,), {"sigma": "sigma"}),
            Step("mask", "spot_3d_scales", ("smoothed",), {"scales": "scales"}), *extra)


def test_a_well_wired_pipeline_knows_every_kind_and_parameter():
    pipeline = Pipeline("toy", _steps(), output="mask")
    assert pipeline.kinds() == {IMAGE: "image", "smoothed": "image", "mask": "mask"}
    assert pipeline.parameter_kinds() == {"sigma": "float", "scales": "list"}
    assert pipeline.step("mask").block == "spot_3d_scales"
    with pytest.raises(KeyError):
        pipeline.step("nothing")


@pytest.mark.parametrize(("steps", "output", "says"), [
    ((Step("mask", "spot_3d_scales", ("smoothed",)),), "mask", "not defined before it"),
    ((Step("mask", "spot_3d_scales", (IMAGE,)), Step("mask", "size_filter", ("mask",))), "mask",
     "defined twice"),
    ((Step("smoothed", "size_filter", (IMAGE,)),), "smoothed", "does not take"),
    (_steps(), "smoothed", "is no mask"),
    (_steps(), "nowhere", "no step named 'nowhere'"),
    ((Step("smoothed", "gaussian_3d", (IMAGE,), {"radius": "r"}),), "smoothed",
     "no argument"),
])
def test_a_miswired_pipeline_is_refused_when_defined(steps, output, says):
    with pytest.raises(ValueError, match=says):
        Pipeline("toy", steps, output=output)


def test_every_workflow_is_a_checked_pipeline_ending_in_a_mask():
    for name in list_workflows():
        pipeline = get_pipeline(name)
        assert pipeline.kinds()[pipeline.output] == "mask"
        assert pipeline.steps[0].inputs == (IMAGE,)
