"""The surface distances against MONAI's own metric functions (the oracle)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch
from monai.metrics import compute_average_surface_distance, compute_hausdorff_distance

from seglight.evaluation.surface import surface_distances_um


def _monai(pred, gt, spacing):
    y_pred = torch.from_numpy(pred)[None, None]
    y = torch.from_numpy(gt)[None, None]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        hd = compute_hausdorff_distance(y_pred, y, include_background=True, percentile=95,
                                        spacing=list(spacing))
        asd = compute_average_surface_distance(y_pred, y, include_background=True,
                                               symmetric=True, spacing=list(spacing))
    return float(hd), float(asd)


@pytest.mark.parametrize("spacing", [(1.0, 1.0, 1.0), (0.29, 0.108, 0.108), (2.0, 0.5, 1.0)])
def test_same_numbers_as_monai_metrics(rng, spacing):
    for _ in range(5):
        gt = rng.random((10, 24, 24)) < 0.2
        pred = np.roll(gt, 1, axis=2) ^ (rng.random(gt.shape) < 0.05)
        ours = surface_distances_um(pred, gt, spacing)
        assert ours == pytest.approx(_monai(pred, gt, spacing), rel=1e-5)
