import numpy as np
import torch

from seglight.data.augment import Augmentation
from seglight.data.patches import FixedPatchDataset, PatchSampler, RandomPatchDataset, crop_padded
from seglight.io.curated import Sample


def _sample(shape=(8, 40, 40), fg_box=(slice(2, 4), slice(30, 34), slice(30, 34))):
    gt = np.zeros(shape, np.uint8)
    gt[fg_box] = 1
    image = gt.astype(np.float32) + np.linspace(0, 0.1, shape[-1], dtype=np.float32)
    return Sample("s", image, gt, np.ones(shape, np.float32), (None, None, None))


def test_crop_padded_fills_outside_with_zeros():
    vol = np.arange(27, dtype=np.float32).reshape(3, 3, 3) + 1
    out = crop_padded(vol, (-1, 1, 1), (3, 3, 3))
    assert out.shape == (3, 3, 3)
    assert (out[0] == 0).all()
    np.testing.assert_array_equal(out[1:, :2, :2], vol[:2, 1:, 1:])


def test_foreground_fraction_one_puts_foreground_in_every_patch():
    sampler = PatchSampler([_sample()], (4, 16, 16), foreground_fraction=1.0)
    rng = np.random.default_rng(0)
    assert all(sampler.draw(rng)[1].any() for _ in range(30))
    uniform = PatchSampler([_sample()], (4, 16, 16), foreground_fraction=0.0)
    hits = sum(uniform.draw(rng)[1].any() for _ in range(60))
    assert hits < 45  # the foreground box is small: uniform sampling misses it often


def test_patches_avoid_unsupervised_centres():
    sample = _sample()
    sample.costmap[:, :, :20] = 0  # left half excluded
    sampler = PatchSampler([sample], (1, 1, 1), foreground_fraction=0.0)
    rng = np.random.default_rng(1)
    assert all(sampler.draw(rng)[2].item() == 1 for _ in range(50))


def test_random_dataset_returns_tensors_of_patch_size_with_augmentation():
    torch.manual_seed(0)
    sampler = PatchSampler([_sample()], (4, 16, 16), 0.5)
    ds = RandomPatchDataset(sampler, 10, Augmentation(rotate_prob=1.0))
    item = ds[0]
    assert item["image"].shape == (1, 4, 16, 16) and item["image"].dtype == torch.float32
    assert item["gt"].shape == (4, 16, 16) and item["gt"].dtype == torch.int64
    assert set(item["gt"].unique().tolist()) <= {0, 1}
    assert len(ds) == 10


def test_fixed_validation_patches_are_deterministic():
    sampler = PatchSampler([_sample(), _sample()], (4, 16, 16), 0.5)
    a, b = FixedPatchDataset(sampler, 3), FixedPatchDataset(sampler, 3)
    assert len(a) == 6
    assert all(torch.equal(a[i]["image"], b[i]["image"]) for i in range(6))
