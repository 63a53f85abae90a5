"""Workflow-specific steps of the filament and spot workflows (parity is in tests/parity)."""

from __future__ import annotations

import numpy as np

from seglight.classic.workflows.filament_spot import prune_z


def _stack(counts: list[int]) -> np.ndarray:
    """A ZYX mask whose slice z has ``counts[z]`` foreground voxels."""
    mask = np.zeros((len(counts), 20, 20), bool)
    for z, n in enumerate(counts):
        mask[z].flat[:n] = True
    return mask


def test_pxn_pruning_keeps_the_slices_around_the_densest_one():
    mask = _stack([300, 50, 150, 390, 200, 80, 300, 300])
    kept = np.count_nonzero(prune_z(mask, min_slice_voxels=100), axis=(1, 2))
    # Down from slice 3: slice 1 is sparse, so slices 1.. are kept; up: slice 5 is sparse.
    np.testing.assert_array_equal(kept, [0, 50, 150, 390, 200, 80, 0, 0])


def test_pxn_pruning_always_drops_the_last_slice_and_never_stops_at_slice_0():
    mask = _stack([10, 300, 390, 300, 300])
    kept = np.count_nonzero(prune_z(mask, min_slice_voxels=100), axis=(1, 2))
    np.testing.assert_array_equal(kept, [10, 300, 390, 300, 0])
