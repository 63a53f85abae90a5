"""Normalization recipes as bioimage.io preprocessing (seglight.export.preprocessing): which
recipes travel, and that the exact ones compute what seglight computes, measured against
bioimageio.core's own operations."""

from __future__ import annotations

import numpy as np
import pytest
import yaml

from seglight import CONF_DIR
from seglight.errors import ConfigError
from seglight.export.preprocessing import check_travels, travel
from seglight.normalization import Normalizer
from tests.bioimageio.conftest import camera_image

EXACT_RECIPES = [
    [],
    [{"op": "clipped_zscore", "lower_std": 2.5, "upper_std": 10}],
    [{"op": "clipped_zscore", "lower_std": 1.0, "upper_std": 15}],
    [{"op": "percentile_range", "lower_percentile": 1.0, "upper_percentile": 99.8}],
    [{"op": "min_max"}],
]
AUTO_CONTRAST = [{"op": "auto_contrast", "lower_std": 2.5, "upper_std": 10}]


def test_every_recipe_of_the_config_group_and_every_data_default_travels_exactly():
    recipes = {p.name: yaml.safe_load(p.read_text())
               for p in (CONF_DIR / "data" / "normalization").glob("*.yaml")}
    assert len(recipes) >= 4
    assert {name: travel(r) for name, r in recipes.items()} == dict.fromkeys(recipes, "exact")
    for data in (CONF_DIR / "data").glob("[!_]*.yaml"):
        default = next(d["normalization"] for d in yaml.safe_load(data.read_text())["defaults"]
                       if isinstance(d, dict) and "normalization" in d)
        assert f"{default}.yaml" in recipes, data.name


def test_recipes_that_do_not_travel_are_refused_in_one_line_naming_those_that_do():
    assert travel(AUTO_CONTRAST) == "approximate"
    with pytest.raises(ConfigError, match="allow_inexact=true") as err:
        check_travels(AUTO_CONTRAST, allow_inexact=False)
    assert "clipped_zscore" in str(err.value) and "\n" not in str(err.value)
    assert check_travels(AUTO_CONTRAST, allow_inexact=True) == "approximate"
    for recipe in ([{"op": "min_max", "upper": 4000}],
                   [{"op": "background_subtract", "sigma": 5}, *AUTO_CONTRAST],
                   [{"op": "auto_contrast_range", "lower_std": 1, "upper_std": 3, "low": 1,
                     "high": 2}]):
        with pytest.raises(ConfigError, match="preprocessing=none"):
            check_travels(recipe, allow_inexact=True)


@pytest.mark.parametrize("recipe", EXACT_RECIPES, ids=lambda r: r[0]["op"] if r else "none")
@pytest.mark.parametrize("kind", ["camera uint16", "float32 with a narrow range"])
def test_bioimageio_core_preprocessing_computes_seglights_recipe(recipe, kind, rng):
    pytest.importorskip("bioimageio.core")
    from seglight.export.preprocessing import package_normalize

    image = camera_image(rng)
    if kind.startswith("float32"):  # min above mean - 2.5 std: where auto_contrast differs
        image = (rng.random((8, 32, 40)) * 0.2 + 0.4).astype(np.float32)
    ours, theirs = Normalizer(recipe)(image), package_normalize(image, recipe)
    assert ours.dtype == theirs.dtype == np.float32
    # min_max's own epsilon is 1e-8, the spec's 1e-6: a relative 1e-6 / range more.
    slack = 1e-6 / float(np.ptp(image)) if recipe and recipe[0]["op"] == "min_max" else 0.0
    np.testing.assert_allclose(theirs, ours, rtol=0, atol=2e-6 + slack)


def test_auto_contrast_is_only_approximated_where_the_image_range_is_narrow(rng):
    pytest.importorskip("bioimageio.core")
    from seglight.export.preprocessing import package_normalize

    camera = camera_image(rng)  # its range covers mean - 2.5 std .. mean + 10 std
    np.testing.assert_allclose(package_normalize(camera, AUTO_CONTRAST),
                               Normalizer(AUTO_CONTRAST)(camera), atol=1e-5)
    flat = rng.integers(900, 1100, (8, 32, 40)).astype(np.uint16)
    assert package_normalize(flat, AUTO_CONTRAST).min() > 0.05
    assert Normalizer(AUTO_CONTRAST)(flat).min() == 0
