"""Segmentation metrics counted only where the costmap is > 0."""

from __future__ import annotations

import torch
from torchmetrics import Metric


class MaskedDiceIoU(Metric):
    """Dice and IoU of binary predictions over all voxels with costmap > 0.

    Counts (TP, FP, FN) are summed over the whole epoch, and across processes under DDP,
    before the ratio is taken, so small patches do not dominate.
    """

    full_state_update = False

    def __init__(self):
        super().__init__()
        for name in ("tp", "fp", "fn"):
            self.add_state(name, default=torch.zeros((), dtype=torch.float64), dist_reduce_fx="sum")

    def update(self, pred: torch.Tensor, target: torch.Tensor, costmap: torch.Tensor) -> None:
        valid = costmap > 0
        pred, target = pred.bool() & valid, (target > 0) & valid
        self.tp += (pred & target).sum()
        self.fp += (pred & ~target).sum()
        self.fn += (~pred & target).sum()

    def compute(self) -> dict[str, torch.Tensor]:
        denom = 2 * self.tp + self.fp + self.fn
        dice = torch.where(denom > 0, 2 * self.tp / denom.clamp_min(1), torch.ones_like(denom))
        union = self.tp + self.fp + self.fn
        iou = torch.where(union > 0, self.tp / union.clamp_min(1), torch.ones_like(union))
        return {"dice": dice.float(), "iou": iou.float()}
