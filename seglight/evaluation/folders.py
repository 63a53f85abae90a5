"""Scoring folders of masks: :func:`evaluate`."""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Sequence
from numbers import Integral
from pathlib import Path
from typing import Any

import numpy as np

from seglight.errors import ConfigError, SeglightError
from seglight.evaluation.pairing import Pair, pair_files
from seglight.evaluation.report import (
    FAILED,
    NOT_PREDICTED,
    SCORED,
    VOXEL_DISTANCE_KEYS,
    EvaluationReport,
    pool,
)
from seglight.evaluation.scores import score_masks
from seglight.io.image import Spacing, read_image

CSV_NAME = "evaluation.csv"
PNG_NAME = "evaluation.png"

Log = Callable[[str], None]


def _warn(line: str) -> None:
    logging.getLogger("seglight.evaluation").warning(line)


def check_spacing(spacing_zyx: Sequence[float] | None) -> tuple[float, float, float] | None:
    """A valid voxel-size override, as a tuple, or ``None``.

    Raises:
        ConfigError: not three positive numbers.
    """
    if spacing_zyx is None:
        return None
    try:
        values = tuple(float(v) for v in spacing_zyx)
    except (TypeError, ValueError):
        values = ()
    if len(values) != 3 or not all(v > 0 and math.isfinite(v) for v in values):
        raise ConfigError(f"spacing_zyx={spacing_zyx}: give three positive voxel sizes in µm, "
                          "ZYX order, e.g. spacing_zyx=[0.29,0.108,0.108]")
    return values  # type: ignore[return-value]


def _voxel_size(pair: Pair, gt: Spacing, pred: Spacing,
                override: tuple[float, float, float] | None,
                notes: list[str]) -> tuple[float, float, float] | None:
    """The voxel size to measure distances with; ``None`` when no file says it (distances
    are then in voxels)."""
    if override is not None:
        return override
    if None not in gt:
        if None not in pred and not np.allclose(gt, pred, rtol=0.01):
            notes.append(f"{pair.pred}: voxel size {pred} µm differs from the ground truth's "
                         f"{gt} µm; the ground truth's is used")
        return gt  # type: ignore[return-value]
    if None not in pred:
        return pred  # type: ignore[return-value]
    return None


def score_pair(pair: Pair, spacing_zyx: tuple[float, float, float] | None = None,
               connectivity: int | None = None,
               notes: list[str] | None = None, min_object_size: int = 0) -> dict[str, Any]:
    """Read one pair's files and score them; returns a report row.

    Raises:
        SeglightError: a missing partner, an unreadable file or a shape mismatch, in one
            line naming the file.

    Without a voxel size (neither file says it and no ``spacing_zyx``), every score is the
    same and the distances are in voxels: ``hd95_vox`` / ``msd_vox`` instead of ``hd95_um`` /
    ``msd_um`` (which are NaN), and the spacing columns are empty.
    """
    notes = [] if notes is None else notes
    if pair.problem:
        raise SeglightError(pair.problem)
    gt = read_image(pair.gt)
    pred = read_image(pair.pred)
    if pred.shape != gt.shape:
        raise SeglightError(f"{pair.pred}: shape {pred.shape} differs from its ground truth "
                            f"{pair.gt.name} {gt.shape}; check that the two belong together")
    costmap = None
    if pair.costmap is not None:
        costmap = read_image(pair.costmap).data
        if costmap.shape != gt.shape:
            raise SeglightError(f"{pair.costmap}: shape {costmap.shape} differs from its ground "
                                f"truth {pair.gt.name} {gt.shape}")
    spacing = _voxel_size(pair, gt.spacing_um, pred.spacing_um, spacing_zyx, notes)
    scores = score_masks(pred.data, gt.data, costmap, spacing or (1.0, 1.0, 1.0),
                         connectivity=connectivity, min_object_size=min_object_size)
    distances = dict.fromkeys(VOXEL_DISTANCE_KEYS, math.nan)
    if spacing is None:
        for um, vox in zip(("hd95_um", "msd_um"), VOXEL_DISTANCE_KEYS, strict=True):
            distances[vox], scores[um] = scores[um], math.nan
    if scores["tp_voxels"] + scores["fp_voxels"] + scores["fn_voxels"] == 0:
        notes.append(f"{pair.pred}: prediction and ground truth are both empty"
                     + (" where the costmap is > 0" if costmap is not None else "")
                     + "; scored as perfect agreement (Dice 1, distances 0)")
    elif scores["tp_voxels"] + scores["fp_voxels"] == 0:
        notes.append(f"{pair.pred}: the prediction is empty; Dice 0, distances inf")
    elif scores["tp_voxels"] + scores["fn_voxels"] == 0:
        notes.append(f"{pair.gt}: the ground truth is empty; Dice 0, distances inf")
    spacing_cols = spacing or (None, None, None)
    return {
        "image": pair.name, **scores, **distances, "status": SCORED,
        "spacing_z_um": spacing_cols[0], "spacing_y_um": spacing_cols[1],
        "spacing_x_um": spacing_cols[2],
        "pred": str(pair.pred), "gt": str(pair.gt),
        "costmap": str(pair.costmap) if pair.costmap else "", "error": "",
    }


def evaluate(pred: str | Path, gt: str | Path, costmap: str | Path | None = None,
             spacing_zyx: Sequence[float] | None = None, out: str | Path | None = None,
             pred_suffix: str = "_struct_segmentation", gt_suffix: str = "",
             costmap_suffix: str = "_CM", connectivity: int | None = None,
             min_object_size: int = 0, log: Log | None = None) -> EvaluationReport:
    """Score every prediction in a folder against its ground truth, matched by name.

    Args:
        pred: folder of predicted masks (voxels > 0 are foreground).
        gt: folder of ground-truth masks.
        costmap: optional folder of costmaps; voxels where the costmap is 0 are left out.
            An image without a costmap file is scored on every voxel (as in a curated folder).
        spacing_zyx: voxel size in µm, ZYX order, for every image; default: read from each
            ground-truth file (else its prediction).
        out: folder to write ``evaluation.csv`` and ``evaluation.png`` to (atomically);
            ``None`` writes nothing.
        pred_suffix: a prediction is ``<stem><pred_suffix>.<ext>`` (the predict runner's).
        gt_suffix: a ground truth is ``<stem><gt_suffix>.<ext>`` (``_GT`` in a curated folder).
        costmap_suffix: a costmap is ``<stem><costmap_suffix>.<ext>``.
        connectivity: neighbours joining voxels into one object: 1 (faces) to 3 (faces,
            edges and corners; the default).
        min_object_size: objects of fewer voxels (in the prediction or the ground truth)
            are left out of the object counts, e.g. specks the size of the blur whose
            IoU is chance; 0 counts every object.
        log: receives one line per pair that failed and per empty mask (default: the
            ``seglight.evaluation`` logger).

    Returns:
        The report; pairs that could not be scored (a prediction without ground truth, an
        unreadable file, a shape mismatch) are rows with an ``error`` and were each logged in
        one line; a ground truth without a prediction is a row with status ``not predicted``
        (not a failure: the ground-truth folder may hold more images than were predicted);
        the others are scored. Images whose files give no voxel size are scored with
        distances in voxels, with one warning for all of them.

    Raises:
        ConfigError: an invalid ``spacing_zyx``, ``connectivity`` or ``min_object_size``.
        SeglightError: a missing folder, or no masks matching the suffixes.
    """
    log = log or _warn
    override = check_spacing(spacing_zyx)
    if connectivity is not None and connectivity not in (1, 2, 3):
        raise ConfigError(f"connectivity={connectivity}: use 1 (faces), 2 (and edges) or "
                          "3 (and corners)")
    if isinstance(min_object_size, bool) or not isinstance(min_object_size, Integral) \
            or min_object_size < 0:
        raise ConfigError(f"min_object_size={min_object_size!r}: give a number of voxels "
                          ">= 0 (0 counts every object)")
    rows, notes, no_spacing = [], [], []
    for pair in pair_files(pred, gt, costmap, pred_suffix, gt_suffix, costmap_suffix):
        if pair.not_predicted:
            rows.append({"image": pair.name, "status": NOT_PREDICTED, "pred": "",
                         "gt": str(pair.gt), "costmap": str(pair.costmap or ""), "error": ""})
            continue
        pair_notes: list[str] = []
        try:
            rows.append(score_pair(pair, override, connectivity, pair_notes, min_object_size))
        except SeglightError as err:
            log(str(err))
            rows.append({"image": pair.name, "status": FAILED, "pred": str(pair.pred or ""),
                         "gt": str(pair.gt or ""), "costmap": str(pair.costmap or ""),
                         "error": str(err)})
        else:
            if rows[-1]["spacing_z_um"] is None:
                no_spacing.append(pair.name)
        for line in pair_notes:
            log(line)
        notes += pair_notes
    if no_spacing:
        line = (f"{len(no_spacing)} image(s) ({', '.join(no_spacing[:5])}"
                f"{', ...' if len(no_spacing) > 5 else ''}) have no voxel size in their files: "
                "their distances are in voxels (hd95_vox, msd_vox); pass spacing_zyx=[z,y,x] "
                "for µm")
        log(line)
        notes.append(line)
    report = EvaluationReport(rows, pool([r for r in rows if r["status"] == SCORED]), notes)
    if out is not None:
        report.write_csv(Path(out) / CSV_NAME)
        report.write_png(Path(out) / PNG_NAME)
    return report
