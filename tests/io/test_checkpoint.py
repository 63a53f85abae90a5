"""Checkpoints open as data, never as code; checkpoints written by older versions still open.

``tests/fixtures/unet_xy_tiny_w2_before_training_move.ckpt`` was written by
``python -m seglight.train model=unet_xy_tiny model.net.width=2 trainer.max_steps=2`` at commit
fcb90c0, before the training code moved into ``seglight/training/``: its hyperparameters name
``seglight.losses.MultiHeadLoss``, a path that no longer holds the code (``seglight._moved``).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from seglight.errors import SeglightError
from seglight.io.checkpoint import load_checkpoint
from seglight.predict.network import load_module


class _RunsCode:
    """Pickles as a call to ``exec``: loading it with weights_only=False would run the code."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (exec, (f"open({str(self.marker)!r}, 'w').write('ran')",))


OLD_CKPT = Path(__file__).parents[1] / "fixtures" / "unet_xy_tiny_w2_before_training_move.ckpt"


@pytest.fixture
def evil_ckpt(tmp_path):
    """A real seglight checkpoint with one extra entry that runs code when unpickled."""
    state = torch.load(OLD_CKPT, map_location="cpu", weights_only=True)
    marker = tmp_path / "ran.txt"
    state["hyper_parameters"]["note"] = _RunsCode(marker)
    path = tmp_path / "shared by a colleague.ckpt"
    torch.save(state, path)
    return path, marker


@pytest.mark.slow
def test_a_real_checkpoint_loads_with_weights_only(tiny_ckpt):
    state = load_checkpoint(tiny_ckpt)
    assert {"state_dict", "hyper_parameters", "callbacks", "loops"} <= set(state)
    assert load_module(tiny_ckpt).net is not None


def test_predict_refuses_a_checkpoint_that_would_run_code(evil_ckpt):
    path, marker = evil_ckpt
    with pytest.raises(SeglightError) as error:
        load_module(path)
    message = str(error.value)
    assert len(message.splitlines()) == 1
    assert str(path) in message and "refused" in message and "exec" in message
    assert not marker.exists()


def test_resume_refuses_a_checkpoint_that_would_run_code(evil_ckpt, tmp_path):
    from omegaconf import open_dict

    from seglight.training import train
    from tests.hydra_utils import compose_config

    path, marker = evil_ckpt
    cfg = compose_config("train", ["model.net.width=2", "data.demo.n_images=2",
                                   "data.demo.shape_zyx=[16,64,64]", "data.patch_zyx=[8,32,32]",
                                   "logger=csv", f"ckpt_path='{path}'"], tmp_path)
    with open_dict(cfg):
        cfg.data.path = str(tmp_path / "demo")
    with pytest.raises(SeglightError, match="refused"):
        train(cfg)
    assert not marker.exists()


def test_a_checkpoint_from_before_the_training_move_loads_its_weights_and_predicts():
    import seglight
    from seglight.training.losses import MultiHeadLoss

    state = load_checkpoint(OLD_CKPT)
    assert state["hyper_parameters"]["loss"]["_target_"] == "seglight.losses.MultiHeadLoss"
    module = load_module(OLD_CKPT)
    assert isinstance(module.loss_fn, MultiHeadLoss)
    for name, tensor in module.state_dict().items():
        assert torch.equal(tensor, state["state_dict"][name]), name
    image = np.random.default_rng(0).integers(400, 2000, (12, 70, 66)).astype(np.uint16)
    mask = seglight.binarize(image, ckpt_path=OLD_CKPT)
    assert mask.shape == image.shape and set(np.unique(mask)) <= {0, 1, 255}


@pytest.mark.slow
def test_a_checkpoint_from_before_the_training_move_resumes(tmp_path):
    from omegaconf import open_dict

    from seglight.training import fit
    from tests.hydra_utils import compose_config

    cfg = compose_config("train", ["model=unet_xy_tiny", "model.net.width=2",
                                   "data.demo.n_images=2", "data.demo.shape_zyx=[16,64,64]",
                                   "data.patch_zyx=[16,64,64]", "data.num_workers=0",
                                   "+trainer.max_steps=3", "+trainer.limit_val_batches=1",
                                   "logger=csv", f"ckpt_path='{OLD_CKPT}'"], tmp_path)
    with open_dict(cfg):
        cfg.data.path = str(tmp_path / "demo")
    result = fit(cfg)
    resumed = load_checkpoint(result.last_checkpoint)
    assert resumed["global_step"] == 3  # the old run's 2 steps, then one more
