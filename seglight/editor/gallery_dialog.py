"""The gallery dialog: every workflow with its thumbnail and description; and
:class:`ListChooser`, the list-with-OK dialog it (and the Steps tab's block picker) is."""

from __future__ import annotations

from qtpy.QtCore import Qt
from qtpy.QtGui import QIcon, QPixmap
from qtpy.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QVBoxLayout,
    QWidget,
)

from seglight.classic import list_workflows
from seglight.editor.gallery import description, thumbnail_path


class ListChooser(QDialog):
    """A prompt over a list of items (each with its name as ``Qt.UserRole`` data) and
    OK / Cancel; double-click (or OK) chooses."""

    def __init__(self, parent: QWidget | None, title: str, prompt: str,
                 size: tuple[int, int]):
        super().__init__(parent)
        self.setWindowTitle(title)
        self.list = QListWidget()
        self.list.itemDoubleClicked.connect(lambda _: self.accept())
        buttons = QDialogButtonBox(QDialogButtonBox.Ok | QDialogButtonBox.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel(prompt))
        layout.addWidget(self.list)
        layout.addWidget(buttons)
        self.resize(*size)

    def add(self, name: str, text: str, tip: str) -> QListWidgetItem:
        """Add an item that chooses ``name``."""
        item = QListWidgetItem(text)
        item.setData(Qt.UserRole, name)
        item.setToolTip(tip)
        self.list.addItem(item)
        return item

    def chosen(self) -> str | None:
        item = self.list.currentItem()
        return None if item is None else item.data(Qt.UserRole)


class GalleryDialog(ListChooser):
    """Every workflow with its thumbnail and description; double-click (or OK) chooses."""

    def __init__(self, parent: QWidget | None = None, current: str | None = None):
        super().__init__(parent, "seglight workflows", "Choose the workflow whose structure "
                         "looks most like yours (hover for its steps).", (820, 640))
        self.list.setViewMode(QListWidget.IconMode)
        self.list.setIconSize(QPixmap(96, 96).size())
        self.list.setGridSize(QPixmap(190, 150).size())
        self.list.setWordWrap(True)
        self.list.setResizeMode(QListWidget.Adjust)
        for name in list_workflows():
            text = description(name)
            item = self.add(name, f"{name}\n{text.split(':')[0]}", text)
            path = thumbnail_path(name)
            if path is not None:
                item.setIcon(QIcon(str(path)))
            if name == current:
                self.list.setCurrentItem(item)
