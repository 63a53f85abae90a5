"""The editor's *Sweep* tab: one or two parameters, a few values each, a mosaic of the
results on the current slice (:mod:`seglight.editor.sweep` builds it)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from qtpy.QtWidgets import QComboBox, QFormLayout, QLabel, QLineEdit, QPushButton, QWidget

from seglight.classic.steps import Cancelled
from seglight.editor.fields import number_text
from seglight.editor.sweep import Mosaic, parse_values, suggest_values
from seglight.errors import SeglightError

if TYPE_CHECKING:
    from seglight.editor.widget import WorkflowEditor

SWEEP_IMAGE, SWEEP_MASK, SWEEP_VALUES = "sweep input", "sweep mask", "sweep values"


class SweepTab(QWidget):
    """Two parameter pickers with their values, and the button that sweeps."""

    def __init__(self, editor: WorkflowEditor):
        super().__init__()
        self.editor = editor
        form = QFormLayout(self)
        self.keys = [QComboBox(), QComboBox()]
        self.values = [QLineEdit(), QLineEdit()]
        for i, (combo, values) in enumerate(zip(self.keys, self.values, strict=True)):
            combo.currentTextChanged.connect(lambda key, i=i: self.suggest(i, key))
            form.addRow(f"parameter {i + 1}", combo)
            form.addRow("values", values)
        self.button = QPushButton("Sweep on the current slice")
        self.button.clicked.connect(self.sweep)
        form.addRow(self.button)
        form.addRow(QLabel("Rows: parameter 1's values; columns: parameter 2's. Each tile's "
                           "values are written on it (layer “sweep values”)."))

    def reset(self) -> None:
        """Offer the session's number parameters (after a workflow change)."""
        session = self.editor.session
        numbers = [] if session is None else [
            p.key for info in session.steps for p in info.params
            if p.key and p.kind in ("int", "float")]
        numbers = list(dict.fromkeys(numbers))
        for i, combo in enumerate(self.keys):
            combo.blockSignals(True)
            combo.clear()
            combo.addItems(([] if i == 0 else [""]) + numbers)
            combo.blockSignals(False)
            self.suggest(i, combo.currentText())

    def suggest(self, i: int, key: str) -> None:
        """Fill parameter ``i``'s values with a few around its current value (included)."""
        session = self.editor.session
        if session is None or not key:
            self.values[i].setText("")
            return
        param = next(p for info in session.steps for p in info.params if p.key == key)
        r = param.ranges[0] if param.ranges else None
        values = suggest_values(session.params[key], param.kind, r and r.lo, r and r.hi,
                                n=5 if i == 0 else 3)
        self.values[i].setText(", ".join(number_text(v) for v in values))

    def request(self) -> tuple[tuple[str, list], tuple[str, list] | None]:
        """The sweep's parameters and values.

        Raises:
            SeglightError: a value that is not a number of the parameter's kind.
        """
        session = self.editor.session
        kinds = {p.key: p.kind for info in session.steps for p in info.params}
        chosen = []
        for combo, values in zip(self.keys, self.values, strict=True):
            key = combo.currentText()
            if key:
                chosen.append((key, parse_values(values.text(), key, kinds[key])))
        return chosen[0], (chosen[1] if len(chosen) > 1 else None)

    def sweep(self) -> None:
        """Run the sweep in a worker; the mosaic appears as three layers, in view."""
        editor = self.editor
        if editor.session is None or editor.busy:
            editor.say("choose a workflow, wait for the run in progress to end, then sweep")
            return
        try:
            first, second = self.request()
        except SeglightError as err:
            editor.say(str(err))
            return
        session = editor.session
        generation = session.generation
        n = len(first[1]) * (len(second[1]) if second else 1)
        editor.say(f"sweeping {n} combinations on slice {session.center_z}…")

        def job():
            try:
                return session.sweep(first, second,
                                     should_stop=lambda: session.generation != generation)
            except Cancelled:
                return None

        editor.start_worker(job, self.show_mosaic)

    def show_mosaic(self, mosaic: Mosaic | None) -> None:
        editor, viewer = self.editor, self.editor.viewer
        if mosaic is None:
            editor.say("sweep cancelled by a change")
            return
        scale = np.asarray(editor.source.scale[-2:], float)
        old = [viewer.layers[name] for name in (SWEEP_IMAGE, SWEEP_MASK, SWEEP_VALUES)
               if name in viewer.layers]
        own = {editor.OWN_LAYER: "sweep"}
        added = [viewer.add_image(mosaic.image, name=SWEEP_IMAGE, scale=scale, metadata=own),
                 viewer.add_labels(mosaic.mask, name=SWEEP_MASK, scale=scale, opacity=0.6,
                                   metadata=own)]
        ty, tx = mosaic.tile_shape
        boxes = [np.array([[y, x], [y, x + tx], [y + ty, x + tx], [y + ty, x]]) * scale
                 for y, x, _ in mosaic.captions]
        added.append(viewer.add_shapes(
            boxes, shape_type="rectangle", name=SWEEP_VALUES, edge_color="yellow",
            face_color="transparent", edge_width=float(scale[-1]), metadata=own,
            text={"string": "{values}", "anchor": "upper_left", "color": "yellow", "size": 10},
            features={"caption": [c for _, _, c in mosaic.captions], "values": mosaic.short}))
        editor.replace_layers(old, added)  # added first, then the old ones removed
        for layer in editor.layers.values():
            layer.visible = False
        editor.source.visible = False
        viewer.reset_view()  # the mosaic starts at the stack's corner and covers it: in view
        editor.say(f"sweep on slice {editor.session.center_z}, tiles labelled "
                   f"{', '.join(mosaic.keys)}; hide the sweep layers to see the stack again")
