"""The PNG chart of an evaluation: per-image bars of Dice and object F1, and HD95 beside."""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING

from seglight.io.atomic import atomic_path

if TYPE_CHECKING:
    from seglight.evaluation.report import EvaluationReport


def _pyplot():
    # Imported here: `import seglight.evaluation` stays light for score_masks alone.
    import matplotlib

    matplotlib.use("Agg")  # files only; no display needed (a cluster node has none)
    import matplotlib.pyplot as plt

    return plt


def plot_report(report: EvaluationReport, path: str | Path) -> Path:
    """Write a PNG with one row of bars per image and one for the overall row.

    Left panel: Dice (voxels) and object F1, from 0 to 1. Right panel: the 95th-percentile
    Hausdorff distance in µm (in voxels when no image gave a voxel size) (``inf`` drawn as a hatched bar at the panel's edge, labelled).

    Args:
        report: the scored images.
        path: the PNG file to write (atomically; its folder is created).

    Returns:
        The path.
    """
    plt = _pyplot()
    rows = [*report.scored, report.overall]
    names = [row["image"] for row in rows]
    n = len(rows)
    fig, (ax_overlap, ax_dist) = plt.subplots(
        1, 2, figsize=(10, 1.2 + 0.32 * n), sharey=True, gridspec_kw={"width_ratios": [3, 2]},
        layout="constrained")
    y = list(range(n))
    height = 0.38
    for offset, key, label, color in ((-height / 2, "dice", "Dice (voxels)", "tab:blue"),
                                      (height / 2, "object_f1", "object F1", "tab:orange")):
        values = [row[key] for row in rows]
        bars = ax_overlap.barh([v + offset for v in y], [0 if math.isnan(v) else v for v in values],
                               height=height, color=color, label=label)
        ax_overlap.bar_label(bars, labels=[f"{v:.2f}" for v in values], fontsize=7, padding=2)
    ax_overlap.set_xlim(0, 1.12)
    ax_overlap.set_xlabel("score (1 = perfect)")
    ax_overlap.legend(loc="lower left", bbox_to_anchor=(0, 1), ncols=2, fontsize=8, frameon=False)

    # Distances in µm; in voxels when no image gave a voxel size (the CSV has both columns).
    key, unit = "hd95_um", "µm"
    if not any(math.isfinite(row.get(key, math.nan)) for row in rows) and any(
            math.isfinite(row.get("hd95_vox", math.nan)) for row in rows):
        key, unit = "hd95_vox", "voxels"
    hd = [row.get(key, math.nan) for row in rows]
    finite = [v for v in hd if math.isfinite(v)]
    edge = max(finite, default=1.0) * 1.15 or 1.0
    bars = ax_dist.barh(y, [edge if math.isinf(v) else (0 if math.isnan(v) else v) for v in hd],
                        height=0.6, color="tab:gray")
    for bar, value in zip(bars, hd, strict=True):
        if math.isinf(value):
            bar.set_hatch("//")
            bar.set_facecolor("white")
            bar.set_edgecolor("tab:red")
    ax_dist.bar_label(bars, labels=[f"{v:.2f}" if math.isfinite(v) else str(v) for v in hd],
                      fontsize=7, padding=2)
    ax_dist.set_xlim(0, edge * 1.25)
    ax_dist.set_xlabel(f"HD95 ({unit}; lower is better)")

    ax_overlap.set_yticks(y, names, fontsize=8)
    ax_overlap.invert_yaxis()  # first image on top, overall last
    ax_overlap.axhline(n - 1.5, color="black", linewidth=0.6)
    ax_dist.axhline(n - 1.5, color="black", linewidth=0.6)
    failed = len(report.failures)
    fig.suptitle(f"{report.overall['n_images']} image(s) scored"
                 + (f", {failed} not scored (see the CSV)" if failed else "")
                 + "; overall = pooled counts, mean of finite HD95", fontsize=9)
    path = Path(path)
    with atomic_path(path, suffix=".png") as tmp:
        fig.savefig(tmp, dpi=120)
    plt.close(fig)
    return path
