"""The editor's *Steps* tab: one box per step of the workflow, with its block, its
arguments and its time in the last run."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from qtpy.QtWidgets import (
    QComboBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from seglight.classic.steps import StepEvent
from seglight.editor.fields import param_field, show_value

if TYPE_CHECKING:
    from seglight.editor.widget import WorkflowEditor


class StepBox(QGroupBox):
    """One step: on/off (the group's check box, where the step may be off), the block to
    run, its arguments, and its time in the last run."""

    def __init__(self, tab: StepsTab, info: Any):
        super().__init__(f"{info.name}  ({info.kind})")
        self.tab, self.info = tab, info
        editor = tab.editor
        self.setToolTip(info.help)
        if info.can_disable:
            self.setCheckable(True)
            self.setChecked(info.enabled)
            self.toggled.connect(
                lambda on: editor.change(editor.session.set_enabled, info.name, on))
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
            field = tab.field(info.name, param)
            self.fields[param.name] = field
            label = QLabel(param.key or param.name)
            tip = param.help or ("the block's default" if param.key is None else "")
            for widget in (label, field):
                widget.setToolTip(tip)
            form.addRow(label, field)

    def _swap(self, block: str) -> None:
        editor = self.tab.editor
        editor.change(editor.session.swap_block, self.info.name, block)
        self.tab.rebuild()

    def show_event(self, event: StepEvent) -> None:
        if event.disabled:
            self.latency.setText("off")
        elif event.cached:
            self.latency.setText("cached")
        elif event.seconds < 0.1:
            self.latency.setText(f"{event.seconds * 1000:.0f} ms")
        else:
            self.latency.setText(f"{event.seconds:.2f} s")


class StepsTab(QScrollArea):
    """The steps of the editor's session, one :class:`StepBox` each."""

    def __init__(self, editor: WorkflowEditor):
        super().__init__()
        self.editor = editor
        self.boxes: dict[str, StepBox] = {}
        self.param_fields: dict[str, list[QWidget]] = {}
        inner = QWidget()
        self.steps_layout = QVBoxLayout(inner)
        self.steps_layout.setContentsMargins(0, 0, 0, 0)
        self.setWidgetResizable(True)
        self.setWidget(inner)

    def rebuild(self) -> None:
        """Lay out one box per step (after a workflow change or a block swap)."""
        while self.steps_layout.count():
            item = self.steps_layout.takeAt(0)
            if item.widget() is not None:
                item.widget().hide()
                item.widget().deleteLater()
        self.boxes = {}
        self.param_fields = {}
        if self.editor.session is None:
            return
        for info in self.editor.session.steps:
            box = StepBox(self, info)
            self.boxes[info.name] = box
            self.steps_layout.addWidget(box)
        self.steps_layout.addStretch(1)

    def field(self, step: str, param: Any) -> QWidget:
        """The control of one step argument. One that reads a workflow parameter sets that
        parameter (a parameter read by two steps gets a control in each, kept in step);
        one that does not (a swapped-in block's) sets the step's own argument."""
        editor = self.editor
        ident = param.key or f"{step}.{param.name}"

        def changed(new: Any) -> None:
            for other in self.param_fields.get(ident, []):
                if other is not field:
                    show_value(other, new)
            if param.key is None:
                editor.change(editor.session.set_block_param, step, param.name, new)
            else:
                editor.change(editor.session.set_param, param.key, new)

        field = param_field(param, changed, editor.say)
        self.param_fields.setdefault(ident, []).append(field)
        return field

    def show_event(self, event: StepEvent) -> None:
        box = self.boxes.get(event.step)
        if box is not None:
            box.show_event(event)
