"""The Curator in napari: one dock widget per mode (*Plugins > seglight*).

Each widget asks for the input and output folders, then walks through the raw images that
are not yet done (see :class:`~seglight.curate.decision_log.DecisionLog`): it shows the raw image
and its segmentation(s) as layers, with Shapes layers to draw *excluding regions* (costmap
0) and, in merging mode, *merging regions* (ground truth from the second segmentation).
Good writes the triplet at once, Bad rejects the image, Skip leaves it for a later
session. Regions drawn on a 2D view apply through every z unless "regions apply to every
z" is unticked, in which case each region applies to the slice it was drawn on.

Requires the ``seglight[napari]`` extra (napari and a Qt binding).
"""

from __future__ import annotations

import numpy as np
from qtpy.QtCore import Qt
from qtpy.QtWidgets import (
    QApplication,
    QCheckBox,
    QComboBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from seglight.curate.config import CurateConfig
from seglight.curate.engine import Curator, Item, Loaded
from seglight.curate.regions import Polygon
from seglight.errors import SeglightError

EXCLUDING = "excluding regions"
MERGING = "merging regions"
DIFFERENCE = "difference (1: only first, 2: only second)"
LAYER_NAMES = ("raw", "segmentation", "segmentation 2", DIFFERENCE, EXCLUDING, MERGING)
#: The form's label of each field (the config key stays the field's key).
FIELD_LABELS = {"raw": "raw images", "seg": "segmentations", "seg1": "first segmentations",
                "seg2": "second segmentations", "mask": "excluding masks",
                "out": "output (triplets)",
                "uncertainty_ckpt": "uncertainty from a network",
                "uncertainty_seg": "uncertainty from a 2nd segmentation"}


def ellipse_outline(corners_yx: np.ndarray, n_vertices: int = 32) -> np.ndarray:
    """Vertices of the ellipse inscribed in napari's ellipse box (4 corners, in order)."""
    corners = np.asarray(corners_yx, float)
    center = corners.mean(axis=0)
    half_u, half_v = (corners[1] - corners[0]) / 2, (corners[2] - corners[1]) / 2
    angles = np.linspace(0, 2 * np.pi, n_vertices, endpoint=False)[:, None]
    return center + np.cos(angles) * half_u + np.sin(angles) * half_v


def shapes_to_polygons(layer, every_z: bool) -> list[Polygon]:
    """Turn a napari Shapes layer into :class:`Polygon` regions in voxel coordinates.

    Args:
        layer: a Shapes layer with the same scale as the image (so its data are voxels).
        every_z: apply each region through every z, instead of the slice it was drawn on.

    Lines and paths enclose no area and are left out.
    """
    polygons = []
    for data, kind in zip(layer.data, layer.shape_type, strict=True):
        data = np.asarray(data, float)
        if kind in ("line", "path"):
            continue
        yx = ellipse_outline(data[:, -2:]) if kind == "ellipse" else data[:, -2:]
        z = None if every_z or data.shape[1] == 2 else int(round(data[0, 0]))
        polygons.append(Polygon(yx=yx, z=z))
    return polygons


class FolderField(QWidget):
    """A folder path: a text field and a button that opens a folder chooser.

    Args:
        placeholder: the grey hint in the empty field.
        file_filter: choose a file matching this filter (e.g. ``"*.ckpt"``) instead.
    """

    def __init__(self, placeholder: str, file_filter: str | None = None):
        super().__init__()
        self.file_filter = file_filter
        self.edit = QLineEdit()
        self.edit.setPlaceholderText(placeholder)
        browse = QPushButton("…")
        browse.setFixedWidth(28)
        browse.clicked.connect(self._browse)
        self.edit.setMinimumWidth(260)  # a path is read, not guessed from its first letters
        self.edit.textChanged.connect(self.edit.setToolTip)  # the whole path on hover
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.edit, 1)
        row.addWidget(browse)

    def _browse(self) -> None:
        if self.file_filter:
            folder, _ = QFileDialog.getOpenFileName(self, "Choose a file", self.edit.text(),
                                                    self.file_filter)
        else:
            folder = QFileDialog.getExistingDirectory(self, "Choose a folder", self.edit.text())
        if folder:
            self.edit.setText(folder)

    def value(self) -> str | None:
        return self.edit.text().strip() or None


class CuratorWidget(QWidget):
    """Dock widget for one curation mode.

    Args:
        napari_viewer: the viewer (napari passes it); any ``ViewerModel`` works.
        mode: ``sorting``, ``merging`` or ``takeall``.
    """

    mode = "sorting"

    def __init__(self, napari_viewer, mode: str | None = None):
        super().__init__()
        self.viewer = napari_viewer
        self.mode = mode or self.mode
        self.curator: Curator | None = None
        self.queue: list[Item] = []
        self.position = 0
        self.loaded: Loaded | None = None
        self.counts = {"written": 0, "bad": 0, "skipped": 0, "failed": 0}

        seg_keys = ("seg1", "seg2") if self.mode == "merging" else ("seg",)
        self.fields = {"raw": FolderField("raw images")}
        for key in seg_keys:
            self.fields[key] = FolderField(f"<stem>_struct_segmentation.tiff ({key})")
        self.fields["mask"] = FolderField("optional: <stem>_mask.tiff excluding masks")
        self.fields["out"] = FolderField("curated triplets (created)")
        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.AllNonFixedFieldsGrow)
        form.setRowWrapPolicy(QFormLayout.WrapLongRows)
        for key, widget in self.fields.items():
            form.addRow(FIELD_LABELS[key], widget)
        # Order: most uncertain first needs a network, or a second segmentation (merging
        # mode has one already).
        self.order = QComboBox()
        self.order.addItem("as listed", "as_listed")
        self.order.addItem("most uncertain first", "uncertainty")
        self.order_fields = {
            "uncertainty_ckpt": FolderField("network .ckpt: flip-TTA disagreement",
                                            file_filter="Checkpoints (*.ckpt)"),
            "uncertainty_seg": FolderField("or a second segmentation folder"),
        }
        if self.mode != "takeall":
            form.addRow("order", self.order)
            for key, widget in self.order_fields.items():
                form.addRow(FIELD_LABELS[key], widget)

        self.start_button = QPushButton("Start" if self.mode != "takeall" else "Take all")
        self.start_button.clicked.connect(self.start)
        self.progress = QLabel("Choose the folders, then Start.")
        self.progress.setWordWrap(True)
        self.message = QLabel("")
        self.message.setWordWrap(True)
        self.message.setTextInteractionFlags(Qt.TextSelectableByMouse)
        self.every_z = QCheckBox("regions apply to every z")
        self.every_z.setChecked(True)
        self.good_button = QPushButton("Good")
        self.bad_button = QPushButton("Bad")
        self.skip_button = QPushButton("Skip")
        self.good_button.clicked.connect(self.good)
        self.bad_button.clicked.connect(self.bad)
        self.skip_button.clicked.connect(self.skip)
        decide = QHBoxLayout()
        for button in (self.good_button, self.bad_button, self.skip_button):
            decide.addWidget(button)

        layout = QVBoxLayout(self)
        layout.addWidget(QLabel(f"<b>seglight Curator — {self.mode}</b>"))
        layout.addLayout(form)
        layout.addWidget(self.start_button)
        if self.mode != "takeall":
            layout.addWidget(self.every_z)
            layout.addLayout(decide)
        layout.addWidget(self.progress)
        layout.addWidget(self.message)
        layout.addStretch(1)
        self._enable_decisions(False)

    # --- session ---------------------------------------------------------------------

    def config(self) -> CurateConfig:
        """The configuration from the folder fields (images written raw, as by default)."""
        values = {key: field.value() for key, field in self.fields.items()}
        values |= {key: field.value() for key, field in self.order_fields.items()}
        return CurateConfig(mode=self.mode, order=self.order.currentData(), **values)

    def start(self) -> None:
        """Open the folders and show the first image not yet done (or take all)."""
        try:
            self.curator = Curator(self.config(), log=self._note, interactive=True)
        except SeglightError as err:
            self._note(f"error: {err}")
            return
        from seglight.widgets.recent import remember  # the Train widget's default folder

        remember("curated", self.curator.out)
        self.message.setText("")
        if self.curator.config.order == "uncertainty":
            self.progress.setText("Scoring the uncertainty of each image…")
            QApplication.processEvents()
        self.queue = self.curator.pending()
        self.position = 0
        self.counts = dict.fromkeys(self.counts, 0)
        if self.mode == "takeall":
            self._take_all()
        else:
            self._show_current()

    def _take_all(self) -> None:
        for position, item in enumerate(self.queue):
            self.position = position
            try:
                self.curator.accept(item, decision="take")
                self.counts["written"] += 1
            except SeglightError as err:
                self.counts["failed"] += 1
                self._note(f"failed: {err}")
            self._show_progress(item)
            QApplication.processEvents()
        self.position = len(self.queue)
        self._show_progress(None)

    def _show_current(self) -> None:
        """Load the image at ``position`` into the viewer; failed loads are logged and passed."""
        while self.position < len(self.queue):
            item = self.queue[self.position]
            try:
                self.loaded = self.curator.load(item)
            except SeglightError as err:
                self.curator.fail(item, "good", str(err))
                self.counts["failed"] += 1
                self._note(f"failed: {err}")
                self.position += 1
                continue
            self._show_layers(self.loaded)
            self._show_progress(item)
            self._enable_decisions(True)
            return
        self.loaded = None
        self._clear_layers()
        self._show_progress(None)
        self._enable_decisions(False)

    def _show_layers(self, loaded: Loaded) -> None:
        # The new image's layers are added first and the previous ones removed after:
        # removing drawn layers and then adding new ones crashed napari 0.9.2 under Xvfb
        # (see docs/editor.md, "The workflow-switch crash").
        old = self._own_layers()
        scale = tuple(s if s else 1.0 for s in loaded.image.spacing_um)
        added = [self.viewer.add_image(loaded.image.data, name="raw", scale=scale)]
        first = loaded.seg > 0
        added.append(self.viewer.add_labels(first.astype(np.uint8), name="segmentation",
                                            scale=scale, opacity=0.5))
        if self.mode == "merging":
            second = loaded.seg2 > 0
            added.append(self.viewer.add_labels(second.astype(np.uint8) * 2,
                                                name="segmentation 2", scale=scale,
                                                opacity=0.5, visible=False))
            # Where the two differ, and which one has it: what merging regions decide.
            added.append(self.viewer.add_labels(
                (first & ~second).astype(np.uint8) + (second & ~first).astype(np.uint8) * 2,
                name=DIFFERENCE, scale=scale, opacity=0.8))
            added.append(self.viewer.add_shapes(ndim=3, name=MERGING, scale=scale,
                                                edge_color="lime", face_color=[0, 1, 0, 0.2],
                                                edge_width=1))
        excluding = self.viewer.add_shapes(ndim=3, name=EXCLUDING, scale=scale, edge_color="red",
                                           face_color=[1, 0, 0, 0.25], edge_width=1)
        added.append(excluding)
        names = ["raw", "segmentation"] + (
            ["segmentation 2", DIFFERENCE, MERGING] if self.mode == "merging" else []
        ) + [EXCLUDING]
        self._clear_layers(old)
        for layer, name in zip(added, names, strict=True):
            layer.name = name  # napari named it "raw [1]" ... while the old one was there
        self.viewer.layers.selection.active = excluding
        excluding.mode = "add_polygon"  # ready to draw: click vertices, double-click to close
        self.viewer.dims.set_current_step(0, loaded.image.shape[0] // 2)

    def _own_layers(self) -> list:
        return [self.viewer.layers[name] for name in LAYER_NAMES if name in self.viewer.layers]

    def _clear_layers(self, layers: list | None = None) -> None:
        for layer in self._own_layers() if layers is None else layers:
            if layer in self.viewer.layers:
                self.viewer.layers.remove(layer)

    def _polygons(self, name: str) -> list[Polygon]:
        if name not in self.viewer.layers:
            return []
        return shapes_to_polygons(self.viewer.layers[name], self.every_z.isChecked())

    # --- decisions -------------------------------------------------------------------

    def good(self) -> None:
        """Write the image on screen as a triplet, with the drawn regions."""
        item = self.queue[self.position]
        try:
            triplet = self.curator.accept(item, exclude=self._polygons(EXCLUDING),
                                          merge=self._polygons(MERGING), loaded=self.loaded)
            self.counts["written"] += 1
            self.message.setText(f"{item.raw.name} → {triplet.name}")
        except SeglightError as err:
            self.counts["failed"] += 1
            self._note(f"failed: {err}")
        self._next()

    def bad(self) -> None:
        """Reject the image on screen: not written, not shown again."""
        self.curator.reject(self.queue[self.position])
        self.counts["bad"] += 1
        self._next()

    def skip(self) -> None:
        """Leave the image on screen for a later session."""
        self.curator.defer(self.queue[self.position])
        self.counts["skipped"] += 1
        self._next()

    def _next(self) -> None:
        self.position += 1
        self._show_current()

    # --- display ---------------------------------------------------------------------

    def _enable_decisions(self, enabled: bool) -> None:
        for button in (self.good_button, self.bad_button, self.skip_button):
            button.setEnabled(enabled)

    def _show_progress(self, item: Item | None) -> None:
        total = len(self.curator.items)
        done_before = total - len(self.queue)
        counts = ", ".join(f"{n} {what}" for what, n in self.counts.items())
        if item is None:
            self.progress.setText(f"All done ({total} images). This session: {counts}.\n"
                                  f"Triplets in {self.curator.out}")
        else:
            number = done_before + self.position + 1
            score = self.curator.uncertainty.get(item.raw)
            score_text = "" if score is None else f" (uncertainty {score:.3f})"
            self.progress.setText(f"{number} of {total}: {item.raw.name}{score_text}\n{counts}")

    def _note(self, line: str) -> None:
        lines = [ln for ln in (self.message.text().splitlines() + [line]) if ln][-6:]
        self.message.setText("\n".join(lines))


class SortingWidget(CuratorWidget):
    """Good / Bad / Skip each segmentation, with excluding regions."""

    mode = "sorting"


class MergingWidget(CuratorWidget):
    """Merge two segmentations: draw where the second one is right."""

    mode = "merging"


class TakeAllWidget(CuratorWidget):
    """Take every segmentation, with optional excluding-mask files."""

    mode = "takeall"
