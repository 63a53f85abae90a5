"""Adding an architecture is one module file plus one config file: nothing else is edited.
The README's toy network trains; the worked example of docs/extend.md (a pooling U-Net) trains
from its own config folder, predicts an odd-sized image, and its checkpoint names the class
when the module is missing."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
import torch

from seglight.errors import SeglightError
from seglight.io import read_image, write_ome_tiff, write_triplet
from seglight.predict.build import build_binarizer
from seglight.predict.network import load_module
from seglight.predict.runner import OutputOptions, PredictRunner
from seglight.training import train
from tests.helpers.hydra_utils import compose_config

pytestmark = pytest.mark.slow  # end to end: trains a network

EXTEND = Path(__file__).resolve().parents[2] / "docs" / "extend"

TOY_MODULE = '''
import torch
from torch import nn

from seglight.networks import SegmentationNetwork


class ToyNet(SegmentationNetwork):
    """Two convolutions; same-padded, so the base class's size rule (any size) holds."""

    def __init__(self, channels: int = 4):
        super().__init__()
        self.body = nn.Sequential(nn.Conv3d(1, channels, 3, padding=1), nn.ReLU(),
                                  nn.Conv3d(channels, 2, 1))

    def forward(self, x):
        return self.body(x)
'''

TOY_CONFIG = '''
defaults:
  - _module
  - _self_
net:
  _target_: toynet.ToyNet
  channels: 4
'''


def train_tiny(tmp_path: Path, conf_dir: Path, *overrides: str) -> None:
    """Train one tiny epoch on two random triplets, with ``conf_dir`` on Hydra's search
    path, into ``tmp_path/run``."""
    rng = np.random.default_rng(0)
    data = tmp_path / "curated"
    for i in range(2):
        image = rng.integers(0, 1000, (6, 32, 32)).astype(np.uint16)
        write_triplet(data, f"t{i}", image, (image > 800).astype(np.uint8))
    cfg = compose_config(
        "train",
        [f"hydra.searchpath=[file://{conf_dir}]", *overrides, "data=lamin",
         f"data.path={data}", "data.patch_zyx=[4,16,16]", "data.num_workers=0",
         "data.batch_size=1", "data.samples_per_epoch=2", "trainer.max_epochs=1",
         "trainer.accelerator=cpu", "trainer.precision=32-true", "logger=csv"],
        tmp_path / "run",
    )
    train(cfg)


def test_new_architecture_is_a_module_plus_a_config(tmp_path, monkeypatch):
    (tmp_path / "toynet.py").write_text(textwrap.dedent(TOY_MODULE))
    monkeypatch.syspath_prepend(str(tmp_path))
    # The user's own config folder, added to Hydra's search path (or conf/model/ in the clone).
    (tmp_path / "conf" / "model").mkdir(parents=True)
    (tmp_path / "conf" / "model" / "toy.yaml").write_text(TOY_CONFIG)
    train_tiny(tmp_path, tmp_path / "conf", "model=toy")
    best = tmp_path / "run" / "checkpoints" / "best.ckpt"
    assert best.is_file()
    state = torch.load(best, map_location="cpu", weights_only=True)
    assert state["hyper_parameters"]["net"]["_target_"] == "toynet.ToyNet"
    assert "toynet" in sys.modules


def test_users_pooling_unet_trains_and_predicts(tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(EXTEND))  # the user's module: PYTHONPATH=docs/extend
    # The user's own config folder on Hydra's search path (what --config-dir does).
    train_tiny(tmp_path, EXTEND / "myconf", "model=mynet", "model.net.width=2")
    best = tmp_path / "run" / "checkpoints" / "best.ckpt"
    state = torch.load(best, map_location="cpu", weights_only=True)
    assert state["hyper_parameters"]["net"]["_target_"] == "mynet.MyUNet"

    # Predict an odd-sized image (not a multiple of 4 in y, x) through the predict runner.
    raw, rng = tmp_path / "raw", np.random.default_rng(1)
    write_ome_tiff(raw / "odd.tif", rng.integers(0, 1000, (7, 37, 41)).astype(np.uint16),
                   (0.29, 0.108, 0.108))
    runner = PredictRunner(build_binarizer(ckpt_path=best, device="cpu"),
                           OutputOptions(output_dir=tmp_path / "seg"))
    summary = runner.run([raw / "odd.tif"], progress=False)
    assert (summary.written, summary.failed) == (1, 0), summary.failures
    mask = read_image(tmp_path / "seg" / "odd_struct_segmentation.tiff").data
    assert mask.shape == (7, 37, 41) and set(np.unique(mask)) <= {0, 255}

    # Without the user's module, the checkpoint names the class to make importable.
    monkeypatch.delitem(sys.modules, "mynet")
    monkeypatch.setattr(sys, "path", [p for p in sys.path if p != str(EXTEND)])
    with pytest.raises(SeglightError) as err:
        load_module(best)
    assert str(err.value) == (f"ckpt_path={best}: network class mynet.MyUNet cannot be "
                              "imported (No module named 'mynet'); is its folder on PYTHONPATH?")
