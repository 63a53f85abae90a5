"""The demo training run end to end (small settings): Dice rises, checkpoints and logs exist,
and ``ckpt_path=`` resumes."""

from __future__ import annotations

import csv

import pytest
import torch

from seglight.training import train
from tests.hydra_utils import compose_config

pytestmark = pytest.mark.slow  # end to end: trains a network

SMALL = [
    "model.net.width=4",
    "data.demo.n_images=4",
    "data.demo.shape_zyx=[16,96,96]",
    "data.patch_zyx=[8,48,48]",
    "data.samples_per_epoch=24",
    "data.val_patches_per_image=6",
    "trainer.accelerator=cpu",
    "logger=many",
]


def _dice_per_epoch(run_dir):
    with open(run_dir / "csv" / "metrics.csv") as f:
        rows = [r for r in csv.DictReader(f) if r.get("val/dice")]
    return [float(r["val/dice"]) for r in rows]


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory):
    run_dir = tmp_path_factory.mktemp("demo_run")
    cfg = compose_config("train", [*SMALL, "trainer.max_epochs=6"], run_dir)
    metric = train(cfg)
    return run_dir, metric


def test_demo_training_raises_validation_dice(demo_run):
    run_dir, metric = demo_run
    dice = _dice_per_epoch(run_dir)
    assert len(dice) == 6
    # a thin shell covers ~3 % of the voxels: chance-level Dice is ~0.06
    # (one epoch's Dice moves by ~0.08 between epochs: the mean of the last three, not the last)
    assert sum(dice[-3:]) / 3 > dice[0] + 0.1, dice
    assert max(dice) > 0.5
    assert metric == pytest.approx(max(dice), abs=1e-6)  # the best, not the last


def test_demo_run_writes_checkpoints_and_tensorboard_images(demo_run):
    run_dir, _ = demo_run
    best, last = run_dir / "checkpoints" / "best.ckpt", run_dir / "checkpoints" / "last.ckpt"
    assert best.is_file() and last.is_file()
    hparams = torch.load(best, map_location="cpu", weights_only=False)["hyper_parameters"]
    # self-contained: what prediction needs is in the checkpoint
    assert hparams["normalization"][0]["op"] == "auto_contrast"
    assert hparams["net"]["_target_"] == "seglight.networks.UNetXY"
    assert hparams["threshold"] == 0.5 and hparams["spacing_um"] == [0.29, 0.108, 0.108]
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    events = EventAccumulator(str(run_dir / "tensorboard"), size_guidance={"images": 0})
    events.Reload()
    assert "val/dice" in events.Tags()["scalars"]
    assert "train/loss_epoch" in events.Tags()["scalars"]
    assert any(tag.startswith("val/panel") for tag in events.Tags()["images"])
    # image panels at the step of the epoch's scalars (not at the epoch)
    panel_steps = [e.step for e in events.Images("val/panel_0")]
    assert panel_steps == [e.step for e in events.Scalars("val/dice")] and panel_steps[-1] > 6


def test_resume_continues_epochs_and_optimizer_state(demo_run, tmp_path):
    run_dir, _ = demo_run
    last = run_dir / "checkpoints" / "last.ckpt"
    state = torch.load(last, map_location="cpu", weights_only=False)
    assert state["epoch"] == 5 and state["optimizer_states"][0]["state"]
    cfg = compose_config("train", [*SMALL, "trainer.max_epochs=7", f"ckpt_path={last}"],
                         tmp_path)
    train(cfg)
    # the run goes on in its own folder (tests/training/test_resume.py)
    assert not (tmp_path / "checkpoints").exists()
    resumed = torch.load(last, map_location="cpu", weights_only=False)
    assert resumed["epoch"] == 6
    assert resumed["global_step"] == state["global_step"] + 24 // 4
