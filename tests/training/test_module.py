"""SegmentationModule: configs in, plain hyperparameters stored, one validation panel,
low-precision training steps, schedules given the run's length."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
import torch
from omegaconf import OmegaConf

from seglight.training.module import SegmentationModule

NET = {"_target_": "seglight.networks.UNetXY", "width": 2, "padded": True, "aux_heads": False,
       "norm": "instance"}
LOSS = {"_target_": "seglight.training.losses.MultiHeadLoss", "kind": "ce", "head_weights": [1.0]}
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


def _module(**kwargs) -> SegmentationModule:
    return SegmentationModule(
        net={"_target_": "seglight.networks.UNetXY", "width": 2, "padded": True,
             "norm": "instance"},
        loss={"_target_": "seglight.training.losses.MultiHeadLoss", "kind": "dice_ce",
              "head_weights": [1.0, 0.5, 0.25]},
        optimizer={"_target_": "torch.optim.AdamW", "_partial_": True, "lr": 1e-3},
        **kwargs,
    )


def _batch(seed=0):
    g = torch.Generator().manual_seed(seed)
    image = torch.rand(2, 1, 4, 16, 16, generator=g)
    gt = (image[:, 0] > 0.6).long()
    costmap = torch.ones(gt.shape)
    costmap[:, 0] = 0
    return {"image": image, "gt": gt, "costmap": costmap}


def _loss_and_grads(module, batch, dtype):
    module.zero_grad()
    with torch.autocast("cpu", dtype=dtype or torch.float32, enabled=dtype is not None):
        heads = module(batch["image"])
    loss = module.loss_fn(heads, batch["gt"], batch["costmap"])
    loss.backward()
    return loss.detach(), torch.cat([p.grad.flatten() for p in module.parameters()])


def test_bf16_training_step_matches_float32_with_the_loss_in_float32():
    torch.manual_seed(0)
    module = _module().train()
    batch = _batch()
    loss32, grad32 = _loss_and_grads(module, batch, None)
    loss16, grad16 = _loss_and_grads(module, batch, torch.bfloat16)
    assert torch.isfinite(loss16) and loss16.dtype == torch.float32
    assert module(batch["image"])[0].dtype == torch.float32  # autocast is off again
    torch.testing.assert_close(loss16, loss32, rtol=2e-2, atol=1e-3)
    cosine = torch.nn.functional.cosine_similarity(grad16, grad32, dim=0)
    assert cosine > 0.95  # bf16 keeps 8 bits of mantissa: measured 0.986 on this case


def test_channels_last_gives_the_same_heads():
    torch.manual_seed(0)
    plain = _module().eval()
    last = _module(channels_last=True).eval()
    last.load_state_dict(plain.state_dict())
    last.on_fit_start()
    x = _batch()["image"]
    with torch.no_grad():
        torch.testing.assert_close(last(x)[0], plain(x)[0], rtol=1e-4, atol=1e-5)
    assert last.net.head.weight.is_contiguous(memory_format=torch.channels_last_3d)


@pytest.mark.parametrize("interval", ["step", "epoch"])
def test_a_schedule_is_given_the_runs_total_steps(interval):
    module = _module(
        scheduler={"_target_": "seglight.training.schedules.warmup_poly", "_partial_": True,
                   "warmup_steps": 2},
        scheduler_interval=interval,
    )
    module._trainer = SimpleNamespace(estimated_stepping_batches=10)
    config = module.configure_optimizers()
    scheduler, optimizer = config["lr_scheduler"]["scheduler"], config["optimizer"]
    assert config["lr_scheduler"]["interval"] == interval
    lrs = []
    for _ in range(10):
        lrs.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        scheduler.step()
    assert lrs[0] == pytest.approx(5e-4) and lrs[1] == pytest.approx(1e-3)
    assert optimizer.param_groups[0]["lr"] == pytest.approx(0.0)  # decayed over exactly 10


def test_a_schedule_keeps_the_total_steps_its_config_gives():
    """OneCycleLR(total_steps=epochs) stepped per epoch, as experiments/lamin_iterative pins
    it: the run's optimizer steps must not replace the config's count (they did, and the
    warm-up then never ended: the learning rate stayed near max_lr / 25)."""
    module = _module(
        scheduler={"_target_": "torch.optim.lr_scheduler.OneCycleLR", "_partial_": True,
                   "max_lr": 1e-2, "total_steps": 8, "pct_start": 0.25},
        scheduler_interval="epoch",
    )
    module._trainer = SimpleNamespace(estimated_stepping_batches=64)
    config = module.configure_optimizers()
    scheduler, optimizer = config["lr_scheduler"]["scheduler"], config["optimizer"]
    assert scheduler.total_steps == 8
    optimizer.step()
    scheduler.step()  # the end of the warm-up (2 of 8 epochs, counted from 0)
    assert optimizer.param_groups[0]["lr"] == pytest.approx(1e-2)
