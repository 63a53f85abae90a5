"""From a predict config to a binarizer and a runner: every check before any work."""

from __future__ import annotations

import pytest
from omegaconf import OmegaConf

from seglight.binarizer import Binarizer
from seglight.errors import ConfigError, SeglightError
from seglight.predict.build import build_binarizer, build_runner
from seglight.predict.runner import PredictRunner


def test_a_classic_config_becomes_its_binarizer():
    binarizer = build_binarizer(OmegaConf.create(
        {"_target_": "seglight.classic.ClassicBinarizer", "workflow": "tomm20"}))
    assert isinstance(binarizer, Binarizer) and binarizer.workflow == "tomm20"


@pytest.mark.parametrize("kwargs, message", [
    ({}, "no binarizer: pass ckpt_path="),
    ({"model": {"_target_": "x"}, "ckpt_path": "a.ckpt"}, "a run uses one binarizer"),
    ({"model": {"_target_": "seglight.training.module.SegmentationModule"}},
     "names a network to train"),
    ({"model": {"_target_": "collections.OrderedDict"}}, "not a binarizer"),
])
def test_wrong_binarizer_configs_are_one_line_errors(kwargs, message):
    with pytest.raises(ConfigError, match=message):
        build_binarizer(**kwargs)


@pytest.mark.parametrize("extra, message", [
    ({"params": {"bogus": 1}}, "unknown parameter"),
    ({"steps": {"smoothed": {"block": "nope"}}}, "steps.smoothed.block: unknown block"),
])
def test_a_bad_classic_parameter_or_step_is_the_workflows_own_line(extra, message):
    """Hydra wraps the binarizer's error in a multi-line block; the user gets its one line."""
    model = {"_target_": "seglight.classic.ClassicBinarizer", "workflow": "sec61b", **extra}
    with pytest.raises(SeglightError, match=message) as info:
        build_binarizer(OmegaConf.create(model))
    assert "\n" not in str(info.value) and "Error in call to target" not in str(info.value)


def test_a_missing_checkpoint_is_named(tmp_path):
    with pytest.raises(Exception, match="no such checkpoint file"):
        build_binarizer(ckpt_path=tmp_path / "none.ckpt")


def test_build_runner_checks_input_and_output_first(tmp_path):
    cfg = OmegaConf.create({"input": "???", "output": str(tmp_path / "seg"),
                            "model": {"_target_": "seglight.classic.ClassicBinarizer",
                                      "workflow": "tomm20"}})
    with pytest.raises(ConfigError, match="input= is required"):
        build_runner(cfg)
    cfg.input = str(tmp_path / "nowhere")
    with pytest.raises(ConfigError, match="no such file or folder"):
        build_runner(cfg)
    (tmp_path / "a.tif").write_bytes(b"")
    cfg.input = str(tmp_path / "a.tif")
    runner, files = build_runner(cfg)
    assert isinstance(runner, PredictRunner) and files == [tmp_path / "a.tif"]
    assert not (tmp_path / "seg").exists()  # nothing written before the run
