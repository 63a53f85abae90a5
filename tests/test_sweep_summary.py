"""Sweep job folder names and the summary table, without training (seglight/sweep.py)."""

from __future__ import annotations

import csv
import json

from seglight.sweep import (
    collect,
    format_table,
    job_dirname,
    swept_keys,
    write_result,
    write_summary,
)


def test_swept_keys_are_the_command_line_sweeps_and_the_sweepers_params():
    keys = swept_keys(["model=a,b", "trainer.max_epochs=2", "model.optimizer.lr=range(1,3)"],
                      {"data.foreground_fraction": "interval(0.3, 0.8)"})
    assert keys == ["model", "model.optimizer.lr", "data.foreground_fraction"]


def test_a_job_folder_is_named_by_its_number_and_swept_values(tmp_path):
    (tmp_path / "sweep.json").write_text(json.dumps(
        {"swept": ["model", "model.optimizer.lr", "data.path", "model.loss.kind", "a.kind"],
         "first_job": 4}))
    overrides = ["model=basic_unet", "model.optimizer.lr=0.0012345678", "trainer.max_epochs=2",
                 "data.path='/data/my curated/lamin é'", "model.loss.kind=ce", "a.kind=x/y"]
    name = job_dirname(1, overrides, tmp_path)
    # number continued from the folder's, keys shortened unless ambiguous, floats to 4
    # digits, paths to their last part, anything unsafe in a file name replaced
    assert name == ("5_model=basic_unet,lr=0.001235,path=lamin_é,model.loss.kind=ce,"
                    "a.kind=x_y")
    assert job_dirname(0, [], tmp_path) == "4"
    # without sweep.json (the callback switched off): every override, from job 0
    assert job_dirname(2, ["trainer.max_epochs=2"], tmp_path / "nowhere") == "2_max_epochs=2"
    assert len(job_dirname(0, [f"k{i}=v{i}" for i in range(60)], tmp_path / "x")) <= 96


def test_the_summary_is_best_first_with_failed_jobs_last(tmp_path):
    (tmp_path / "sweep.json").write_text(json.dumps({"swept": ["lr"], "first_job": 0}))
    common = {"metric": "val/dice", "mode": "max", "wall_s": 1.0, "cpu_s": 2.0}
    for job, best, status in [(0, 0.5, "done"), (1, None, "failed"), (2, 0.7, "done"),
                              (3, None, "done")]:
        write_result(tmp_path / f"{job}_lr={job}", {
            **common, "job": job, "best": best, "status": status, "best_step": 4,
            "best_epoch": 1, "overrides": [f"lr={job}", "trainer.max_epochs=2"],
            "error": "ValueError: bad lr" if status == "failed" else None,
            "best_checkpoint": str(tmp_path / f"{job}_lr={job}" / "checkpoints" / "best.ckpt")})
    rows = collect(tmp_path)
    assert [r["job"] for r in rows] == [2, 0, 3, 1]
    assert rows[0]["overrides"] == "lr=2"
    assert rows[0]["all_overrides"] == "lr=2 trainer.max_epochs=2"
    table = format_table(rows, tmp_path).splitlines()
    assert table[0].split()[:4] == ["job", "overrides", "best", "val/dice"]
    assert table[1].split()[:4] == ["2", "lr=2", "0.7000", "4"]
    assert "2_lr=2/checkpoints/best.ckpt" in table[1]
    assert table[-1].endswith("failed: ValueError: bad lr")
    path = write_summary(rows, tmp_path / "sweep_summary.csv")
    with open(path, newline="") as f:
        written = list(csv.DictReader(f))
    assert [r["job"] for r in written] == ["2", "0", "3", "1"]
    assert written[3]["error"] == "ValueError: bad lr"


def test_a_loss_is_sorted_lowest_first(tmp_path):
    for job, best in [(0, 0.3), (1, 0.1)]:
        write_result(tmp_path / str(job), {"job": job, "best": best, "mode": "min",
                                           "status": "done", "metric": "val/loss"})
    assert [r["job"] for r in collect(tmp_path)] == [1, 0]
