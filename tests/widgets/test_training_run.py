"""The Train widget's Qt-free side: the choices it offers, the command line it runs, the
progress it reads from the run's output, and the record of recent folders."""

from pathlib import Path

import pytest

from seglight import CONF_DIR
from seglight.widgets import recent
from seglight.widgets.training_run import (
    TrainRequest,
    command,
    limit_overrides,
    model_options,
    new_run,
    parse_output,
    resume_checkpoint,
    runs_of,
    shell_line,
)


def test_models_come_from_the_conf_folder_without_shared_parts_or_classic(tmp_path):
    names = model_options()
    assert "unet_xy_tiny" in names and "unet_xy" in names
    assert not any(n.startswith("_") or "classic" in n for n in names)
    assert set(names) == {p.stem for p in (CONF_DIR / "model").glob("[!_]*.yaml")}
    (tmp_path / "model").mkdir()
    for name in ("zeta", "_module", "unet_m", "plan"):  # a new config appears by itself
        (tmp_path / "model" / f"{name}.yaml").write_text("{}\n")
    assert model_options(tmp_path) == ["plan", "unet_m", "zeta"]


def test_the_command_line_is_the_cli_with_the_chosen_overrides(tmp_path):
    request = TrainRequest(data_path=str(tmp_path / "my data"), model="unet_xy", data="lamin",
                           limit="steps", amount=20, log_dir=str(tmp_path / "runs"),
                           extra=["trainer=gpu"])
    argv = command(request, python="python")
    assert argv == ["python", "-m", "seglight.train", "model=unet_xy", "data=lamin",
                    f"data.path={tmp_path / 'my data'}", "trainer.max_steps=20",
                    "trainer.max_epochs=-1", f"paths.log_dir={tmp_path / 'runs'}", "trainer=gpu"]
    assert f"'data.path={tmp_path / 'my data'}'" in shell_line(argv)  # pastes into a shell
    assert limit_overrides("minutes", 90.5) == ["trainer.max_time=00:01:30:30",
                                                "trainer.max_epochs=-1"]
    assert limit_overrides("epochs", 0) == []
    with pytest.raises(ValueError):
        limit_overrides("hours", 1)


def test_progress_and_best_checkpoint_are_read_from_the_output():
    text = ("Epoch 0:  50%|█████     | 1/2 [00:00<00:00]\rEpoch 2/9:  75%|███ | 3/4 [00:01]\n"
            "[2026][seglight.train][INFO] - best checkpoint: /r/a b/best.ckpt (val/dice 0.8125)\n")
    progress, best = parse_output(text)
    assert (progress.epoch, progress.batch, progress.batches, progress.step) == (2, 3, 4, 11)
    assert best == [(Path("/r/a b/best.ckpt"), "val/dice", 0.8125)]
    assert parse_output("no progress here", progress)[0] is progress


def test_the_new_run_folder_and_its_resume_checkpoint(tmp_path):
    old = tmp_path / "train" / "2026-01-01_00-00-00"
    (old / ".hydra").mkdir(parents=True)
    before = runs_of(tmp_path)
    assert new_run(tmp_path, before) is None
    fresh = tmp_path / "train" / "2026-01-01_00-00-05"
    (fresh / ".hydra").mkdir(parents=True)
    assert new_run(tmp_path, before) is None  # not writing yet
    (fresh / "tensorboard").mkdir()
    assert new_run(tmp_path, before) == fresh
    resuming = tmp_path / "train" / "2026-01-01_00-00-09"  # a resume writes into its run
    (resuming / ".hydra").mkdir(parents=True)
    (resuming / "continues").symlink_to(old, target_is_directory=True)
    assert new_run(tmp_path, before | {fresh}) == old
    assert resume_checkpoint(fresh) is None
    (fresh / "checkpoints").mkdir()
    (fresh / "checkpoints" / "last.ckpt").write_bytes(b"x")
    assert resume_checkpoint(fresh) == fresh / "checkpoints" / "last.ckpt"


def test_recent_folders_are_remembered_and_forgotten_when_gone(tmp_path):
    assert recent.recall("curated") is None
    folder = tmp_path / "curated"
    folder.mkdir()
    recent.remember("curated", folder)
    assert recent.recall("curated") == folder
    folder.rmdir()
    assert recent.recall("curated") is None
    recent.state_file().write_text("not json")
    assert recent.recall("curated") is None  # a broken record is no record
