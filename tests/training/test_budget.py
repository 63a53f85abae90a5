"""``budget=`` ends training on time with the schedule at its end; ``trainer.max_steps`` is
honoured; one line says which limit ended training."""

from __future__ import annotations

import logging
import math
import time

import pytest
import torch

from seglight.data.demo import ensure_demo_dataset
from seglight.errors import ConfigError
from seglight.training import train
from seglight.training.budget import format_seconds, parse_budget, run_length
from seglight.training.schedules import respan, warmup_cosine
from tests.helpers.hydra_utils import compose_config

TINY = ["model=unet_xy_tiny", "model.net.width=2", "data.demo.n_images=3",
        "data.demo.shape_zyx=[8,64,64]", "data.patch_zyx=[8,32,32]", "data.batch_size=1",
        "data.samples_per_epoch=4", "data.val_patches_per_image=2", "data.val_fraction=0.34",
        "data.num_workers=0", "trainer.accelerator=cpu", "logger=csv",
        "callbacks.progress_bar=null", "trainer.enable_model_summary=false"]
COSINE = ["model.scheduler={_target_:seglight.training.schedules.warmup_cosine,"
          "_partial_:true,warmup_steps:5}", "model.scheduler_interval=step"]


@pytest.mark.parametrize(("text", "seconds"), [
    (900, 900.0), ("900", 900.0), ("90s", 90.0), ("30min", 1800.0), ("2h", 7200.0),
    ("1h30min", 5400.0), ("1.5h", 5400.0), ("45m", 2700.0), (None, None), ("null", None),
])
def test_budget_durations(text, seconds):
    assert parse_budget(text) == seconds


@pytest.mark.parametrize("text", ["30 minutes", "2d", "h", "-5", "1h-3"])
def test_a_budget_that_is_not_a_duration_is_one_line(text):
    with pytest.raises(ConfigError, match=r"budget=.*e\.g\. budget=30min"):
        parse_budget(text)


def test_format_seconds_reads_back():
    for seconds in (5400.0, 90.0, 3600.0, 45.0):
        assert parse_budget(format_seconds(seconds)) == seconds


def test_max_steps_sets_the_length_unless_max_epochs_is_given_too(tmp_path):
    cfg = compose_config("train", ["+trainer.max_steps=60"], tmp_path)
    assert cfg.trainer.max_epochs == 8  # the config's default ...
    assert run_length(cfg) == {"max_epochs": -1, "max_steps": 60}  # ... does not cut it short
    cfg = compose_config("train", ["+trainer.max_steps=60", "trainer.max_epochs=8"], tmp_path)
    assert run_length(cfg) == {"max_epochs": 8, "max_steps": 60}
    cfg = compose_config("train", [], tmp_path)
    assert run_length(cfg) == {"max_epochs": 8, "max_steps": -1}
    cfg = compose_config("train", ["budget=30min"], tmp_path)
    limits = run_length(cfg)
    assert limits["max_epochs"] == -1 and limits["max_steps"] > 10**6  # planned in training


def test_respan_moves_the_end_of_the_decay_and_the_current_rate():
    optimizer = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=1.0)
    scheduler = warmup_cosine(optimizer, total_steps=1000, warmup_steps=10)
    for _ in range(20):
        optimizer.step()
        scheduler.step()
    assert optimizer.param_groups[0]["lr"] > 0.99
    assert respan(scheduler, 40)  # step 20 of 40: a third of the decay (20 - 10) / 30
    assert optimizer.param_groups[0]["lr"] == pytest.approx(0.5 * (1 + math.cos(math.pi / 3)))
    for _ in range(20):
        optimizer.step()
        scheduler.step()
    assert optimizer.param_groups[0]["lr"] == pytest.approx(0.0, abs=1e-9)
    assert not respan(torch.optim.lr_scheduler.StepLR(optimizer, 5), 10)


def test_a_short_run_is_never_cut_mid_warm_up():
    optimizer = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=1.0)
    scheduler = warmup_cosine(optimizer, total_steps=8, warmup_steps=20)
    assert scheduler.lr_lambdas[0].span.warm == 2  # a quarter of the run at most


def _fit_logged(cfg, caplog) -> tuple[float, list[str]]:
    caplog.set_level(logging.INFO, logger="seglight.train")
    start = time.monotonic()
    train(cfg)
    return time.monotonic() - start, [r.getMessage() for r in caplog.records]


@pytest.mark.slow
def test_a_budget_ends_on_time_with_the_schedule_at_its_end(tmp_path, caplog):
    budget = 25.0
    cfg = compose_config("train", [*TINY, *COSINE, f"budget={budget:g}"], tmp_path)
    ensure_demo_dataset(cfg.data.path, **cfg.data.demo)  # so that the budget goes to training
    elapsed, lines = _fit_logged(cfg, caplog)
    # weights_only: what seglight's safe loading (prediction, resume) accepts
    state = torch.load(tmp_path / "checkpoints" / "last.ckpt", map_location="cpu",
                       weights_only=True)
    steps = state["global_step"]
    ended = next(m for m in lines if m.startswith("training ended: budget"))
    step_s = float(ended.split("steps (")[1].split(" s each")[0])
    spent = float(ended.split(" s in all")[0].rsplit(", ", 1)[1])  # fit's start to the end
    assert spent <= elapsed + 0.05  # the line prints seconds to one decimal
    # On time within one step (and the little the end of fit takes: the last checkpoint).
    assert budget - 3 * step_s - 1.0 <= elapsed <= budget + step_s + 1.0, (elapsed, ended)
    assert steps >= 3, ended  # it trained past the timed first steps
    assert state["lr_schedulers"][0]["last_epoch"] == steps
    lr = state["optimizer_states"][0]["param_groups"][0]["lr"]
    assert lr < 0.02 * 3e-3, f"the schedule was not at its end: lr {lr} after {steps} steps"


@pytest.mark.slow
def test_max_steps_is_honoured_past_the_default_epochs_and_the_reason_is_said(tmp_path, caplog):
    # 4 steps per epoch x the default 8 epochs = 32 steps would stop a max_steps=40 run.
    cfg = compose_config("train", [*TINY, "+trainer.max_steps=40"], tmp_path)
    _, lines = _fit_logged(cfg, caplog)
    state = torch.load(tmp_path / "checkpoints" / "last.ckpt", map_location="cpu",
                       weights_only=False)
    assert state["global_step"] == 40
    assert "training ended: trainer.max_steps=40 reached, after 40 steps (10 epochs)" in lines


@pytest.mark.slow
def test_the_epoch_limit_given_by_the_user_is_named_when_it_stops_first(tmp_path, caplog):
    cfg = compose_config("train", [*TINY, "+trainer.max_steps=40", "trainer.max_epochs=2"],
                         tmp_path)
    _, lines = _fit_logged(cfg, caplog)
    assert ("training ended: trainer.max_epochs=2 reached before trainer.max_steps=40, "
            "after 8 steps (2 epochs)") in lines


@pytest.mark.slow
@pytest.mark.parametrize(("max_steps", "validated"), [(6, [3, 5]), (8, [3, 7]), (3, [2])])
def test_training_ends_on_a_validation_when_the_last_step_is_mid_epoch(tmp_path, max_steps,
                                                                        validated):
    """4 steps per epoch: a run ending at step 6 validates after its last step as well (best.ckpt
    may be the final weights); one ending at an epoch's end validates there once; one ending
    before its first epoch's end validates too (else it has no best.ckpt)."""
    import csv

    cfg = compose_config("train", [*TINY, f"+trainer.max_steps={max_steps}"], tmp_path)
    train(cfg)
    rows = list(csv.DictReader(open(next(tmp_path.glob("csv/**/metrics.csv")))))
    assert [int(r["step"]) for r in rows if r.get("val/dice")] == validated
    state = torch.load(tmp_path / "checkpoints" / "last.ckpt", map_location="cpu",
                       weights_only=False)
    assert state["global_step"] == max_steps
    assert (tmp_path / "checkpoints" / "best.ckpt").is_file()


def test_a_cpu_budget_counts_this_process_cpu_seconds(tmp_path):
    from seglight.training.budget import TimeBudget, length_callbacks

    cfg = compose_config("train", ["budget=90s", "budget_clock=cpu"], tmp_path)
    budget = length_callbacks(cfg, start=time.monotonic())[0]
    assert budget.clock is time.process_time and budget.start == 0.0  # since the process began
    assert budget.deadline == 90.0
    with pytest.raises(ConfigError, match="budget_clock=gpu: use wall or cpu"):
        TimeBudget(90, clock="gpu")
