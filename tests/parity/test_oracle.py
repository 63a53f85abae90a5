"""The oracle helper itself: the reference imports, with the size filter seglight matches."""

from __future__ import annotations

import numpy as np
import pytest

from tests.helpers.oracle import reference_module, reference_workflow


def test_reference_workflow_is_callable():
    assert callable(reference_workflow("tomm20"))


@pytest.mark.filterwarnings("ignore::FutureWarning")  # scikit-image's min_size deprecation
def test_reference_size_filter_drops_objects_of_exactly_min_size():
    """seglight's SF(n) removes objects of n voxels or fewer, as the reference does on
    scikit-image >= 0.26; an older scikit-image gives other reference masks."""
    utils = reference_module("core.utils")
    mask = np.zeros((1, 9, 9), bool)
    mask[0, 1, 1:4] = True  # 3 voxels: removed
    mask[0, 4, 1:5] = True  # 4 voxels: removed too on scikit-image >= 0.26
    mask[0, 7, 1:6] = True  # 5 voxels: kept
    kept = utils.remove_small_objects(mask, min_size=4, connectivity=1)
    assert int(kept.sum()) == 5, "the parity tests need scikit-image >= 0.26"
