"""The Lightning DataModule fed by a folder of curated triplets."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import lightning as L
import numpy as np
import torch
from torch.utils.data import DataLoader
from tqdm.auto import tqdm

from seglight.data.augment import Augmentation
from seglight.data.demo import ensure_demo_dataset
from seglight.data.patches import FixedPatchDataset, PatchSampler, RandomPatchDataset
from seglight.data.splits import hold_out_test, pick_named, split_record
from seglight.errors import SeglightError
from seglight.io.curated import Sample, Triplet, find_triplets, load_triplet
from seglight.io.image import far_axes
from seglight.normalization import Normalizer

log = logging.getLogger(__name__)


def split_triplets(
    triplets: Sequence[Triplet], val_fraction: float, val_names: Sequence[str] | None
) -> tuple[list[Triplet], list[Triplet]]:
    """Split into (train, validation) by explicit names or by a fraction (every k-th sample).

    With a single sample and a fraction > 0, the sample serves both (and a warning says so).
    """
    triplets = list(triplets)
    if val_names:
        return pick_named(triplets, val_names, "data.val_names")
    if val_fraction <= 0:
        return triplets, []
    if len(triplets) == 1:
        log.warning("only one curated sample: it is used for both training and validation")
        return triplets, triplets
    n_val = min(max(1, round(len(triplets) * val_fraction)), len(triplets) - 1)
    # Spread validation samples over the folder rather than taking the last ones, which are
    # often the latest (and most similar) acquisitions.
    val_idx = set(np.linspace(0, len(triplets) - 1, n_val).round().astype(int).tolist())
    return ([t for i, t in enumerate(triplets) if i not in val_idx],
            [t for i, t in enumerate(triplets) if i in val_idx])


def warn_if_too_few(train: Sequence[Triplet], val: Sequence[Triplet], path: Path) -> bool:
    """One warning line when a split leaves fewer than 2 images to train or to validate on
    (best.ckpt would be picked on one image's patches). True if it warned."""
    if not val or val == train or (len(train) >= 2 and len(val) >= 2):
        return False
    log.warning("%s: %d training and %d validation image(s) are too few to validate "
                "meaningfully (best.ckpt is picked on %d image(s)); curate more images, at "
                "least 2 for each", path, len(train), len(val), len(val))
    return True


class CuratedDataModule(L.LightningDataModule):
    """Patches of curated (image, ground truth, costmap) triplets for training and validation.

    Images are read once, normalized with the recipe and kept in memory; worker processes
    share them. Training patches are drawn at random (preferring supervised and foreground
    voxels) and augmented; validation patches are fixed.

    Args:
        path: folder of curated triplets (see :mod:`seglight.io.curated`).
        normalization: recipe steps for :class:`~seglight.normalization.Normalizer`.
        patch_zyx: input patch size; must be a valid input size of the network.
        batch_size: patches per training step.
        samples_per_epoch: training patches per epoch.
        val_fraction: fraction of samples held out for validation (ignored with val_names).
        val_names: names of the samples to validate on.
        val_patches_per_image: fixed validation patches drawn from each validation image.
        foreground_fraction: probability that a patch is centred near foreground.
        augmentation: keyword arguments of :class:`~seglight.data.augment.Augmentation`,
            or None for no augmentation.
        num_workers: data-loading worker processes.
        spacing_um: nominal voxel size of the data (ZYX), recorded in checkpoints.
        demo: if set, the demo dataset is generated into ``path`` when it is empty (keyword
            arguments of :func:`~seglight.data.demo.ensure_demo_dataset`).
        test_fraction: fraction of the images held out of training and validation entirely
            (:mod:`seglight.data.splits`; ignored with test_names); 0: none.
        test_names: names of the images to hold out for testing.
        val_on_train: with no validation images (``val_fraction`` 0), validate on fixed
            patches of the training images: ``val/dice`` then measures the fit to the labels,
            not generalization, and ``best.ckpt`` and the curves still exist. For a folder too
            small to spare an image (the plan sets it under 5 images).

    After ``setup``, ``split`` records the names of the train, val and test images.
    """

    def __init__(
        self,
        path: str,
        normalization: Sequence[dict] = (),
        patch_zyx: Sequence[int] = (16, 64, 64),
        batch_size: int = 4,
        samples_per_epoch: int = 64,
        val_fraction: float = 0.2,
        val_names: Sequence[str] | None = None,
        val_patches_per_image: int = 4,
        foreground_fraction: float = 0.5,
        augmentation: dict[str, Any] | None = None,
        num_workers: int = 0,
        spacing_um: Sequence[float] | None = None,
        demo: dict[str, Any] | None = None,
        test_fraction: float = 0.0,
        test_names: Sequence[str] | None = None,
        val_on_train: bool = False,
    ):
        super().__init__()
        self.path = Path(path)
        self.normalizer = Normalizer(normalization)
        self.patch_zyx = tuple(int(p) for p in patch_zyx)
        self.batch_size, self.samples_per_epoch = batch_size, samples_per_epoch
        self.val_fraction, self.val_names = val_fraction, list(val_names or [])
        self.val_patches_per_image = val_patches_per_image
        self.val_on_train = bool(val_on_train)
        self.foreground_fraction = foreground_fraction
        self.augmentation = Augmentation(**augmentation) if augmentation is not None else None
        self.num_workers = num_workers
        self.spacing_um = spacing_um
        # False when spacing_um is the data config's default, not the user's: the images'
        # own voxel size then replaces it without a warning.
        self.spacing_um_given = True
        self.demo = demo
        self.test_fraction, self.test_names = float(test_fraction), list(test_names or [])
        self.split: dict[str, Any] | None = None
        self.train_set: RandomPatchDataset | None = None
        self.val_set: FixedPatchDataset | None = None

    def prepare_data(self) -> None:
        if self.demo is not None:
            ensure_demo_dataset(self.path, **self.demo)

    def _load(self, triplets: Sequence[Triplet], what: str) -> list[Sample]:
        samples = []
        for triplet in tqdm(triplets, desc=f"reading {what} images", unit="image",
                            leave=False, disable=len(triplets) < 4):
            sample = load_triplet(triplet)
            sample.image = self.normalizer(sample.image)
            samples.append(sample)
        return samples

    def setup(self, stage: str | None = None) -> None:
        if self.train_set is not None:
            return
        triplets = find_triplets(self.path)
        if not triplets:
            raise SeglightError(
                f"{self.path}: no curated triplets (<name>.tif, <name>_GT.tif, optional "
                "<name>_CM.tif); pass data.path=<folder> or make one with python -m seglight.curate"
            )
        rest, test = hold_out_test(triplets, self.test_fraction, self.test_names)
        train, val = split_triplets(rest, self.val_fraction, self.val_names)
        on_train = self.val_on_train and not val
        if on_train:
            val = list(train)
            log.info("data.val_on_train: validation patches come from the training images "
                     "(val/dice measures the fit to the labels, not generalization)")
        self.split = split_record(self.path, train, val, test, val_fraction=self.val_fraction,
                                  test_fraction=self.test_fraction,
                                  val_on_train=on_train)
        log.info("data: %d training, %d validation and %d test images from %s", len(train),
                 len(val), len(test), self.path)
        warn_if_too_few(train, val, self.path)
        train_samples = self._load(train, "training")
        self._take_images_spacing(train_samples)
        self.train_set = RandomPatchDataset(
            PatchSampler(train_samples, self.patch_zyx, self.foreground_fraction),
            self.samples_per_epoch, self.augmentation,
        )
        if val:
            val_samples = self._load(val, "validation") if val != train else train_samples
            self.val_set = FixedPatchDataset(
                PatchSampler(val_samples, self.patch_zyx, self.foreground_fraction),
                self.val_patches_per_image,
            )

    def _take_images_spacing(self, samples: Sequence[Sample]) -> None:
        """``spacing_um`` (recorded in checkpoints, so that prediction can warn about images of
        another voxel size) becomes the curated images' own where they all give the same one;
        a config's nominal value that disagrees with them is a warning."""
        given = [s.spacing_um for s in samples]
        if not given or any(None in g for g in given) or not all(
                np.allclose(g, given[0], rtol=0.01) for g in given):
            return
        images = [float(v) for v in given[0]]
        if self.spacing_um and far_axes(images, list(self.spacing_um)):
            log.log(logging.WARNING if self.spacing_um_given else logging.INFO,
                    "%s: the curated images' voxel size is %s um but data.spacing_um is %s; "
                    "the checkpoint records the images'", self.path, images,
                    [float(v) for v in self.spacing_um])
        self.spacing_um = images

    def _loader(self, dataset, shuffle: bool) -> DataLoader:
        return DataLoader(
            dataset,
            batch_size=self.batch_size,
            shuffle=shuffle,
            num_workers=self.num_workers,
            persistent_workers=self.num_workers > 0,
            pin_memory=False,
            # The workers' seeds from a generator of their own: starting an iterator does not
            # draw from torch's global one, which the patches come from (a resumed run's
            # patches then continue the interrupted run's: seglight.training.resume).
            generator=torch.Generator().manual_seed(torch.initial_seed()),
        )

    def train_dataloader(self) -> DataLoader:
        return self._loader(self.train_set, shuffle=False)  # patches are already random

    def val_dataloader(self) -> DataLoader | list:
        return self._loader(self.val_set, shuffle=False) if self.val_set is not None else []
