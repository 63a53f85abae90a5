"""Sweeps from the command line, as a user runs them: a grid sweep and an Optuna study end with
``sweep_summary.csv`` and its table (best first, failed jobs as rows); Optuna is told each
trial's best.ckpt score; its study is kept in the sweep folder and can be extended."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
import torch

from tests.cli_utils import run_module

pytestmark = pytest.mark.slow  # end to end: trains networks

TINY = ["model.net.width=2", "data.demo.n_images=2", "data.demo.shape_zyx=[16,64,64]",
        "data.patch_zyx=[8,32,32]", "data.samples_per_epoch=4", "data.val_patches_per_image=1",
        "trainer.accelerator=cpu", "trainer.precision=32-true", "trainer.enable_progress_bar=false"]


def _summary(sweep: Path) -> list[dict]:
    with open(sweep / "sweep_summary.csv", newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def _best_score(ckpt: Path) -> float:
    """The score ModelCheckpoint recorded for the best checkpoint (what best.ckpt is kept for)."""
    states = torch.load(ckpt, map_location="cpu", weights_only=False)["callbacks"]
    (state,) = [s for k, s in states.items() if k.startswith("ModelCheckpoint")
                and s.get("monitor") == "val/dice"]
    return float(state["best_model_score"])


def _val_dice(job: Path) -> list[float]:
    with open(job / "csv" / "metrics.csv", newline="") as f:
        return [float(r["val/dice"]) for r in csv.DictReader(f) if r.get("val/dice")]


def test_a_grid_sweep_ends_with_its_summary_table_best_first(tmp_path):
    # 2 x 2: two widths, a working and an impossible learning rate (those jobs fail; the
    # sweep goes on, lists them with their error and exits 1 at the end)
    done = run_module("seglight.train", "-m", "model.net.width=2,3",
                      "model.optimizer.lr=3e-3,-1", *TINY[1:], "trainer.max_epochs=2",
                      "logger=many", cwd=tmp_path)
    assert done.returncode == 1, done.stderr[-3000:]
    (sweep,) = (tmp_path / "runs" / "train" / "multirun").iterdir()
    assert sorted(p.name for p in sweep.iterdir() if p.is_dir()) == [
        "0_width=2,lr=0.003", "1_width=2,lr=-1", "2_width=3,lr=0.003", "3_width=3,lr=-1"]
    assert "sweep: 4 job(s), 2 failed" in done.stdout
    assert "job  overrides" in done.stdout and "best val/dice  at step (epoch)" in done.stdout
    rows = _summary(sweep)
    assert [r["status"] for r in rows] == ["done", "done", "failed", "failed"]
    assert float(rows[0]["best"]) >= float(rows[1]["best"])  # best first
    for row in rows[2:]:
        assert row["error"] == "ValueError: Invalid learning rate: -1"
        assert row["overrides"].endswith("model.optimizer.lr=-1")
        assert (Path(row["folder"]) / "traceback.txt").is_file()
    for row in rows[:2]:
        job = Path(row["folder"])
        dice = _val_dice(job)
        assert float(row["best"]) == pytest.approx(max(dice), abs=1e-6)
        assert float(row["last"]) == pytest.approx(dice[-1], abs=1e-6)
        assert float(row["best"]) == pytest.approx(_best_score(Path(row["best_checkpoint"])))
        assert row["best_epoch"] == str(dice.index(max(dice)))
        assert float(row["wall_s"]) > 0 and float(row["cpu_s"]) > 0
        assert row["overrides"] == f"model.net.width={job.name[8]} model.optimizer.lr=0.003"
        assert f"{job.name}/checkpoints/best.ckpt" in done.stdout  # the table names it
    # each run's hyperparameters with its best metric, for TensorBoard's HParams tab
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    from tensorboard.plugins.hparams import plugin_data_pb2

    events = EventAccumulator(str(Path(rows[0]["folder"]) / "tensorboard"))
    events.Reload()
    content = events.PluginTagToContent("hparams")["_hparams_/session_start_info"]
    start = plugin_data_pb2.HParamsPluginData.FromString(content).session_start_info
    assert start.hparams["model.optimizer.lr"].number_value == pytest.approx(3e-3)
    assert "hp/best_val/dice" in events.Tags()["scalars"]
    assert "tensorboard --logdir" in done.stdout


def test_optuna_is_told_each_trials_best_checkpoint_score_and_keeps_the_study(tmp_path):
    pytest.importorskip("hydra_plugins.hydra_optuna_sweeper")
    optuna = pytest.importorskip("optuna")
    args = ["hparams_search=optuna", "hydra.sweeper.sampler.n_startup_trials=2", *TINY,
            "trainer.max_epochs=3", "logger=csv"]
    done = run_module("seglight.train", *args, "hydra.sweeper.n_trials=2", cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    (sweep,) = (tmp_path / "runs" / "train" / "multirun").iterdir()
    assert "sweep: 2 job(s), 0 failed" in done.stdout
    assert "--logdir" not in done.stdout + done.stderr  # no TensorBoard hint without its logs

    def trials():
        study = optuna.load_study(study_name="seglight",
                                  storage=f"sqlite:///{sweep / 'optuna.db'}")
        return sorted(study.trials, key=lambda t: t.number)

    rows = {int(r["job"]): r for r in _summary(sweep)}
    assert [t.number for t in trials()] == [0, 1]
    for trial in trials():
        job = Path(rows[trial.number]["folder"])
        assert job.name.startswith(f"{trial.number}_lr=")
        assert trial.value == pytest.approx(_best_score(job / "checkpoints" / "best.ckpt"))
        assert trial.value == pytest.approx(max(_val_dice(job)), abs=1e-6)
        assert trial.params["model.optimizer.lr"] == pytest.approx(
            float(rows[trial.number]["overrides"].split()[0].split("=")[1]))

    # the documented extension: the same command in the same folder, with more trials
    more = run_module("seglight.train", *args, "hydra.sweeper.n_trials=1",
                      "hydra.sweeper.sampler.seed=2", f"hydra.sweep.dir={sweep}", cwd=tmp_path)
    assert more.returncode == 0, more.stderr[-3000:]
    assert [t.number for t in trials()] == [0, 1, 2]
    assert "sweep: 3 job(s), 0 failed" in more.stdout
    (new,) = [r for r in _summary(sweep) if r["job"] == "2"]
    assert Path(new["folder"]).name.startswith("2_lr=")
    assert trials()[2].value == pytest.approx(float(new["best"]))
