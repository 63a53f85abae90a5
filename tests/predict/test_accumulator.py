"""The accumulator: tiles blended into the image, the same in memory and in memory maps."""

from __future__ import annotations

import numpy as np
import torch

from seglight.predict.accumulator import WeightedAccumulator
from seglight.predict.lazy import scratch_array


def _fill(accumulator, rng):
    for tile in [(0, 0, 0), (0, 6, 0), (0, 0, 6), (0, 6, 6)]:  # 8x8 tiles overlap by 2
        accumulator.add(tile, torch.from_numpy(rng.random((4, 8, 8)).astype(np.float32)))
    return accumulator.finalize()


def test_constant_tiles_blend_to_the_constant_and_edge_tiles_are_cropped():
    acc = WeightedAccumulator((4, 12, 13), (4, 8, 8), torch.device("cpu"))
    for tile in [(0, 0, 0), (0, 4, 0), (0, 0, 5), (0, 4, 5), (0, 8, 8)]:  # the last reaches out
        acc.add(tile, torch.full((4, 8, 8), 0.25))
    np.testing.assert_allclose(acc.finalize(), 0.25, rtol=1e-6)


def test_memory_mapped_arrays_give_the_in_memory_result(tmp_path):
    expected = _fill(WeightedAccumulator((4, 14, 14), (4, 8, 8), torch.device("cpu")),
                     np.random.default_rng(0))
    with scratch_array(tmp_path, (4, 14, 14), np.float32) as out, \
            scratch_array(tmp_path, (4, 14, 14), np.float32) as weights:
        result = _fill(WeightedAccumulator((4, 14, 14), (4, 8, 8), torch.device("cpu"),
                                           out=out, weights=weights), np.random.default_rng(0))
        assert result is out
        np.testing.assert_array_equal(result, expected)
        assert weights.max() > 0  # the weights went to the scratch array, not a new one
