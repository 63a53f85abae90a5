"""Checkpoints open as data, never as code: a pickle that would run something is refused."""

from __future__ import annotations

import pytest
import torch

from seglight.checkpoint import load_checkpoint
from seglight.errors import SeglightError
from seglight.predict.network import load_module


class _RunsCode:
    """Pickles as a call to ``exec``: loading it with weights_only=False would run the code."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (exec, (f"open({str(self.marker)!r}, 'w').write('ran')",))


@pytest.fixture
def evil_ckpt(tmp_path, tiny_ckpt):
    """A real seglight checkpoint with one extra entry that runs code when unpickled."""
    state = torch.load(tiny_ckpt, map_location="cpu", weights_only=True)
    marker = tmp_path / "ran.txt"
    state["hyper_parameters"]["note"] = _RunsCode(marker)
    path = tmp_path / "shared by a colleague.ckpt"
    torch.save(state, path)
    return path, marker


@pytest.mark.slow
def test_a_real_checkpoint_loads_with_weights_only(tiny_ckpt):
    state = load_checkpoint(tiny_ckpt)
    assert {"state_dict", "hyper_parameters", "callbacks", "loops"} <= set(state)
    assert load_module(tiny_ckpt).net is not None


def test_predict_refuses_a_checkpoint_that_would_run_code(evil_ckpt):
    path, marker = evil_ckpt
    with pytest.raises(SeglightError) as error:
        load_module(path)
    message = str(error.value)
    assert len(message.splitlines()) == 1
    assert str(path) in message and "refused" in message and "exec" in message
    assert not marker.exists()


def test_resume_refuses_a_checkpoint_that_would_run_code(evil_ckpt, tmp_path):
    from omegaconf import open_dict

    from seglight.training import train
    from tests.hydra_utils import compose_config

    path, marker = evil_ckpt
    cfg = compose_config("train", ["model.net.width=2", "data.demo.n_images=2",
                                   "data.demo.shape_zyx=[16,64,64]", "data.patch_zyx=[8,32,32]",
                                   "logger=csv", f"ckpt_path='{path}'"], tmp_path)
    with open_dict(cfg):
        cfg.data.path = str(tmp_path / "demo")
    with pytest.raises(SeglightError, match="refused"):
        train(cfg)
    assert not marker.exists()
