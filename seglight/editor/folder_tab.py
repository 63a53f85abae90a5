"""The editor's *Folder* tab: run the tuned workflow on a folder of images, as
``python -m seglight.predict workflow=FILE`` does, then open any result in the viewer."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from qtpy.QtCore import Qt
from qtpy.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QWidget,
)

from seglight.curate.napari_widget import FolderField
from seglight.errors import SeglightError
from seglight.io.image import image_stem, is_image_file
from seglight.predict.runner import LABELS_NAME, MASK_NAME

if TYPE_CHECKING:
    from seglight.editor.widget import WorkflowEditor


class FolderTab(QWidget):
    """Input and output folders, options, Run on folder / Cancel, progress, and the
    results to open."""

    def __init__(self, editor: WorkflowEditor):
        super().__init__()
        self.editor = editor
        self.worker = None
        self.stop = False
        form = QFormLayout(self)
        self.fields = {"input": FolderField("raw images (a folder)"),
                       "output": FolderField("results (created)")}
        for key, widget in self.fields.items():
            form.addRow(key, widget)
        self.glob = QLineEdit("*")
        form.addRow("input_glob", self.glob)
        self.labels = QCheckBox("labels + object table per image")
        self.overwrite = QCheckBox("overwrite (recompute images already done)")
        form.addRow(self.labels)
        form.addRow(self.overwrite)
        self.run_button = QPushButton("Run on folder")
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setEnabled(False)
        self.run_button.clicked.connect(self.run)
        self.cancel_button.clicked.connect(self.cancel)
        row = QHBoxLayout()
        row.addWidget(self.run_button)
        row.addWidget(self.cancel_button)
        form.addRow(row)
        self.progress = QProgressBar()
        form.addRow(self.progress)
        self.status = QLabel("")
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextSelectableByMouse)
        form.addRow(self.status)
        self.results = QComboBox()
        self.open_button = QPushButton("Open in the viewer")
        self.open_button.clicked.connect(lambda: self.open_result(self.results.currentText()))
        opener = QHBoxLayout()
        opener.addWidget(self.results, 1)
        opener.addWidget(self.open_button)
        form.addRow("results", opener)
        self._show_results([])
        editor.relay.progress.connect(self._on_progress)

    @property
    def busy(self) -> bool:
        return self.worker is not None

    def run(self) -> None:
        """Save the workflow beside the results and run it on the input folder in a worker,
        through the runner ``python -m seglight.predict`` uses (skip, resume, one-line
        errors)."""
        editor = self.editor
        if editor.session is None or self.worker is not None:
            return
        source, out = (self.fields[k].value() for k in ("input", "output"))
        if not source or not out:
            self.status.setText("choose the input and output folders first")
            return
        config = editor.save(Path(out) / f"{editor.session.workflow}_editor.yaml")
        if config is None:
            self.status.setText(editor.status.text())
            return
        from napari.qt.threading import create_worker

        from seglight.api import predict_files

        self.stop = False
        options = {"labels": self.labels.isChecked(), "overwrite": self.overwrite.isChecked()}
        glob = self.glob.text().strip() or "*"

        def job():
            return predict_files(source, out, workflow=config, input_glob=glob,
                                 progress=False, should_stop=lambda: self.stop,
                                 on_progress=lambda d, t, p: editor.relay.progress.emit(
                                     d, t, Path(p).name),
                                 **options)

        self.progress.setValue(0)
        self.status.setText(f"running on {source} with {config.name}…")
        self.run_button.setEnabled(False)
        self.cancel_button.setEnabled(True)
        from seglight.editor.widget import keep_alive

        worker = create_worker(job, _start_thread=False, _ignore_errors=True)
        self.worker = worker
        keep_alive(worker)
        worker.returned.connect(self._done)
        worker.errored.connect(lambda err: self.status.setText(
            str(err) if isinstance(err, SeglightError) else f"{type(err).__name__}: {err}"))
        worker.finished.connect(self._finished)
        worker.start()

    def cancel(self) -> None:
        """Stop the folder run after the image in progress (its outputs are kept; Run on
        folder again resumes)."""
        self.stop = True
        self.status.setText("cancelling after the image in progress…")

    def _on_progress(self, done: int, total: int, name: str) -> None:
        self.progress.setMaximum(total)
        self.progress.setValue(done)
        self.status.setText(f"{done} of {total}: {name}")

    def _done(self, summary) -> None:
        lines = [summary.line() + (" (cancelled: Run on folder again resumes)"
                                   if self.stop else "")]
        lines += summary.failures[-5:]
        stems = self.result_stems()
        if stems:
            lines.append(f"{len(stems)} result(s) to open: pick one under *results*")
        self.status.setText("\n".join(lines))
        self._show_results(stems)

    def _finished(self) -> None:
        self.worker = None
        self.run_button.setEnabled(True)
        self.cancel_button.setEnabled(False)

    # --- results -----------------------------------------------------------------------

    def result_stems(self) -> list[str]:
        """The images of the output folder that have a mask, by stem."""
        out = self.fields["output"].value()
        if not out or not Path(out).is_dir():
            return []
        suffix = MASK_NAME.format(stem="")
        return sorted(p.name[: -len(suffix)] for p in Path(out).glob(f"*{suffix}"))

    def _show_results(self, stems: list[str]) -> None:
        self.results.clear()
        self.results.addItems(stems)
        self.open_button.setEnabled(bool(stems))

    def open_result(self, stem: str) -> list:
        """Add one image of the folder run to the viewer: the raw image, its mask and (when
        written) its labels, each with the file's voxel size (:mod:`seglight.napari_reader`).
        Returns the layers added."""
        from seglight.napari_reader import file_layers

        source, out = (self.fields[k].value() for k in ("input", "output"))
        if not stem or not out:
            return []
        files = [p for p in sorted(Path(source or ".").glob(self.glob.text().strip() or "*"))
                 if is_image_file(p) and image_stem(p) == stem]
        files += [Path(out) / name.format(stem=stem) for name in (MASK_NAME, LABELS_NAME)]
        added = []
        viewer = self.editor.viewer
        for path in files:
            if not path.exists():
                continue
            try:
                for data, kwargs, kind in file_layers(path):
                    added.append(getattr(viewer, f"add_{kind}")(data, **kwargs))
            except SeglightError as err:
                self.status.setText(str(err))
        if added:
            self.editor.say(f"opened {stem}: {', '.join(layer.name for layer in added)}")
        return added
