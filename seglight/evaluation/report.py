"""The result of scoring a folder: per-image rows, the overall row, a table and a CSV.

The overall row pools the images: Dice, IoU, precision and recall come from the voxel counts
summed over all images (a large image weighs more than a small one, and an empty pair adds
nothing), object precision, recall and F1 from the object counts summed over all images, and
``hd95_um`` / ``msd_um`` are the mean of the per-image values that are finite (an image where
one mask is empty has ``inf`` distances; ``n_distance_images`` says how many were averaged).
Images whose files give no voxel size have their distances in voxels (``hd95_vox``,
``msd_vox``), averaged the same way in their own columns.

Each row has a ``status``: ``scored``, ``failed`` (its one-line reason in ``error``) or
``not predicted`` (a ground truth with no prediction: listed, not scored, not a failure).
"""

from __future__ import annotations

import csv
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from seglight.evaluation.scores import COUNT_KEYS, SCORE_KEYS, scores_from_counts
from seglight.io.atomic import atomic_path

#: Distances of images without a voxel size, in voxels.
VOXEL_DISTANCE_KEYS = ("hd95_vox", "msd_vox")
#: Row statuses.
SCORED, FAILED, NOT_PREDICTED = "scored", "failed", "not predicted"
#: Columns of the CSV, in order.
COLUMNS = ("image", "status", *SCORE_KEYS, *VOXEL_DISTANCE_KEYS, *COUNT_KEYS, "spacing_z_um",
           "spacing_y_um", "spacing_x_um", "pred", "gt", "costmap", "error")
#: Name of the overall row.
OVERALL = "overall"

# Table columns: (key, header, width).
_TABLE = (("dice", "Dice", 6), ("iou", "IoU", 6), ("precision", "prec", 6),
          ("recall", "recall", 6), ("object_precision", "objP", 6), ("object_recall", "objR", 6),
          ("object_f1", "objF1", 6), ("hd95_um", "HD95 µm", 8), ("msd_um", "MSD µm", 8))
_TABLE_VOX = (("hd95_vox", "HD95 vox", 8), ("msd_vox", "MSD vox", 8))


def pool(rows: list[dict[str, Any]]) -> dict[str, float]:
    """The overall row of scored rows (see the module docstring for how each is pooled)."""
    counts = {key: float(sum(row[key] for row in rows)) for key in COUNT_KEYS}
    scores = scores_from_counts(counts)
    if not rows:  # nothing scored: no agreement to report (not "both empty")
        scores = dict.fromkeys(scores, math.nan)
    overall: dict[str, Any] = {"image": OVERALL, **scores, **counts}
    for key in ("hd95_um", "msd_um", *VOXEL_DISTANCE_KEYS):
        finite = [row[key] for row in rows if math.isfinite(row.get(key, math.nan))]
        overall[key] = sum(finite) / len(finite) if finite else math.nan
    overall["status"] = SCORED
    overall["n_images"] = len(rows)
    overall["n_distance_images"] = sum(
        math.isfinite(row["hd95_um"]) or math.isfinite(row.get("hd95_vox", math.nan))
        for row in rows)
    return overall


def cell(value: Any, width: int) -> str:
    """A value right-aligned in ``width`` characters (floats with 3 decimals)."""
    if isinstance(value, float):
        text = f"{value:.3f}" if math.isfinite(value) else str(value)
    else:
        text = "" if value is None else str(value)
    return text.rjust(width)


def write_rows(path: str | Path, columns: Sequence[str], rows: list[dict[str, Any]]) -> Path:
    """Write ``rows`` as a CSV with ``columns`` (other keys left out), atomically."""
    path = Path(path)
    with atomic_path(path, suffix=".csv") as tmp:
        with open(tmp, "w", newline="", encoding="utf-8") as f:
            writer = csv.DictWriter(f, fieldnames=list(columns), extrasaction="ignore")
            writer.writeheader()
            writer.writerows(rows)
    return path


@dataclass
class EvaluationReport:
    """Scores of every image pair, and of all of them together.

    Attributes:
        rows: one dict per image, sorted by name, with ``COLUMNS``; a pair that could not
            be scored has its one-line reason in ``error`` and no scores.
        overall: the pooled row (module docstring), plus ``n_images`` and
            ``n_distance_images``.
        notes: one line per empty mask worth a look (scored all the same).
        csv_path: where the CSV was written, if it was.
        png_path: where the chart was written, if it was.
    """

    rows: list[dict[str, Any]]
    overall: dict[str, Any]
    notes: list[str] = field(default_factory=list)
    csv_path: Path | None = None
    png_path: Path | None = None

    @property
    def scored(self) -> list[dict[str, Any]]:
        """The rows of the pairs that were scored."""
        return [row for row in self.rows if row.get("status", SCORED) == SCORED]

    @property
    def failures(self) -> list[str]:
        """One line per pair that could not be scored."""
        return [row["error"] for row in self.rows if row.get("error")]

    @property
    def not_predicted(self) -> list[str]:
        """The images with a ground truth and no prediction (listed, not scored)."""
        return [row["image"] for row in self.rows if row.get("status") == NOT_PREDICTED]

    def summary_line(self) -> str:
        """``N scored, M failed[, K not predicted]``."""
        line = f"{len(self.scored)} scored, {len(self.failures)} failed"
        return line + (f", {len(self.not_predicted)} not predicted" if self.not_predicted
                       else "")

    def table_columns(self) -> tuple[tuple[str, str, int], ...]:
        """(key, header, width) of the table; distances in voxels only where an image
        had no voxel size."""
        vox = any(math.isfinite(row.get("hd95_vox", math.nan)) for row in self.scored)
        um = any(math.isfinite(row.get("hd95_um", math.nan)) for row in self.scored)
        return (_TABLE if um or not vox else _TABLE[:-2]) + (_TABLE_VOX if vox else ())

    def table(self) -> str:
        """A fixed-width table of the scored rows and the overall row, for a terminal."""
        names = [row["image"] for row in self.scored] + [OVERALL]
        name_width = max(len(n) for n in names)
        columns = self.table_columns()
        lines = ["image".ljust(name_width) + "".join(h.rjust(w + 1) for _, h, w in columns)]
        for row in [*self.scored, self.overall]:
            lines.append(row["image"].ljust(name_width)
                         + "".join(" " + cell(row.get(k), w) for k, _, w in columns))
        lines.insert(len(lines) - 1, "-" * len(lines[0]))
        return "\n".join(lines)

    def write_csv(self, path: str | Path) -> Path:
        """Write every row and the overall row as CSV, atomically; returns the path."""
        self.csv_path = write_rows(path, COLUMNS, [*self.rows, self.overall])
        return self.csv_path

    def write_png(self, path: str | Path) -> Path:
        """Draw the per-image chart (:func:`seglight.evaluation.chart.plot_report`)."""
        from seglight.evaluation.chart import plot_report

        self.png_path = plot_report(self, path)
        return self.png_path
