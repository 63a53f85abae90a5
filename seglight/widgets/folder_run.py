"""A panel that runs the predict runner on a folder from a widget: input and output
folders, a file pattern, options, Run and Cancel, a progress bar and the runner's summary
with its one-line failures. The run happens in a napari thread worker.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from napari.qt.threading import create_worker
from qtpy.QtCore import QObject, Qt, Signal
from qtpy.QtWidgets import (
    QCheckBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
)

from seglight.curate.napari_widget import FolderField
from seglight.errors import SeglightError
from seglight.widgets.service import error_line

#: ``job(input, output, input_glob, options, should_stop, on_progress) -> Summary``.
FolderJob = Callable[..., object]


class _Relay(QObject):
    """Carries the worker's progress to the GUI thread (a queued signal)."""

    progress = Signal(int, int, str)


class FolderRunBox(QGroupBox):
    """Run a predict job on a folder, with progress, Cancel and the summary.

    Args:
        title: the group's title.
        prepare: called on Run; returns ``(job, description)`` where ``job`` takes
            ``(input, output, input_glob, options, should_stop, on_progress)`` and returns
            the runner's :class:`~seglight.summary.Summary`; raises
            :class:`~seglight.errors.SeglightError` (shown as one line) when it cannot run.
        checkboxes: option name -> the check box's text (the options the job receives).
    """

    def __init__(self, title: str, prepare: Callable[[], tuple[FolderJob, str]],
                 checkboxes: dict[str, str]):
        super().__init__(title)
        self.prepare = prepare
        self.stop_requested = False
        self._worker = None
        self.relay = _Relay()
        self.relay.progress.connect(self._progress)
        self.fields = {"input": FolderField("raw images (a folder)"),
                       "output": FolderField("results (created)")}
        self.glob = QLineEdit("*")
        self.options = {key: QCheckBox(text) for key, text in checkboxes.items()}
        self.run_button, self.cancel_button = QPushButton("Run on folder"), QPushButton("Cancel")
        self.run_button.clicked.connect(self.run)
        self.cancel_button.clicked.connect(self.cancel)
        self.bar = QProgressBar()
        self.status = QLabel("")
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextSelectableByMouse)
        form = QFormLayout(self)
        for key, field in self.fields.items():
            form.addRow(key, field)
        form.addRow("input_glob", self.glob)
        for box in self.options.values():
            form.addRow(box)
        buttons = QHBoxLayout()
        buttons.addWidget(self.run_button)
        buttons.addWidget(self.cancel_button)
        for row in (buttons, self.bar, self.status):
            form.addRow(row)
        self._set_running(False)

    @property
    def busy(self) -> bool:
        return self._worker is not None

    def _set_running(self, running: bool) -> None:
        self.run_button.setEnabled(not running)
        self.cancel_button.setEnabled(running)

    def run(self) -> None:
        """Start the job on the chosen folders in a worker thread."""
        if self.busy:
            return
        source, out = self.fields["input"].value(), self.fields["output"].value()
        if not (source and out):
            self.status.setText("choose the input and output folders first")
            return
        try:
            job, description = self.prepare()
        except SeglightError as err:
            self.status.setText(str(err))
            return
        options = {key: box.isChecked() for key, box in self.options.items()}
        glob = self.glob.text().strip() or "*"
        self.stop_requested = False
        emit = self.relay.progress.emit

        def work():
            return job(source, out, glob, options, lambda: self.stop_requested,
                       lambda done, total, path: emit(done, total, Path(path).name))

        self.bar.setValue(0)
        self.status.setText(f"running {description} on {source} → {out}…")
        self._set_running(True)
        self._worker = create_worker(work, _start_thread=False, _ignore_errors=True)
        self._worker.returned.connect(lambda summary: self._done(summary, out))
        self._worker.errored.connect(lambda err: self.status.setText(error_line(err)))
        self._worker.finished.connect(self._finished)
        self._worker.start()

    def cancel(self) -> None:
        """Stop after the image in progress: what is written is kept, and Run on folder
        again resumes."""
        self.stop_requested = True
        self.status.setText("cancelling after the image in progress…")

    def _progress(self, done: int, total: int, name: str) -> None:
        self.bar.setMaximum(total)
        self.bar.setValue(done)
        self.status.setText(f"{done} of {total}: {name}")

    def _done(self, summary, out: str) -> None:
        head = summary.line()
        if self.stop_requested:
            head += " (cancelled: Run on folder again resumes)"
        self.status.setText("\n".join([f"{head}; results in {out}", *summary.failures[-5:]]))

    def _finished(self) -> None:
        self._worker = None
        self._set_running(False)
