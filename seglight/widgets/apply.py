"""The Apply widget (*Plugins > seglight > Apply*): run a binarizer on the image on screen
or on a folder, with the predict runner ``python -m seglight.predict`` uses.

The binarizer is a trained network's checkpoint, a classic workflow, a workflow saved by the
workflow editor, or a bioimage.io model package. On the image layer on screen, the result
is a Labels layer (the mask) and, for a network, an Image layer of its probability map; the
threshold slider re-thresholds that map live, without running the network again. On a
folder, the runner writes what the command line writes (skipping images already done, so a
cancelled run resumes; a broken file is one line and the others go on), with progress and
Cancel. The binarizer runs in a child process (:mod:`seglight.widgets.predict_process`, started
when the widget opens), so loading torch and running the network never hold napari's
interpreter; a napari thread worker waits for its answers, and the viewer stays responsive.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from napari.qt.threading import create_worker
from qtpy.QtCore import QSignalBlocker, Qt, QTimer, Signal
from qtpy.QtWidgets import (
    QApplication,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSlider,
    QVBoxLayout,
    QWidget,
)

from seglight.classic import list_workflows
from seglight.curate.napari_widget import FolderField
from seglight.errors import SeglightError
from seglight.widgets import recent
from seglight.widgets.folder_run import FolderRunBox
from seglight.widgets.heartbeat import import_in_background
from seglight.widgets.predict_process import predict_process
from seglight.widgets.service import error_line

#: The kinds of binarizer, with the ``predict_files`` argument each fills and its file filter.
SOURCES = {
    "checkpoint": ("trained network (.ckpt)", "ckpt_path", "Checkpoints (*.ckpt)"),
    "classic": ("classic workflow", "model", None),
    "workflow": ("saved editor workflow (.yaml)", "workflow", "Workflows (*.yaml *.yml)"),
    "package": ("bioimage.io package (.zip)", "model_package", "Model packages (*.zip)"),
}
#: Slider positions over the threshold range [0, 1].
THRESHOLD_STEPS = 1000
#: Marks the widget's own layers (never offered as the input image).
OWN_LAYER = "seglight_apply"


def cut(proba: np.ndarray, threshold: float) -> np.ndarray:
    """The mask of the probability map at ``threshold`` (uint8, 1 above it)."""
    return (proba > threshold).astype(np.uint8)


def make_layer(kind: str, data: np.ndarray, name: str, placement: dict):
    """A napari layer of the widget's own: the ``mask`` (Labels) or the ``proba``bility map
    (Image, hidden, magma); ``None`` for no data. Qt-free: a worker thread may make it."""
    from napari.layers import Image, Labels

    if data is None:
        return None
    meta = {OWN_LAYER: True}
    if kind == "mask":
        return Labels(data, name=name, opacity=0.5, metadata=meta, **placement)
    return Image(data, name=name, colormap="magma", contrast_limits=(0, 1), visible=False,
                 metadata=meta, **placement)


def _label_colours() -> None:
    """Make napari's label colours once (its first Labels layer loads scikit-image's colour
    module for them: 0.1-0.5 s on the GUI thread otherwise)."""
    from napari.utils.colormaps.colormap_utils import label_colormap

    label_colormap()


def spacing_of(layer) -> tuple[float | None, float | None, float | None]:
    """The layer's voxel size (ZYX µm) from its scale; a scale of all ones is unknown."""
    scale = tuple(float(s) for s in layer.scale[-3:])
    return (None, None, None) if all(s == 1.0 for s in scale) else scale


class ApplyWidget(QWidget):
    """Dock widget: a binarizer applied to the image on screen or to a folder.

    Args:
        napari_viewer: the viewer (napari passes it); any ``ViewerModel`` works.
    """

    #: A re-cut mask is on screen (its threshold).
    cut_shown = Signal(float)

    def __init__(self, napari_viewer):
        super().__init__()
        self.predictor = predictor = predict_process()
        # the child loads torch and MONAI meanwhile (and napari's label colours, here)
        self.warm_up = import_in_background(then=lambda: (_label_colours(),
                                                          predictor.warm_up()))
        self.viewer = napari_viewer
        self.proba: np.ndarray | None = None  # the probability map on screen
        self.mask_layer = None
        self.default_threshold = 0.5
        self._worker = None
        self._cancelled = False
        self._showing = False  # the probability layer is still to be shown
        self._cutting = False  # a re-threshold runs in a worker
        self._wanted = self._cut_for = None  # the threshold asked for, and the one cut

        self.kind = QComboBox()
        for key, (text, _, _) in SOURCES.items():
            self.kind.addItem(text, key)
        self.path_field = FolderField("the file")
        self.classic = QComboBox()
        self.classic.addItems(list_workflows())
        self.classic.setCurrentText("lmnb1_interphase")
        self.image_combo = QComboBox()
        self.apply_button = QPushButton("Apply to the image layer")
        self.apply_button.clicked.connect(self.apply_to_layer)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setToolTip("stop the run on the image layer")
        self.cancel_button.setEnabled(False)
        self.cancel_button.clicked.connect(self.cancel)
        apply_row = QHBoxLayout()
        apply_row.addWidget(self.apply_button, 3)
        apply_row.addWidget(self.cancel_button, 1)

        self.threshold_slider = QSlider(Qt.Horizontal)
        self.threshold_slider.setRange(0, THRESHOLD_STEPS)
        self.threshold_spin = QDoubleSpinBox()
        self.threshold_spin.setRange(0.0, 1.0)
        self.threshold_spin.setDecimals(3)
        self.threshold_spin.setSingleStep(0.01)
        self.threshold_spin.setKeyboardTracking(False)
        self.threshold_slider.valueChanged.connect(
            lambda v: self.threshold_spin.setValue(v / THRESHOLD_STEPS))
        self.threshold_spin.valueChanged.connect(self.rethreshold)
        threshold_row = QHBoxLayout()
        threshold_row.addWidget(self.threshold_slider, 3)
        threshold_row.addWidget(self.threshold_spin, 1)
        self.status = QLabel("Choose a binarizer and an image layer.")
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextSelectableByMouse)

        self.pick = pick = QFormLayout()
        pick.addRow("binarizer", self.kind)
        pick.addRow("file", self.path_field)
        pick.addRow("workflow", self.classic)
        screen = QGroupBox("On the image on screen")
        on_screen = QFormLayout(screen)
        on_screen.addRow("image layer", self.image_combo)
        on_screen.addRow(apply_row)
        on_screen.addRow("threshold", threshold_row)

        layout = QVBoxLayout(self)
        layout.addWidget(QLabel("<b>seglight — apply a binarizer</b>"))
        layout.addLayout(pick)
        layout.addWidget(screen)
        self.folder = FolderRunBox(
            "On a folder (as python -m seglight.predict)", self._folder_job,
            {"write_proba": "also write the probability maps (networks)",
             "overwrite": "overwrite (recompute images already done)"})
        layout.addWidget(self.folder)
        layout.addWidget(self.status)
        layout.addStretch(1)

        self.kind.currentIndexChanged.connect(lambda _: self._kind_changed())
        self.viewer.layers.events.inserted.connect(lambda _: self._refresh_images())
        self.viewer.layers.events.removed.connect(lambda _: self._refresh_images())
        QApplication.instance().aboutToQuit.connect(self.shut_down)
        checkpoint = recent.recall("checkpoint")
        if checkpoint is not None:
            self.path_field.edit.setText(str(checkpoint))
        self._kind_changed()
        self._show_threshold(None)
        self._refresh_images()

    # --- the binarizer -------------------------------------------------------------------

    def _kind_changed(self) -> None:
        kind = self.kind.currentData()
        self.pick.setRowVisible(self.path_field, kind != "classic")
        self.pick.setRowVisible(self.classic, kind == "classic")
        self.path_field.file_filter = SOURCES[kind][2]
        self.path_field.edit.setPlaceholderText(SOURCES[kind][0])

    def use_checkpoint(self, path: str | Path) -> None:
        """Choose a trained network's checkpoint (what the Train widget hands over)."""
        self.kind.setCurrentIndex(list(SOURCES).index("checkpoint"))
        self.path_field.edit.setText(str(path))
        self.status.setText(f"checkpoint: {path}")

    def source(self) -> tuple[str, str, str]:
        """``(kind, value, short name)`` of the chosen binarizer.

        Raises:
            SeglightError: no file chosen.
        """
        kind = self.kind.currentData()
        if kind == "classic":
            name = self.classic.currentText()
            return kind, name, f"classic/{name}"
        value = self.path_field.value()
        if not value:
            raise SeglightError(f"choose the {SOURCES[kind][0]} first")
        path = Path(value)
        name = path.stem
        if kind == "checkpoint" and path.parent.name == "checkpoints":
            name = f"{path.parent.parent.name}/{path.stem}"  # the run folder and best/last
        return kind, value, name

    # --- the image on screen -------------------------------------------------------------

    def _image_layers(self) -> list:
        from napari.layers import Image

        return [layer for layer in self.viewer.layers
                if isinstance(layer, Image) and OWN_LAYER not in layer.metadata
                and not layer.rgb and layer.ndim == 3]

    def _refresh_images(self) -> None:
        """Offer the image layers now in the viewer, keeping the choice where it remains."""
        combo, kept = self.image_combo, self.image_combo.currentText()
        names = [layer.name for layer in self._image_layers()]
        if names != [combo.itemText(i) for i in range(combo.count())]:
            with QSignalBlocker(combo):
                combo.clear()
                combo.addItems(names)
                combo.setCurrentIndex(names.index(kept) if kept in names else 0)

    @property
    def busy(self) -> bool:
        """Whether a run on the image layer is in progress (until its layers are shown)."""
        return self._worker is not None or self._showing

    def apply_to_layer(self) -> None:
        """Run the binarizer on the chosen image layer in a worker; the mask (and the
        probability map) appear as layers."""
        if self.busy:
            return
        name = self.image_combo.currentText()
        if not name or name not in self.viewer.layers:
            self.status.setText("open a 3D single-channel image (ZYX) first")
            return
        try:
            kind, value, short = self.source()
        except SeglightError as err:
            self.status.setText(str(err))
            return
        layer = self.viewer.layers[name]
        data, spacing, predictor = layer.data, spacing_of(layer), self.predictor
        names = self.layer_names(name, short)
        placement = {"scale": layer.scale, "translate": layer.translate}
        missing = [n not in self.viewer.layers for n in names]

        def job():  # in a thread: it waits for the prediction process
            proba, threshold, binary, warnings = predictor.call(
                ("layer", kind, value, np.asarray(data), spacing, name))
            mask = cut(proba, threshold)
            # the new layers are made here (about half of what adding one costs; napari's
            # layers are Qt-free models): the GUI thread only puts them in the viewer
            made = [make_layer(what, array, layer_name, placement) if new else None
                    for what, array, layer_name, new in zip(
                        ("mask", "proba"), (mask, None if binary else proba), names,
                        missing, strict=True)]
            return proba, mask, int(mask.sum()), threshold, binary, warnings, made

        self.status.setText(f"applying {short} to {name}…")
        self.apply_button.setEnabled(False)
        self.cancel_button.setEnabled(True)
        worker = create_worker(job, _start_thread=False, _ignore_errors=True)
        self._worker = worker
        worker.returned.connect(lambda r: self._show_result(names, placement, *r))
        worker.errored.connect(self._on_error)
        worker.finished.connect(self._on_finished)
        worker.start()

    def cancel(self) -> None:
        """Stop the run on the image layer (the prediction process is ended; the next
        Apply starts a new one, loading torch again)."""
        if self.busy:
            self._cancelled = True
            self.predictor.cancel("layer")

    def _on_error(self, err: Exception) -> None:
        self.status.setText("cancelled" if self._cancelled else error_line(err))

    def _on_finished(self) -> None:
        self._worker, self._cancelled = None, False
        self.apply_button.setEnabled(True)
        self.cancel_button.setEnabled(False)

    def layer_names(self, image: str, short: str) -> tuple[str, str]:
        """The names of the mask and probability layers of ``image`` with binarizer ``short``."""
        return f"{image} mask [{short}]", f"{image} probability [{short}]"

    def _show_result(self, names: tuple[str, str], placement: dict, proba: np.ndarray,
                     mask: np.ndarray, foreground: int, threshold: float, binary: bool,
                     warnings: list[str], made: list) -> None:
        """Show the mask now and the probability map at the next turn of the event loop
        (putting a layer in the viewer is napari's work on the GUI thread: one at a time,
        the viewer answers between them)."""
        (mask_name, proba_name), (made_mask, made_proba) = names, made
        self.mask_layer = self._show_layer("mask", mask_name, mask, made_mask, placement)
        self.proba = None if binary else proba  # a classic workflow's mask is final
        self.default_threshold = self._wanted = self._cut_for = threshold
        self._show_threshold(threshold if not binary else None)
        lines = [f"{mask_name}: {foreground} foreground voxels at threshold "
                 f"{threshold:g}" + ("" if binary else f"; the probability map is "
                                     f"“{proba_name}”, move the threshold to re-cut it")]
        self.status.setText("\n".join(lines + warnings[-3:]))
        if not binary:
            self._showing = True
            QTimer.singleShot(0, lambda: self._show_proba(proba_name, proba, made_proba,
                                                          placement))

    def _show_proba(self, name: str, proba: np.ndarray, made, placement: dict) -> None:
        self._showing = False
        self._show_layer("proba", name, proba, made, placement)

    def _show_layer(self, kind: str, name: str, data: np.ndarray, made, placement: dict):
        """The layer ``name`` with ``data``: updated in place if there, else the layer made
        in the worker (or, if the user removed it meanwhile, a new one) added."""
        if name in self.viewer.layers:
            layer = self.viewer.layers[name]
            layer.data = data
            return layer
        layer = made if made is not None else make_layer(kind, data, name, placement)
        self.viewer.layers.append(layer)
        return layer

    def _show_threshold(self, threshold: float | None) -> None:
        enabled = threshold is not None
        for widget in (self.threshold_slider, self.threshold_spin):
            widget.setEnabled(enabled)
            widget.blockSignals(True)
        if enabled:
            self.threshold_spin.setValue(threshold)
            self.threshold_slider.setValue(round(threshold * THRESHOLD_STEPS))
        for widget in (self.threshold_slider, self.threshold_spin):
            widget.blockSignals(False)

    def rethreshold(self, threshold: float) -> None:
        """Cut the probability map on screen at ``threshold`` (no network run), in a worker:
        while one cut runs, only the latest threshold asked for waits (a dragged slider
        does not queue a cut per pixel)."""
        self.threshold_slider.blockSignals(True)
        self.threshold_slider.setValue(round(threshold * THRESHOLD_STEPS))
        self.threshold_slider.blockSignals(False)
        if self.proba is None or self.mask_layer is None:
            return
        if self.mask_layer not in self.viewer.layers:
            return
        self._wanted = threshold
        if self._cutting:
            return
        self._cutting, self._cut_for = True, threshold
        proba, layer = self.proba, self.mask_layer

        def job():
            mask = cut(proba, threshold)
            return mask, int(mask.sum())

        worker = create_worker(job, _start_thread=False, _ignore_errors=True)
        worker.returned.connect(lambda r: self._show_cut(layer, proba, threshold, *r))
        worker.errored.connect(self._on_error)
        worker.finished.connect(self._cut_done)
        worker.start()

    @property
    def cutting(self) -> bool:
        """Whether a re-threshold is in progress (or waits)."""
        return self._cutting

    def _show_cut(self, layer, proba, threshold: float, mask: np.ndarray,
                  foreground: int) -> None:
        if layer is not self.mask_layer or proba is not self.proba:
            return  # a new Apply replaced them meanwhile
        layer.data = mask
        self.status.setText(f"{layer.name}: {foreground} foreground voxels at threshold "
                            f"{threshold:g} (re-cut from the probability map; the network "
                            "did not run again)")
        self.cut_shown.emit(threshold)

    def _cut_done(self) -> None:
        self._cutting = False
        if self._wanted != self._cut_for:
            self.rethreshold(self._wanted)

    # --- a folder ------------------------------------------------------------------------

    def _folder_job(self):
        """What *Run on folder* runs: ``predict_files`` with the chosen binarizer (and the
        threshold tuned on screen, for a network), in the prediction process."""
        kind, value, short = self.source()
        chosen = {SOURCES[kind][1]: f"classic/{value}" if kind == "classic" else value}
        tuned = self.threshold_spin.value()
        if self.threshold_spin.isEnabled() and tuned != self.default_threshold:
            chosen["threshold"] = tuned
            short += f" at threshold {tuned:g}"

        predictor = self.predictor

        def job(source, out, glob, options, should_stop, on_progress):
            arguments = {"input": source, "output": out, "input_glob": glob, **chosen,
                         **options}
            return predictor.call(("folder", arguments), on_progress, should_stop)

        return job, short

    def shut_down(self) -> None:
        """napari is quitting: stop the folder run after its current image, wait, and end
        the prediction process."""
        from qtpy.QtCore import QThreadPool

        self.folder.stop_requested = True
        if self.busy:
            self.cancel()
        QThreadPool.globalInstance().waitForDone(120_000)
        self.predictor.close()
