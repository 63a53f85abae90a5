"""Parameter and image checks of the classic workflows (seglight.classic.validation)."""

from __future__ import annotations

import logging

import numpy as np
import pytest

from seglight.classic import ClassicBinarizer, list_workflows, load_params, registry
from seglight.classic.registry import get_pipeline
from seglight.classic.validation import (
    STRICT_KEY,
    VALUE_KINDS,
    _kind,
    check_intensity_range,
    check_params,
    parameter_kinds,
)
from seglight.data.structures import structure_image
from seglight.errors import ConfigError, SeglightError


def test_kinds_come_from_the_blocks_annotations():
    kinds = parameter_kinds(get_pipeline("npm1"))
    assert kinds["mo_dilate"] == "bool"
    assert kinds["mo_method"] == "str"
    assert kinds["min_size"] == "int"
    assert kinds["spot_cutoff"] == "float"
    assert kinds["dark_spot_scales"] == "list"
    assert kinds[STRICT_KEY] == "bool"


@pytest.mark.parametrize("name", list_workflows())
def test_every_config_value_has_the_kind_its_steps_ask_for(name):
    kinds = parameter_kinds(get_pipeline(name))
    defaults = load_params(name)
    assert set(defaults) == set(kinds)
    assert {key: _kind(value) for key, value in defaults.items()} == {
        key: VALUE_KINDS[kind] for key, kind in kinds.items()
    }


def test_check_params_refuses_unknown_missing_and_wrong_kinds():
    kinds = {"sigma": "float", "scales": "list", STRICT_KEY: "bool"}
    full = {"sigma": 1, "scales": (1, 2), STRICT_KEY: False}
    assert check_params("demo", full, kinds) == {"sigma": 1, "scales": [1, 2], STRICT_KEY: False}
    with pytest.raises(ConfigError, match=r"unknown parameter\(s\) \['sigmaa'\].*'scales'"):
        check_params("demo", {**full, "sigmaa": 2}, kinds)
    with pytest.raises(ConfigError, match=r"missing parameter\(s\) \['scales'\].*demo.yaml"):
        check_params("demo", {"sigma": 1, STRICT_KEY: False}, kinds)
    with pytest.raises(ConfigError, match="sigma=.*should be a number"):
        check_params("demo", {**full, "sigma": [1.0]}, kinds)
    with pytest.raises(ConfigError, match="strict=.*should be a boolean"):
        check_params("demo", {**full, STRICT_KEY: 1}, kinds)


def test_binarizer_uses_the_composed_parameters_without_reading_the_config(monkeypatch, tmp_path):
    """Hydra composes every parameter; the binarizer must not go back to the YAML, neither
    when it is built nor for each image."""
    name = "tomm20"
    params = {**load_params(name), "min_size": 20}
    registry._config_params.cache_clear()
    monkeypatch.setattr(registry, "config_path", lambda n: tmp_path / f"{n}.yaml")  # absent
    try:
        binarizer = ClassicBinarizer(name, params)
        image = structure_image(name, (12, 48, 48))
        proba = binarizer.predict_proba(image)
        assert proba.shape == image.shape and proba.any()
        # Only a caller who leaves parameters out needs the file (absent here).
        with pytest.raises(ConfigError, match="missing"):
            ClassicBinarizer(name, {"min_size": 20})
    finally:
        registry._config_params.cache_clear()


def test_out_of_range_image_warns_once_or_is_refused_with_strict(caplog):
    img = np.full((4, 16, 16), 9000, np.float32)
    img[2, 8, 8] = 12000
    params = {"intensity_norm": [8000]}
    with caplog.at_level(logging.WARNING, logger="seglight.classic"):
        check_intensity_range("dsp", img, params)
    assert len(caplog.records) == 1
    assert "model.params.intensity_norm=[...]" in caplog.records[0].getMessage()
    with pytest.raises(SeglightError, match="refused"):
        check_intensity_range("dsp", img, params, strict=True)


def test_noise_band_without_any_voxel_is_an_error():
    img = np.full((4, 16, 16), 50, np.float32)
    with pytest.raises(SeglightError, match="no voxel lies in the intensity band 300..2000"):
        check_intensity_range("cetn2", img, {"intensity_norm": [1, 10, 300, 2000]})
