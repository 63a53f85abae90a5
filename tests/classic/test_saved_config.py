"""Saved workflow configs: save_workflow_config / load_workflow_config."""

from __future__ import annotations

import numpy as np
import pytest
from hydra.utils import instantiate
from omegaconf import OmegaConf

from seglight.classic import (
    ClassicBinarizer,
    StepOverride,
    load_params,
    load_workflow_config,
    save_workflow_config,
)
from seglight.data.structures import structure_image
from seglight.errors import ConfigError, SeglightError

STEPS = {"smoothed": {"block": "gaussian_3d", "params": {"sigma": 1.5}},
         "size_filtered_2d": {"enabled": False}}


@pytest.fixture(scope="module")
def image() -> np.ndarray:
    return structure_image("sec61b", (10, 48, 48))


def test_saved_config_round_trips_and_gives_the_same_mask(tmp_path, image):
    path = save_workflow_config(tmp_path / "tuned.yaml", "sec61b",
                                {"vesselness_cutoff": 0.2}, STEPS)
    assert path == tmp_path / "tuned.yaml"
    assert [p.name for p in tmp_path.iterdir()] == ["tuned.yaml"]  # no temp file left
    loaded = load_workflow_config(path)
    tuned = ClassicBinarizer("sec61b", {"vesselness_cutoff": 0.2}, STEPS)
    assert loaded.workflow == "sec61b"
    assert loaded.params == {**load_params("sec61b"), "vesselness_cutoff": 0.2}
    assert loaded.steps == {"smoothed": StepOverride(block="gaussian_3d", params={"sigma": 1.5}),
                            "size_filtered_2d": StepOverride(enabled=False)}
    np.testing.assert_array_equal(loaded.predict_proba(image), tuned.predict_proba(image))
    # It is a classic model config: Hydra builds the same binarizer from it.
    built = instantiate(OmegaConf.load(path))
    assert built.params == loaded.params and built.steps == loaded.steps
    assert path.read_text().startswith("# SEC61B (ER)")


def test_saved_config_without_overrides_has_no_steps(tmp_path):
    path = save_workflow_config(tmp_path / "plain.yaml", "tomm20")
    assert "steps" not in OmegaConf.load(path)
    assert load_workflow_config(path).params == load_params("tomm20")


def test_nothing_is_written_for_a_bad_override(tmp_path):
    with pytest.raises(ConfigError, match="steps.smoothd"):
        save_workflow_config(tmp_path / "bad.yaml", "sec61b", None, {"smoothd": {}})
    assert not any(tmp_path.iterdir())


@pytest.mark.parametrize(("text", "says"), [
    ("workflow: sec61b\nparams: {vesselnes_cutoff: 0.2}\n",
     r"unknown parameter\(s\) \['vesselnes_cutoff'\]"),
    ("workflow: sec61b\nparams: {vesselness_cutoff: [0.2]}\n",
     r"parameter vesselness_cutoff=\[0.2\] should be a number"),
    ("workflow: sec61b\nsteps: {smoothed: {block: gausian_3d}}\n",
     r"steps\.smoothed\.block: unknown block 'gausian_3d'"),
    ("workflow: sec61b\nsteps: {size_filtered: {enabled: false, sigma: 1}}\n",
     r"steps\.size_filtered\.sigma: unknown field"),
    ("workflow: sec61\n", r"workflow='sec61': unknown classic workflow"),
    ("workflow: sec61b\nparam: {}\n", r"param: unknown key"),
    ("_target_: seglight.Other\nworkflow: sec61b\n", r"_target_='seglight.Other'"),
    ("workflow: sec61b\nparams: [1, 2]\n", r"params: expected a mapping"),
    ("workflow: [sec61b\n", r"not valid YAML"),
    ("- sec61b\n", r"expected a mapping"),
])
def test_bad_saved_config_is_one_line_naming_file_and_key(tmp_path, text, says):
    path = tmp_path / "tuned.yaml"
    path.write_text(text)
    with pytest.raises(SeglightError, match=says) as err:
        load_workflow_config(path)
    assert str(err.value).startswith(f"{path}: ") and "\n" not in str(err.value)


def test_missing_saved_config_is_one_line(tmp_path):
    with pytest.raises(ConfigError, match="no such file"):
        load_workflow_config(tmp_path / "absent.yaml")


def test_documented_command_line_overrides_build_a_custom_workflow():
    """docs/classic.md: ``model=classic/sec61b +model.steps.size_filtered_2d.enabled=false
    +model.steps.smoothed.block=gaussian_3d``."""
    from hydra import compose, initialize_config_dir

    from seglight import CONF_DIR

    overrides = ["model=classic/sec61b", "+model.steps.size_filtered_2d.enabled=false",
                 "+model.steps.smoothed.block=gaussian_3d", "input=in", "output=out"]
    with initialize_config_dir(str(CONF_DIR), version_base=None):
        cfg = compose("predict", overrides=overrides)
    binarizer = instantiate(cfg.model)
    assert binarizer.steps == {"size_filtered_2d": StepOverride(enabled=False),
                               "smoothed": StepOverride(block="gaussian_3d")}
