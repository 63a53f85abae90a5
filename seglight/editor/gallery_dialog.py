"""The gallery dialog: every workflow with its thumbnail and description."""

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
