"""The Train widget, offscreen with pytest-qt: a real ``python -m seglight.train``
subprocess, its progress and logs read back, Cancel keeping the checkpoint, Resume.

The viewer is napari's ``ViewerModel`` (the layer model of a window, no OpenGL canvas).
"""

import os

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
pytest.importorskip("napari")
pytest.importorskip("pytestqt")

import torch  # noqa: E402
from napari.components import ViewerModel  # noqa: E402

from seglight.widgets import recent  # noqa: E402
from seglight.widgets.heartbeat import StallMeter  # noqa: E402
from seglight.widgets.service import NICE  # noqa: E402
from seglight.widgets.train import TrainWidget  # noqa: E402
from tests.widgets.conftest import TINY  # noqa: E402

pytestmark = pytest.mark.slow
WAIT_MS = 300_000


def open_widget(qtbot, tmp_path, monkeypatch, limit: str, amount: float,
                samples: int) -> TrainWidget:
    monkeypatch.chdir(tmp_path)  # the demo data goes to ./data, as from a terminal
    widget = TrainWidget(ViewerModel())
    qtbot.addWidget(widget)
    qtbot.waitUntil(lambda: widget.warm_up.loaded, timeout=300_000)  # background imports
    widget.data_field.edit.setText("")  # the demo data
    widget.model_combo.setCurrentText("unet_xy_tiny")
    widget.limit_combo.setCurrentIndex(widget.limit_combo.findData(limit))
    widget.amount.setValue(amount)
    widget.runs_field.edit.setText(str(tmp_path / "runs"))
    widget.extra.setText(f"{TINY} data.samples_per_epoch={samples}")
    return widget


def test_a_two_step_training_from_the_widget(qtbot, tmp_path, monkeypatch):
    widget = open_widget(qtbot, tmp_path, monkeypatch, "steps", 2, samples=2)
    line = widget.command_line.text()
    assert "-m seglight.train model=unet_xy_tiny data=demo trainer.max_steps=2" in line
    assert "trainer.accelerator=cpu" in line
    meter = StallMeter().start()
    widget.start_button.click()
    assert widget.running and not widget.start_button.isEnabled()
    if hasattr(os, "getpriority"):  # the training yields the CPU to the viewer
        wanted = os.getpriority(os.PRIO_PROCESS, 0) + NICE
        qtbot.waitUntil(lambda: widget.process is None or widget.process.processId() and
                        os.getpriority(os.PRIO_PROCESS, widget.process.processId()) == wanted,
                        timeout=30_000)
    qtbot.waitUntil(lambda: not widget.running, timeout=WAIT_MS)
    meter.stop()
    print(f"event-loop stall during training: max {meter.max_stall_ms:.0f} ms "
          f"({meter.beats} beats)")
    assert widget.progress_state is not None and widget.progress_state.step == 2
    assert widget.progress.value() == widget.progress.maximum() == 1
    assert "finished" in widget.status.text()
    run = widget.run_dir
    assert run is not None and run.parent == tmp_path / "runs" / "train"
    best, dice = widget.best
    assert best == run / "checkpoints" / "best.ckpt" and best.is_file()
    assert 0 <= dice <= 1
    assert f"best checkpoint: {best}" in widget.result.text()
    assert widget.apply_button.isEnabled()
    assert recent.recall("checkpoint") == best
    # the curves and the panel, read from the run's TensorBoard logs in a worker
    qtbot.waitUntil(lambda: bool(widget.logs.dice) and widget.panel.pixmap() is not None
                    and not widget.panel.pixmap().isNull(), timeout=60_000)
    assert widget.logs.dice[-1][1] == pytest.approx(dice, abs=1e-4)
    assert not widget.chart.pixmap().isNull()


def test_cancel_keeps_the_checkpoint_and_resume_continues_from_it(qtbot, tmp_path,
                                                                  monkeypatch):
    widget = open_widget(qtbot, tmp_path, monkeypatch, "epochs", 50, samples=40)
    widget.start_button.click()
    # past the first epoch (40 steps) and into the second: last.ckpt then holds epoch 0
    qtbot.waitUntil(lambda: widget.progress_state is not None
                    and widget.progress_state.step >= 45, timeout=WAIT_MS)
    widget.cancel_button.click()
    qtbot.waitUntil(lambda: not widget.running, timeout=WAIT_MS)
    last = widget.run_dir / "checkpoints" / "last.ckpt"
    assert "cancelled: the checkpoint so far is kept" in widget.status.text()
    assert str(last) in widget.status.text()
    state = torch.load(last, map_location="cpu", weights_only=False)
    assert state["global_step"] >= 45  # where it stopped, not the end of epoch 0 (40)
    assert widget.resume_button.isEnabled()

    widget.resume_button.click()
    assert widget.running
    assert f"ckpt_path={last}" in widget.command_line.text()
    widget.cancel_button.click()  # stop the resumed run too: the test ends here
    qtbot.waitUntil(lambda: not widget.running, timeout=WAIT_MS)
