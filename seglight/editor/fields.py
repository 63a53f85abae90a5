"""The editor's field widgets: a number as a slider and a spin box, the control of one step
argument, and the object table. No napari here, only Qt."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import yaml
from qtpy.QtCore import Qt
from qtpy.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QHBoxLayout,
    QLineEdit,
    QSlider,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QWidget,
)

#: Slider positions between a parameter's minimum and maximum (floats).
SLIDER_STEPS = 200


def number_text(value: Any) -> str:
    """A value as the editor writes it: ``0.15``, ``15``, ``True``."""
    return f"{value:g}" if isinstance(value, float) else str(value)


def flow(value: Any) -> str:
    """A list parameter as one line of YAML, e.g. ``[2.5, 7.5]``."""
    return yaml.safe_dump(value, default_flow_style=True).strip()


class NumberField(QWidget):
    """A slider and a spin box for one number, kept in step.

    Args:
        kind: ``int`` or ``float``.
        value, low, high, step: the value, its range and the spin box's step.
        on_change: called with the new value when the user changes it.
    """

    def __init__(self, kind: str, value: float, low: float, high: float, step: float | None,
                 on_change: Callable[[Any], None]):
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


def param_field(param: Any, changed: Callable[[Any], None],
                say: Callable[[str], None]) -> QWidget:
    """The control of one step argument (:class:`seglight.classic.catalog.ParamInfo`):
    a slider and a field for a number with a range, a check box for a flag, a list of
    choices for a string that has them, else a line of YAML (lists such as ``[2.5, 7.5]``).

    Args:
        param: the argument, its value, kind, ranges and choices.
        changed: called with the new value when the user changes it.
        say: where a value that cannot be read is reported (one line).
    """
    kind, value = param.kind, param.value
    if kind in ("int", "float") and param.ranges:
        r = param.ranges[0]
        low, high = min(r.lo, value), max(r.hi, value)  # a value outside its slider's range
        return NumberField(kind, value, low, high, r.step, changed)
    if kind == "bool":
        field = QCheckBox()
        field.setChecked(bool(value))
        field.toggled.connect(changed)
        return field
    if kind == "str" and param.choices:
        field = QComboBox()
        field.addItems(list(param.choices))
        field.setCurrentText(str(value))
        field.currentTextChanged.connect(changed)
        return field
    field = QLineEdit(flow(value) if kind == "list" else number_text(value))
    ranges = ", ".join(f"{r.lo:g}..{r.hi:g}" for r in param.ranges)
    if ranges:
        field.setPlaceholderText(ranges)

    def edited() -> None:
        try:
            new = yaml.safe_load(field.text())
        except yaml.YAMLError:
            say(f"{param.key or param.name}: {field.text()!r} is not a value; "
                f"e.g. {flow(value)}")
            return
        if new != value:
            changed(new)

    field.editingFinished.connect(edited)
    return field


def show_value(field: QWidget, value: Any) -> None:
    """Put ``value`` in a control made by :func:`param_field` without signalling a change."""
    if isinstance(field, NumberField):
        field.set_value(value)
        return
    field.blockSignals(True)
    if isinstance(field, QCheckBox):
        field.setChecked(bool(value))
    elif isinstance(field, QComboBox):
        field.setCurrentText(str(value))
    elif isinstance(field, QLineEdit):
        field.setText(flow(value) if isinstance(value, list) else number_text(value))
    field.blockSignals(False)


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
