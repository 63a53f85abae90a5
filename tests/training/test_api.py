"""``seglight.train(...)``: the notebook facade composes the same configs as the command line."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from omegaconf import OmegaConf

import seglight
from seglight.errors import ConfigError

TINY = dict(model__net__width=2, data__demo__n_images=2, data__demo__shape_zyx=[16, 64, 64],
            data__patch_zyx=[8, 32, 32], data__batch_size=1, data__samples_per_epoch=2,
            data__val_patches_per_image=1, logger="csv")


def test_train_and_evaluate_are_the_functions_not_the_cli_modules():
    assert callable(seglight.train) and seglight.train.__module__ == "seglight.api"
    assert callable(seglight.evaluate)
    assert seglight.evaluate.__module__.startswith("seglight.evaluation")


@pytest.mark.slow
def test_train_returns_the_best_checkpoint_under_the_working_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    best = seglight.train(trainer__max_epochs=1, trainer__limit_val_batches=1, **TINY)
    assert best.name == "best.ckpt" and best.is_relative_to(tmp_path / "runs" / "train")
    assert (tmp_path / "data" / "demo").is_dir()  # demo data beside the runs, not in the clone
    run = best.parents[1]
    saved = OmegaConf.load(run / ".hydra" / "config.yaml")
    assert saved.trainer.max_epochs == 1 and saved.model.net.width == 2
    hparams = torch.load(best, map_location="cpu", weights_only=True)["hyper_parameters"]
    assert hparams["patch_zyx"] == [8, 32, 32]


@pytest.mark.slow
def test_max_steps_below_an_epoch_still_validates_and_returns_the_best_checkpoint(tmp_path):
    # the run ends inside its first epoch: it validates after its last step (FinalValidation)
    ckpt = seglight.train(trainer__max_steps=2, trainer__limit_val_batches=1,
                          paths__root_dir=str(tmp_path / "my root é"),
                          **{**TINY, "data__samples_per_epoch": 4})
    assert ckpt.name == "best.ckpt" and ckpt.is_relative_to(tmp_path / "my root é")
    assert torch.load(ckpt, map_location="cpu", weights_only=True)["global_step"] == 2


def test_unknown_settings_are_one_line_errors(tmp_path):
    with pytest.raises(ConfigError, match="max_epoch"):
        seglight.train(trainer__max_epoch=1, paths__root_dir=str(tmp_path))
    with pytest.raises(ConfigError, match="patch_zxy"):
        seglight.train(data__patch_zxy=[8, 32, 32], paths__root_dir=str(tmp_path))
    with pytest.raises(ConfigError, match="data.path=.*no such folder"):
        seglight.train(data_path=tmp_path / "nowhere", paths__root_dir=str(tmp_path))


@pytest.mark.slow
def test_the_checkpoint_records_the_curated_images_voxel_size(tmp_path):
    # data=lamin says 0.29 x 0.108 x 0.108 um; these images are 0.235 x 0.15 x 0.15 (the
    # ovule's): prediction compares its images with what the checkpoint records.
    from seglight.io import write_triplet

    rng = np.random.default_rng(0)
    for i in range(2):
        image = rng.integers(300, 3000, (16, 64, 64)).astype(np.uint16)
        write_triplet(tmp_path / "curated", f"cell_{i}", image, (image > 2500).astype(np.uint8),
                      spacing_um=(0.235, 0.15, 0.15))
    tiny = {k: v for k, v in TINY.items() if not k.startswith("data__demo")}
    ckpt = seglight.train(data_path=tmp_path / "curated", trainer__max_steps=1,
                          trainer__limit_val_batches=1, paths__root_dir=str(tmp_path / "runs"),
                          **tiny)
    hparams = torch.load(ckpt, map_location="cpu", weights_only=True)["hyper_parameters"]
    assert hparams["spacing_um"] == [0.235, 0.15, 0.15]


def test_importing_the_command_modules_does_not_hide_the_functions():
    import importlib

    importlib.import_module("seglight.train")
    importlib.import_module("seglight.evaluate")
    assert callable(seglight.train) and seglight.train.__module__ == "seglight.api"
    assert callable(seglight.evaluate)
