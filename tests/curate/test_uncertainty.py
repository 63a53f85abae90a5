"""Uncertainty scores and the most-uncertain-first order (Curator, decision log)."""

from __future__ import annotations

import csv
import math

import numpy as np
import pytest
import torch
from torch import nn

from seglight.curate import CurateConfig, Curator
from seglight.curate.decision_log import COLUMNS, DecisionLog
from seglight.curate.uncertainty import (
    disagreement,
    order_by_score,
    score_images,
    tta_disagreement,
)
from seglight.errors import ConfigError
from seglight.io import write_ome_tiff
from seglight.networks import SegmentationNetwork
from seglight.predict.network import NetworkBinarizer
from tests.curate.conftest import SHAPE, SPACING


def test_disagreement_is_one_minus_dice():
    a = np.zeros((2, 4, 4), np.uint8)
    a[0] = 255  # 16 voxels
    b = np.zeros_like(a)
    b[0, :2] = 1  # 8 voxels, all inside a: Dice 16 / 24
    assert disagreement(a, a) == 0.0
    assert disagreement(a, b) == pytest.approx(1 - 16 / 24)
    assert disagreement(a, 1 - a // 255) == 1.0  # disjoint
    assert disagreement(np.zeros(3), np.zeros(3)) == 0.0  # both empty: they agree


class Conv(SegmentationNetwork):
    """One convolution to 2 classes; with a 1x1x1 kernel it commutes with flips."""

    def __init__(self, kernel: int):
        super().__init__()
        torch.manual_seed(0)
        self.conv = nn.Conv3d(1, 2, kernel, padding=kernel // 2)

    def forward(self, x):
        return self.conv(x)


def _binarizer(kernel: int) -> NetworkBinarizer:
    return NetworkBinarizer(Conv(kernel), threshold=0.5, precision="32")


def test_flip_tta_disagreement_uses_the_inferer_flips(rng):
    image = rng.normal(size=(8, 32, 32)).astype(np.float32)
    pointwise = _binarizer(1)
    # A pointwise network gives the same mask however the image is flipped.
    assert tta_disagreement(image, pointwise) == 0.0
    asymmetric = _binarizer(3)
    # A random 3x3x3 kernel is not mirror-symmetric: the flipped passes disagree.
    assert tta_disagreement(image, asymmetric) > 0.01
    assert asymmetric.inferer.flip_tta is False  # restored


def _seg(value_fraction: float) -> np.ndarray:
    """A mask whose first ``value_fraction`` of x columns are foreground."""
    seg = np.zeros(SHAPE, np.uint8)
    seg[..., : int(SHAPE[2] * value_fraction)] = 255
    return seg


@pytest.fixture
def scored_folders(folders):
    """seg/ holds half-image masks; unc/ holds second masks agreeing 100 %, 2/3, 0 %."""
    unc = folders["tmp"] / "unc"
    for stem, second in (("c0", _seg(0.5)), ("c1", _seg(0.25)), ("c2", 255 - _seg(0.5))):
        write_ome_tiff(folders["seg"] / f"{stem}_struct_segmentation.tiff", _seg(0.5), SPACING)
        write_ome_tiff(unc / f"{stem}_struct_segmentation.tiff", second, SPACING)
    return {**folders, "unc": unc}


def test_score_images_from_two_folders(scored_folders):
    f = scored_folders
    raws = [f["raw"] / f"c{i}.tif" for i in range(3)]
    lines = []
    scores = score_images(raws + [f["raw"] / "gone.tif"], seg=f["seg"], seg2=f["unc"],
                          log=lines.append)
    assert [scores[r] for r in raws] == pytest.approx([0.0, 1 - 2 * 16 / 48, 1.0])
    assert math.isnan(scores[f["raw"] / "gone.tif"])
    assert lines == [f"uncertainty not scored: {f['raw'] / 'gone.tif'}: no segmentation "
                     f"gone_struct_segmentation.tif[f] in {f['seg']} to score its uncertainty"]
    assert order_by_score(raws + [f["raw"] / "gone.tif"], scores) == [
        raws[2], raws[1], raws[0], f["raw"] / "gone.tif"]


def test_checkpoint_scores_run_flip_tta_and_are_cached(scored_folders, monkeypatch):
    binarizer = _binarizer(1)
    calls = []
    predict = binarizer.predict_proba
    monkeypatch.setattr(binarizer, "predict_proba", lambda image: calls.append(1) or predict(image))
    monkeypatch.setattr(NetworkBinarizer, "from_checkpoint",
                        lambda path, device="auto": binarizer)
    ckpt, cache = scored_folders["tmp"] / "net.ckpt", scored_folders["tmp"] / "scores.csv"
    ckpt.write_bytes(b"weights")
    raws = [scored_folders["raw"] / "c0.tif", scored_folders["raw"] / "c1.tif"]
    assert score_images(raws[:1], ckpt_path=ckpt, cache=cache) == {raws[0]: 0.0}
    assert len(calls) == 2  # plain, then flip-averaged
    # A second session scores only the image not in the cache.
    assert score_images(raws, ckpt_path=ckpt, cache=cache) == {raws[0]: 0.0, raws[1]: 0.0}
    assert len(calls) == 4
    # A retrained checkpoint (new content) is scored afresh.
    ckpt.write_bytes(b"new weights")
    score_images(raws[:1], ckpt_path=ckpt, cache=cache)
    assert len(calls) == 6


def _curator(f, **kw) -> Curator:
    config = CurateConfig(mode="takeall", raw=str(f["raw"]), seg=str(f["seg"]), out=str(f["out"]),
                          **kw)
    return Curator(config, log=lambda line: None)


def test_curator_orders_most_uncertain_first_and_logs_the_score(scored_folders):
    f = scored_folders
    curator = _curator(f, order="uncertainty", uncertainty_seg=str(f["unc"]))
    assert [item.name for item in curator.pending()] == ["c2", "c1", "c0"]
    assert [item.name for item in _curator(f).pending()] == ["c0", "c1", "c2"]  # as listed
    summary = curator.run(progress=False)
    assert summary.written == 3
    with open(f["out"] / "curation_log.csv", newline="") as fh:
        rows = [r for r in csv.DictReader(fh) if r["status"] == "written"]
    assert [(r["image"], r["uncertainty"]) for r in rows] == [
        ("c2.tif", "1.0000"), ("c1.tif", "0.3333"), ("c0.tif", "0.0000")]
    # Images are written in that order too: the most uncertain becomes img_0.
    assert [r["output"] for r in rows] == ["img_0", "img_1", "img_2"]


def test_merging_mode_scores_seg1_against_seg2(scored_folders):
    f = scored_folders
    config = CurateConfig(mode="merging", raw=str(f["raw"]), seg1=str(f["seg"]),
                          seg2=str(f["unc"]), out=str(f["out"]), order="uncertainty")
    curator = Curator(config, log=lambda line: None, interactive=True)
    assert [item.name for item in curator.pending()] == ["c2", "c1", "c0"]


def test_order_config_is_checked_before_any_work(folders):
    with pytest.raises(ConfigError, match="order='random'; use order=as_listed or"):
        _curator(folders, order="random")
    with pytest.raises(ConfigError, match="order=uncertainty needs uncertainty_ckpt="):
        _curator(folders, order="uncertainty")
    with pytest.raises(ConfigError, match="uncertainty_ckpt=nope.ckpt: no such checkpoint"):
        _curator(folders, order="uncertainty", uncertainty_ckpt="nope.ckpt")


def test_a_log_from_before_the_uncertainty_column_loads_and_is_upgraded(tmp_path):
    path = tmp_path / "log.csv"
    before = [c for c in COLUMNS if c != "uncertainty"]
    raw = tmp_path / "a.tif"
    raw.write_bytes(b"voxels")
    path.write_text(",".join(before) + "\n"
                    + f"a.tif,take,written,{raw},img_0,,,takeall,,t0,\n")
    log = DecisionLog(path)
    assert log.is_done(raw) and log.last(raw).uncertainty == ""
    log.upgrade()
    with open(path, newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert list(rows[0]) == COLUMNS and rows[0]["output"] == "img_0"
    assert rows[0]["uncertainty"] == ""
