"""The overall row pools counts, not per-image scores (seglight.evaluation.report)."""

from __future__ import annotations

import math

import pytest

from seglight.evaluation.report import OVERALL, pool
from seglight.evaluation.scores import COUNT_KEYS


def _row(tp, fp, fn, n_pred, n_gt, n_matched, hd95):
    return {**dict(zip(COUNT_KEYS, (tp, fp, fn, n_pred, n_gt, n_matched), strict=True)),
            "hd95_um": hd95, "msd_um": hd95 / 2}


def test_a_large_image_weighs_more_and_infinite_distances_are_left_out():
    rows = [_row(90, 10, 0, 2, 2, 2, 1.0), _row(0, 0, 10, 0, 1, 0, math.inf)]
    overall = pool(rows)
    assert overall["image"] == OVERALL and overall["n_images"] == 2
    assert overall["dice"] == pytest.approx(2 * 90 / (2 * 90 + 10 + 10))
    assert overall["object_recall"] == pytest.approx(2 / 3)
    assert overall["hd95_um"] == 1.0 and overall["n_distance_images"] == 1


def test_nothing_scored_is_nan_not_perfect():
    overall = pool([])
    assert math.isnan(overall["dice"]) and overall["n_images"] == 0
