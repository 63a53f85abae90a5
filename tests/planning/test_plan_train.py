"""Plans of hand-built folders train (slow: each plan times real training steps)."""

from __future__ import annotations

import math

import pytest
import yaml

from seglight.cli import prepare_overrides
from seglight.errors import ConfigError
from seglight.planning import make_plan, overrides
from seglight.planning.timing import MemoryModel, measure_step
from seglight.training import train
from tests.helpers.cli_utils import run_module
from tests.helpers.hydra_utils import compose_config

pytestmark = pytest.mark.slow

ONE_STEP = ["trainer.max_steps=1", "trainer.limit_val_batches=1", "logger=csv",
            "callbacks.progress_bar=null"]


@pytest.mark.parametrize(("folder", "model"), [("shells", "unet_xy_padded"),
                                               ("balls", "dynunet")])
def test_every_plan_is_a_config_that_trains(folder, model, request, tmp_path):
    plan = make_plan(request.getfixturevalue(folder), budget="10min", device="cpu",
                     progress=False)
    assert plan.get("model") == model
    assert plan.get("steps (estimate)") >= 20
    assert plan.get("trainer.max_steps") == -1 and plan.get("budget") == "10min"  # ends on time
    # two images, too few to spare one: both train, validated on patches of themselves
    assert plan.get("data.val_fraction") == 0.0 and plan.get("data.val_on_train") is True
    cfg = compose_config("train", prepare_overrides(overrides(plan) + ONE_STEP), tmp_path / "run")
    assert list(cfg.data.patch_zyx) == plan.get("data.patch_zyx")
    assert 0.9 <= cfg.callbacks.ema.decay < 1  # the weight average the plan chose
    train(cfg)
    assert (tmp_path / "run" / "checkpoints" / "last.ckpt").is_file()
    assert (tmp_path / "run" / "checkpoints" / "best.ckpt").is_file()  # validated all the same


def test_a_planned_step_fits_the_memory_it_planned_for(shells, tmp_path):
    """At the edge: room for little more than the runtime; the plan shrinks to fit, and a
    real step of the planned size, counted, stays within the plan's prediction."""
    memory_gb = 1.08
    plan = make_plan(shells, budget="10min", device="cpu", memory_gb=memory_gb,
                     progress=False)
    assert plan.get("memory (GB)") <= memory_gb
    cfg = compose_config("train", prepare_overrides(overrides(plan)), tmp_path / "run")
    batch, patch = plan.get("data.batch_size"), plan.get("data.patch_zyx")
    step = measure_step(cfg, batch, patch, plan.get("trainer.precision"), "cpu", steps=1)
    counted = MemoryModel.from_measure(step, "cpu").bytes(batch, patch)
    assert counted <= memory_gb * 1e9 + 1
    roomy = make_plan(shells, budget="10min", device="cpu", memory_gb=64, progress=False)
    assert batch * math.prod(patch) <= (roomy.get("data.batch_size")
                                        * math.prod(roomy.get("data.patch_zyx")))


def test_memory_that_cannot_fit_is_refused_in_one_line(shells, tmp_path):
    with pytest.raises(ConfigError, match="memory"):
        make_plan(shells, budget="10min", device="cpu", memory_gb=0.5, progress=False)
    result = run_module("seglight.plan", f"data.path={shells}", "memory_gb=0.5",
                        f"out={tmp_path / 'plan.yaml'}", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip().startswith("error: memory:")
    assert len(result.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "plan.yaml").exists()


def test_plan_then_train_from_the_command_line_user_keys_win(shells, tmp_path):
    plan = tmp_path / "plan.yaml"
    made = run_module("seglight.plan", f"data.path={shells}", "budget=5min", f"out={plan}",
                      cwd=tmp_path)
    assert made.returncode == 0, made.stderr
    assert "data.patch_zyx" in made.stdout and "reason" in made.stdout  # the table
    planned = yaml.safe_load(plan.read_text())["overrides"]
    trained = run_module("seglight.train", f"plan={plan}", "data.batch_size=1",
                         "paths.root_dir=" + str(tmp_path), *ONE_STEP, cwd=tmp_path)
    assert trained.returncode == 0, trained.stderr[-2000:]
    (config,) = tmp_path.glob("runs/train/*/.hydra/config.yaml")
    composed = yaml.safe_load(config.read_text())
    assert composed["data"]["batch_size"] == 1                       # the user's
    assert composed["data"]["patch_zyx"] == planned["data.patch_zyx"]  # the plan's
    assert composed["model"]["net"]["width"] == planned["model.net.width"]
    assert composed["plan"] == str(plan)
    # the same from Python: the plan chooses the network, the keyword arguments win
    import seglight

    ckpt = seglight.train(plan=str(plan), paths__root_dir=str(tmp_path / "api"),
                          trainer__max_steps=1, trainer__limit_val_batches=1, logger="csv")
    composed = yaml.safe_load((ckpt.parents[1] / ".hydra" / "config.yaml").read_text())
    assert composed["data"]["patch_zyx"] == planned["data.patch_zyx"]
    assert composed["trainer"]["max_steps"] == 1


def test_experiment_auto_plans_and_trains_in_one_command(shells, tmp_path):
    # callbacks.ema.decay: a key only the plan creates (conf/train.yaml has no average)
    result = run_module("seglight.train", "experiment=auto", f"data.path={shells}",
                        "auto.budget=5min", "paths.root_dir=" + str(tmp_path), *ONE_STEP,
                        "callbacks.ema.decay=0.5", cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    (plan,) = tmp_path.glob("runs/train_auto/plans/*_plan.yaml")
    (config,) = tmp_path.glob("runs/train_auto/*/.hydra/config.yaml")
    composed = yaml.safe_load(config.read_text())
    planned = yaml.safe_load(plan.read_text())["overrides"]
    assert composed["data"]["patch_zyx"] == planned["data.patch_zyx"]
    assert composed["trainer"]["max_steps"] == 1  # the command line wins over the plan
    assert planned["callbacks.ema"]["decay"] != 0.5
    assert composed["callbacks"]["ema"]["decay"] == 0.5  # also inside what the plan sets


def test_plan_help_and_bad_folders_are_one_line(tmp_path):
    helped = run_module("seglight.plan", "--help", cwd=tmp_path)
    assert helped.returncode == 0 and "data.path=DIR" in helped.stdout
    for args, message in ((["budget=1h"], "data.path= is missing"),
                          ([f"data.path={tmp_path / 'nope'}"], "no such folder"),
                          ([f"data.path={tmp_path}", "budget=soon"], "")):
        result = run_module("seglight.plan", *args, cwd=tmp_path)
        assert result.returncode == 2, result.stderr
        assert len(result.stderr.strip().splitlines()) == 1 and message in result.stderr
    trained = run_module("seglight.train", f"plan={tmp_path / 'none.yaml'}", cwd=tmp_path)
    assert trained.returncode == 2 and "no such file" in trained.stderr


def test_a_cpu_clock_plan_hands_its_budget_and_clock_to_the_trainer(shells):
    plan = make_plan(shells, budget="2min", device="cpu", clock="cpu", progress=False)
    assert plan.get("budget") == "2min" and plan.get("budget_clock") == "cpu"
    assert plan.get("trainer.max_steps") == -1  # the budget ends the run, fitted as it runs
    assert plan.get("steps (estimate)") >= 20
