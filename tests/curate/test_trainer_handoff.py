"""The Curator's output is what the Trainer's DataModule reads (skips where it is absent)."""

import numpy as np
import pytest

from seglight.curate import curate

from .test_engine import write_decisions


def test_curated_folder_feeds_the_trainer_datamodule(folders):
    data = pytest.importorskip("seglight.data")
    decisions = write_decisions(folders["tmp"] / "d.csv", [
        {"image": "c0.tif", "decision": "good", "exclude": "all: 0,0 0,63 31,63 31,0"},
        {"image": "c1.tif", "decision": "bad"},
        {"image": "c2.tif", "decision": "good"},
    ])
    curate({"mode": "sorting", "raw": folders["raw"], "seg": folders["seg"],
            "out": folders["out"], "decisions": decisions}, progress=False)
    module = data.CuratedDataModule(
        path=str(folders["out"]), normalization=[{"op": "min_max"}], patch_zyx=(8, 32, 32),
        val_fraction=0, augmentation=None)
    module.setup("fit")
    samples = module.train_set.sampler.samples
    assert [s.name for s in samples] == ["img_0", "img_1"]
    assert 0 <= samples[0].image.min() and samples[0].image.max() <= 1  # normalized by the Trainer
    assert (samples[0].costmap[:, :32] == 0).all() and (samples[0].costmap[:, 32:] == 1).all()
    np.testing.assert_array_equal(samples[1].gt, folders["data"]["c2"][1] > 0)
    batch = next(iter(module.train_dataloader()))
    assert batch is not None
