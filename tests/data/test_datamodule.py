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


def test_too_few_images_validate_on_the_training_images(tmp_path):
    """data.val_on_train: with no validation images, fixed patches of the training images."""
    kwargs = dict(normalization=[{"op": "min_max"}], patch_zyx=(4, 16, 16), batch_size=1,
                  samples_per_epoch=2, val_fraction=0.0, val_patches_per_image=2,
                  augmentation={})
    dm = CuratedDataModule(str(_folder(tmp_path, n=3)), val_on_train=True, **kwargs)
    dm.setup("fit")
    assert dm.split["val"] == dm.split["train"] and len(dm.split["train"]) == 3
    assert dm.split["val_on_train"] is True
    assert len(dm.val_set) == 3 * 2
    plain = CuratedDataModule(str(tmp_path), **kwargs)
    plain.setup("fit")
    assert plain.val_set is None and plain.split["val"] == []
    # held-out validation images, when there are any, are kept as they are
    held = CuratedDataModule(str(tmp_path), val_on_train=True, **{**kwargs, "val_fraction": 0.4})
    held.setup("fit")
    assert len(held.split["val"]) == 1 and held.split["val_on_train"] is False


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


def _folder_at(path, spacing_um):
    """Three curated triplets whose files record ``spacing_um``."""
    rng = np.random.default_rng(0)
    for i in range(3):
        image = rng.integers(100, 2000, (6, 32, 32)).astype(np.uint16)
        write_triplet(path, f"img_{i}", image, (image > 1500).astype(np.uint8),
                      spacing_um=spacing_um)


def test_the_images_voxel_size_wins_over_the_configs_with_a_warning(tmp_path, caplog):
    _folder_at(tmp_path, spacing_um=(0.235, 0.15, 0.15))
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


def test_a_data_configs_default_voxel_size_gives_way_without_a_warning(tmp_path, caplog):
    # data=lamin's nominal 0.29 x 0.108 x 0.108 um, which the user never set (issue 29).
    _folder_at(tmp_path, spacing_um=(0.235, 0.15, 0.15))
    dm = CuratedDataModule(str(tmp_path), [], patch_zyx=(4, 16, 16), val_fraction=0.0,
                           spacing_um=[0.29, 0.108, 0.108])
    dm.spacing_um_given = False  # what fit() sets when data.spacing_um is not the user's
    with caplog.at_level("INFO", logger="seglight"):
        dm.setup("fit")
    assert dm.spacing_um == [0.235, 0.15, 0.15]
    assert not [r for r in caplog.records if r.levelname == "WARNING"]
    assert any("voxel size is [0.235, 0.15, 0.15]" in r.getMessage() for r in caplog.records)


def test_only_a_voxel_size_on_the_command_line_counts_as_the_users(tmp_path):
    from seglight.training.budget import user_overrides
    from tests.helpers.hydra_utils import compose_config

    compose_config("train", ["data=lamin", f"data.path={tmp_path}"], tmp_path)
    assert "data.spacing_um" not in user_overrides()
    compose_config("train", ["data=lamin", f"data.path={tmp_path}",
                             "data.spacing_um=[0.2,0.1,0.1]"], tmp_path)
    assert "data.spacing_um" in user_overrides()


def test_a_folder_too_small_to_validate_says_so_in_one_line(tmp_path, caplog):
    dm = CuratedDataModule(str(_folder(tmp_path, n=2)), [], patch_zyx=(4, 16, 16),
                           val_fraction=0.2, val_patches_per_image=1)
    with caplog.at_level("WARNING", logger="seglight"):
        dm.setup("fit")
    warnings = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert warnings == [f"{tmp_path}: 1 training and 1 validation image(s) are too few to "
                        "validate meaningfully (best.ckpt is picked on 1 image(s)); curate more "
                        "images, at least 2 for each"]


def test_a_folder_with_enough_images_does_not_warn(tmp_path, caplog):
    dm = CuratedDataModule(str(_folder(tmp_path, n=8)), [], patch_zyx=(4, 16, 16),
                           val_fraction=0.25, val_patches_per_image=1)
    with caplog.at_level("WARNING", logger="seglight"):
        dm.setup("fit")
    assert len(dm.val_set) == 2 and not caplog.records
