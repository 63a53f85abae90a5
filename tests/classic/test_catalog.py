"""What an editor shows of a workflow (seglight.classic.catalog): help, ranges, gallery."""

from __future__ import annotations

import shutil

import pytest

from seglight.classic import (
    catalog,
    config_path,
    describe,
    list_workflows,
    load_params,
    registry,
    workflow_info,
)
from seglight.classic.catalog import list_blocks, parameter_help
from seglight.classic.validation import STRICT_KEY
from seglight.errors import ConfigError


def _in_range(value, rng) -> bool:
    return rng.lo <= value <= rng.hi


@pytest.mark.parametrize("name", list_workflows())
def test_every_parameter_has_help_and_a_range_holding_its_default(name):
    helps = parameter_help(name)
    defaults = load_params(name)
    assert set(helps) == set(defaults)
    for key, value in defaults.items():
        info = helps[key]
        assert info.help and "\n" not in info.help, key
        if isinstance(value, bool):
            assert not info.ranges and not info.choices, key
        elif isinstance(value, str):
            assert value in info.choices, key
        elif isinstance(value, list) and value and isinstance(value[0], list):
            for pair in value:  # one range per column of [sigma, cutoff] pairs
                assert len(info.ranges) == len(pair), key
                assert all(map(_in_range, pair, info.ranges)), (key, pair, info.ranges)
        elif isinstance(value, list):
            assert len(info.ranges) == len(value), key
            assert all(map(_in_range, value, info.ranges)), (key, value, info.ranges)
        else:
            (rng,) = info.ranges
            assert _in_range(value, rng) and 0 < rng.step <= rng.hi - rng.lo, key


@pytest.mark.parametrize("name", list_workflows())
def test_describe_shows_every_parameter_of_every_step(name):
    steps = describe(name)
    assert [s.name for s in steps] == [s.name for s in registry.get_pipeline(name).steps]
    keys = set()
    for step in steps:
        assert step.help and step.enabled and step.block in step.alternatives
        for param in step.params:
            assert param.kind in ("int", "float", "bool", "str", "list")
            if param.key is not None:
                keys.add(param.key)
                assert param.value == load_params(name)[param.key]
                assert param.help == parameter_help(name)[param.key].help
    assert keys == set(load_params(name)) - {STRICT_KEY}


@pytest.mark.parametrize("name", list_workflows())
def test_workflow_description_is_the_configs_first_comment_line(name):
    info = workflow_info(name)
    first = config_path(name).read_text().splitlines()[0]
    assert info.description == first.lstrip("# ").strip()
    assert info.description.upper().startswith(name.split("_")[0].upper())
    assert info.recipe.startswith(info.description)


def test_describe_follows_params_and_overrides():
    steps = {s.name: s for s in describe(
        "sec61b", {"vesselness_cutoff": 0.3},
        {"smoothed": {"block": "gaussian_3d"}, "size_filtered_2d": {"enabled": False}},
    )}
    assert steps["filament"].params[0].value == 0.3
    smoothed = steps["smoothed"]
    assert smoothed.block == "gaussian_3d"
    assert smoothed.alternatives == ("edge_preserving_smoothing", "gaussian_2d", "gaussian_3d")
    # A swapped-in block's argument that the step does not map keeps the block's default.
    (sigma,) = smoothed.params
    assert sigma.key is None and sigma.value == 1.0 and not sigma.ranges
    assert not steps["size_filtered_2d"].enabled and steps["size_filtered_2d"].can_disable
    assert not steps["filament"].can_disable  # an image cannot stand in for a mask
    assert "gaussian_3d" in list_blocks()


@pytest.fixture
def edited_config(monkeypatch, tmp_path):
    """A copy of sec61b's config to edit, used in place of the real one."""
    copy = tmp_path / "sec61b.yaml"
    shutil.copy(config_path("sec61b"), copy)
    monkeypatch.setattr(registry, "config_path", lambda name: tmp_path / f"{name}.yaml")
    monkeypatch.setattr(catalog, "config_path", lambda name: tmp_path / f"{name}.yaml")
    for cached in (catalog.parameter_help, catalog._config_comments,
                   registry._config_params):
        cached.cache_clear()
    yield copy
    for cached in (catalog.parameter_help, catalog._config_comments,
                   registry._config_params):
        cached.cache_clear()


@pytest.mark.parametrize(("old", "new", "says"), [
    ("# 0..200: SF before", "# SF before", "params.min_size: its comment .* does not start"),
    ("# 0..200: SF before", "# 0..x: SF before", "params.min_size: its comment"),
    ("# 0..50: SF2D", "# 50..0: SF2D", r"params.min_size_2d: range '50..0'"),
    ("# [0..20 by 0.5, 0..60 by 0.5]:", "# [0..20 by 0.5]:",
     r"params.intensity_norm: 1 range\(s\) for 2 elements"),
    ("  # 0..0.5 by 0.005: filament response above this is foreground", "",
     "params.vesselness_cutoff: no help comment"),
])
def test_a_config_without_a_readable_range_is_one_line_naming_file_and_key(
    edited_config, old, new, says
):
    text = edited_config.read_text()
    assert old in text
    edited_config.write_text(text.replace(old, new))
    with pytest.raises(ConfigError, match=says) as err:
        parameter_help("sec61b")
    assert str(err.value).startswith(str(edited_config)) and "\n" not in str(err.value)
