"""Images too large for memory: each window is normalized as the whole image would be."""

from __future__ import annotations

import dask.array as da
import numpy as np
import pytest

from seglight.errors import SeglightError
from seglight.normalization import Normalizer
from seglight.predict.lazy import (
    NormalizedLazyImage,
    lazy_normalizer,
    remove_small_objects_on_disk,
    scratch_array,
)
from seglight.predict.runner import drop_objects_below


@pytest.fixture
def raw():
    rng = np.random.default_rng(0)
    image = rng.normal(500, 40, (12, 40, 48)).clip(0).astype(np.uint16)
    image[6, 20:24, 30:34] = 9000  # saturated debris, an outlier for min_max's bound
    return image


@pytest.mark.parametrize("steps", [
    [],
    [{"op": "clipped_zscore", "lower_std": 2.5, "upper_std": 10}],
    [{"op": "auto_contrast", "lower_std": 2.5, "upper_std": 10}],
    [{"op": "min_max"}],
    [{"op": "min_max", "upper": 4000, "above_upper": "min"}],
    [{"op": "min_max", "upper": 4000, "above_upper": "clip"}],
    [{"op": "auto_contrast_range", "lower_std": 1, "upper_std": 3, "low": 400, "high": 700}],
    [{"op": "auto_contrast_range", "lower_std": 1, "upper_std": 3, "low": 20000, "high": 30000}],
    [{"op": "min_max", "upper": 1, "above_upper": "min"}],  # no voxel below the bound
])
def test_windows_are_normalized_as_the_whole_image(raw, steps):
    whole = Normalizer(steps)(raw)
    lazy = NormalizedLazyImage(da.from_array(raw, chunks=(4, 16, 16)),
                               lazy_normalizer(steps, da.from_array(raw, chunks=(4, 16, 16))))
    window = (slice(3, 11), slice(10, 35), slice(20, 48))  # holds the debris
    np.testing.assert_allclose(lazy[window], whole[window], rtol=1e-6, atol=1e-6)
    assert lazy.shape == raw.shape and lazy[window].dtype == np.float32


def test_background_subtraction_is_refused_in_one_line(raw):
    steps = [{"op": "background_subtract", "sigma": [5, 50, 50]},
             {"op": "auto_contrast", "lower_std": 2.5, "upper_std": 10}]
    with pytest.raises(SeglightError, match="max_in_memory_voxels"):
        lazy_normalizer(steps, da.from_array(raw))


@pytest.mark.parametrize("min_size", [1, 3, 8])
def test_min_size_on_a_memory_mapped_mask_removes_what_the_in_memory_filter_does(tmp_path,
                                                                              min_size):
    rng = np.random.default_rng(1)
    mask = (rng.random((10, 30, 30)) > 0.93).astype(np.uint8) * 255  # objects of 1-10 voxels
    expected = drop_objects_below(mask > 0, min_size)
    with scratch_array(tmp_path, mask.shape, np.uint8) as on_disk:
        on_disk[:] = mask
        remove_small_objects_on_disk(on_disk, min_size, tmp_path)
        np.testing.assert_array_equal(on_disk > 0, expected)
        assert set(np.unique(on_disk)) <= {0, 255}
    assert 0 < expected.sum() < (mask > 0).sum() or min_size == 1
    assert not list(tmp_path.iterdir())  # the labels' scratch file is gone
