"""The command line as a user types it: any path, any Trainer argument, one-line errors."""

from __future__ import annotations

import inspect
import os
import subprocess
import sys
from pathlib import Path

import lightning
import numpy as np
import pytest
from hydra import compose, initialize_config_dir
from hydra.core.global_hydra import GlobalHydra

from seglight import CONF_DIR
from seglight.cli import prepare_overrides, trainer_arguments
from seglight.errors import ConfigError
from seglight.io import write_ome_tiff
from tests.helpers.cli_utils import REPO, run_module

LAB_PATHS = ["/data/iné", "/data/My experiment", "/data/µm 0.108/Zellkern ü", "/数据/细胞 1"]


def _compose(config_name: str, args: list[str]):
    GlobalHydra.instance().clear()
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        return compose(config_name, overrides=prepare_overrides(args))


@pytest.mark.parametrize("path", LAB_PATHS)
@pytest.mark.parametrize(
    ("config_name", "keys"),
    [
        ("predict", ["input", "output", "ckpt_path", "paths.root_dir"]),
        ("train", ["data.path", "ckpt_path", "paths.root_dir", "plan"]),
        ("plan", ["data.path", "out"]),
        ("curate", ["raw", "seg", "seg1", "seg2", "out", "mask", "merge_mask", "decisions", "log"]),
    ],
)
def test_every_path_argument_takes_any_path_a_user_types(config_name, keys, path):
    cfg = _compose(config_name, [f"{key}={path}" for key in keys])
    for key in keys:
        node, _, leaf = key.rpartition(".")
        assert (cfg[node] if node else cfg)[leaf] == path


def test_already_quoted_null_and_interpolated_paths_are_left_as_typed():
    args = ["input='/a b'", "ckpt_path=null", "output=${paths.root_dir}/seg"]
    assert prepare_overrides(args) == args


def test_a_path_sweep_stays_a_sweep_in_multirun():
    assert prepare_overrides(["-m", "data.path=/a/é,/b"]) == ["-m", "data.path='/a/é','/b'"]
    assert prepare_overrides(["data.path=/a,b"]) == ["data.path='/a,b'"]  # one path, a comma
    assert prepare_overrides(["ckpt_path=[/a b/é.ckpt, 'c.ckpt']"]) == [
        "ckpt_path=['/a b/é.ckpt','c.ckpt']"]  # a list of paths: each quoted


def test_hydra_flags_and_their_values_pass_through():
    args = ["--cfg", "job", "-cd", "/my configs/é", "--help", "hydra.run.dir=/tmp/x"]
    assert prepare_overrides(args)[:5] == args[:5]


def test_every_lightning_trainer_argument_is_accepted_without_plus():
    """A Lightning upgrade that adds or renames an argument cannot break trainer.<arg>=."""
    names = [p for p in inspect.signature(lightning.Trainer.__init__).parameters if p != "self"]
    assert set(trainer_arguments()) == set(names)
    for config_name in ("train", "predict"):
        cfg = _compose(config_name, [f"trainer.{name}=null" for name in names])
        assert all(name in cfg.trainer and cfg.trainer[name] is None for name in names)


def test_documented_trainer_overrides_compose():
    cfg = _compose("train", ["trainer.max_steps=2", "trainer.limit_train_batches=4",
                             "trainer.limit_val_batches=1", "trainer.max_epochs=3"])
    assert (cfg.trainer.max_steps, cfg.trainer.limit_train_batches,
            cfg.trainer.limit_val_batches, cfg.trainer.max_epochs) == (2, 4, 1, 3)


def test_optimizer_arguments_are_free_form_too():
    cfg = _compose("train", ["model=unet_xy", "model.optimizer.betas=[0.9,0.99]",
                             "model.optimizer.amsgrad=true"])
    assert list(cfg.model.optimizer.betas) == [0.9, 0.99] and cfg.model.optimizer.amsgrad


def test_a_misspelt_trainer_argument_names_the_nearest_valid_ones():
    with pytest.raises(ConfigError, match=r"trainer.max_epoch=3: .*did you mean max_epochs"):
        prepare_overrides(["trainer.max_epoch=3"])


def test_an_unparsable_override_shows_the_quoted_form():
    with pytest.raises(ConfigError) as error:
        prepare_overrides(["model.params.name=[1,2"])
    assert "\"model.params.name='[1,2'\"" in str(error.value)
    assert len(str(error.value).splitlines()) == 1


def _run(module: str, *args: str, cwd: Path):
    return run_module(module, *args, cwd=cwd)


@pytest.mark.slow
@pytest.mark.parametrize("module", ["seglight.train", "seglight.predict"])
def test_cli_misspelt_trainer_argument_is_one_line_without_hydra_advice(module, tmp_path):
    result = _run(module, "trainer.max_epoch=3", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "error: trainer.max_epoch=3: lightning.Trainer has no argument 'max_epoch'; "
        "did you mean max_epochs, min_epochs, max_steps?"]


@pytest.mark.slow
def test_cli_unparsable_override_is_one_line(tmp_path):
    result = _run("seglight.curate", "prefix=[a", cwd=tmp_path)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "prefix='[a'" in lines[0] and "HYDRA_FULL_ERROR" not in lines[0]


@pytest.mark.slow
def test_cli_predicts_between_folders_with_accents_and_spaces(tmp_path):
    raw = tmp_path / "Zellkerne µ 0.108" / "iné"
    image = np.random.default_rng(0).integers(300, 600, (6, 32, 32)).astype(np.uint16)
    image[2:4, 10:20, 10:20] = 3000
    write_ome_tiff(raw / "cell 1.ome.tif", image, (0.29, 0.108, 0.108))
    out = tmp_path / "结果 seg"
    result = _run("seglight.predict", "model=classic/h2b_interphase", f"input={raw}",
                  f"output={out}", "progress=false", cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    assert (out / "cell 1_struct_segmentation.tiff").is_file()
    assert result.stderr.strip().splitlines()[-1] == "1 written, 0 skipped, 0 failed"
    # runs/ lands in the working directory, not in the clone or the install location
    assert (tmp_path / "runs" / "predict").is_dir()


@pytest.mark.slow
def test_readme_user_config_folder_adds_an_architecture(tmp_path):
    """README: `PYTHONPATH=. python -m seglight.train --config-dir my_conf model=tiny`."""
    from tests.training.test_extend import TOY_CONFIG, TOY_MODULE

    (tmp_path / "mynets").mkdir()
    (tmp_path / "mynets" / "__init__.py").write_text("")
    (tmp_path / "mynets" / "tiny.py").write_text(TOY_MODULE.replace("ToyNet", "TinyNet"))
    (tmp_path / "my_conf" / "model").mkdir(parents=True)
    (tmp_path / "my_conf" / "model" / "tiny.yaml").write_text(
        TOY_CONFIG.replace("toynet.ToyNet", "mynets.tiny.TinyNet"))
    env = {**os.environ, "PYTHONPATH": f"{REPO}{os.pathsep}{tmp_path}"}
    result = subprocess.run(
        [sys.executable, "-m", "seglight.train", "--config-dir", "my_conf", "model=tiny",
         "--cfg", "job"], capture_output=True, text=True, env=env, cwd=tmp_path, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "_target_: mynets.tiny.TinyNet" in result.stdout
    assert "_target_: seglight.training.module.SegmentationModule" in result.stdout  # from _module


@pytest.mark.slow
@pytest.mark.parametrize(
    ("module", "arg", "line"),
    [
        ("seglight.train", "data.patch_zxy=[8,32,32]",
         "error: data.patch_zxy=[8,32,32]: there is no setting 'data.patch_zxy'; "
         "python -m seglight.train --cfg job lists every setting "
         "(a new one is added with +data.patch_zxy=[8,32,32])"),
        ("seglight.predict", "model=classic/sec61bx",
         "error: no config 'model/classic/sec61bx'; the options are: actb, actn1, atp2a2, "
         "cetn2, ctnnb1, dsp, fbl, gja1, h2b_interphase, lamp1, lmnb1_interphase, "
         "lmnb1_mitotic, myh10, npm1, nucleus, nup153, pxn, rab5a, sec61b, slc25a17, smc1a, "
         "son, st6gal1, tjp1, tomm20, tuba1b"),
    ],
)
def test_cli_unknown_setting_or_option_is_one_line(module, arg, line, tmp_path):
    result = _run(module, arg, cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [line]


# ------------------------------------------------ what each command can use from a group


def _main_of(command: str):
    if command == "train":
        from seglight.train import main
    else:
        from seglight.predict.__main__ import main
    return main


@pytest.mark.parametrize(
    ("command", "arg", "line"),
    [
        ("train", "model=classic/npm1",
         "error: model=classic/npm1 is a classic workflow: there is nothing to train; run it "
         "with python -m seglight.predict model=classic/npm1 input=IMAGES output=DIR"),
        ("predict", "model=unet_xy",
         "error: model=unet_xy is a network to train: train it with python -m seglight.train "
         "model=unet_xy, then predict with python -m seglight.predict ckpt_path=<its "
         "best.ckpt> input=IMAGES output=DIR"),
        ("train", "model=_module",
         "error: model=_module is a shared part of the model configs, not a choice"),
    ],
)
def test_an_option_the_command_cannot_use_is_one_line(command, arg, line, monkeypatch, capsys):
    monkeypatch.setattr(sys, "argv", [f"seglight.{command}", arg, "input=x", "output=y"]
                        if command == "predict" else [f"seglight.{command}", arg])
    with pytest.raises(SystemExit) as exit_:
        _main_of(command)()
    assert exit_.value.code == 2
    assert capsys.readouterr().err.strip().splitlines() == [line]


@pytest.mark.parametrize("command", ["train", "predict"])
def test_help_lists_only_the_groups_and_options_the_command_accepts(command, monkeypatch,
                                                                     capsys):
    from seglight.cli import COMMAND_GROUPS

    monkeypatch.setattr(sys, "argv", [f"seglight.{command}", "--help"])
    assert _main_of(command)() is None
    out = capsys.readouterr().out
    groups = dict(line.split(": ", 1) for line in
                  out.split("(group=option)\n\n", 1)[1].split("\n\n", 1)[0].splitlines())
    assert tuple(groups) == COMMAND_GROUPS[command]
    assert "_module" not in groups["model"] and "_curated" not in out.split("== Config")[0]
    if command == "train":
        assert "unet_xy_tiny" in groups["model"] and "classic" not in groups["model"]
        assert groups["data"] == "curated, demo, lamin"
    else:
        assert groups["model"].startswith("classic/{actb, actn1,")
        assert "unet_xy" not in groups["model"] and "trainer" not in groups
    assert f"task_name: {command}" in out  # the composed config follows, as with Hydra


def test_a_mistyped_option_lists_what_the_command_accepts():
    from hydra.errors import MissingConfigException

    from seglight.cli import explain_composition_error

    err = MissingConfigException("Could not find 'model/unet_xz'", "model/unet_xz")
    assert explain_composition_error(err, ["model=unet_xz"], "predict").startswith(
        "no config 'model/unet_xz'; the options are: classic/{actb, actn1, ")
    assert "classic" not in explain_composition_error(err, ["model=unet_xz"], "train")


@pytest.mark.slow
def test_cli_train_with_a_classic_workflow_is_one_line(tmp_path):
    result = _run("seglight.train", "model=classic/npm1", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "error: model=classic/npm1 is a classic workflow: there is nothing to train; run it "
        "with python -m seglight.predict model=classic/npm1 input=IMAGES output=DIR"]
