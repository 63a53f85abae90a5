"""The Train widget (*Plugins > seglight > Train*): train a network on a curated folder
without leaving napari.

The run is the ``python -m seglight.train ...`` command line shown in the widget (copy it to
rerun it in a terminal or on a cluster), started as a subprocess: the viewer stays
responsive, and a crash or out-of-memory in training cannot take it down. While it runs,
the widget reads the run's TensorBoard logs (in a child process) and shows the progress,
the loss and validation Dice curves and the latest validation panel. *Cancel* stops the run
the way Ctrl-C does (SIGTERM; Lightning finishes the step and ``last.ckpt`` keeps the state),
*Resume* continues the last run from that checkpoint, and at the end the best checkpoint and
its Dice can be handed to the Apply widget.
"""

from __future__ import annotations

import os
import time
from datetime import timedelta
from pathlib import Path

from napari.qt.threading import create_worker
from qtpy.QtCore import QProcess, QProcessEnvironment, Qt, QTimer
from qtpy.QtGui import QImage, QPixmap
from qtpy.QtWidgets import (
    QApplication,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from seglight.curate.napari_widget import FolderField
from seglight.widgets import recent
from seglight.widgets.heartbeat import import_in_background
from seglight.widgets.service import NICE, shared
from seglight.widgets.training_run import (
    Progress,
    RunLogs,
    TrainRequest,
    command,
    data_options,
    model_options,
    new_run,
    parse_output,
    resume_checkpoint,
    runs_of,
    shell_line,
    train_keys,
)

#: How often the run's logs are read while it runs (ms).
POLL_MS = 1500
#: Heights of the curves and of the validation panel in the widget (pixels).
CHART_HEIGHT, PANEL_HEIGHT = 200, 240
#: How long Cancel waits for the run to save and exit before killing it (ms).
KILL_AFTER_MS = 60_000
LIMITS = {"epochs": "epochs", "steps": "optimizer steps", "minutes": "minutes (wall time)",
          "budget": "budget (the trainer's budget=)"}


def lower_priority(pid: int) -> None:
    """Run the training at a lower CPU priority than napari (POSIX nice: ``NICE`` more than
    napari's, set as it starts, before it loads torch: the threads it makes inherit it).
    Where the cores are all busy the viewer gets them first; where one is idle, training
    uses it at full speed. Nothing on Windows."""
    if hasattr(os, "setpriority") and pid:
        try:
            os.setpriority(os.PRIO_PROCESS, int(pid), os.getpriority(os.PRIO_PROCESS, 0) + NICE)
        except OSError:  # gone already
            pass


class TrainWidget(QWidget):
    """Dock widget: choose data, model and budget; Start, Cancel, Resume; watch the run.

    Args:
        napari_viewer: the viewer (napari passes it); any ``ViewerModel`` works.
    """

    def __init__(self, napari_viewer):
        super().__init__()
        self.viewer = napari_viewer
        # the logs are read and the curves drawn in a child process, started meanwhile
        self.log_reader = shared("seglight.widgets.training_run:LogHandler",
                                 "the log reading process")
        self.warm_up = import_in_background(then=self.log_reader.warm_up)
        self.keys = train_keys()
        self.process: QProcess | None = None
        self.run_dir: Path | None = None
        self.best: tuple[Path, float | None] | None = None
        self.progress_state: Progress | None = None
        self.logs = RunLogs()
        self.apply_widget = None  # the Apply widget the best checkpoint goes to
        self._reading = False
        self._poll_again = False
        self._runs_before: set[Path] = set()
        self._log_dir = Path.cwd() / "runs"
        self._started = 0.0
        self._cancelled = False
        self._request = TrainRequest()

        self.data_field = FolderField("curated folder (empty: the demo data)")
        curated = recent.recall("curated")
        if curated is not None:
            self.data_field.edit.setText(str(curated))
        self.data_combo = QComboBox()
        self.data_combo.addItems(data_options())
        self.data_combo.setToolTip("the data config: patch size, normalization, augmentation")
        self.model_combo = QComboBox()
        self.model_combo.addItems(model_options())
        self.model_combo.setCurrentText("unet_xy_tiny")
        self.limit_combo = QComboBox()
        for key, text in LIMITS.items():
            if key != "budget" or "budget" in self.keys:
                self.limit_combo.addItem(text, key)
        self.amount = QDoubleSpinBox()
        self.amount.setRange(0, 1e6)
        self.amount.setDecimals(1)
        self.amount.setValue(8)
        self.amount.setSpecialValueText("the config's")
        self.init_field = FolderField("optional: start from this checkpoint's weights",
                                      file_filter="Checkpoints (*.ckpt)")
        self.runs_field = FolderField("where runs go")
        self.runs_field.edit.setText(str(Path.cwd() / "runs"))
        self.extra = QLineEdit()
        self.extra.setPlaceholderText("more overrides, e.g. trainer=gpu data.patch_zyx=[16,64,64]")

        form = QFormLayout()
        form.addRow("curated folder", self.data_field)
        form.addRow("data config", self.data_combo)
        form.addRow("model", self.model_combo)
        limit_row = QHBoxLayout()
        limit_row.addWidget(self.amount)
        limit_row.addWidget(self.limit_combo, 1)
        form.addRow("train for", limit_row)
        if "init_from" in self.keys:
            form.addRow("fine-tune from", self.init_field)
        form.addRow("runs folder", self.runs_field)
        form.addRow("overrides", self.extra)

        self.command_line = QLineEdit()
        self.command_line.setReadOnly(True)
        copy = QPushButton("Copy")
        copy.setToolTip("copy the command line: it runs the same training in a terminal")
        copy.clicked.connect(lambda: QApplication.clipboard().setText(self.command_line.text()))
        command_row = QHBoxLayout()
        command_row.addWidget(self.command_line, 1)
        command_row.addWidget(copy)

        self.start_button = QPushButton("Start")
        self.cancel_button = QPushButton("Cancel")
        self.resume_button = QPushButton("Resume")
        self.cancel_button.setToolTip("stop after the current step; last.ckpt keeps the state")
        self.resume_button.setToolTip("continue the last run from its last.ckpt (in the same "
                                      "run folder: the curves go on)")
        self.start_button.clicked.connect(lambda: self.start())
        self.cancel_button.clicked.connect(self.cancel)
        self.resume_button.clicked.connect(self.resume)
        buttons = QHBoxLayout()
        for button in (self.start_button, self.cancel_button, self.resume_button):
            buttons.addWidget(button)

        self.progress = QProgressBar()
        self.progress.setFormat("%p%")
        self.status = QLabel("Choose the data and the model, then Start.")
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextSelectableByMouse)
        self.chart = QLabel()
        self.chart.setAlignment(Qt.AlignCenter)
        self.chart.setFixedHeight(CHART_HEIGHT + 4)
        self.panel = QLabel()
        self.panel.setAlignment(Qt.AlignCenter)
        self.panel_caption = QLabel("")
        self.result = QLabel("")
        self.result.setWordWrap(True)
        self.result.setTextInteractionFlags(Qt.TextSelectableByMouse)
        self.apply_button = QPushButton("Apply this checkpoint…")
        self.apply_button.setToolTip("open the Apply widget with the best checkpoint")
        self.apply_button.clicked.connect(self.hand_to_apply)
        self.output = QPlainTextEdit()
        self.output.setReadOnly(True)
        self.output.setMaximumBlockCount(200)
        self.output.setMaximumHeight(90)
        self.output.setPlaceholderText("the run's messages")

        layout = QVBoxLayout(self)
        layout.addWidget(QLabel("<b>seglight — train a network</b>"))
        layout.addLayout(form)
        layout.addWidget(QLabel("command line (what Start runs):"))
        layout.addLayout(command_row)
        layout.addLayout(buttons)
        layout.addWidget(self.progress)
        layout.addWidget(self.status)
        layout.addWidget(self.chart)
        layout.addWidget(self.panel_caption)
        layout.addWidget(self.panel)
        layout.addWidget(self.result)
        layout.addWidget(self.apply_button)
        layout.addWidget(self.output)
        layout.addStretch(1)

        self.kill_timer = QTimer(self)
        self.kill_timer.setSingleShot(True)
        self.kill_timer.timeout.connect(self._kill)
        self.poll_timer = QTimer(self)
        self.poll_timer.setInterval(POLL_MS)
        self.poll_timer.timeout.connect(self.poll)
        for signal in (self.data_field.edit.textChanged, self.data_combo.currentTextChanged,
                       self.model_combo.currentTextChanged, self.limit_combo.currentIndexChanged,
                       self.amount.valueChanged, self.init_field.edit.textChanged,
                       self.runs_field.edit.textChanged, self.extra.textChanged):
            signal.connect(lambda *_: self.update_command())
        QApplication.instance().aboutToQuit.connect(self.shut_down)
        self.update_command()
        self._enable()

    # --- the command -------------------------------------------------------------------

    def request(self, ckpt_path: Path | None = None) -> TrainRequest:
        """The run the fields describe (``ckpt_path``: resume that checkpoint)."""
        folder = self.data_field.value()
        data = self.data_combo.currentText()
        if folder is None:
            data = "demo"
        elif data == "demo":
            data = "lamin"  # a folder of curated triplets, whatever the structure
        init = self.init_field.value() if "init_from" in self.keys else None
        return TrainRequest(
            data_path=folder, model=self.model_combo.currentText(), data=data,
            limit=self.limit_combo.currentData(), amount=self.amount.value(),
            init_from=init, ckpt_path=str(ckpt_path) if ckpt_path else None,
            log_dir=self.runs_field.value(), extra=self.extra.text().split())

    def update_command(self) -> None:
        self._request = self.request()
        self.command_line.setText(shell_line(command(self._request)))
        self.command_line.setCursorPosition(0)

    # --- running -----------------------------------------------------------------------

    @property
    def running(self) -> bool:
        return self.process is not None

    def start(self, ckpt_path: Path | None = None) -> None:
        """Start ``python -m seglight.train`` with the fields' overrides (resuming
        ``ckpt_path`` if given)."""
        if self.running:
            return
        request = self.request(ckpt_path)
        argv = command(request)
        self.command_line.setText(shell_line(argv))
        log_dir = Path(request.log_dir or Path.cwd() / "runs")
        self._runs_before = runs_of(log_dir)
        self._log_dir = log_dir
        self.run_dir, self.best = None, None
        self.progress_state, self.logs = None, RunLogs()
        self._cancelled = False
        self.output.clear()
        self.result.setText("")
        self.chart.clear()
        self.panel.clear()
        self.panel_caption.setText("")
        self.progress.setRange(0, 0)  # busy until the first step
        process = QProcess(self)
        process.setProcessChannelMode(QProcess.MergedChannels)
        process.setWorkingDirectory(str(Path.cwd()))
        env = QProcessEnvironment.systemEnvironment()
        env.insert("PYTHONUNBUFFERED", "1")
        process.setProcessEnvironment(env)
        process.readyReadStandardOutput.connect(self._read_output)
        process.finished.connect(self._finished)
        process.errorOccurred.connect(self._process_error)
        self.process = process
        self._started = time.monotonic()
        process.started.connect(lambda: lower_priority(process.processId()))
        process.start(argv[0], argv[1:])
        self.status.setText(("resuming " + str(ckpt_path) if ckpt_path else "starting") +
                            " (loading the data and the network)…")
        self.poll_timer.start()
        self._enable()

    def cancel(self) -> None:
        """Stop the run as Ctrl-C would: Lightning ends the current step and saves
        ``last.ckpt`` (kept; *Resume* continues from it)."""
        if not self.running:
            return
        self._cancelled = True
        self.status.setText("cancelling: saving the checkpoint so far…")
        self.process.terminate()  # SIGTERM (Windows: WM_CLOSE)
        self.kill_timer.start(KILL_AFTER_MS)

    def _kill(self) -> None:
        """Cancel's last resort: the run did not stop in time (nothing is saved)."""
        if self.process is not None:
            self.process.kill()

    def resume(self) -> None:
        """Continue the last run (this session's, else the newest in the runs folder) from
        its ``last.ckpt``."""
        if self.running:
            return
        run = self.run_dir
        if run is None:
            runs = runs_of(Path(self.runs_field.value() or Path.cwd() / "runs"))
            run = max(runs, key=lambda p: p.name) if runs else None
            if run is not None and (run / "continues").exists():  # a resume's own folder
                run = (run / "continues").resolve()
        checkpoint = resume_checkpoint(run) if run is not None else None
        if checkpoint is None:
            self.status.setText("no run with a checkpoint to resume (a run writes last.ckpt "
                                "after its first epoch, or when cancelled after a step)")
            return
        self.start(checkpoint)

    def _read_output(self) -> None:
        text = bytes(self.process.readAllStandardOutput()).decode("utf-8", "replace")
        self.progress_state, best = parse_output(text, self.progress_state)
        for path, _metric, value in best:
            self.best = (path, value)
        lines = [ln.strip() for ln in text.replace("\r", "\n").split("\n")]
        for line in lines:
            if line and not line.startswith(("Epoch ", "Validation", "Sanity", "Training:",
                                             "\x1b")):
                self.output.appendPlainText(line)
        self._show_progress()

    def _show_progress(self) -> None:
        state = self.progress_state
        request = self._request
        elapsed = time.monotonic() - self._started
        if state is None or not state.batches:
            return
        total = None
        if request.limit == "steps" and request.amount:
            total, done = int(request.amount), state.step
        elif request.limit == "epochs" and request.amount:
            total, done = int(request.amount) * state.batches, state.step
        elif request.limit == "minutes" and request.amount:
            total, done = int(request.amount * 60), int(elapsed)
        if total:
            self.progress.setRange(0, total)
            self.progress.setValue(min(done, total))
        text = (f"epoch {state.epoch + 1}, step {state.batch}/{state.batches} of the epoch "
                f"({state.step} in all), {timedelta(seconds=int(elapsed))} elapsed")
        if self.run_dir is not None:
            text += f"\nrun folder: {self.run_dir}"
        self.status.setText(text)

    def poll(self) -> None:
        """Find the run folder, then have its logs read and drawn in the child process (a
        worker waits for them; never the GUI thread)."""
        if self.run_dir is None:
            self.run_dir = new_run(self._log_dir, self._runs_before)
            if self.run_dir is None:
                return
        if self._reading:
            self._poll_again = True  # when this read ends (the run's last logs, at its end)
            return
        self._poll_again = False
        request = ("read", str(self.run_dir), max(320, self.width() - 20), CHART_HEIGHT,
                   self.chart.pixmap().isNull())
        reader = self.log_reader

        def job():
            answer = reader.call(request)
            if answer is None:
                return None  # nothing new
            logs, png = answer
            # decoded and scaled here (QImage may be used off the GUI thread; QPixmap not)
            chart = QImage.fromData(png, "PNG")
            panel = QImage.fromData(logs.panel) if logs.panel is not None else None
            if panel is not None:
                panel = panel.scaled(min(request[2], panel.width() * 3), PANEL_HEIGHT,
                                     Qt.KeepAspectRatio, Qt.SmoothTransformation)
            return logs, chart, panel

        self._reading = True
        worker = create_worker(job, _start_thread=False, _ignore_errors=True)
        worker.returned.connect(self._show_logs)
        worker.finished.connect(self._read_done)
        worker.start()

    def _read_done(self) -> None:
        self._reading = False
        if self._poll_again:
            self.poll()

    def _show_logs(self, returned) -> None:
        if returned is None:
            return
        logs, chart, panel = returned
        self.logs = logs
        self.chart.setPixmap(QPixmap.fromImage(chart))
        if panel is not None:
            self.panel.setPixmap(QPixmap.fromImage(panel))
            self.panel_caption.setText(f"latest validation panel (epoch {logs.panel_epoch}): "
                                       "input, ground truth, prediction, costmap")

    def _process_error(self, error) -> None:
        if error == QProcess.FailedToStart:
            self.status.setText(f"could not start {self.command_line.text().split()[0]}")
            self._cleanup()

    def _finished(self, exit_code: int, _status=None) -> None:
        self._read_output()
        self.poll_timer.stop()
        if self.run_dir is None:
            self.run_dir = new_run(self._log_dir, self._runs_before)
        checkpoint = resume_checkpoint(self.run_dir) if self.run_dir else None
        if self.run_dir is not None and self.best is None:
            best = self.run_dir / "checkpoints" / "best.ckpt"
            if best.is_file():
                self.best = (best, None)
        if self._cancelled:
            kept = (f"the checkpoint so far is kept: {checkpoint}; Resume continues from it"
                    if checkpoint else "no checkpoint yet (cancelled before the first step)")
            self.status.setText(f"cancelled: {kept}")
        elif exit_code != 0:
            last = [ln for ln in self.output.toPlainText().splitlines() if ln.strip()][-3:]
            self.status.setText(f"training failed (exit code {exit_code}):\n" + "\n".join(last))
        else:
            took = timedelta(seconds=int(time.monotonic() - self._started))
            self.status.setText(f"finished in {took}; run folder: {self.run_dir}")
            self.progress.setRange(0, 1)
            self.progress.setValue(1)
        if self.progress.maximum() == 0:
            self.progress.setRange(0, 1)
        self._cleanup()
        if self.run_dir is not None:  # the last curves and panel
            self.poll()
        self._show_result()

    def _show_result(self) -> None:
        if self.best is None:
            self.result.setText("")
        else:
            path, dice = self.best
            dice_text = f"validation Dice {dice:.3f}" if dice is not None else "Dice not logged"
            self.result.setText(f"best checkpoint: {path} ({dice_text})")
            recent.remember("checkpoint", path)
        self._enable()

    def _cleanup(self) -> None:
        self.kill_timer.stop()
        if self.process is not None:
            self.process.deleteLater()
        self.process = None
        self._enable()

    def _enable(self) -> None:
        running = self.running
        self.start_button.setEnabled(not running)
        self.resume_button.setEnabled(not running)
        self.cancel_button.setEnabled(running)
        self.apply_button.setEnabled(self.best is not None and not running)

    # --- hand-over ---------------------------------------------------------------------

    def hand_to_apply(self):
        """Open (or reuse) the Apply widget with the best checkpoint; return it."""
        if self.best is None:
            return None
        path = self.best[0]
        recent.remember("checkpoint", path)
        widget = self.apply_widget
        if widget is None and getattr(self.viewer, "window", None) is not None:
            _, widget = self.viewer.window.add_plugin_dock_widget("seglight", "Apply")
            self.apply_widget = widget
        if widget is not None:
            widget.use_checkpoint(path)
        return widget

    def shut_down(self) -> None:
        """napari is quitting: stop the run (its checkpoint is saved) and wait for it."""
        if self.process is not None:
            self._cancelled = True
            self.process.terminate()
            if not self.process.waitForFinished(30_000):
                self.process.kill()
        self.log_reader.close()
