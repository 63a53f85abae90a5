"""The block library (seglight.classic.blocks): each block runs its filter, with the
arguments and kinds an override relies on."""

from __future__ import annotations

import numpy as np
import pytest

from seglight.classic import blocks, filters
from seglight.classic.steps import BLOCKS
from seglight.errors import ConfigError


@pytest.fixture(scope="module")
def image() -> np.ndarray:
    rng = np.random.default_rng(0)
    return filters.gaussian_3d(rng.random((8, 24, 24)).astype(np.float32), 1.0)


@pytest.mark.parametrize("name", sorted(blocks.RESPONSES))
def test_a_response_block_is_its_filter_at_sigma(name, image):
    blk = BLOCKS[name]
    assert blk.argument_kinds() == {"sigma": "float"} and blk.family == "filter response"
    assert blk.help == blocks.RESPONSES[name]
    np.testing.assert_array_equal(blk.fn(image, sigma=1), getattr(filters, name)(image, 1.0))


@pytest.mark.parametrize("name", sorted(blocks.MULTI_SCALE))
def test_a_multi_scale_block_is_its_filter_over_the_pairs(name, image):
    blk = BLOCKS[name]
    filter_name, help_line = blocks.MULTI_SCALE[name]
    assert blk.argument_kinds() == {"scales": "list"} and blk.help == help_line
    assert blk.kind_out == "mask" and blk.family == "multi-scale filter"
    scales = [[1.0, 0.01], [2.0, 0.02]]
    np.testing.assert_array_equal(blk.fn(image, scales=scales),
                                  getattr(filters, filter_name)(image, scales))


def test_masked_object_threshold_with_low_adds_the_low_level_mask(image):
    args = {"method": "ave", "min_size": 5, "dilate": False, "extra_criteria": False,
            "local_adjust": 1.0}
    mask = BLOCKS["masked_object_threshold"].fn(image, **args)
    both = BLOCKS["masked_object_threshold_with_low"].fn(image, **args)
    assert BLOCKS["masked_object_threshold_with_low"].kinds_out == ("mask", "mask")
    np.testing.assert_array_equal(both[0], mask)
    assert not (both[0] & ~both[1]).any()  # the high level refines the low level


def test_normalize_takes_two_one_or_four_numbers(image):
    for norm in ([1.0, 2.0], [0], [1, 1, 0.2, 0.8]):
        out = blocks.normalize(image, norm=norm)
        assert out.min() >= 0 and out.max() <= 1
    with pytest.raises(ConfigError, match=r"intensity normalization \[1, 2, 3\]"):
        blocks.normalize(image, norm=[1, 2, 3])
