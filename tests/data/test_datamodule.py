import numpy as np
import pytest
import torch

from seglight.data import CuratedDataModule
from seglight.data.datamodule import split_triplets
from seglight.errors import ConfigError, SeglightError
from seglight.io import Triplet, write_triplet


def _folder(tmp_path, n=5, shape=(6, 32, 32)):
    rng = np.random.default_rng(0)
    for i in range(n):
        image = rng.integers(100, 2000, shape).astype(np.uint16)
        write_triplet(tmp_path, f"img_{i}", image, (image > 1500).astype(np.uint8))
    return tmp_path


def test_split_by_fraction_and_by_names():
    triplets = [Triplet(f"t{i}", None, None) for i in range(10)]
    train, val = split_triplets(triplets, 0.2, None)
    assert len(val) == 2 and not set(train) & set(val) and len(train) + len(val) == 10
    train, val = split_triplets(triplets, 0.5, ["t3"])
    assert [t.name for t in val] == ["t3"] and len(train) == 9
    with pytest.raises(ConfigError, match=r"\['nope'\] are not in the curated folder"):
        split_triplets(triplets, 0.2, ["nope"])
    single = [Triplet("only", None, None)]
    assert split_triplets(single, 0.2, None) == (single, single)


def test_datamodule_serves_normalized_batches(tmp_path):
    dm = CuratedDataModule(str(_folder(tmp_path)), [{"op": "min_max"}], patch_zyx=(4, 16, 16),
                           batch_size=2, samples_per_epoch=4, val_fraction=0.4,
                           augmentation={})
    dm.setup("fit")
    batch = next(iter(dm.train_dataloader()))
    assert batch["image"].shape == (2, 1, 4, 16, 16)
    assert -0.5 < float(batch["image"].min()) and float(batch["image"].max()) < 1.5
    assert len(dm.val_set) == 2 * 4


def test_empty_folder_says_what_to_do(tmp_path):
    dm = CuratedDataModule(str(tmp_path), [], patch_zyx=(4, 16, 16))
    with pytest.raises(SeglightError, match="no curated triplets.*data.path="):
        dm.setup("fit")


def test_worker_processes_draw_different_patches(tmp_path):
    dm = CuratedDataModule(str(_folder(tmp_path)), [{"op": "min_max"}], patch_zyx=(4, 16, 16),
                           batch_size=1, samples_per_epoch=4, val_fraction=0.0,
                           augmentation=None, num_workers=2)
    dm.setup("fit")
    torch.manual_seed(0)  # the workers' seeds derive from it
    images = [batch["image"] for batch in dm.train_dataloader()]
    assert len(images) == 4
    assert len({im.numpy().tobytes() for im in images}) == 4


def test_the_images_voxel_size_wins_over_the_configs_with_a_warning(tmp_path, caplog):
    rng = np.random.default_rng(0)
    for i in range(3):
        image = rng.integers(100, 2000, (6, 32, 32)).astype(np.uint16)
        write_triplet(tmp_path, f"img_{i}", image, (image > 1500).astype(np.uint8),
                      spacing_um=(0.235, 0.15, 0.15))
    dm = CuratedDataModule(str(tmp_path), [], patch_zyx=(4, 16, 16), val_fraction=0.0,
                           spacing_um=[0.29, 0.108, 0.108])  # data=lamin's nominal size
    with caplog.at_level("WARNING", logger="seglight"):
        dm.setup("fit")
    assert dm.spacing_um == [0.235, 0.15, 0.15]
    assert [r.getMessage() for r in caplog.records] == [
        f"{tmp_path}: the curated images' voxel size is [0.235, 0.15, 0.15] um but "
        "data.spacing_um is [0.29, 0.108, 0.108]; the checkpoint records the images'"]


def test_images_without_a_voxel_size_keep_the_configs(tmp_path):
    dm = CuratedDataModule(str(_folder(tmp_path)), [], patch_zyx=(4, 16, 16), val_fraction=0.0,
                           spacing_um=[0.29, 0.108, 0.108])
    dm.setup("fit")
    assert dm.spacing_um == [0.29, 0.108, 0.108]
