"""Costmap-weighted segmentation losses.

A costmap gives every voxel a weight: 0 means "this voxel teaches nothing" (it gets no
gradient), 1 is normal, larger values emphasise. Losses are weighted means, so an all-ones
costmap gives exactly the unweighted loss.

Shapes: ``logits`` (B, C, Z, Y, X); ``target`` (B, Z, Y, X) integer class indices;
``costmap`` (B, Z, Y, X) float.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from seglight.errors import ConfigError
from seglight.networks.base import center_crop


def _weighted_mean(values: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    return (values * weight).sum() / weight.sum().clamp_min(1e-6)


def _soft_dice_loss(prob: torch.Tensor, target: torch.Tensor, weight: torch.Tensor,
                    smooth: float) -> torch.Tensor:
    fg = (target > 0).to(prob.dtype)
    weighted_prob = weight * prob
    intersection = (weighted_prob * fg).sum()
    denominator = weighted_prob.sum() + (weight * fg).sum()
    return 1 - (2 * intersection + smooth) / (denominator + smooth)


def weighted_cross_entropy(
    logits: torch.Tensor, target: torch.Tensor, costmap: torch.Tensor
) -> torch.Tensor:
    """Cross-entropy averaged with the costmap as weights: Σ w·CE / Σ w (0 when Σ w = 0)."""
    ce = F.cross_entropy(logits.float(), target.long(), reduction="none")
    return _weighted_mean(ce, costmap.float())


def weighted_soft_dice(
    logits: torch.Tensor, target: torch.Tensor, costmap: torch.Tensor, smooth: float = 1.0
) -> torch.Tensor:
    """1 − soft Dice of the foreground class, every sum weighted by the costmap."""
    prob = torch.softmax(logits.float(), dim=1)[:, 1]
    return _soft_dice_loss(prob, target, costmap.float(), smooth)


def weighted_dice_ce(
    logits: torch.Tensor, target: torch.Tensor, costmap: torch.Tensor
) -> torch.Tensor:
    """Sum of :func:`weighted_soft_dice` and :func:`weighted_cross_entropy`, sharing one
    log-softmax of the logits (in float32)."""
    log_prob = F.log_softmax(logits.float(), dim=1)
    weight = costmap.float()
    ce = F.nll_loss(log_prob, target.long(), reduction="none")
    return (_soft_dice_loss(log_prob[:, 1].exp(), target, weight, 1.0)
            + _weighted_mean(ce, weight))


LOSSES = {"ce": weighted_cross_entropy, "dice": weighted_soft_dice, "dice_ce": weighted_dice_ce}


class MultiHeadLoss(nn.Module):
    """A costmap-weighted loss summed over a network's heads with per-head weights.

    Args:
        kind: ``"ce"``, ``"dice"`` or ``"dice_ce"``.
        head_weights: weight of the main head, then of each auxiliary head. A network that
            returns fewer heads (e.g. in eval mode) uses the leading weights.

    Target and costmap are centre-cropped to each head's size, so unpadded networks that
    return a smaller block than their input need no special handling by the data.
    """

    def __init__(self, kind: str = "ce", head_weights: Sequence[float] = (1.0,)):
        super().__init__()
        if kind not in LOSSES:
            raise ConfigError(f"loss kind={kind!r}; choose one of {sorted(LOSSES)}")
        if not head_weights:
            raise ConfigError("loss head_weights is empty; give at least the main head's weight")
        self.kind, self.fn = kind, LOSSES[kind]
        self.head_weights = [float(w) for w in head_weights]

    def forward(
        self, heads: Sequence[torch.Tensor], target: torch.Tensor, costmap: torch.Tensor
    ) -> torch.Tensor:
        if len(heads) > len(self.head_weights):
            raise ConfigError(
                f"the network returns {len(heads)} heads but loss.head_weights has "
                f"{len(self.head_weights)}; give one weight per head"
            )
        total = heads[0].new_zeros((), dtype=torch.float32)
        for logits, weight in zip(heads, self.head_weights, strict=False):
            shape = logits.shape[-3:]
            total = total + weight * self.fn(
                logits, center_crop(target, shape), center_crop(costmap, shape)
            )
        return total
