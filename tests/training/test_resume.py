"""Resuming is continuing: a run stopped and resumed from its last.ckpt writes on in its own
folder, keeps one best.ckpt for the whole run, and (CPU, num_workers=0) logs the same numbers at
the same steps as a run that did not stop."""

from __future__ import annotations

import csv
import json
import warnings

import pytest
import torch

from seglight.training import fit
from tests.hydra_utils import compose_config

pytestmark = pytest.mark.slow  # trains networks

TINY = ["model.net.width=2", "data.demo.n_images=2", "data.demo.shape_zyx=[16,64,64]",
        "data.patch_zyx=[8,32,32]", "data.batch_size=2", "data.samples_per_epoch=6",
        "data.val_patches_per_image=2", "data.num_workers=0", "trainer.accelerator=cpu",
        "trainer.precision=32-true", "trainer.log_every_n_steps=1", "logger=many"]


def _train(run_dir, data_dir, *overrides):
    run_dir.mkdir()  # as Hydra makes it (with the command's config and log)
    cfg = compose_config("train", [*TINY, *overrides], run_dir)
    cfg.paths.data_dir = str(data_dir)
    return fit(cfg)


def _rows(run_dir) -> list[dict]:
    with open(run_dir / "csv" / "metrics.csv", newline="") as f:
        return [{k: float(v) for k, v in row.items() if v != ""} for row in csv.DictReader(f)]


def _best_score(ckpt) -> float:
    states = torch.load(ckpt, map_location="cpu", weights_only=False)["callbacks"]
    (state,) = [s for k, s in states.items() if k.startswith("ModelCheckpoint")
                and s.get("monitor") == "val/dice"]
    return float(state["best_model_score"])


def test_an_interrupted_and_resumed_run_logs_what_an_uninterrupted_one_does(tmp_path):
    data = tmp_path / "data"
    whole = _train(tmp_path / "whole", data, "trainer.max_epochs=4")
    part = tmp_path / "part"
    _train(part, data, "trainer.max_epochs=2")  # "interrupted" after 2 of 4 epochs
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        resumed = _train(tmp_path / "resume_cmd", data, "trainer.max_epochs=4",
                         f"ckpt_path={part / 'checkpoints' / 'last.ckpt'}")
    assert not [w for w in caught if "reloaded" in str(w.message)]  # best tracking reloaded

    # the resumed part wrote on in the run's folder, linked from the resuming command's
    assert resumed.best_checkpoint == part / "checkpoints" / "best.ckpt"
    assert not (tmp_path / "resume_cmd" / "checkpoints").exists()
    assert (tmp_path / "resume_cmd" / "continues").resolve() == part.resolve()
    assert "resume_cmd" in (part / "resumes.txt").read_text()
    assert sorted(p.name for p in (part / "checkpoints").iterdir()) == ["best.ckpt", "last.ckpt"]

    # the same numbers at the same steps (losses per step and epoch, val/dice per epoch)
    expected, got = _rows(tmp_path / "whole"), _rows(part)
    assert [r["step"] for r in got] == [r["step"] for r in expected]
    for want, have in zip(expected, got, strict=True):
        assert have.keys() == want.keys()
        for key in want:
            assert have[key] == pytest.approx(want[key], abs=1e-6), (key, want["step"])
    assert resumed.metric == pytest.approx(whole.metric, abs=1e-6)

    # best.ckpt is the best of the whole run, and result.json says so
    dice = [r["val/dice"] for r in got if "val/dice" in r]
    assert len(dice) == 4
    assert _best_score(part / "checkpoints" / "best.ckpt") == pytest.approx(max(dice))
    result = json.loads((part / "result.json").read_text())
    assert result["status"] == "done" and result["best"] == pytest.approx(max(dice))
    assert result["best_epoch"] == dice.index(max(dice))
    last = torch.load(part / "checkpoints" / "last.ckpt", map_location="cpu", weights_only=True)
    assert last["epoch"] == 3 and last["global_step"] == 4 * 3


def test_a_checkpoint_outside_a_run_folder_resumes_into_a_new_folder(tmp_path):
    data = tmp_path / "data"
    first = _train(tmp_path / "first", data, "trainer.max_epochs=1")
    loose = tmp_path / "loose.ckpt"
    loose.write_bytes(first.last_checkpoint.read_bytes())
    again = _train(tmp_path / "again", data, "trainer.max_epochs=2", f"ckpt_path={loose}")
    assert again.last_checkpoint == tmp_path / "again" / "checkpoints" / "last.ckpt"
    assert torch.load(again.last_checkpoint, weights_only=True)["epoch"] == 1
