"""Segmentation networks; each declares how its output size relates to its input size."""

from seglight.networks.base import SegmentationNetwork, center_crop
from seglight.networks.monai_nets import MonaiNetwork
from seglight.networks.unet_xy import UNetXY

__all__ = ["MonaiNetwork", "SegmentationNetwork", "UNetXY", "center_crop"]
