"""The reference agrees with seglight on objects and holes of exactly the size bound.

Each test calls the installed reference's step (or replays the call its workflow makes) on
objects of ``n - 1``, ``n`` and ``n + 1`` voxels and compares with seglight's helper.
Skipped when the reference is not installed.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from seglight.classic import morphology as morph
from seglight.classic.postprocess import size_filter
from seglight.classic.workflows.filament_spot import prune_z
from seglight.data.structures import structure_image
from tests.classic.test_size_boundaries import N, filled, holes, lines, survivors
from tests.helpers.oracle import reference_module, reference_workflow

pytestmark = pytest.mark.filterwarnings("ignore::FutureWarning")  # scikit-image's min_size


@pytest.fixture(scope="module")
def utils():
    return reference_module("core.utils")


@pytest.mark.parametrize("n", [1, N])
def test_masked_object_threshold_low_level(n: int) -> None:
    reference = reference_module("core.MO_threshold")
    sizes = (n - 1, n, n + 1)
    img = np.zeros((1, 16, 24), np.float32)
    for i, size in enumerate(sizes):
        img[0, 2 + 3 * i, 2 : 2 + size] = np.linspace(0.5, 1.0, size)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected_high, expected_low = reference.MO(img, "median", n, False, 1.0, True, False)
    high, low = morph.masked_object_threshold(img, "median", n, False, False, 1.0, return_low=True)
    assert survivors(expected_low, sizes)[1:] == [False, True]
    assert np.array_equal(low, expected_low > 0)
    assert np.array_equal(high, expected_high > 0)


@pytest.mark.parametrize("fill_2d", [True, False])
def test_hole_filling_bounds(utils, fill_2d: bool) -> None:
    mask = holes()
    for low, high in [(N, 100), (0, N), (N, N)]:
        expected = utils.hole_filling(mask, low, high, fill_2d)
        got = morph.fill_holes(mask, low, high, per_slice=fill_2d)
        assert np.array_equal(got, expected), (low, high)
    assert filled(utils.hole_filling(mask, N, N, fill_2d)) == [False, True, False]


def test_seeds_from_the_middle_frame(utils) -> None:
    objects = lines()[0]
    expected = utils.get_3dseed_from_mid_frame(objects, (3, *objects.shape), 1, N, True)
    got = morph.seeds_from_middle_slice(objects, (3, *objects.shape), 1, N)
    assert survivors(expected[1][None] > 0) == [False, False, True]
    assert np.array_equal(got, expected)


def test_pxn_pruning(utils) -> None:
    for count in (99, 100, 101):
        mask = np.zeros((6, 20, 20), bool)
        for z, n in enumerate([0, 200, count, 400, count, 200]):
            mask[z].flat[:n] = True
        pruned = prune_z(mask, min_slice_voxels=100)
        assert np.array_equal(pruned, utils.prune_z_slices(mask) > 0), count


def _spy_size_filter(name: str, image_name: str) -> list[tuple[np.ndarray, dict, np.ndarray]]:
    """Run the reference workflow ``name`` and record every call of its size filter:
    ``(input, keyword arguments other than arrays, output)``."""
    reference_workflow(name)  # skips when the reference is absent
    module = reference_module(f"structure_wrapper.seg_{name}")
    original = module.remove_small_objects
    calls = []

    def spy(mask, **kwargs):
        before = np.array(mask)  # the reference may filter in place (``out=``)
        out = original(mask, **kwargs)
        options = {k: v for k, v in kwargs.items() if not isinstance(v, np.ndarray)}
        calls.append((before, options, np.array(out)))
        return out

    image = structure_image(image_name, (12, 64, 64)).astype(np.float32)
    module.remove_small_objects = spy
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            module.__dict__[f"Workflow_{name}"](image, output_type="array")
    finally:
        module.remove_small_objects = original
    return calls


def test_dot_workflow_label_filter() -> None:
    """The dot workflows size-filter the watershed's label image; seglight's
    ``remove_small_labels`` gives the same result, including at exactly ``min_size``."""
    calls = _spy_size_filter("dsp", "dsp")
    labels, kwargs, expected = calls[-1]
    assert np.issubdtype(labels.dtype, np.integer) and labels.max() > 1
    assert np.array_equal(morph.remove_small_labels(labels, kwargs["min_size"]), expected > 0)
    # Replay the reference's call on labels of n - 1, n and n + 1 voxels.
    n = kwargs["min_size"]
    boundary = np.zeros((1, 16, 24), labels.dtype)
    for i, size in enumerate((n - 1, n, n + 1)):
        boundary[0, 2 + 3 * i, 2 : 2 + size] = i + 1
    module = reference_module("structure_wrapper.seg_dsp")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = module.remove_small_objects(boundary, **kwargs) > 0
    assert survivors(expected, (n - 1, n, n + 1)) == [False, False, True]
    assert np.array_equal(morph.remove_small_labels(boundary, n), expected)


def test_inline_masked_object_threshold_of_fbl() -> None:
    """FBL (like NPM1 and ST6GAL1) has its own copy of MO's low level; it filters with the
    same "at most n" rule as seglight's ``masked_object_threshold``."""
    calls = _spy_size_filter("fbl", "fbl")
    mask, kwargs, _ = calls[0]
    assert mask.dtype == bool and kwargs["min_size"] == 700
    module = reference_module("structure_wrapper.seg_fbl")
    boundary = lines()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = module.remove_small_objects(boundary, **{**kwargs, "min_size": N}) > 0
    assert survivors(expected) == [False, False, True]
    assert np.array_equal(size_filter(boundary, N), expected)
