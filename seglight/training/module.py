"""The LightningModule that trains any seglight network.

Its constructor takes *configs* (plain dicts with Hydra ``_target_`` keys), not objects, and
stores them as hyperparameters. A checkpoint therefore carries everything prediction needs
— the network, the normalization recipe, the threshold, the patch size and voxel size of
the training data — and ``SegmentationModule.load_from_checkpoint(path)`` rebuilds the model
without any training config.
"""

from __future__ import annotations

import inspect
from collections.abc import Sequence
from typing import Any

import lightning as L
import numpy as np
import torch
from hydra.utils import instantiate

from seglight.config import to_plain
from seglight.networks.base import SegmentationNetwork, center_crop
from seglight.networks.contract import build_network
from seglight.training.metrics import MaskedDiceIoU


class SegmentationModule(L.LightningModule):
    """Costmap-weighted training of a :class:`~seglight.networks.SegmentationNetwork`.

    Args:
        net: config of the network (``_target_`` plus arguments).
        loss: config of the loss, e.g. :class:`~seglight.training.losses.MultiHeadLoss`.
        optimizer: config of a partial optimizer (``_partial_: true``), given the parameters.
        scheduler: optional config of a partial LR scheduler, given the optimizer (and
            ``total_steps``, the run's optimizer steps, when it takes that argument, as the
            schedules of :mod:`seglight.training.schedules` do); given ``val/dice`` when it is
            ``ReduceLROnPlateau``.
        scheduler_interval: ``"step"`` (every optimizer step) or ``"epoch"``.
        channels_last: train in the ``channels_last_3d`` memory layout (channels innermost),
            which oneDNN and cuDNN convolutions prefer.
        threshold: foreground probability threshold for masks and metrics.
        normalization: the data's normalization recipe (recorded for prediction).
        patch_zyx: the training input patch size (recorded as the default tile size).
        spacing_um: the training data's voxel size (recorded so prediction can warn).
        image_panels: TensorBoard image panels logged per validation epoch.
        parent: the network this run started from (``init_from``: path, kind, SHA-256,
            step), recorded in the checkpoint; None for a run from scratch.
    """

    def __init__(
        self,
        net: dict,
        loss: dict,
        optimizer: dict,
        scheduler: dict | None = None,
        scheduler_interval: str = "epoch",
        channels_last: bool = False,
        threshold: float = 0.5,
        normalization: Sequence[dict] = (),
        patch_zyx: Sequence[int] | None = None,
        spacing_um: Sequence[float] | None = None,
        image_panels: int = 2,
        parent: dict | None = None,
    ):
        net, loss, optimizer, scheduler = (to_plain(c) for c in (net, loss, optimizer, scheduler))
        normalization = to_plain(normalization)
        patch_zyx, spacing_um, parent = to_plain(patch_zyx), to_plain(spacing_um), to_plain(parent)
        super().__init__()
        self.save_hyperparameters()
        self.net: SegmentationNetwork = build_network(net)
        self.loss_fn = instantiate(loss)
        self.val_metric = MaskedDiceIoU()
        self._panels: list[np.ndarray] = []

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        if self.hparams.get("channels_last") and x.ndim == 5:
            x = x.contiguous(memory_format=torch.channels_last_3d)
        return self.net.heads(x)

    def setup(self, stage: str) -> None:
        # After the DataModule's setup: the data's voxel size as it found it in the images
        # (else the config's) is what the checkpoint records.
        spacing = getattr(self.trainer.datamodule, "spacing_um", None)
        if stage == "fit" and spacing:
            self.hparams["spacing_um"] = [float(v) for v in spacing]
            if self.hparams.get("parent") and self.hparams["parent"].get("spacing_um"):
                from seglight.training.init_from import warn_spacing

                warn_spacing(self.hparams["parent"]["spacing_um"], spacing)

    def on_fit_start(self) -> None:
        if self.hparams.get("channels_last"):
            self.net.to(memory_format=torch.channels_last_3d)

    def training_step(self, batch: dict, batch_idx: int) -> torch.Tensor:
        heads = self(batch["image"])
        loss = self.loss_fn(heads, batch["gt"], batch["costmap"])
        self.log("train/loss", loss, prog_bar=True, on_step=True, on_epoch=True,
                 batch_size=batch["image"].shape[0])
        return loss

    def validation_step(self, batch: dict, batch_idx: int) -> None:
        heads = self(batch["image"])
        logits = heads[0]
        shape = logits.shape[-3:]
        gt, costmap = center_crop(batch["gt"], shape), center_crop(batch["costmap"], shape)
        loss = self.loss_fn(heads, batch["gt"], batch["costmap"])
        self.log("val/loss", loss, on_epoch=True, sync_dist=True,
                 batch_size=batch["image"].shape[0])
        prob = torch.softmax(logits.float(), dim=1)[:, 1]
        self.val_metric.update(prob > self.hparams.threshold, gt, costmap)
        if len(self._panels) < self.hparams.image_panels:
            image = center_crop(batch["image"][:, 0], shape)
            for i in range(min(image.shape[0], self.hparams.image_panels - len(self._panels))):
                self._panels.append(self._panel(image[i], gt[i], prob[i], costmap[i]))

    @staticmethod
    def _panel(image, gt, prob, costmap) -> np.ndarray:
        from seglight.viz import panel

        arrays = [t.detach().float().cpu().numpy() for t in (image, gt, prob, costmap)]
        return panel(
            [("input", arrays[0]), ("ground truth", arrays[1]), ("prediction", arrays[2]),
             ("costmap", arrays[3])],
            outline_mask=arrays[2] > 0.5,
            outline_on=(0,),
        )

    def on_validation_epoch_end(self) -> None:
        scores = self.val_metric.compute()
        self.log("val/dice", scores["dice"], prog_bar=True)
        self.log("val/iou", scores["iou"])
        self.val_metric.reset()
        # At the step Lightning logs this epoch's scalars at (its count of batches that
        # stepped; global_step is one ahead here); to whichever logger shows images.
        step = getattr(self.trainer.fit_loop.epoch_loop, "_batches_that_stepped", self.global_step)
        writers = [lg.experiment for lg in self.loggers if hasattr(lg.experiment, "add_image")]
        if self._panels and writers and not self.trainer.sanity_checking:
            for i, rgb in enumerate(self._panels):
                writers[0].add_image(f"val/panel_{i}", rgb, step, dataformats="HWC")
        self._panels = []

    def configure_optimizers(self) -> Any:
        optimizer = instantiate(self.hparams.optimizer)(params=self.parameters())
        if not self.hparams.scheduler:
            return optimizer
        make = instantiate(self.hparams.scheduler)
        kwargs = {"optimizer": optimizer}
        # A schedule that takes total_steps and was not given it spans the run's optimizer
        # steps; one the config gives (OneCycleLR(total_steps=epochs) stepped per epoch)
        # keeps its own.
        given = getattr(make, "keywords", None) or {}
        if "total_steps" in inspect.signature(make).parameters and "total_steps" not in given:
            kwargs["total_steps"] = int(self.trainer.estimated_stepping_batches)
        interval = self.hparams.get("scheduler_interval", "epoch")
        return {
            "optimizer": optimizer,
            "lr_scheduler": {"scheduler": make(**kwargs), "monitor": "val/dice",
                             "interval": interval},
        }

    @torch.no_grad()
    def predict_proba_tensor(self, x: torch.Tensor) -> torch.Tensor:
        """Foreground probability of the main head for a normalized (B, 1, Z, Y, X) batch."""
        return torch.softmax(self.net.predict_logits(x).float(), dim=1)[:, 1]
