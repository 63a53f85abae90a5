"""Parity of every classic workflow with the reference Allen Cell Structure Segmenter.

Each workflow runs in seglight and in ``aicssegmentation==0.5.3`` on its structure-like
image (:mod:`seglight.data.structures`); the masks must agree to Dice >= 0.99. Skipped
when the reference is not installed (``scripts/install_oracles.sh``).
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from seglight.classic import list_reference_workflows, run_workflow
from seglight.data.structures import structure_image
from tests.helpers.oracle import reference_workflow

#: Small enough for CI (the reference takes ~25 s for all 25 at this size on 2 cores).
PARITY_SHAPE = (24, 128, 128)
MIN_DICE = 0.99


def dice(a: np.ndarray, b: np.ndarray) -> float:
    """Dice overlap of two masks (1.0 when both are empty)."""
    a, b = a > 0, b > 0
    total = int(a.sum()) + int(b.sum())
    return 1.0 if total == 0 else 2.0 * int(np.count_nonzero(a & b)) / total


def reference_mask(name: str, image: np.ndarray) -> np.ndarray:
    """The reference's mask (library warnings silenced: they are not about seglight).

    The reference's command line casts the image to float32 before calling a workflow
    (its wrappers clip in place, so an integer image would have its clipping bounds
    truncated); we call it the same way.
    """
    workflow = reference_workflow(name)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return np.asarray(workflow(image.astype(np.float32), output_type="array")) > 0


@pytest.mark.parametrize("name", list_reference_workflows())
def test_workflow_matches_reference(name: str) -> None:
    image = structure_image(name, PARITY_SHAPE)
    expected = reference_mask(name, image)
    # The image must give the reference a real segmentation, or agreement would prove nothing.
    assert 1e-4 < expected.mean() < 0.5, f"{name}: reference foreground {expected.mean():.5f}"

    original = image.copy()
    mask = run_workflow(name, image)

    np.testing.assert_array_equal(image, original, err_msg=f"{name} modified its input")
    assert mask.dtype == np.uint8 and mask.shape == image.shape
    assert set(np.unique(mask)) <= {0, 255}
    score = dice(mask, expected)
    assert score >= MIN_DICE, (
        f"{name}: Dice {score:.4f} < {MIN_DICE} (seglight {np.count_nonzero(mask)} voxels, "
        f"reference {np.count_nonzero(expected)})"
    )
