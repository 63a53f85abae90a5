"""result.json: what a run leaves when it ends well, fails, is interrupted or resumed."""

from __future__ import annotations

import json

import pytest

from seglight.errors import ConfigError
from seglight.training.record import MetricHistory, RunRecord


def _result(folder) -> dict:
    return json.loads((folder / "result.json").read_text())


@pytest.mark.parametrize(("error", "status", "line"), [
    (ValueError("Invalid lr: -1\nmore"), "failed", "ValueError: Invalid lr: -1"),
    (ConfigError("data.path=x: no such folder"), "failed", "data.path=x: no such folder"),
    (KeyboardInterrupt(), "interrupted", "interrupted"),
    (SystemExit(1), "interrupted", "interrupted"),  # Lightning's exit after Ctrl+C
])
def test_a_run_that_stops_says_why_in_one_line(tmp_path, error, status, line):
    with pytest.raises(type(error)), RunRecord(tmp_path, "val/dice"):
        assert _result(tmp_path)["status"] == "running"  # written at the start
        raise error
    assert (_result(tmp_path)["status"], _result(tmp_path)["error"]) == (status, line)


def test_the_best_and_where_it_was_reached(tmp_path):
    history = MetricHistory("val/dice", "max")
    history.values = [(5, 0, 0.3), (11, 1, 0.6), (17, 2, 0.6), (23, 3, 0.4)]
    with RunRecord(tmp_path, "val/dice") as record:
        record.finish(history, None, None, None)
    result = _result(tmp_path)
    assert (result["best"], result["best_step"], result["best_epoch"], result["last"]) == (
        0.6, 11, 1, 0.4)  # the first of equal values
    assert result["status"] == "done" and result["wall_s"] >= 0
    loss = MetricHistory("val/loss", "min")
    loss.load_state_dict(history.state_dict())  # (as a resumed run gets it back)
    assert loss.best() == (5, 0, 0.3)


def test_a_resumed_run_adds_its_times_and_keeps_its_overrides(tmp_path):
    (tmp_path / "result.json").write_text(json.dumps(
        {"status": "done", "wall_s": 100.0, "cpu_s": 50.0, "job": 3, "started": "then",
         "overrides": ["model=basic_unet"]}))
    with RunRecord(tmp_path, "val/dice", continues=True):
        pass
    result = _result(tmp_path)
    assert result["wall_s"] >= 100.0 and result["cpu_s"] >= 50.0
    assert (result["job"], result["started"], result["overrides"]) == (
        3, "then", ["model=basic_unet"])
    with RunRecord(tmp_path, "val/dice"):  # a new run in the same folder starts afresh
        pass
    assert _result(tmp_path)["wall_s"] < 100.0
