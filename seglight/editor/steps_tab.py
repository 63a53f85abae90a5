"""The editor's *Steps* tab: one box per step of the workflow, with its block, its
arguments and its time in the last run; and the buttons that compose a workflow.

Click a step's box to select it (its title turns bold). *Add step…* offers the blocks of
the library (:mod:`seglight.classic.library`) whose inputs exist after the selected step
(the last one when none is) and inserts the chosen one there; *Remove* removes the
selected step; *Up* / *Down* move it; *Blank* starts from the image, normalized and
thresholded. An edit that would leave a step without its input is refused with one line on
the status line (:mod:`seglight.classic.compose`). Every edit re-runs, as any change
does."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from qtpy.QtWidgets import (
    QComboBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from seglight.classic.compose import BLANK
from seglight.classic.library import block_library
from seglight.classic.steps import StepEvent
from seglight.editor.fields import param_field, show_value
from seglight.editor.gallery_dialog import ListChooser

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

    def mousePressEvent(self, event) -> None:  # noqa: N802 - Qt's name
        self.tab.select(self.info.name)
        super().mousePressEvent(event)

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


class BlockPicker(ListChooser):
    """The blocks that can be added at a place, each with its inputs, output and help;
    double-click (or OK) chooses."""

    def __init__(self, parent: QWidget | None, blocks: list[str], after: str | None):
        where = "first" if after is None else f"after {after!r}"
        super().__init__(parent, "Add a step", f"Blocks whose inputs exist {where}:",
                         (640, 480))
        library = block_library()
        for name in blocks:
            spec = library[name]
            self.add(name, f"{name}  ({' + '.join(spec.inputs)} → "
                           f"{' + '.join(spec.outputs)}): {spec.help}", spec.help)


class StepsTab(QWidget):
    """The steps of the editor's session, one :class:`StepBox` each, under the compose
    buttons (*Add step…*, *Remove*, *Up*, *Down*, *Blank*)."""

    def __init__(self, editor: WorkflowEditor):
        super().__init__()
        self.editor = editor
        self.boxes: dict[str, StepBox] = {}
        self.param_fields: dict[str, list[QWidget]] = {}
        #: The selected step (what Add inserts after, Remove and Up/Down act on).
        self.selected: str | None = None
        self.buttons: dict[str, QPushButton] = {}
        bar = QHBoxLayout()
        for label, action, tip in (
            ("Add step…", self.add_dialog, "add a block from the library after the selected "
                                           "step (only blocks whose inputs exist there)"),
            ("Remove", self.remove, "remove the selected step"),
            ("Up", lambda: self.move(-1), "move the selected step up"),
            ("Down", lambda: self.move(1), "move the selected step down"),
            ("Blank", self.blank, "start from the image, normalized and thresholded"),
        ):
            button = QPushButton(label)
            button.setToolTip(tip)
            button.clicked.connect(action)
            bar.addWidget(button)
            self.buttons[label] = button
        inner = QWidget()
        self.steps_layout = QVBoxLayout(inner)
        self.steps_layout.setContentsMargins(0, 0, 0, 0)
        self.scroll = QScrollArea()
        self.scroll.setWidgetResizable(True)
        self.scroll.setWidget(inner)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(bar)
        layout.addWidget(self.scroll, 1)

    # --- composing -----------------------------------------------------------------------

    def select(self, step: str | None) -> None:
        """Select a step (its box's title in bold)."""
        self.selected = step if step in self.boxes else None
        for name, box in self.boxes.items():
            font = box.font()
            font.setBold(name == self.selected)
            box.setFont(font)
            for child in box.findChildren(QWidget):  # only the title in bold
                child_font = child.font()
                child_font.setBold(False)
                child.setFont(child_font)

    def add_dialog(self) -> None:
        """Pick a block (:class:`BlockPicker`) and add it after the selected step."""
        session = self.editor.session
        if session is None:
            self.editor.say("choose an image and a workflow first")
            return
        after = self._anchor()
        picker = BlockPicker(self, session.valid_blocks(after), after)
        if picker.exec() and picker.chosen():
            self.add(picker.chosen())

    def _anchor(self) -> str | None:
        """Where a new step goes: after the selected step, else after the last one."""
        return self.selected or (list(self.boxes)[-1] if self.boxes else None)

    def add(self, block: str) -> str | None:
        """Add ``block`` after the selected step (the last one when none is); returns the
        new step's name, or ``None`` (and a status line) when it cannot go there."""
        added = self._edit(self.editor.session.add_step, block, self._anchor())
        if added is False:
            return None
        self.select(added)
        return added

    def remove(self) -> bool:
        """Remove the selected step; ``False`` (and a status line) when refused."""
        if self.selected is None:
            self.editor.say("select a step first (click its box)")
            return False
        step = self.selected
        index = list(self.boxes).index(step)
        if self._edit(self.editor.session.remove_step, step) is False:
            return False
        names = list(self.boxes)
        self.select(names[max(0, index - 1)] if names else None)
        return True

    def move(self, offset: int) -> bool:
        """Move the selected step up (-1) or down (+1); ``False`` when refused."""
        if self.selected is None:
            self.editor.say("select a step first (click its box)")
            return False
        step = self.selected
        if self._edit(self.editor.session.move_step, step, offset) is False:
            return False
        self.select(step)
        return True

    def blank(self) -> None:
        """Start from the blank workflow (image → normalize → automatic threshold)."""
        self.editor.choose_workflow(BLANK)

    def _edit(self, action, *args: Any) -> Any:
        """Apply one compose action through the editor (layers of removed steps go, the
        workflow re-runs); ``False`` when it was refused (the reason on the status line)."""
        from seglight.errors import SeglightError

        session = self.editor.session
        if session is None:
            self.editor.say("choose an image and a workflow first")
            return False
        try:
            result = action(*args)
        except SeglightError as err:
            self.editor.say(str(err), warn=True)
            return False
        self.editor.after_compose()
        return result

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
        self.select(self.selected)

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
