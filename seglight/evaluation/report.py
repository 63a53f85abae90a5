"""The result of scoring a folder: per-image rows, the overall row, a table and a CSV.

The overall row pools the images: Dice, IoU, precision and recall come from the voxel counts
summed over all images (a large image weighs more than a small one, and an empty pair adds
nothing), object precision, recall and F1 from the object counts summed over all images, and
``hd95_um`` / ``msd_um`` are the mean of the per-image values that are finite (an image where
one mask is empty has ``inf`` distances; ``n_distance_images`` says how many were averaged).
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from seglight.evaluation.scores import COUNT_KEYS, SCORE_KEYS, scores_from_counts
from seglight.io.atomic import atomic_path

#: Columns of the CSV, in order.
COLUMNS = ("image", *SCORE_KEYS, *COUNT_KEYS, "spacing_z_um", "spacing_y_um", "spacing_x_um",
           "pred", "gt", "costmap", "error")
#: Name of the overall row.
OVERALL = "overall"

# Table columns: (key, header, width).
_TABLE = (("dice", "Dice", 6), ("iou", "IoU", 6), ("precision", "prec", 6),
          ("recall", "recall", 6), ("object_precision", "objP", 6), ("object_recall", "objR", 6),
          ("object_f1", "objF1", 6), ("hd95_um", "HD95 µm", 8), ("msd_um", "MSD µm", 8))


def pool(rows: list[dict[str, Any]]) -> dict[str, float]:
    """The overall row of scored rows (see the module docstring for how each is pooled)."""
    counts = {key: float(sum(row[key] for row in rows)) for key in COUNT_KEYS}
    scores = scores_from_counts(counts)
    if not rows:  # nothing scored: no agreement to report (not "both empty")
        scores = dict.fromkeys(scores, math.nan)
    overall: dict[str, Any] = {"image": OVERALL, **scores, **counts}
    for key in ("hd95_um", "msd_um"):
        finite = [row[key] for row in rows if math.isfinite(row[key])]
        overall[key] = sum(finite) / len(finite) if finite else math.nan
    overall["n_images"] = len(rows)
    overall["n_distance_images"] = sum(math.isfinite(row["hd95_um"]) for row in rows)
    return overall


def _cell(value: Any, width: int) -> str:
    if isinstance(value, float):
        text = f"{value:.3f}" if math.isfinite(value) else str(value)
    else:
        text = "" if value is None else str(value)
    return text.rjust(width)


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
        return [row for row in self.rows if not row.get("error")]

    @property
    def failures(self) -> list[str]:
        """One line per pair that could not be scored."""
        return [row["error"] for row in self.rows if row.get("error")]

    def table(self) -> str:
        """A fixed-width table of the scored rows and the overall row, for a terminal."""
        names = [row["image"] for row in self.scored] + [OVERALL]
        name_width = max(len(n) for n in names)
        lines = ["image".ljust(name_width) + "".join(h.rjust(w + 1) for _, h, w in _TABLE)]
        for row in [*self.scored, self.overall]:
            lines.append(row["image"].ljust(name_width)
                         + "".join(" " + _cell(row[k], w) for k, _, w in _TABLE))
        lines.insert(len(lines) - 1, "-" * len(lines[0]))
        return "\n".join(lines)

    def write_csv(self, path: str | Path) -> Path:
        """Write every row and the overall row as CSV, atomically; returns the path."""
        path = Path(path)
        with atomic_path(path, suffix=".csv") as tmp:
            with open(tmp, "w", newline="", encoding="utf-8") as f:
                writer = csv.DictWriter(f, fieldnames=COLUMNS, extrasaction="ignore")
                writer.writeheader()
                writer.writerows(self.rows)
                writer.writerow(self.overall)
        self.csv_path = path
        return path

    def write_png(self, path: str | Path) -> Path:
        """Draw the per-image chart (:func:`seglight.evaluation.chart.plot_report`)."""
        from seglight.evaluation.chart import plot_report

        self.png_path = plot_report(self, path)
        return self.png_path
