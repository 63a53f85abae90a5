"""Costmap-weighted losses."""

from seglight.losses.costmap import (
    LOSSES,
    MultiHeadLoss,
    weighted_cross_entropy,
    weighted_dice_ce,
    weighted_soft_dice,
)

__all__ = [
    "LOSSES",
    "MultiHeadLoss",
    "weighted_cross_entropy",
    "weighted_dice_ce",
    "weighted_soft_dice",
]
