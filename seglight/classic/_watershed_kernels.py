"""Compiled kernel of the seeded watershed with watershed lines
(:func:`seglight.classic.morphology.seeded_watershed`).

A priority flood over *ranked* intensities with one FIFO queue per rank (a bucket queue):
O(voxels) instead of a binary heap's O(voxels · log frontier), and each voxel queued at
most once.
The flooding rules are those of the reference's watershed (scikit-image 0.26), which the
LMNB1 interphase masks depend on:

- a voxel's priority is its intensity raised to the priority of the voxel it was reached
  from (the water level never goes down), ties popped first-in first-out; seeds enter
  first, in raster order, at their own intensity;
- a voxel is labelled when it leaves the queue: with the label of the voxel that queued it,
  unless a neighbour already carries another label, in which case it becomes a watershed
  line (label 0, excluded from further label comparisons) — it still floods its
  neighbours, so the basins behind it are reached as before.

Queuing a voxel once is equivalent to the reference's repeated pushes: a later copy never
has a smaller priority (the water level only rises), so the first copy always leaves first
and the others change nothing.
"""

from __future__ import annotations

import numba
import numpy as np


@numba.njit(cache=True)
def flood(ranks, labels, mask, offsets, n_ranks):
    """Flood ``labels`` (raveled, seeds > 0, else 0) in place over ``ranks``.

    Args:
        ranks: int32 raveled intensity ranks (0 = darkest), see :func:`dense_ranks`.
        labels: int32 raveled seed labels; filled in place, watershed lines stay 0.
        mask: uint8 raveled voxels that may be flooded; 0 on a one-voxel border around the
            volume (so neighbour offsets never leave the array). Lines are set to 0.
        offsets: int64 raveled offsets of the neighbours.
        n_ranks: number of distinct ranks.
    """
    n = ranks.size
    head = np.full(n_ranks, -1, np.int64)
    tail = np.full(n_ranks, -1, np.int64)
    after = np.empty(n, np.int32)  # next voxel in the same rank's queue
    carried = np.zeros(n, np.int32)  # label a queued voxel will take; 0: never queued

    lowest = n_ranks
    for v in range(n):
        if labels[v] != 0 and mask[v] != 0:
            level = ranks[v]
            carried[v] = labels[v]
            after[v] = -1
            if tail[level] == -1:
                head[level] = v
            else:
                after[tail[level]] = v
            tail[level] = v
            if level < lowest:
                lowest = level

    level = lowest
    while level < n_ranks:
        v = head[level]
        if v == -1:
            level += 1
            continue
        head[level] = after[v]
        if head[level] == -1:
            tail[level] = -1
        label = carried[v]
        line = False
        for k in range(offsets.size):
            w = v + offsets[k]
            if mask[w] != 0 and labels[w] != 0 and labels[w] != label:
                line = True
                break
        if line:
            mask[v] = 0
        else:
            labels[v] = label
        for k in range(offsets.size):
            w = v + offsets[k]
            if mask[w] != 0 and labels[w] == 0 and carried[w] == 0:
                carried[w] = label
                target = max(ranks[w], level)
                after[w] = -1
                if tail[target] == -1:
                    head[target] = w
                else:
                    after[tail[target]] = w
                tail[target] = w


@numba.njit(cache=True)
def dense_ranks(keys, sorted_unique):
    """The index of each of ``keys`` in ``sorted_unique`` (binary search), as int32."""
    out = np.empty(keys.size, np.int32)
    for i in range(keys.size):
        key = keys[i]
        lo = 0
        hi = sorted_unique.size - 1
        while lo < hi:
            mid = (lo + hi) >> 1
            if sorted_unique[mid] < key:
                lo = mid + 1
            else:
                hi = mid
        out[i] = lo
    return out
