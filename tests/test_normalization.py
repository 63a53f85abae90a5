import numpy as np
import pytest

from seglight.errors import ConfigError
from seglight.normalization import Normalizer, auto_contrast, auto_contrast_range, min_max


def test_auto_contrast_clips_at_mean_plus_k_std(rng):
    img = rng.normal(100, 10, (8, 32, 32)).astype(np.float32)
    out = auto_contrast(img, 2, 3)
    m, s = img.mean(dtype=np.float64), img.std(dtype=np.float64)
    assert out.dtype == np.float32 and out.min() >= 0 and out.max() <= 1 + 1e-6
    # a voxel at exactly m (inside the window) maps linearly
    assert np.isclose(((m - (m - 2 * s)) / (5 * s)), 0.4, atol=1e-6)
    inside = (img > m - 2 * s) & (img < m + 3 * s)
    expected = (img[inside] - (m - 2 * s)) / (5 * s)
    np.testing.assert_allclose(out[inside], expected, atol=1e-5)
    assert out[img >= m + 3 * s].min() == pytest.approx(1.0, abs=1e-6)


def test_min_max_upper_bound_sets_outliers_to_min_or_clips():
    img = np.array([[[0.0, 50.0, 100.0, 5000.0]]], np.float32)
    np.testing.assert_allclose(min_max(img, upper=1000)[0, 0], [0, 0.5, 1, 0], atol=1e-6)
    np.testing.assert_allclose(min_max(img, upper=1000, above_upper="clip")[0, 0],
                               [0, 0.05, 0.1, 1], atol=1e-6)
    np.testing.assert_allclose(min_max(img)[0, 0], img[0, 0] / 5000, atol=1e-6)


def test_auto_contrast_range_uses_std_inside_window(rng):
    img = rng.normal(500, 20, (4, 16, 16)).astype(np.float32)
    img[0, 0, 0] = 60000
    out = auto_contrast_range(img, 1, 1, 400, 600)
    assert out.max() == pytest.approx(1.0, abs=1e-6) and out.min() >= 0


def test_normalizer_applies_steps_in_order_and_validates():
    norm = Normalizer([{"op": "background_subtract", "sigma": 4},
                       {"op": "min_max"}])
    out = norm(np.arange(512, dtype=np.float32).reshape(8, 8, 8))
    assert out.min() == pytest.approx(0) and out.max() == pytest.approx(1)
    with pytest.raises(ConfigError, match="unknown op 'gamma'"):
        Normalizer([{"op": "gamma"}])
    with pytest.raises(ConfigError, match=r"unknown parameter\(s\) \['k'\]"):
        Normalizer([{"op": "auto_contrast", "k": 2}])


def test_clipped_zscore_is_the_clipped_standard_score_scaled_to_unit_range(rng):
    from seglight.normalization import clipped_zscore

    img = rng.normal(100, 10, (8, 32, 32)).astype(np.float32)
    img[0, 0, :4] = [0, 400, 50, 160]
    out = clipped_zscore(img, 2.5, 10)
    z = (img - img.mean(dtype=np.float64)) / (img.std(dtype=np.float64) + 1e-6)
    np.testing.assert_allclose(out, (np.clip(z, -2.5, 10) + 2.5) / 12.5, atol=1e-6)
    assert out.dtype == np.float32  # float32 as the spec computes it: 0 and 1 within 1e-7
    assert abs(out[0, 0, 0]) < 1e-7 and abs(out[0, 0, 1] - 1) < 1e-7


def test_percentile_range_maps_the_percentiles_to_zero_and_one(rng):
    from seglight.normalization import percentile_range

    img = rng.normal(100, 10, (8, 32, 32)).astype(np.float32)
    lo, hi = np.percentile(img, [1, 99.8])
    out = percentile_range(img, 1, 99.8)
    np.testing.assert_allclose(out, (img - lo) / (hi - lo + 1e-6), atol=1e-6)
    with pytest.raises(ConfigError, match="percentiles"):
        percentile_range(img, 50, 10)


def test_a_checkpoint_written_with_the_former_default_normalizes_as_it_did(rng):
    """auto_contrast is no longer the default; a checkpoint that recorded it still uses it."""
    from pathlib import Path

    from seglight.predict.network import NetworkBinarizer

    old = Path(__file__).parent / "fixtures" / "unet_xy_tiny_w2_before_training_move.ckpt"
    binarizer = NetworkBinarizer.from_checkpoint(old, precision="32")
    assert binarizer.normalize.steps == [{"op": "auto_contrast", "lower_std": 2.5,
                                          "upper_std": 10}]
    img = rng.integers(900, 1100, (8, 32, 32)).astype(np.uint16)
    np.testing.assert_array_equal(binarizer.normalize(img), auto_contrast(img, 2.5, 10))
