"""Training data: the curated DataModule, patch sampling, augmentation, the demo dataset."""

from seglight.data.augment import Augmentation
from seglight.data.datamodule import CuratedDataModule
from seglight.data.demo import ensure_demo_dataset, make_demo_image

__all__ = ["Augmentation", "CuratedDataModule", "ensure_demo_dataset", "make_demo_image"]
