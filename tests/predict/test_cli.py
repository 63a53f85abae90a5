"""python -m seglight.predict: a checkpoint and a classic workflow over a folder with broken
files, resume, config errors in one line, and the Lightning file split."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from seglight.errors import SeglightError
from seglight.io import read_image, write_ome_tiff
from seglight.predict.__main__ import predict
from tests.helpers.hydra_utils import compose_config
from tests.predict.conftest import SPACING

REPO = Path(__file__).resolve().parents[2]


def _cfg(tmp_path, *overrides):
    return compose_config("predict", ["progress=false", "trainer.accelerator=cpu", *overrides],
                          tmp_path / "run")


@pytest.mark.slow
def test_checkpoint_over_folder_with_broken_files_then_resume(tiny_ckpt, raw_folder, tmp_path):
    out = tmp_path / "seg"
    args = [f"ckpt_path={tiny_ckpt}", f"input={raw_folder}", f"output={out}"]
    summary = predict(_cfg(tmp_path, *args, "write_proba=true"))
    assert summary.line() == "2 written, 0 skipped, 2 failed"
    for i in range(2):
        mask = read_image(out / f"cell_{i}_struct_segmentation.tiff")
        assert mask.shape == (6, 24, 28) and mask.spacing_um == pytest.approx(SPACING)
        proba = read_image(out / f"cell_{i}_struct_probability.tiff").data
        assert 0 <= proba.min() and proba.max() <= 1
        np.testing.assert_array_equal(mask.data > 0, proba > 0.5)
    again = predict(_cfg(tmp_path, *args, "write_proba=true"))
    assert again.line() == "0 written, 2 skipped, 2 failed"


@pytest.mark.slow
def test_sigterm_finishes_the_file_in_progress_stops_and_the_rerun_resumes(
        tiny_ckpt, raw_folder, tmp_path, monkeypatch):
    from seglight.predict.runner import PredictRunner

    out = tmp_path / "seg"
    args = [f"ckpt_path={tiny_ckpt}", f"input={raw_folder}", "input_glob=cell_*", f"output={out}"]
    original, started = PredictRunner.process_file, []

    def kill_during_first_file(self, path):
        started.append(Path(path).name)
        if len(started) == 1:  # what `kill` or a scheduler's time limit does, mid-file
            os.kill(os.getpid(), signal.SIGTERM)
        return original(self, path)

    monkeypatch.setattr(PredictRunner, "process_file", kill_during_first_file)
    with pytest.raises(SystemExit) as stop:
        predict(_cfg(tmp_path, *args))
    assert stop.value.code == 143 and started == ["cell_0.ome.tif"]
    assert sorted(p.name for p in out.iterdir()) == ["cell_0_struct_segmentation.tiff"]
    monkeypatch.undo()
    assert predict(_cfg(tmp_path, *args)).line() == "1 written, 1 skipped, 0 failed"


@pytest.mark.slow
def test_classic_workflow_cli_exits_nonzero_with_summary(raw_folder, tmp_path):
    out = tmp_path / "seg"
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    result = subprocess.run(
        [sys.executable, "-m", "seglight.predict", "model=classic/lmnb1_interphase",
         f"input={raw_folder}", f"output={out}", "progress=false",
         f"hydra.run.dir={tmp_path / 'run'}", "model.params.intensity_norm=[0]",
         "model.params.hole_min=4"],
        capture_output=True, text=True, env=env, cwd=tmp_path, timeout=300,
    )
    assert result.returncode == 1, result.stderr[-2000:]
    assert result.stderr.strip().splitlines()[-1] == "2 written, 0 skipped, 2 failed"
    assert "failed: " + str(raw_folder / "broken.tif") in result.stdout + result.stderr
    assert sorted(p.name for p in out.iterdir()) == [
        "cell_0_struct_segmentation.tiff", "cell_1_struct_segmentation.tiff"]


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (["input=/nowhere", "output=/tmp/x", "model=classic/lmnb1_interphase"], "input=/nowhere"),
        (["output=/tmp/x", "model=classic/lmnb1_interphase"], "input= is required"),
        (["input={raw}", "output=/tmp/x"], "ckpt_path="),
        (["input={raw}", "output=/tmp/x", "model=unet_xy"], "ckpt_path="),
        (["input={raw}", "output=/tmp/x", "ckpt_path=/no.ckpt"], "no such checkpoint"),
        (["input={raw}", "output=/tmp/x", "ckpt_path=/no.ckpt", "model=classic/dsp"], "both"),
        (["input={raw}", "output=/tmp/x", "model=classic/dsp", "threshold=3"], "threshold=3"),
    ],
)
def test_config_errors_are_one_line_before_any_work(overrides, message, raw_folder, tmp_path):
    cfg = _cfg(tmp_path, *(o.format(raw=raw_folder) for o in overrides))
    with pytest.raises(SeglightError) as error:
        predict(cfg)
    assert len(str(error.value).splitlines()) == 1 and message in str(error.value)


@pytest.mark.slow
def test_two_ddp_processes_write_each_file_once(tmp_path):
    raw = tmp_path / "raw"
    rng = np.random.default_rng(0)
    for i in range(5):
        write_ome_tiff(raw / f"c{i}.ome.tif", rng.integers(0, 99, (3, 16, 16)).astype(np.uint16))
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    result = subprocess.run(
        [sys.executable, "-m", "seglight.predict", "model=classic/lmnb1_interphase",
         f"input={raw}", f"output={tmp_path / 'seg'}", "progress=false",
         "trainer.accelerator=cpu", "trainer.devices=2", "trainer.strategy=ddp",
         f"hydra.run.dir={tmp_path / 'run'}", "model.params.intensity_norm=[0]"],
        capture_output=True, text=True, env=env, cwd=tmp_path, timeout=600,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stderr.count("5 written, 0 skipped, 0 failed") == 1
    assert len(list((tmp_path / "seg").iterdir())) == 5
