"""The workflow editor in napari (*Plugins > seglight > Workflow editor*).

Pick an image layer and a workflow (from the list, the gallery, or a saved file with
*Load…*, or *blank* to compose one from scratch); nothing runs before. Each step of the
workflow appears with its parameters (sliders and fields, ranges and help from the
workflow's config), an on/off box and a block to swap in (:mod:`seglight.editor.steps_tab`);
steps can be added from the block library, removed and reordered (a composed workflow).
Every change re-runs, off the GUI thread, the changed step and those after it (the rest
comes from the step cache), on a z-range around the slice on screen or on the whole stack;
a newer change cancels the run in progress. Each step's output is a layer
``step: <step> [<workflow>]``, updated in place; the objects are ``labels [<workflow>]``,
with a table in a dock.

The voxel size is the image layer's scale at the time of each run, and the editor's layers
follow later changes of that scale. Where it is unknown (scale 1 and no voxel size from the
file), the table is in voxels and a note says so.

The other tabs: *Sweep* (:mod:`seglight.editor.sweep_tab`) and *Folder*
(:mod:`seglight.editor.folder_tab`). *Save…* writes the config the command line runs;
every change is also autosaved (:func:`autosave_path`) and offered back, as "last
session", the next time the editor opens.

The Qt-free logic is :class:`seglight.editor.session.EditorSession`. Requires the
``seglight[napari]`` extra.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

import numpy as np
from qtpy.QtCore import QObject, Qt, QThreadPool, Signal
from qtpy.QtWidgets import (
    QApplication,
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSpinBox,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from seglight.classic import list_workflows
from seglight.classic.compose import BLANK
from seglight.classic.steps import Cancelled
from seglight.editor.fields import ObjectTable
from seglight.editor.folder_tab import FolderTab
from seglight.editor.gallery_dialog import GalleryDialog
from seglight.editor.session import DEFAULT_HALF_Z, EditorSession, RunResult
from seglight.editor.steps_tab import StepsTab
from seglight.editor.sweep_tab import SWEEP_IMAGE, SWEEP_MASK, SWEEP_VALUES, SweepTab
from seglight.errors import SeglightError

log = logging.getLogger("seglight.editor")

__all__ = ["WorkflowEditor", "GalleryDialog", "SWEEP_IMAGE", "SWEEP_MASK", "SWEEP_VALUES",
           "autosave_path", "layer_spacing"]

#: The name of the object-table dock.
OBJECTS = "objects"
#: The metadata key that marks the editor's own layers (never offered as the input image).
OWN_LAYER = "seglight_editor"
#: The workflow picker's first entry: nothing is chosen (and nothing runs) yet.
CHOOSE = "— choose a workflow —"
#: The workflow picker's entry that restores the autosaved settings.
LAST_SESSION = "last session"
UNKNOWN_UNITS = ("voxel size unknown (layer scale 1, 1, 1): the object table is in voxels "
                 "(volume_vox3 …). Open the file with the seglight reader, or set the "
                 "layer's scale (Layer > Transform, or layer.scale = (z, y, x) µm).")


#: Every worker not yet finished: a worker whose Python object is collected while its
#: thread runs (its widget closed, say) aborts napari when the thread signals its end.
LIVE_WORKERS: set = set()


def keep_alive(worker) -> None:
    """Hold ``worker`` until it has finished (see :data:`LIVE_WORKERS`)."""
    LIVE_WORKERS.add(worker)
    worker.finished.connect(lambda: LIVE_WORKERS.discard(worker))


def autosave_path() -> Path:
    """Where the editor keeps its last settings (a workflow config, rewritten on every
    change): ``$SEGLIGHT_CONFIG_DIR/editor_last.yaml``, by default in the user's config
    folder (``platformdirs.user_config_dir("seglight")``)."""
    folder = os.environ.get("SEGLIGHT_CONFIG_DIR")
    if not folder:
        from platformdirs import user_config_dir

        folder = user_config_dir("seglight", appauthor=False)
    return Path(folder) / "editor_last.yaml"


def layer_spacing(layer) -> tuple[float, float, float] | None:
    """The voxel size (z, y, x) in µm of an image layer, now: its scale, unless the scale
    is 1, 1, 1 and nothing says the voxels are 1 µm (the reader's ``spacing_um``
    metadata): then ``None``, unknown."""
    scale = tuple(float(s) for s in layer.scale[-3:])
    if scale != (1.0, 1.0, 1.0):
        return scale  # type: ignore[return-value]
    from seglight.napari_reader import SPACING_KEY

    given = layer.metadata.get(SPACING_KEY)
    if given is not None and all(given) and tuple(float(s) for s in given) == scale:
        return scale  # type: ignore[return-value]
    return None


class _Relay(QObject):
    """Carries a worker thread's step events to the GUI thread (a queued signal)."""

    step = Signal(object)
    progress = Signal(int, int, str)


class WorkflowEditor(QWidget):
    """The workflow editor dock widget.

    Args:
        napari_viewer: the viewer (napari passes it); any ``ViewerModel`` works.
    """

    OWN_LAYER = OWN_LAYER

    def __init__(self, napari_viewer):
        super().__init__()
        self.viewer = napari_viewer
        self.session: EditorSession | None = None
        self.source = None  # the image layer being segmented
        self.result: RunResult | None = None
        self.layers: dict[str, Any] = {}  # layer name -> the editor's layer
        self._retired: list = []  # the previous workflow's layers, removed after the next run
        self._worker = None
        self._pending = False
        self.relay = _Relay()
        self.table = ObjectTable()
        self._table_dock = None
        self._final: str | None = None  # the step whose layer shows the mask

        self.image_combo = QComboBox()
        self.workflow_combo = QComboBox()
        self._fill_workflows()
        gallery = QPushButton("Gallery…")
        gallery.clicked.connect(self.open_gallery)
        load = QPushButton("Load…")
        load.setToolTip("Go on tuning a workflow saved with Save… (or a classic model config)")
        load.clicked.connect(self._load_dialog)
        self.recipe = QLabel("")
        self.recipe.setWordWrap(True)
        self.recipe.setTextInteractionFlags(Qt.TextSelectableByMouse)
        self.units = QLabel(UNKNOWN_UNITS)
        self.units.setWordWrap(True)
        self.units.setStyleSheet("color: orange")
        self.units.hide()
        pick = QFormLayout()
        pick.addRow("image", self.image_combo)
        row = QHBoxLayout()
        row.addWidget(self.workflow_combo, 1)
        row.addWidget(gallery)
        row.addWidget(load)
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
        self.split = QDoubleSpinBox()
        self.split.setRange(0, 50)
        self.split.setSingleStep(0.5)
        self.split.setDecimals(1)
        self.split.setSuffix(" µm")
        self.split.setSpecialValueText("no split")
        self.split.setToolTip("split touching objects: seeds at least this far apart (µm, "
                              "about the smallest object's radius); as labels=true "
                              "split_touching=<µm> on the command line")
        self.run_button = QPushButton("Run")
        self.run_button.clicked.connect(self.run)
        self.save_button = QPushButton("Save…")
        self.save_button.clicked.connect(self._save_dialog)
        buttons = QHBoxLayout()
        buttons.addWidget(self.run_button)
        buttons.addWidget(self.save_button)
        self.status = QLabel("Choose an image layer and a workflow.")
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextSelectableByMouse)

        self.steps_tab = StepsTab(self)
        self.sweep_tab = SweepTab(self)
        self.folder_tab = FolderTab(self)
        self.tabs = QTabWidget()
        self.tabs.addTab(self.steps_tab, "Steps")
        self.tabs.addTab(self.sweep_tab, "Sweep")
        self.tabs.addTab(self.folder_tab, "Folder")

        layout = QVBoxLayout(self)
        layout.addWidget(QLabel("<b>seglight workflow editor</b>"))
        layout.addLayout(pick)
        layout.addWidget(self.recipe)
        layout.addWidget(self.units)
        options = QHBoxLayout()
        options.addWidget(self.live)
        options.addWidget(self.with_labels)
        options.addWidget(QLabel("split touching"))
        options.addWidget(self.split)
        layout.addLayout(options)
        layout.addLayout(buttons)
        layout.addWidget(self.tabs, 1)
        layout.addWidget(self.status)

        self.relay.step.connect(self.steps_tab.show_event)
        self.image_combo.currentIndexChanged.connect(lambda _: self._choose_image())
        self.workflow_combo.currentIndexChanged.connect(lambda _: self._picked())
        self.scope.currentIndexChanged.connect(lambda _: self._scope_changed())
        self.half_z.valueChanged.connect(lambda _: self._scope_changed())
        self.with_labels.toggled.connect(lambda on: on and self.result and self.run())
        self.split.valueChanged.connect(
            lambda _: self.with_labels.isChecked() and self.result and self.run())
        self.viewer.layers.events.inserted.connect(lambda _: self._refresh_images())
        self.viewer.layers.events.removed.connect(lambda _: self._refresh_images())
        self.viewer.dims.events.current_step.connect(lambda _: self._slice_changed())
        QApplication.instance().aboutToQuit.connect(self.shut_down)
        self._refresh_images()

    # --- compatibility: the tabs' parts --------------------------------------------------

    @property
    def step_boxes(self) -> dict:
        return self.steps_tab.boxes

    # --- image and workflow ---------------------------------------------------------------

    def _fill_workflows(self) -> None:
        combo = self.workflow_combo
        combo.blockSignals(True)
        combo.clear()
        combo.addItem(CHOOSE, None)
        if autosave_path().is_file():
            combo.addItem(f"{LAST_SESSION} (autosaved)", LAST_SESSION)
        for name in list_workflows():
            combo.addItem(name, name)
        combo.addItem(f"{BLANK} (compose from scratch)", BLANK)
        combo.blockSignals(False)

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
        if self.image_combo.currentText() != current or self.source is None:
            self._choose_image()

    def _choose_image(self) -> None:
        name = self.image_combo.currentText()
        if not name or name not in self.viewer.layers:
            return
        layer = self.viewer.layers[name]
        shape = tuple(layer.data.shape)
        if len(shape) != 3 or layer.rgb:
            self.say(f"{name}: shape {shape}; choose a single-channel ZYX image layer")
            return
        if self.source is not None:
            for event in (self.source.events.scale, self.source.events.translate):
                event.disconnect(self._source_moved)
        self.source = layer
        layer.events.scale.connect(self._source_moved)
        layer.events.translate.connect(self._source_moved)
        self._show_units()
        workflow = self.session.workflow if self.session is not None else None
        if workflow is None:
            self.session = None
            self.say(f"{name}: choose a workflow (the list, Gallery… or Load…) to segment it")
            return
        self._retire_layers()
        if self._new_session(workflow):
            self._build_steps()

    def _new_session(self, workflow: str) -> bool:
        """A session on the chosen image with ``workflow``'s defaults; False (and a
        message) when the image cannot be segmented."""
        data = np.asarray(self.source.data)
        try:
            self.session = EditorSession(data, workflow, spacing_um=layer_spacing(self.source))
        except SeglightError as err:
            self.say(f"{self.source.name}: {err}")
            self.session = None
            return False
        self.session.center_z = self._current_z()
        return True

    def _picked(self) -> None:
        data = self.workflow_combo.currentData()
        if data == LAST_SESSION:
            self.load(autosave_path())
        elif data:
            self.choose_workflow(data)

    def choose_workflow(self, name: str) -> None:
        """Show workflow ``name``'s steps with its default parameters, and run it."""
        index = self.workflow_combo.findData(name)
        if self.workflow_combo.currentIndex() != index:
            self.workflow_combo.setCurrentIndex(index)  # comes back here through the signal
            return
        if self.source is None:
            self.say("choose an image layer first")
            return
        self._retire_layers()
        if self.session is None:
            if not self._new_session(name):
                return
        else:
            self.session.set_workflow(name)
        self._build_steps()

    def load(self, path: str | Path) -> bool:
        """Go on tuning a saved workflow (a file written by *Save…*, or the autosave)."""
        if self.source is None:
            self.say("choose an image layer first, then Load…")
            return False
        from seglight.classic import load_workflow_config

        try:
            workflow = load_workflow_config(path).workflow
        except SeglightError as err:
            self.say(str(err))
            return False
        self._retire_layers()
        if self.session is None and not self._new_session(workflow):
            return False
        self.session.load(path)
        self.workflow_combo.blockSignals(True)
        self.workflow_combo.setCurrentIndex(self.workflow_combo.findData(workflow))
        self.workflow_combo.blockSignals(False)
        self._build_steps()
        return True

    def open_gallery(self) -> None:
        dialog = GalleryDialog(self, self.session.workflow if self.session else None)
        if dialog.exec() and dialog.chosen():
            self.choose_workflow(dialog.chosen())

    def _build_steps(self) -> None:
        """Show the workflow's steps, and run it."""
        self.steps_tab.rebuild()
        self.sweep_tab.reset()
        self._changed()
        self._scope_changed()

    def rebuild_steps(self) -> None:
        """Lay out the steps again (after a block swap)."""
        self.steps_tab.rebuild()

    def after_compose(self) -> None:
        """After a step was added, removed or moved: the layers of steps that are gone are
        removed once the next run's are shown, the steps are laid out again, and the
        workflow re-runs (with *live* on)."""
        names = {self.layer_name(name) for step in self.session.pipeline.steps
                 for name in step.names} | {self.labels_name()}
        stale = [layer for name, layer in self.layers.items() if name not in names]
        self._retired += stale
        self.layers = {name: layer for name, layer in self.layers.items() if name in names}
        self.steps_tab.rebuild()
        self.sweep_tab.reset()
        self.change(None)

    # --- voxel size ------------------------------------------------------------------------

    def spacing(self) -> tuple[float, float, float] | None:
        """The source layer's voxel size now (``None``: unknown, see :func:`layer_spacing`)."""
        return None if self.source is None else layer_spacing(self.source)

    def _show_units(self) -> None:
        self.units.setVisible(self.source is not None and self.spacing() is None)

    def _source_moved(self, _event=None) -> None:
        """The image layer's scale or translate changed: the editor's layers follow, the
        object table is measured again with the new voxel size."""
        self._show_units()
        if self.session is None:
            return
        self.session.spacing_um = self.spacing()
        if self.result is not None:
            for layer in self.layers.values():
                self._place(layer, self.result.z0)
        if self.with_labels.isChecked() and self.result is not None:
            self.run()

    def _place(self, layer, z0: int) -> None:
        scale = np.asarray(self.source.scale[-3:], float)
        layer.scale = scale
        layer.translate = np.asarray(self.source.translate[-3:], float) + [z0 * scale[0], 0, 0]

    # --- changes and runs ------------------------------------------------------------------

    def change(self, action, *args: Any) -> None:
        """Apply one change to the session (a parameter, an override, the scope); with
        *live* on, re-run (cancelling a run in progress)."""
        if self.session is None:
            return
        if action is not None:
            try:
                action(*args)
            except SeglightError as err:
                self.say(str(err))
                return
        self._changed()
        if self.live.isChecked():
            self.run()

    def _changed(self) -> None:
        """After any change: the recipe line, and the autosave."""
        if self.session is None:
            return
        self.recipe.setText(self.session.recipe())
        try:
            self.session.save(autosave_path())
        except (OSError, SeglightError) as err:  # a read-only home: say it once, go on
            log.warning("the editor could not autosave to %s: %s", autosave_path(), err)

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
        self.session.spacing_um = self.spacing()  # the layer's scale at the time of the run
        self.session.split_um = self.split.value() or None
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
        self.say(f"running {request.workflow} on z {z0}–{z1 - 1}…")
        self.start_worker(job, self._show_result)

    def start_worker(self, job, on_result) -> None:
        """Run ``job`` in a napari thread worker; ``on_result`` gets what it returns."""
        from napari.qt.threading import create_worker

        worker = create_worker(job, _start_thread=False, _ignore_errors=True)
        self._worker = worker
        keep_alive(worker)
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
            self.say(str(err))
            return
        log.error("the workflow editor's run failed", exc_info=err)
        self.say(f"{type(err).__name__}: {str(err).splitlines()[0] if str(err) else ''}")

    def _show_result(self, returned) -> None:
        if returned is None:
            return
        session, result, objects, table = returned
        if session is not self.session or result.request.generation != session.generation:
            return  # a newer change (or another image) is on its way
        self.result = result
        kinds = self.session.pipeline.kinds()
        final = self.session.pipeline.output
        for name, array in result.outputs.items():
            self._show_layer(self.layer_name(name), array, kinds.get(name, "image"),
                             result.z0, visible=name == final)
        # A composed workflow's mask moved to a new step: the old mask's layer is hidden.
        if self._final != final:
            previous = self.layers.get(self.layer_name(self._final)) if self._final else None
            if previous is not None:
                previous.visible = False
            self.layers[self.layer_name(final)].visible = True
            self._final = final
        if objects is not None:
            self._show_layer(self.labels_name(), objects, "labels", result.z0, visible=True)
            self._show_table(table)
        self._remove_retired()
        ran = sum(not e.cached and not e.disabled for e in result.events)
        seconds = sum(e.seconds for e in result.events)
        z1 = result.z0 + result.mask.shape[0] - 1
        line = (f"{result.request.workflow}: {seconds:.2f} s, {ran} of {len(result.events)} "
                f"steps recomputed (z {result.z0}–{z1})")
        if result.warnings:
            self.say(f"⚠ {result.warnings[0]}\n{line}", warn=True)
        else:
            self.say(line)

    def layer_name(self, step: str) -> str:
        """The name of the layer that shows ``step``'s output: ``step: <step> [<workflow>]``
        (the results' layers are named otherwise: no step can take their name)."""
        return f"step: {step} [{self.session.workflow}]"

    def labels_name(self) -> str:
        """The name of the objects' Labels layer: ``labels [<workflow>]``."""
        return f"labels [{self.session.workflow}]"

    def _show_layer(self, name: str, array: np.ndarray, kind: str, z0: int,
                    visible: bool) -> None:
        """Create the layer, or update it in place (data and z offset)."""
        if kind == "mask":
            array = np.asarray(array).astype(np.uint8)
        layer = self.layers.get(name)
        if layer is None:  # a step removed and added again: its layer is still there
            from napari.layers import Image

            layer = next((old for old in self._retired if old.name == name
                          and isinstance(old, Image) == (kind == "image")), None)
            if layer is not None:
                self._retired.remove(layer)
                self.layers[name] = layer
        if layer is None or layer not in self.viewer.layers:
            add = self.viewer.add_image if kind == "image" else self.viewer.add_labels
            options = {"opacity": 0.6} if kind != "image" else {"blending": "additive"}
            layer = add(array, name=name, visible=visible, metadata={OWN_LAYER: name},
                        **options)
            self._place(layer, z0)
            self.layers[name] = layer
            return
        self._place(layer, z0)
        layer.data = array
        if kind == "image":
            layer.reset_contrast_limits()

    def _retire_layers(self) -> None:
        """Set the layers of the workflow on screen aside: they are removed once the next
        workflow's layers are in the viewer (:meth:`_remove_retired`).

        Removing several drawn layers and then adding new ones crashed napari 0.9.2 in
        vispy's ``glDrawArrays`` under Xvfb (software OpenGL) on the first workflow switch;
        adding the new layers first and removing the old ones after did not (docs/editor.md,
        "The workflow-switch crash")."""
        self._retired += [layer for layer in self.layers.values() if layer not in self._retired]
        self.layers = {}
        self.result = None

    def _remove_retired(self) -> None:
        retired, self._retired = self._retired, []
        self.replace_layers(retired, [])

    def replace_layers(self, old: list, added: list) -> None:
        """Remove ``old`` layers once ``added`` ones are in the viewer (the order that does
        not crash napari, see :meth:`_retire_layers`)."""
        for layer in old:
            if layer in self.viewer.layers and layer not in added:
                self.viewer.layers.remove(layer)

    def _show_table(self, table: dict[str, np.ndarray]) -> None:
        layer = self.layers.get(self.labels_name())
        try:
            self.table.show_table(table, layer)
        except RuntimeError:  # the user closed its dock, which deleted it: a new one
            self.table, self._table_dock = ObjectTable(), None
            self.table.show_table(table, layer)
        window = getattr(self.viewer, "window", None)
        if window is not None and self._table_dock is None:
            self._table_dock = window.add_dock_widget(self.table, name=OBJECTS, area="bottom")

    # --- save ----------------------------------------------------------------------------

    def save(self, path: str | Path) -> Path | None:
        """Write the tuned workflow where the command line runs it:
        ``python -m seglight.predict workflow=PATH input=... output=...``."""
        if self.session is None:
            return None
        try:
            path = self.session.save(path)
        except (SeglightError, OSError) as err:
            self.say(f"{path}: {err}")
            return None
        self.say(f"saved {path}; run it with: python -m seglight.predict workflow={path} "
                 "input=<raw folder> output=<result folder>")
        return path

    def _save_dialog(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Save the workflow",
                                              f"{self.session.workflow}_tuned.yaml"
                                              if self.session else "", "YAML (*.yaml)")
        if path:
            self.save(path)

    def _load_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Load a saved workflow", "",
                                              "YAML (*.yaml *.yml)")
        if path:
            self.load(path)

    def shut_down(self) -> None:
        """Stop the runs in progress (after their current step, or the folder's current
        image) and wait for them: napari quitting must not pull Qt objects from under a
        worker thread."""
        self.folder_tab.stop = True
        if self.session is not None:
            self.session.generation += 1
        QThreadPool.globalInstance().waitForDone(120_000)

    def say(self, line: str, warn: bool = False) -> None:
        """Show one message on the status line (a warning in orange)."""
        self.status.setStyleSheet("color: orange" if warn else "")
        self.status.setText(line)
