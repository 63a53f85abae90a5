"""Adding an architecture is one module file plus one config file: nothing else is edited."""

from __future__ import annotations

import sys
import textwrap

import numpy as np
import pytest
import torch

from seglight.io import write_triplet
from seglight.training import train
from tests.hydra_utils import compose_config

pytestmark = pytest.mark.slow  # end to end: trains a network

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


def test_new_architecture_is_a_module_plus_a_config(tmp_path, monkeypatch):
    (tmp_path / "toynet.py").write_text(textwrap.dedent(TOY_MODULE))
    monkeypatch.syspath_prepend(str(tmp_path))
    # The user's own config folder, added to Hydra's search path (or conf/model/ in the clone).
    (tmp_path / "conf" / "model").mkdir(parents=True)
    (tmp_path / "conf" / "model" / "toy.yaml").write_text(TOY_CONFIG)
    rng = np.random.default_rng(0)
    data = tmp_path / "curated"
    for i in range(2):
        image = rng.integers(0, 1000, (6, 32, 32)).astype(np.uint16)
        write_triplet(data, f"t{i}", image, (image > 800).astype(np.uint8))
    cfg = compose_config(
        "train",
        [f"hydra.searchpath=[file://{tmp_path / 'conf'}]", "model=toy", "data=lamin",
         f"data.path={data}", "data.patch_zyx=[4,16,16]", "data.num_workers=0",
         "data.batch_size=1", "data.samples_per_epoch=2", "trainer.max_epochs=1",
         "trainer.accelerator=cpu", "logger=csv"],
        tmp_path / "run",
    )
    train(cfg)
    best = tmp_path / "run" / "checkpoints" / "best.ckpt"
    assert best.is_file()
    state = torch.load(best, map_location="cpu", weights_only=True)
    assert state["hyper_parameters"]["net"]["_target_"] == "toynet.ToyNet"
    assert "toynet" in sys.modules
