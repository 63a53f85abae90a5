"""The held-out test split: deterministic, disjoint from training and validation, recorded."""

from __future__ import annotations

from pathlib import Path

import pytest

from seglight.data import CuratedDataModule
from seglight.data.splits import hold_out_test, names_of
from seglight.errors import ConfigError
from seglight.io.curated import Triplet


def _triplets(n: int) -> list[Triplet]:
    return [Triplet(f"im{i}", Path(f"im{i}.tif"), Path(f"im{i}_GT.tif")) for i in range(n)]


def test_test_fraction_spreads_held_out_images_and_is_deterministic():
    rest, test = hold_out_test(_triplets(8), 0.25, None)
    assert [t.name for t in test] == ["im2", "im6"]
    assert hold_out_test(_triplets(8), 0.25, None) == (rest, test)
    assert len(rest) == 6 and not set(rest) & set(test)
    assert hold_out_test(_triplets(8), 0.0, None) == (_triplets(8), [])  # the default: none


def test_test_names_and_their_errors():
    rest, test = hold_out_test(_triplets(3), 0.5, ["im1"])  # names win over the fraction
    assert [t.name for t in test] == ["im1"] and [t.name for t in rest] == ["im0", "im2"]
    with pytest.raises(ConfigError, match=r"data.test_names \['nope'\] are not in the curated"):
        hold_out_test(_triplets(3), 0, ["nope"])
    with pytest.raises(ConfigError, match="holds out every curated image"):
        hold_out_test(_triplets(2), 0, ["im0", "im1"])
    with pytest.raises(ConfigError, match=r"data.test_fraction=1.0 must be in \[0, 1\)"):
        hold_out_test(_triplets(3), 1.0, None)
    with pytest.raises(ConfigError, match="at least two are needed"):
        hold_out_test(_triplets(1), 0.5, None)


def test_datamodule_records_a_disjoint_split(tmp_path):
    dm = CuratedDataModule(str(tmp_path / "demo"), patch_zyx=(8, 32, 32), val_fraction=0.25,
                           test_fraction=0.25, demo={"n_images": 8, "shape_zyx": [8, 32, 32]})
    dm.prepare_data()
    dm.setup("fit")
    split = dm.split
    assert split["test"] == ["demo_02", "demo_06"]
    assert split["val"] == ["demo_00", "demo_07"]
    assert len(split["train"]) == 4
    assert not set(split["train"]) & set(split["test"])
    assert not set(split["val"]) & set(split["test"])
    assert split["path"] == str((tmp_path / "demo").resolve())
    assert len(dm.train_set.sampler.samples) == 4  # the test images are not trained on


def test_names_of_a_record():
    record = {"train": ["a"], "val": ["b"], "test": []}
    assert names_of(record, "val", ["a", "b"], "x.ckpt") == ["b"]
    assert names_of(None, "all", ["a", "b"], "x.ckpt") == ["a", "b"]
    with pytest.raises(ConfigError, match="x.ckpt: its test split is empty; train with "
                                          r"data.test_fraction=0.25"):
        names_of(record, "test", ["a", "b"], "x.ckpt")
    with pytest.raises(ConfigError, match="x.ckpt: no split recorded"):
        names_of(None, "test", ["a", "b"], "x.ckpt")
    with pytest.raises(ConfigError, match="split=tst: use one of train, val, test, all"):
        names_of(record, "tst", ["a"], "x.ckpt")
