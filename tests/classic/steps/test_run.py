"""Running a pipeline (seglight.classic.steps.run): the cache, callbacks, targets, labels."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage as ndi

from seglight.classic import (
    Cancelled,
    ClassicBinarizer,
    StepCache,
    StepOverride,
    list_workflows,
    run_workflow,
)
from seglight.classic.registry import get_pipeline
from seglight.classic.steps import needed_steps
from seglight.data.structures import structure_image, two_touching_dots
from tests.classic.steps.conftest import SEC61B_STEPS, SHAPE, ran, run_steps


def test_every_step_runs_once_then_comes_from_the_cache(image):
    cache = StepCache()
    first, events = run_steps(ClassicBinarizer("sec61b"), image, cache)
    assert [e.step for e in events] == SEC61B_STEPS
    assert ran(events) == SEC61B_STEPS
    again, events = run_steps(ClassicBinarizer("sec61b"), image.copy(), cache)  # equal content
    assert ran(events) == [] and all(e.cached for e in events)
    for name in SEC61B_STEPS:
        np.testing.assert_array_equal(again[name], first[name])
    np.testing.assert_array_equal(first["size_filtered_again"], run_workflow("sec61b", image) > 0)


@pytest.mark.parametrize(("param", "value", "reran"), [
    ("vesselness_cutoff", 0.3, SEC61B_STEPS[3:]),
    ("vesselness_sigma", 1.5, SEC61B_STEPS[2:]),
    ("min_size_2d", 8, SEC61B_STEPS[5:]),
    # min_size feeds two steps: the first and everything after it runs again.
    ("min_size", 40, SEC61B_STEPS[4:]),
    ("intensity_norm", [2.0, 7.5], SEC61B_STEPS),
])
def test_a_changed_parameter_reruns_exactly_its_steps_and_their_dependents(
    image, param, value, reran
):
    cache = StepCache()
    run_steps(ClassicBinarizer("sec61b"), image, cache)
    changed = ClassicBinarizer("sec61b", {param: value})
    values, events = run_steps(changed, image, cache)
    assert ran(events) == reran
    assert [e.step for e in events if e.cached] == [s for s in SEC61B_STEPS if s not in reran]
    # The cached run gives what a fresh run with that parameter gives.
    expected = run_workflow("sec61b", image, **{param: value}) > 0
    np.testing.assert_array_equal(values["size_filtered_again"], expected)


def test_another_image_reruns_everything(image):
    cache = StepCache()
    run_steps(ClassicBinarizer("sec61b"), image, cache)
    other = image.copy()
    other[0, 0, 0] += 1
    _, events = run_steps(ClassicBinarizer("sec61b"), other, cache)
    assert ran(events) == SEC61B_STEPS


def test_cache_keeps_to_its_budget(image):
    cache = StepCache(max_bytes=3 * image.size * 4)  # three float32 volumes
    run_steps(ClassicBinarizer("sec61b"), image, cache)
    assert 0 < cache.nbytes <= cache.max_bytes
    assert StepCache().max_bytes == 4 * 2**30  # the documented default
    assert len(cache) < len(SEC61B_STEPS)
    # The oldest steps were evicted, the newest kept: asking for the mask runs nothing.
    values, events = run_steps(ClassicBinarizer("sec61b"), image, cache,
                          targets=("size_filtered_again",))
    assert [(e.step, e.cached) for e in events] == [("size_filtered_again", True)]
    # Asking for every step recomputes the evicted ones.
    _, events = run_steps(ClassicBinarizer("sec61b"), image, cache)
    assert ran(events)[0] == "normalized"


def test_should_stop_cancels_before_the_next_step(image):
    events = []
    with pytest.raises(Cancelled) as err:
        ClassicBinarizer("sec61b").run_steps(
            image, on_step=events.append, should_stop=lambda: len(events) >= 2
        )
    assert err.value.step == "vesselness"
    assert [e.step for e in events] == ["normalized", "smoothed"]


def test_targets_run_only_what_they_need(image):
    values, events = run_steps(ClassicBinarizer("sec61b"), image, targets=("smoothed",))
    assert list(values) == ["smoothed"] and [e.step for e in events] == SEC61B_STEPS[:2]
    son = get_pipeline("son")
    assert "large_spot_response" not in [s.name for s in needed_steps(son, ["vesselness"])]


def test_record_gets_every_step_but_the_mask(image):
    steps = {}
    run_workflow("sec61b", image, record=steps.__setitem__)
    assert list(steps) == SEC61B_STEPS[:-1]


# ------------------------------------------------------------------- the workflow's labels


def _two_nuclei() -> np.ndarray:
    z, y, x = np.mgrid[:9, :64, :96].astype(np.float32)
    img = np.full(z.shape, 300.0, np.float32)
    for cy, cx in ((32, 28), (32, 68)):
        r = np.sqrt((y - cy) ** 2 + (x - cx) ** 2 + (2.5 * (z - 4)) ** 2)
        img += 1500 * np.exp(-((r - 12) ** 2) / 4)
    return img


@pytest.mark.parametrize(("name", "image_fn", "params", "objects_zyx"), [
    # The two dots' centres; the two nuclei's lamina, left of each centre on the middle slice.
    ("dsp", two_touching_dots, {}, [(6, 20, 16), (6, 20, 23)]),
    ("lmnb1_interphase", _two_nuclei, {"hole_min": 50}, [(4, 32, 16), (4, 32, 56)]),
])
def test_labels_number_the_workflows_own_objects_within_its_mask(name, image_fn, params,
                                                                   objects_zyx):
    binarizer = ClassicBinarizer(name, params)
    image = image_fn()
    proba, labels = binarizer.predict_proba_and_labels(image)
    assert labels.dtype == np.int32 and labels.shape == image.shape
    np.testing.assert_array_equal(proba, binarizer.predict_proba(image))
    # Every mask voxel has its object's number, nothing outside the mask has one.
    np.testing.assert_array_equal(labels > 0, proba > 0)
    numbers = [labels[zyx] for zyx in objects_zyx]
    assert all(numbers) and len(set(numbers)) == len(numbers)
    np.testing.assert_array_equal(binarizer.predict_labels(image), labels)


def test_dot_labels_are_the_cut_not_the_connected_components():
    image = two_touching_dots()
    labels = ClassicBinarizer("dsp").predict_labels(image)
    _, n_components = ndi.label(labels > 0, np.ones((3, 3, 3)))
    assert n_components == 1 and len(np.unique(labels[labels > 0])) == 2


def test_workflows_without_labels_say_so(image):
    with_labels = [n for n in list_workflows() if get_pipeline(n).labels is not None]
    assert with_labels == ["cetn2", "dsp", "lmnb1_interphase", "slc25a17"]
    assert ClassicBinarizer("sec61b").predict_labels(image) is None
    constant = np.full(SHAPE, 450, np.uint16)
    assert not ClassicBinarizer("dsp").predict_labels(constant).any()


@pytest.mark.parametrize("name", list_workflows())
def test_every_workflow_runs_from_the_cache_with_its_steps_unchanged(name):
    """Cached outputs feed the next steps and later runs: no block may write into its
    input, so every cached step still equals a fresh run's, and so does the mask."""
    image = structure_image(name, SHAPE)
    binarizer = ClassicBinarizer(name)
    cache = StepCache()
    _, events = run_steps(binarizer, image, cache)
    assert ran(events) == [step.name for step in binarizer.pipeline.steps]
    again, events = run_steps(binarizer, image, cache)
    assert ran(events) == []
    fresh = binarizer.run_steps(image)
    assert list(again) == list(fresh)
    for step, value in fresh.items():
        np.testing.assert_array_equal(again[step], value, err_msg=step)
    output = binarizer.pipeline.output
    np.testing.assert_array_equal(again[output], run_workflow(name, image) > 0)


def test_a_given_output_replaces_its_step_and_keys_what_follows(image):
    binarizer = ClassicBinarizer("sec61b")
    normalized = binarizer.run_steps(image, targets=["normalized"])["normalized"]
    brighter = np.clip(normalized * 1.5, 0, 1).astype(np.float32)
    cache = StepCache()
    values, events = run_steps(binarizer, image, cache, given={"normalized": brighter})
    assert events[0].step == "normalized" and events[0].cached
    assert values["normalized"] is brighter
    expected = ClassicBinarizer("sec61b", steps={"normalized": StepOverride(enabled=False)})
    np.testing.assert_array_equal(values["size_filtered_again"],
                                  expected.run_steps(brighter)["size_filtered_again"])
    _, again = run_steps(binarizer, image, cache, given={"normalized": brighter.copy()})
    assert ran(again) == []  # keyed by content: an equal given array hits the cache
    with pytest.raises(ValueError, match="not steps"):
        binarizer.run_steps(image, given={"nonexistent": brighter})
