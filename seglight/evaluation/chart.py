"""The PNG charts of an evaluation: per-image bars of Dice and object F1 with HD95 beside,
and per-checkpoint bars for a comparison of models."""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING

from seglight.io.atomic import atomic_path

if TYPE_CHECKING:
    from seglight.evaluation.checkpoints import CheckpointsReport
    from seglight.evaluation.report import EvaluationReport


def _pyplot():
    # Imported here: `import seglight.evaluation` stays light for score_masks alone.
    import matplotlib

    matplotlib.use("Agg")  # files only; no display needed (a cluster node has none)
    import matplotlib.pyplot as plt

    return plt


BAR_HEIGHT = 0.38


def _score_bars(ax, rows: list[dict], dice_label: str, fmt: str) -> None:
    """Dice and object F1 bars, one pair per row, labelled with their values (0 to 1)."""
    for offset, key, label, color in ((-BAR_HEIGHT / 2, "dice", dice_label, "tab:blue"),
                                      (BAR_HEIGHT / 2, "object_f1", "object F1", "tab:orange")):
        values = [row[key] for row in rows]
        bars = ax.barh([i + offset for i in range(len(rows))],
                       [0 if math.isnan(v) else v for v in values], height=BAR_HEIGHT,
                       color=color, label=label)
        ax.bar_label(bars, labels=[fmt.format(v) for v in values], fontsize=7, padding=2)
    ax.set_xlim(0, 1.12)
    ax.set_xlabel("score (1 = perfect)")


def plot_report(report: EvaluationReport, path: str | Path) -> Path:
    """Write a PNG with one row of bars per image and one for the overall row.

    Left panel: Dice (voxels) and object F1, from 0 to 1. Right panel: the 95th-percentile
    Hausdorff distance in µm, or in voxels when no image gave a voxel size (``inf`` drawn
    as a hatched bar at the panel's edge, labelled).

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
    _score_bars(ax_overlap, rows, "Dice (voxels)", "{:.2f}")
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


def plot_models(report: CheckpointsReport, path: str | Path) -> Path:
    """Write a PNG with one row per checkpoint: its pooled Dice and object F1 as bars and
    the Dice of each of its images as dots (failed checkpoints are left out).

    Returns:
        The path (written atomically).
    """
    plt = _pyplot()
    models = [m for m in report.models if math.isfinite(m.get("dice", math.nan))]
    n = max(1, len(models))
    fig, ax = plt.subplots(figsize=(8, 1.2 + 0.4 * n), layout="constrained")
    y = list(range(len(models)))
    _score_bars(ax, models, "Dice (pooled voxels)", "{:.3f}")
    for i, model in enumerate(models):
        dice = [r["dice"] for r in report.images
                if r["model"] == model["model"] and math.isfinite(r.get("dice", math.nan))]
        ax.scatter(dice, [i - BAR_HEIGHT / 2] * len(dice), s=12, color="black", zorder=3,
                   label="Dice per image" if i == 0 else None)
    ax.set_yticks(y, [m["model"] for m in models], fontsize=8)
    ax.invert_yaxis()  # best first, on top
    ax.legend(loc="lower left", bbox_to_anchor=(0, 1), ncols=3, fontsize=8, frameon=False)
    split = report.models[0]["split"] if report.models else ""
    failed = len(report.models) - len(models)
    fig.suptitle(f"{len(models)} checkpoint(s) on the {split} images"
                 + (f", {failed} failed (see the CSV)" if failed else ""), fontsize=9)
    path = Path(path)
    with atomic_path(path, suffix=".png") as tmp:
        fig.savefig(tmp, dpi=120)
    plt.close(fig)
    return path
