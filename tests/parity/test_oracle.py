"""The oracle helper itself: the reference imports, and its size filter means what it did."""

from __future__ import annotations

import numpy as np

from tests.oracle import reference_module, reference_workflow


def test_reference_workflow_is_callable():
    assert callable(reference_workflow("tomm20"))


def test_reference_size_filter_keeps_objects_of_exactly_min_size():
    utils = reference_module("core.utils")
    mask = np.zeros((1, 9, 9), bool)
    mask[0, 1, 1:4] = True  # 3 voxels: removed
    mask[0, 4, 1:5] = True  # 4 voxels: kept, as published (scikit-image < 0.26)
    mask[0, 7, 1:6] = True  # 5 voxels: kept
    kept = utils.remove_small_objects(mask, min_size=4, connectivity=1)
    assert int(kept.sum()) == 9 and not kept[0, 1].any()
