"""SegmentationModule: configs in, plain hyperparameters stored, one validation panel."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from omegaconf import OmegaConf

from seglight.module import SegmentationModule

NET = {"_target_": "seglight.networks.UNetXY", "width": 2, "padded": True, "aux_heads": False,
       "norm": "instance"}
LOSS = {"_target_": "seglight.losses.MultiHeadLoss", "kind": "ce", "head_weights": [1.0]}
OPTIMIZER = {"_target_": "torch.optim.Adam", "_partial_": True, "lr": 1e-3}


def test_hydra_configs_are_stored_as_plain_hyperparameters():
    module = SegmentationModule(
        OmegaConf.create(NET), OmegaConf.create(LOSS), OmegaConf.create(OPTIMIZER),
        normalization=OmegaConf.create([{"op": "min_max"}]),
        patch_zyx=OmegaConf.create([8, 32, 32]),
    )
    hp = module.hparams
    assert hp["net"] == NET and type(hp["net"]) is dict
    assert hp["normalization"] == [{"op": "min_max"}] and type(hp["normalization"]) is list
    assert hp["patch_zyx"] == [8, 32, 32]  # what a checkpoint carries to prediction
    assert OmegaConf.is_config(hp["loss"]) is False


@pytest.mark.filterwarnings("ignore:You are trying to `self.log")
def test_a_training_step_gives_a_finite_loss_that_backpropagates():
    module = SegmentationModule(NET, LOSS, OPTIMIZER)
    batch = {"image": torch.rand(1, 1, 8, 32, 32), "gt": torch.randint(0, 2, (1, 8, 32, 32)),
             "costmap": torch.ones(1, 8, 32, 32)}
    loss = module.training_step(batch, 0)
    assert torch.isfinite(loss)
    loss.backward()
    assert any(p.grad is not None and p.grad.abs().sum() > 0 for p in module.parameters())


def test_validation_panel_is_four_columns_of_rgb():
    image = torch.rand(6, 20, 24)
    gt = (image > 0.5).float()
    rgb = SegmentationModule._panel(image, gt, image, torch.ones_like(image))
    assert rgb.dtype == np.uint8 and rgb.ndim == 3 and rgb.shape[2] == 3
    assert rgb.shape[1] == 4 * 24 + 3 * 4  # four 24-wide columns, 4-pixel gaps
