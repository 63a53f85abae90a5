"""A real Optuna sweep from the command line: each trial runs in its own folder and
``train`` returns the metric the sweeper maximizes."""

from __future__ import annotations

import subprocess
import sys

import pytest
import yaml

pytestmark = pytest.mark.slow  # end to end: trains a network


def test_optuna_sweep_runs_trials_in_separate_folders(tmp_path):
    pytest.importorskip("hydra_plugins.hydra_optuna_sweeper")
    cmd = [
        sys.executable, "-m", "seglight.train", "hparams_search=optuna",
        "hydra.sweeper.n_trials=2", "hydra.sweeper.sampler.n_startup_trials=2",
        f"paths.log_dir={tmp_path / 'runs'}", f"paths.data_dir={tmp_path / 'data'}",
        "data.demo.n_images=2", "data.demo.shape_zyx=[16,64,64]", "data.patch_zyx=[8,32,32]",
        "data.samples_per_epoch=4", "data.val_patches_per_image=1", "model.net.width=2",
        "trainer.max_epochs=1", "trainer.accelerator=cpu", "logger=csv",
    ]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    (sweep,) = (tmp_path / "runs" / "train" / "multirun").iterdir()
    results = yaml.safe_load((sweep / "optimization_results.yaml").read_text())
    assert 0.0 <= results["best_value"] <= 1.0
    assert "model.optimizer.lr" in results["best_params"]
    for job in ("0", "1"):
        assert (sweep / job / "checkpoints" / "best.ckpt").is_file()
        assert (sweep / job / "csv" / "metrics.csv").is_file()
