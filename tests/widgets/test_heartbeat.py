"""The stall meter (seglight.widgets.heartbeat), offscreen: a GUI thread blocked on purpose is
measured, and the stack dump at the stall names what blocked it."""

import os
import time

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
pytest.importorskip("pytestqt")

from qtpy.QtCore import QTimer  # noqa: E402

from seglight.widgets.heartbeat import StallMeter  # noqa: E402


def block_the_gui_thread_for_a_while() -> None:
    time.sleep(0.3)


def test_a_blocked_loop_is_measured_and_its_stack_dumped(qtbot, tmp_path):
    with open(tmp_path / "stacks.txt", "w") as dump:
        meter = StallMeter(interval_ms=10, report_ms=100, dump_to=dump).start()
        qtbot.wait(200)
        QTimer.singleShot(0, block_the_gui_thread_for_a_while)
        qtbot.wait(300)
        meter.stop()
    assert 250 <= meter.max_stall_ms < 2000
    assert len(meter.stalls) == 1 and meter.stalls[0][1] == pytest.approx(meter.max_stall_ms,
                                                                         abs=0.1)
    # ~20 beats fit in the 200 ms the loop is free; a loaded CI machine schedules fewer
    assert meter.beats == len(meter.gaps) >= 5
    assert meter.percentile(50) < 100 <= meter.percentile(100) == meter.max_stall_ms
    stacks = (tmp_path / "stacks.txt").read_text()
    assert "block_the_gui_thread_for_a_while" in stacks
