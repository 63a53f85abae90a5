"""The workflow editor in napari (*Plugins > seglight > Workflow editor*).

Pick an image layer and a workflow (or browse the gallery); each step of the workflow
appears with its parameters (sliders and fields, ranges and help from the workflow's
config), an on/off box and a block to swap in. Every change re-runs, off the GUI thread,
the changed step and those after it (the rest comes from the step cache), on a z-range
around the slice on screen or on the whole stack; a newer change cancels the run in
progress. Each step's output is a layer, updated in place, with its time beside the step.

The other tabs: *Sweep* (a grid of results over one or two parameters on the current
slice), *Folder* (run the tuned workflow on a folder with progress and Cancel, as
``python -m seglight.predict workflow=FILE`` does), and the *labels* option (a Labels layer
and a table of the objects in a dock). *Save…* writes the config the command line runs.

The Qt-free logic is :class:`seglight.editor.session.EditorSession`. Requires the
``seglight[napari]`` extra.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np
import yaml
from qtpy.QtCore import QObject, Qt, QThreadPool, Signal
from qtpy.QtGui import QIcon, QPixmap
from qtpy.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QSlider,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from seglight.classic import list_workflows
from seglight.classic.steps import Cancelled, StepEvent
from seglight.curate.napari_widget import FolderField
from seglight.editor.gallery import description, thumbnail_path
from seglight.editor.session import DEFAULT_HALF_Z, EditorSession, RunResult
from seglight.editor.sweep import Mosaic, parse_values, suggest_values
from seglight.errors import SeglightError

log = logging.getLogger("seglight.editor")

#: Slider positions between a parameter's minimum and maximum (floats).
SLIDER_STEPS = 200
#: The name of the object-table dock and of the labels layer.
OBJECTS = "objects"
SWEEP_IMAGE, SWEEP_MASK, SWEEP_VALUES = "sweep input", "sweep mask", "sweep values"
#: The metadata key that marks the editor's own layers (never offered as the input image).
OWN_LAYER = "seglight_editor"


def _number(value: Any) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def _flow(value: Any) -> str:
    """A list parameter as one line of YAML, e.g. ``[2.5, 7.5]``."""
    return yaml.safe_dump(value, default_flow_style=True).strip()


class _Relay(QObject):
    """Carries a worker thread's step events to the GUI thread (a queued signal)."""

    step = Signal(object)
    progress = Signal(int, int, str)


class NumberField(QWidget):
    """A slider and a spin box for one number, kept in step.

    Args:
        kind: ``int`` or ``float``.
        value, low, high, step: the value, its range and the spin box's step.
        on_change: called with the new value when the user changes it.
    """

    def __init__(self, kind: str, value: float, low: float, high: float, step: float | None,
                 on_change):
        super().__init__()
        self.kind, self.low, self.high = kind, float(low), float(high)
        self.on_change = on_change
        if kind == "int":
            self.spin = QSpinBox()
            self.spin.setRange(int(low), int(high))
            self.spin.setSingleStep(max(1, int(step or 1)))
        else:
            self.spin = QDoubleSpinBox()
            self.spin.setDecimals(4)
            self.spin.setRange(self.low, self.high)
            self.spin.setSingleStep(float(step or (self.high - self.low) / 100 or 0.01))
        self.spin.setKeyboardTracking(False)  # typing "0.15" is one change, not four
        self.slider = QSlider(Qt.Horizontal)
        self.slider.setRange(0, SLIDER_STEPS)
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.slider, 3)
        row.addWidget(self.spin, 2)
        self.set_value(value)
        self.spin.valueChanged.connect(self._from_spin)
        self.slider.valueChanged.connect(self._from_slider)

    def value(self) -> float:
        return self.spin.value()

    def set_value(self, value: float) -> None:
        for widget in (self.spin, self.slider):
            widget.blockSignals(True)
        self.spin.setValue(int(value) if self.kind == "int" else float(value))
        span = self.high - self.low
        self.slider.setValue(round((float(value) - self.low) / span * SLIDER_STEPS) if span else 0)
        for widget in (self.spin, self.slider):
            widget.blockSignals(False)

    def _from_spin(self, value: float) -> None:
        self.set_value(value)
        self.on_change(int(value) if self.kind == "int" else float(value))

    def _from_slider(self, position: int) -> None:
        value = self.low + (self.high - self.low) * position / SLIDER_STEPS
        value = int(round(value)) if self.kind == "int" else float(f"{value:.4g}")
        self.spin.blockSignals(True)
        self.spin.setValue(value)
        self.spin.blockSignals(False)
        self.on_change(value)


class StepBox(QGroupBox):
    """One step: on/off (the group's check box, where the step may be off), the block to
    run, its arguments, and its time in the last run."""

    def __init__(self, editor: WorkflowEditor, info: Any):
        super().__init__(f"{info.name}  ({info.kind})")
        self.editor, self.info = editor, info
        session = editor.session
        self.setToolTip(info.help)
        if info.can_disable:
            self.setCheckable(True)
            self.setChecked(info.enabled)
            self.toggled.connect(lambda on: editor.change(session.set_enabled, info.name, on))
        form = QFormLayout(self)
        self.block = QComboBox()
        self.block.addItems(list(info.alternatives))
        self.block.setCurrentText(info.block)
        self.block.setEnabled(len(info.alternatives) > 1)
        self.block.currentTextChanged.connect(self._swap)
        self.latency = QLabel("–")
        self.latency.setMinimumWidth(60)
        head = QHBoxLayout()
        head.addWidget(self.block, 1)
        head.addWidget(self.latency)
        form.addRow("block", head)
        self.fields: dict[str, QWidget] = {}
        for param in info.params:
            field = editor.param_field(info.name, param)
            self.fields[param.name] = field
            label = QLabel(param.key or param.name)
            tip = param.help or ("the block's default" if param.key is None else "")
            for widget in (label, field):
                widget.setToolTip(tip)
            form.addRow(label, field)

    def _swap(self, block: str) -> None:
        self.editor.change(self.editor.session.swap_block, self.info.name, block)
        self.editor.rebuild_steps()

    def show_event(self, event: StepEvent) -> None:
        if event.disabled:
            self.latency.setText("off")
        elif event.cached:
            self.latency.setText("cached")
        elif event.seconds < 0.1:
            self.latency.setText(f"{event.seconds * 1000:.0f} ms")
        else:
            self.latency.setText(f"{event.seconds:.2f} s")


class GalleryDialog(QDialog):
    """Every workflow with its thumbnail and description; double-click (or OK) chooses."""

    def __init__(self, parent: QWidget | None = None, current: str | None = None):
        super().__init__(parent)
        self.setWindowTitle("seglight workflows")
        self.list = QListWidget()
        self.list.setViewMode(QListWidget.IconMode)
        self.list.setIconSize(QPixmap(96, 96).size())
        self.list.setGridSize(QPixmap(190, 150).size())
        self.list.setWordWrap(True)
        self.list.setResizeMode(QListWidget.Adjust)
        for name in list_workflows():
            item = QListWidgetItem(name)
            path = thumbnail_path(name)
            if path is not None:
                item.setIcon(QIcon(str(path)))
            text = description(name)
            item.setToolTip(text)
            item.setData(Qt.UserRole, name)
            item.setText(f"{name}\n{text.split(':')[0]}")
            self.list.addItem(item)
            if name == current:
                self.list.setCurrentItem(item)
        self.list.itemDoubleClicked.connect(lambda _: self.accept())
        buttons = QDialogButtonBox(QDialogButtonBox.Ok | QDialogButtonBox.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel("Choose the workflow whose structure looks most like yours "
                                "(hover for its steps)."))
        layout.addWidget(self.list)
        layout.addWidget(buttons)
        self.resize(820, 640)

    def chosen(self) -> str | None:
        item = self.list.currentItem()
        return None if item is None else item.data(Qt.UserRole)


class ObjectTable(QTableWidget):
    """The object table (:func:`seglight.measure.measure_objects`), one row per object;
    selecting a row selects that label in the Labels layer."""

    def __init__(self):
        super().__init__()
        self.setEditTriggers(QAbstractItemView.NoEditTriggers)
        self.setSelectionBehavior(QAbstractItemView.SelectRows)
        self.layer = None
        self.itemSelectionChanged.connect(self._select_label)

    def show_table(self, table: dict[str, np.ndarray], layer=None) -> None:
        columns = list(table)
        rows = len(table[columns[0]]) if columns else 0
        self.layer = layer
        self.clear()
        self.setColumnCount(len(columns))
        self.setRowCount(rows)
        self.setHorizontalHeaderLabels(columns)
        for c, name in enumerate(columns):
            for r, value in enumerate(table[name]):
                text = f"{value:.4g}" if isinstance(value, float | np.floating) else str(value)
                self.setItem(r, c, QTableWidgetItem(text))

    def _select_label(self) -> None:
        rows = {i.row() for i in self.selectedItems()}
        if self.layer is None or len(rows) != 1:
            return
        label = int(self.item(rows.pop(), 0).text())
        self.layer.selected_label = label
        self.layer.show_selected_label = True


class WorkflowEditor(QWidget):
    """The workflow editor dock widget.

    Args:
        napari_viewer: the viewer (napari passes it); any ``ViewerModel`` works.
    """

    def __init__(self, napari_viewer):
        super().__init__()
        self.viewer = napari_viewer
        self.session: EditorSession | None = None
        self.source = None  # the image layer being segmented
        self.result: RunResult | None = None
        self.step_boxes: dict[str, StepBox] = {}
        self.layers: dict[str, Any] = {}
        self._retired: list = []  # the previous workflow's layers, removed after the next run
        self._worker = None
        self._pending = False
        self._folder_worker = None
        self.stop_folder = False
        self.relay = _Relay()
        self.relay.step.connect(self._on_step)
        self.relay.progress.connect(self._on_folder_progress)
        self.table = ObjectTable()
        self._table_dock = None

        self.image_combo = QComboBox()
        self.workflow_combo = QComboBox()
        self.workflow_combo.addItems(list_workflows())
        self.workflow_combo.setCurrentText("sec61b")
        gallery = QPushButton("Gallery…")
        gallery.clicked.connect(self.open_gallery)
        self.description = QLabel("")
        self.description.setWordWrap(True)
        pick = QFormLayout()
        pick.addRow("image", self.image_combo)
        row = QHBoxLayout()
        row.addWidget(self.workflow_combo, 1)
        row.addWidget(gallery)
        pick.addRow("workflow", row)
        self.scope = QComboBox()
        self.scope.addItem("z-range around the slice on screen", "z")
        self.scope.addItem("whole stack", "stack")
        self.half_z = QSpinBox()
        self.half_z.setRange(1, 50)
        self.half_z.setValue(DEFAULT_HALF_Z)
        self.half_z.setPrefix("± ")
        self.half_z.setSuffix(" slices")
        scope_row = QHBoxLayout()
        scope_row.addWidget(self.scope, 1)
        scope_row.addWidget(self.half_z)
        pick.addRow("scope", scope_row)
        self.live = QCheckBox("live (re-run on every change)")
        self.live.setChecked(True)
        self.with_labels = QCheckBox("labels + object table")
        self.run_button = QPushButton("Run")
        self.run_button.clicked.connect(self.run)
        self.save_button = QPushButton("Save…")
        self.save_button.clicked.connect(self._save_dialog)
        buttons = QHBoxLayout()
        buttons.addWidget(self.run_button)
        buttons.addWidget(self.save_button)
        self.status = QLabel("Choose an image layer.")
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextSelectableByMouse)

        self.steps_widget = QWidget()
        self.steps_layout = QVBoxLayout(self.steps_widget)
        self.steps_layout.setContentsMargins(0, 0, 0, 0)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(self.steps_widget)
        self.tabs = QTabWidget()
        self.tabs.addTab(scroll, "Steps")
        self.tabs.addTab(self._sweep_tab(), "Sweep")
        self.tabs.addTab(self._folder_tab(), "Folder")

        layout = QVBoxLayout(self)
        layout.addWidget(QLabel("<b>seglight workflow editor</b>"))
        layout.addLayout(pick)
        layout.addWidget(self.description)
        options = QHBoxLayout()
        options.addWidget(self.live)
        options.addWidget(self.with_labels)
        layout.addLayout(options)
        layout.addLayout(buttons)
        layout.addWidget(self.tabs, 1)
        layout.addWidget(self.status)

        self.image_combo.currentIndexChanged.connect(lambda _: self._choose_image())
        self.workflow_combo.currentTextChanged.connect(self.choose_workflow)
        self.scope.currentIndexChanged.connect(lambda _: self._scope_changed())
        self.half_z.valueChanged.connect(lambda _: self._scope_changed())
        self.with_labels.toggled.connect(lambda on: on and self.result and self.run())
        self.viewer.layers.events.inserted.connect(lambda _: self._refresh_images())
        self.viewer.layers.events.removed.connect(lambda _: self._refresh_images())
        self.viewer.dims.events.current_step.connect(lambda _: self._slice_changed())
        QApplication.instance().aboutToQuit.connect(self.shut_down)
        self._refresh_images()

    # --- sub-panels --------------------------------------------------------------------

    def _sweep_tab(self) -> QWidget:
        tab = QWidget()
        form = QFormLayout(tab)
        self.sweep_keys = [QComboBox(), QComboBox()]
        self.sweep_values = [QLineEdit(), QLineEdit()]
        for i, (combo, values) in enumerate(zip(self.sweep_keys, self.sweep_values,
                                                strict=True)):
            combo.currentTextChanged.connect(lambda key, i=i: self._suggest(i, key))
            form.addRow(f"parameter {i + 1}", combo)
            form.addRow("values", values)
        self.sweep_button = QPushButton("Sweep on the current slice")
        self.sweep_button.clicked.connect(self.sweep)
        form.addRow(self.sweep_button)
        form.addRow(QLabel("Rows: parameter 1's values; columns: parameter 2's. Each tile's "
                           "values are written on it (layer “sweep values”)."))
        return tab

    def _folder_tab(self) -> QWidget:
        tab = QWidget()
        form = QFormLayout(tab)
        self.folder_fields = {"input": FolderField("raw images (a folder)"),
                              "output": FolderField("results (created)")}
        for key, widget in self.folder_fields.items():
            form.addRow(key, widget)
        self.folder_glob = QLineEdit("*")
        form.addRow("input_glob", self.folder_glob)
        self.folder_labels = QCheckBox("labels + object table per image")
        self.folder_overwrite = QCheckBox("overwrite (recompute images already done)")
        form.addRow(self.folder_labels)
        form.addRow(self.folder_overwrite)
        self.folder_run = QPushButton("Run on folder")
        self.folder_cancel = QPushButton("Cancel")
        self.folder_cancel.setEnabled(False)
        self.folder_run.clicked.connect(self.run_folder)
        self.folder_cancel.clicked.connect(self.cancel_folder)
        row = QHBoxLayout()
        row.addWidget(self.folder_run)
        row.addWidget(self.folder_cancel)
        form.addRow(row)
        self.folder_progress = QProgressBar()
        form.addRow(self.folder_progress)
        self.folder_status = QLabel("")
        self.folder_status.setWordWrap(True)
        self.folder_status.setTextInteractionFlags(Qt.TextSelectableByMouse)
        form.addRow(self.folder_status)
        return tab

    # --- image and workflow ---------------------------------------------------------------

    def _image_layers(self) -> list:
        from napari.layers import Image

        return [layer for layer in self.viewer.layers
                if isinstance(layer, Image) and OWN_LAYER not in layer.metadata]

    def _refresh_images(self) -> None:
        current = self.image_combo.currentText()
        names = [layer.name for layer in self._image_layers()]
        if names == [self.image_combo.itemText(i) for i in range(self.image_combo.count())]:
            return
        self.image_combo.blockSignals(True)
        self.image_combo.clear()
        self.image_combo.addItems(names)
        if current in names:
            self.image_combo.setCurrentText(current)
        self.image_combo.blockSignals(False)
        if self.image_combo.currentText() != current or self.session is None:
            self._choose_image()

    def _choose_image(self) -> None:
        name = self.image_combo.currentText()
        if not name or name not in self.viewer.layers:
            return
        layer = self.viewer.layers[name]
        data = np.asarray(layer.data)
        if data.ndim != 3 or layer.rgb:
            self._say(f"{name}: shape {data.shape}; choose a single-channel ZYX image layer")
            return
        self.source = layer
        spacing = tuple(float(s) for s in layer.scale[-3:])
        try:
            self.session = EditorSession(data, self.workflow_combo.currentText(),
                                         spacing_um=spacing)
        except SeglightError as err:
            self._say(f"{name}: {err}")
            return
        self.session.center_z = self._current_z()
        self._build_steps()

    def choose_workflow(self, name: str) -> None:
        """Show workflow ``name``'s steps with its default parameters, and run it."""
        if self.workflow_combo.currentText() != name:
            self.workflow_combo.setCurrentText(name)  # comes back here through the signal
            return
        if self.session is None:
            return
        self._retire_layers()
        self.session.set_workflow(name)
        self._build_steps()

    def open_gallery(self) -> None:
        dialog = GalleryDialog(self, self.workflow_combo.currentText())
        if dialog.exec() and dialog.chosen():
            self.choose_workflow(dialog.chosen())

    def _build_steps(self) -> None:
        """Show the workflow's steps, and run it."""
        self.rebuild_steps()
        self.description.setText(description(self.session.workflow))
        numbers = [p.key for info in self.session.steps for p in info.params
                   if p.key and p.kind in ("int", "float")]
        numbers = list(dict.fromkeys(numbers))
        for i, combo in enumerate(self.sweep_keys):
            combo.blockSignals(True)
            combo.clear()
            combo.addItems(([] if i == 0 else [""]) + numbers)
            combo.blockSignals(False)
            self._suggest(i, combo.currentText())
        self._scope_changed()

    def rebuild_steps(self) -> None:
        """Lay out one :class:`StepBox` per step (after a workflow change or a block swap)."""
        while self.steps_layout.count():
            item = self.steps_layout.takeAt(0)
            if item.widget() is not None:
                item.widget().hide()
                item.widget().deleteLater()
        self.step_boxes = {}
        self.param_fields: dict[str, list[QWidget]] = {}
        for info in self.session.steps:
            box = StepBox(self, info)
            self.step_boxes[info.name] = box
            self.steps_layout.addWidget(box)
        self.steps_layout.addStretch(1)

    def param_field(self, step: str, param: Any) -> QWidget:
        """The control of one step argument. One that reads a workflow parameter sets that
        parameter (a parameter read by two steps gets a control in each, kept in step);
        one that does not (a swapped-in block's) sets the step's own argument."""
        key, kind, value = param.key, param.kind, param.value
        ident = key or f"{step}.{param.name}"

        def changed(new: Any) -> None:
            for other in self.param_fields.get(ident, []):
                if other is not field:
                    self._show_value(other, new)
            if key is None:
                self.change(self.session.set_block_param, step, param.name, new)
            else:
                self.change(self.session.set_param, key, new)

        if kind in ("int", "float") and param.ranges:
            r = param.ranges[0]
            low, high = min(r.lo, value), max(r.hi, value)  # a value outside its slider's range
            field = NumberField(kind, value, low, high, r.step, changed)
        elif kind == "bool":
            field = QCheckBox()
            field.setChecked(bool(value))
            field.toggled.connect(changed)
        elif kind == "str" and param.choices:
            field = QComboBox()
            field.addItems(list(param.choices))
            field.setCurrentText(str(value))
            field.currentTextChanged.connect(changed)
        else:
            field = QLineEdit(_flow(value) if kind == "list" else _number(value))
            ranges = ", ".join(f"{r.lo:g}..{r.hi:g}" for r in param.ranges)
            if ranges:
                field.setPlaceholderText(ranges)

            def edited(field=field) -> None:
                try:
                    new = yaml.safe_load(field.text())
                except yaml.YAMLError:
                    self._say(f"{ident}: {field.text()!r} is not a value; e.g. {_flow(value)}")
                    return
                if new != value:
                    changed(new)

            field.editingFinished.connect(edited)
        self.param_fields.setdefault(ident, []).append(field)
        return field

    @staticmethod
    def _show_value(field: QWidget, value: Any) -> None:
        if isinstance(field, NumberField):
            field.set_value(value)
        elif isinstance(field, QCheckBox):
            field.blockSignals(True)
            field.setChecked(bool(value))
            field.blockSignals(False)
        elif isinstance(field, QComboBox):
            field.blockSignals(True)
            field.setCurrentText(str(value))
            field.blockSignals(False)
        elif isinstance(field, QLineEdit):
            field.setText(_flow(value) if isinstance(value, list) else _number(value))

    # --- changes and runs ------------------------------------------------------------------

    def change(self, action, *args: Any) -> None:
        """Apply one change to the session (a parameter, an override, the scope); with
        *live* on, re-run (cancelling a run in progress)."""
        if self.session is None:
            return
        try:
            action(*args)
        except SeglightError as err:
            self._say(str(err))
            return
        if self.live.isChecked():
            self.run()

    def _current_z(self) -> int:
        if self.source is None:
            return 0
        z = self.source.world_to_data(self.viewer.dims.point)[-3]
        return int(np.clip(round(float(z)), 0, self.source.data.shape[-3] - 1))

    def _scope_changed(self) -> None:
        whole = self.scope.currentData() == "stack"
        self.half_z.setEnabled(not whole)
        self.change(self.session.set_scope if self.session else None,
                    None if whole else self.half_z.value(), self._current_z())

    def _slice_changed(self) -> None:
        if self.session is None or self.session.half_z is None:
            return
        z = self._current_z()
        if z != self.session.center_z and not (self._in_range(z)):
            self.change(self.session.set_scope, self.session.half_z, z)
        else:
            self.session.center_z = z

    def _in_range(self, z: int) -> bool:
        """Whether slice ``z`` lies in the z-range of the result on screen, away from its
        ends (no re-run needed to look at it)."""
        if self.result is None:
            return False
        z0 = self.result.z0
        z1 = z0 + self.result.mask.shape[0]
        return z0 < z < z1 - 1 or (z0 == 0 and z == 0) or (
            z1 == self.session.image.shape[0] and z == z1 - 1)

    @property
    def busy(self) -> bool:
        """A run (or sweep) is in progress or waiting to start."""
        return self._worker is not None or self._pending

    def run(self) -> None:
        """Run the current state in a worker thread; a run in progress is cancelled and
        this one starts when it has stopped."""
        if self.session is None:
            return
        if self._worker is not None:
            self._pending = True
            return
        self._pending = False
        from napari.qt.threading import create_worker

        request = self.session.request()
        labels = self.with_labels.isChecked()
        session = self.session

        def should_stop() -> bool:
            return session.generation != request.generation or session is not self.session

        def job():
            try:
                result = session.execute(request, self.relay.step.emit, should_stop)
            except Cancelled:
                return None  # a newer change: its run starts next
            if labels:
                objects = session.labels(result)
                return session, result, objects, session.objects(result, objects)
            return session, result, None, None

        z0, z1 = request.z0, request.z0 + request.image.shape[0]
        self._say(f"running {request.workflow} on z {z0}–{z1 - 1}…")
        worker = create_worker(job, _start_thread=False, _ignore_errors=True)
        self._start(worker, self._show_result)

    def _start(self, worker, on_result) -> None:
        self._worker = worker
        worker.returned.connect(on_result)
        worker.errored.connect(self._on_error)
        worker.finished.connect(self._on_finished)
        worker.start()

    def _on_finished(self) -> None:
        self._worker = None
        if self._pending:
            self.run()

    def _on_error(self, err: Exception) -> None:
        if isinstance(err, SeglightError):
            self._say(str(err))
            return
        log.error("the workflow editor's run failed", exc_info=err)
        self._say(f"{type(err).__name__}: {str(err).splitlines()[0] if str(err) else ''}")

    def _on_step(self, event: StepEvent) -> None:
        box = self.step_boxes.get(event.step)
        if box is not None:
            box.show_event(event)

    def _show_result(self, returned) -> None:
        if returned is None:
            return
        session, result, objects, table = returned
        if session is not self.session or result.request.generation != session.generation:
            return  # a newer change (or another image) is on its way
        self.result = result
        kinds = self.session.pipeline.kinds()
        for name, array in result.outputs.items():
            self._show_layer(name, array, kinds.get(name, "image"), result.z0)
        if objects is not None:
            self._show_layer(OBJECTS, objects, "labels", result.z0)
            self._show_table(table)
        self._remove_retired()
        ran = sum(not e.cached and not e.disabled for e in result.events)
        seconds = sum(e.seconds for e in result.events)
        z1 = result.z0 + result.mask.shape[0] - 1
        self._say(f"{result.request.workflow}: {seconds:.2f} s, {ran} of {len(result.events)} "
                  f"steps recomputed (z {result.z0}–{z1})")

    def layer_name(self, step: str) -> str:
        """The name of the layer that shows ``step``'s output."""
        return f"{step} [{self.session.workflow}]"

    def _show_layer(self, step: str, array: np.ndarray, kind: str, z0: int) -> None:
        """Create the step's layer, or update it in place (data and z offset)."""
        scale = np.asarray(self.source.scale[-3:], float)
        translate = np.asarray(self.source.translate[-3:], float) + [z0 * scale[0], 0, 0]
        if kind == "mask":
            array = np.asarray(array).astype(np.uint8)
        name = self.layer_name(step)
        layer = self.layers.get(step)
        if layer is None or layer not in self.viewer.layers:
            final = step in (self.session.pipeline.output, OBJECTS)
            add = self.viewer.add_image if kind == "image" else self.viewer.add_labels
            options = {"opacity": 0.6} if kind != "image" else {"blending": "additive"}
            layer = add(array, name=name, scale=scale, translate=translate, visible=final,
                        metadata={OWN_LAYER: step}, **options)
            self.layers[step] = layer
            return
        layer.translate = translate
        layer.data = array
        if kind == "image":
            layer.reset_contrast_limits()

    def _retire_layers(self) -> None:
        """Set the layers of the workflow on screen aside: they are removed once the next
        workflow's layers are in the viewer (:meth:`_remove_retired`).

        Removing several drawn layers and then adding new ones crashed napari 0.9.2 in
        vispy's ``glDrawArrays`` under Xvfb (software OpenGL), 5 of 5 workflow switches;
        adding the new layers first and removing the old ones after did not (docs/editor.md,
        "The workflow-switch crash")."""
        self._retired += [layer for layer in self.layers.values() if layer not in self._retired]
        self.layers = {}
        self.result = None

    def _remove_retired(self) -> None:
        retired, self._retired = self._retired, []
        for layer in retired:
            if layer in self.viewer.layers:
                self.viewer.layers.remove(layer)

    def _show_table(self, table: dict[str, np.ndarray]) -> None:
        try:
            self.table.show_table(table, self.layers.get(OBJECTS))
        except RuntimeError:  # the user closed its dock, which deleted it: a new one
            self.table, self._table_dock = ObjectTable(), None
            self.table.show_table(table, self.layers.get(OBJECTS))
        window = getattr(self.viewer, "window", None)
        if window is not None and self._table_dock is None:
            self._table_dock = window.add_dock_widget(self.table, name=OBJECTS, area="bottom")

    # --- sweep ---------------------------------------------------------------------------

    def _suggest(self, i: int, key: str) -> None:
        if self.session is None or not key:
            self.sweep_values[i].setText("")
            return
        param = next(p for info in self.session.steps for p in info.params if p.key == key)
        r = param.ranges[0] if param.ranges else None
        values = suggest_values(self.session.params[key], param.kind, r and r.lo, r and r.hi,
                                n=5 if i == 0 else 3)
        self.sweep_values[i].setText(", ".join(_number(v) for v in values))

    def sweep_request(self) -> tuple[tuple[str, list], tuple[str, list] | None]:
        """The sweep's parameters and values from the Sweep tab.

        Raises:
            SeglightError: a value that is not a number of the parameter's kind.
        """
        kinds = {p.key: p.kind for info in self.session.steps for p in info.params}
        chosen = []
        for combo, values in zip(self.sweep_keys, self.sweep_values, strict=True):
            key = combo.currentText()
            if key:
                chosen.append((key, parse_values(values.text(), key, kinds[key])))
        return chosen[0], (chosen[1] if len(chosen) > 1 else None)

    def sweep(self) -> None:
        """Run the sweep in a worker; the mosaic appears as three layers."""
        if self.session is None or self._worker is not None:
            self._say("wait for the run in progress to end, then sweep")
            return
        try:
            first, second = self.sweep_request()
        except SeglightError as err:
            self._say(str(err))
            return
        from napari.qt.threading import create_worker

        session = self.session
        generation = session.generation
        n = len(first[1]) * (len(second[1]) if second else 1)
        self._say(f"sweeping {n} combinations on slice {session.center_z}…")
        def job():
            try:
                return session.sweep(first, second,
                                     should_stop=lambda: session.generation != generation)
            except Cancelled:
                return None

        worker = create_worker(job, _start_thread=False, _ignore_errors=True)
        self._start(worker, self._show_mosaic)

    def _show_mosaic(self, mosaic: Mosaic | None) -> None:
        if mosaic is None:
            self._say("sweep cancelled by a change")
            return
        scale = np.asarray(self.source.scale[-2:], float)
        for name in (SWEEP_IMAGE, SWEEP_MASK, SWEEP_VALUES):
            if name in self.viewer.layers:
                self.viewer.layers.remove(name)
        own = {OWN_LAYER: "sweep"}
        self.viewer.add_image(mosaic.image, name=SWEEP_IMAGE, scale=scale, metadata=own)
        self.viewer.add_labels(mosaic.mask, name=SWEEP_MASK, scale=scale, opacity=0.6,
                               metadata=own)
        ty, tx = mosaic.tile_shape
        boxes = [np.array([[y, x], [y, x + tx], [y + ty, x + tx], [y + ty, x]]) * scale
                 for y, x, _ in mosaic.captions]
        self.viewer.add_shapes(boxes, shape_type="rectangle", name=SWEEP_VALUES,
                               edge_color="yellow", face_color="transparent",
                               edge_width=float(scale[-1]),
                               text={"string": "{values}", "anchor": "upper_left",
                                     "color": "yellow", "size": 10},
                               features={"caption": [c for _, _, c in mosaic.captions],
                                         "values": mosaic.short})
        for layer in self.layers.values():
            layer.visible = False
        self.source.visible = False
        self._say(f"sweep on slice {self.session.center_z}, tiles labelled "
                  f"{', '.join(mosaic.keys)}; hide the sweep layers to see the stack again")

    # --- save and folder ---------------------------------------------------------------------

    def save(self, path: str | Path) -> Path | None:
        """Write the tuned workflow where the command line runs it:
        ``python -m seglight.predict workflow=PATH input=... output=...``."""
        if self.session is None:
            return None
        try:
            path = self.session.save(path)
        except (SeglightError, OSError) as err:
            self._say(f"{path}: {err}")
            return None
        self._say(f"saved {path}; run it with: python -m seglight.predict workflow={path} "
                  "input=<raw folder> output=<result folder>")
        return path

    def _save_dialog(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Save the workflow",
                                              f"{self.session.workflow}_tuned.yaml"
                                              if self.session else "", "YAML (*.yaml)")
        if path:
            self.save(path)

    def run_folder(self) -> None:
        """Save the workflow beside the results and run it on the input folder in a worker,
        through the runner ``python -m seglight.predict`` uses (skip, resume, one-line
        errors)."""
        if self.session is None or self._folder_worker is not None:
            return
        source, out = (self.folder_fields[k].value() for k in ("input", "output"))
        if not source or not out:
            self.folder_status.setText("choose the input and output folders first")
            return
        config = self.save(Path(out) / f"{self.session.workflow}_editor.yaml")
        if config is None:
            self.folder_status.setText(self.status.text())
            return
        from napari.qt.threading import create_worker

        from seglight.api import predict_files

        self.stop_folder = False
        options = {"labels": self.folder_labels.isChecked(),
                   "overwrite": self.folder_overwrite.isChecked()}
        glob = self.folder_glob.text().strip() or "*"

        def job():
            return predict_files(source, out, workflow=config, input_glob=glob,
                                 progress=False, should_stop=lambda: self.stop_folder,
                                 on_progress=lambda d, t, p: self.relay.progress.emit(
                                     d, t, Path(p).name),
                                 **options)

        self.folder_progress.setValue(0)
        self.folder_status.setText(f"running on {source} with {config.name}…")
        self.folder_run.setEnabled(False)
        self.folder_cancel.setEnabled(True)
        worker = create_worker(job, _start_thread=False, _ignore_errors=True)
        self._folder_worker = worker
        worker.returned.connect(self._folder_done)
        worker.errored.connect(lambda err: self.folder_status.setText(
            str(err) if isinstance(err, SeglightError) else f"{type(err).__name__}: {err}"))
        worker.finished.connect(self._folder_finished)
        worker.start()

    @property
    def folder_busy(self) -> bool:
        return self._folder_worker is not None

    def cancel_folder(self) -> None:
        """Stop the folder run after the image in progress (its outputs are kept; Run on
        folder again resumes)."""
        self.stop_folder = True
        self.folder_status.setText("cancelling after the image in progress…")

    def _on_folder_progress(self, done: int, total: int, name: str) -> None:
        self.folder_progress.setMaximum(total)
        self.folder_progress.setValue(done)
        self.folder_status.setText(f"{done} of {total}: {name}")

    def _folder_done(self, summary) -> None:
        lines = [summary.line() + (" (cancelled: Run on folder again resumes)"
                                   if self.stop_folder else "")]
        lines += summary.failures[-5:]
        self.folder_status.setText("\n".join(lines))

    def _folder_finished(self) -> None:
        self._folder_worker = None
        self.folder_run.setEnabled(True)
        self.folder_cancel.setEnabled(False)

    def shut_down(self) -> None:
        """Stop the runs in progress (after their current step, or the folder's current
        image) and wait for them: napari quitting must not pull Qt objects from under a
        worker thread."""
        self.stop_folder = True
        if self.session is not None:
            self.session.generation += 1
        QThreadPool.globalInstance().waitForDone(120_000)

    def _say(self, line: str) -> None:
        self.status.setText(line)
