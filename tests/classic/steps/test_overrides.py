"""Step overrides (seglight.classic.steps.overrides): switched off, swapped, checked."""

from __future__ import annotations

import numpy as np
import pytest

from seglight.classic import ClassicBinarizer, StepCache, StepOverride, filters, run_workflow
from seglight.classic.registry import get_pipeline
from seglight.classic.steps import alternatives
from seglight.errors import ConfigError
from tests.classic.steps.conftest import SEC61B_STEPS, ran, run_steps


def test_switched_off_step_passes_its_input_through(image):
    custom = ClassicBinarizer("sec61b", steps={"size_filtered_2d": {"enabled": False}})
    values, events = run_steps(custom, image)
    assert values["size_filtered_2d"] is values["size_filtered"]
    assert [e.step for e in events if e.disabled] == ["size_filtered_2d"]
    # SF -> (no SF2D) -> SF is SF once.
    expected = run_workflow("sec61b", image, min_size_2d=0) > 0
    np.testing.assert_array_equal(custom.predict_proba(image) > 0, expected)


def test_swapped_block_runs_instead_with_its_own_arguments(image):
    custom = ClassicBinarizer("sec61b", steps={
        "smoothed": StepOverride(block="gaussian_3d", params={"sigma": 1.5}),
        "vesselness": {"block": "vesselness_3d"},  # takes the step's vesselness_sigma
    })
    values, _ = run_steps(custom, image)
    smoothed = filters.gaussian_3d(values["normalized"], 1.5)
    np.testing.assert_array_equal(values["smoothed"], smoothed)
    np.testing.assert_array_equal(values["vesselness"], filters.vesselness_3d(smoothed, 1.0))


def test_overridden_step_has_its_own_cache_key(image):
    cache = StepCache()
    run_steps(ClassicBinarizer("sec61b"), image, cache)
    swapped = ClassicBinarizer("sec61b", steps={"vesselness": {"block": "vesselness_3d"}})
    _, events = run_steps(swapped, image, cache)
    assert ran(events) == SEC61B_STEPS[2:]


@pytest.mark.parametrize(("steps", "says"), [
    ({"smoothd": {"enabled": False}}, r"steps\.smoothd: workflow 'sec61b' has no step"),
    ({"smoothed": {"enable": False}}, r"steps\.smoothed\.enable: unknown field"),
    ({"smoothed": {"enabled": "no"}}, r"steps\.smoothed\.enabled='no'"),
    ({"smoothed": {"block": "gausian_3d"}}, r"steps\.smoothed\.block: unknown block 'gausian_3d'"),
    ({"smoothed": {"block": "size_filter"}}, r"steps\.smoothed\.block='size_filter'.*gaussian_3d"),
    ({"smoothed": {"block": "gaussian_3d", "params": {"sigmaa": 2}}},
     r"steps\.smoothed\.params\.sigmaa: block 'gaussian_3d' has no such argument"),
    ({"smoothed": {"block": "gaussian_3d", "params": {"sigma": [2]}}},
     r"steps\.smoothed\.params\.sigma=\[2\]: should be float"),
    ({"filament": {"enabled": False}}, r"steps\.filament\.enabled=false: .*cannot be switched"),
    ({"smoothed": "off"}, r"steps\.smoothed='off': give a mapping"),
])
def test_bad_override_is_one_line_naming_the_key(steps, says):
    with pytest.raises(ConfigError, match=says) as err:
        ClassicBinarizer("sec61b", steps=steps)
    assert "\n" not in str(err.value)
    assert str(err.value).startswith("classic workflow 'sec61b': steps.")




def test_alternatives_are_the_family_of_matching_kinds():
    offered = alternatives(get_pipeline("sec61b"), "smoothed")
    assert "edge_preserving_smoothing" in offered and "gaussian_3d" in offered
    assert "size_filter" not in offered and offered == sorted(offered)
