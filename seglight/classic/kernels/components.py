"""Compiled (numba) connected components of ZYX masks, by runs.

A mask is read once into its runs (maximal stretches of foreground along X, in raster
order); runs that touch runs of the previous row or plane are joined (union–find), and the
components are numbered in the raster order of their first voxel, as
``scipy.ndimage.label`` numbers them. Work and memory scale with the runs, not the voxels:
the sizes of the components come from the runs' lengths, and a size filter paints the kept
runs without ever writing a label volume.
"""

from __future__ import annotations

import numba
import numpy as np


@numba.njit(cache=True)
def mask_runs(mask):
    """The runs of a bool ZYX mask along X.

    Returns:
        ``(starts, ends, row_offsets)``: int32 first X and one-past-last X of each run, in
        raster order, and int64 offsets (``nz·ny + 1``) of each row's first run.
    """
    nz, ny, nx = mask.shape
    rows = mask.reshape(nz * ny, nx)
    capacity = 1024
    starts = np.empty(capacity, np.int32)
    ends = np.empty(capacity, np.int32)
    row_offsets = np.empty(nz * ny + 1, np.int64)
    k = 0
    for r in range(nz * ny):
        row_offsets[r] = k
        row = rows[r]
        x = 0
        while x < nx:
            while x < nx and not row[x]:
                x += 1
            if x == nx:
                break
            start = x
            while x < nx and row[x]:
                x += 1
            if k == capacity:
                capacity *= 2
                starts = np.concatenate((starts, np.empty(capacity - k, np.int32)))
                ends = np.concatenate((ends, np.empty(capacity - k, np.int32)))
            starts[k] = start
            ends[k] = x
            k += 1
    row_offsets[nz * ny] = k
    return starts[:k], ends[:k], row_offsets


@numba.njit(inline="always")
def _root(parent, i):
    while parent[i] != i:
        parent[i] = parent[parent[i]]
        i = parent[i]
    return i


@numba.njit(inline="always")
def _join_rows(parent, starts, ends, row_offsets, r, q, reach):
    """Join the runs of row ``r`` with those of the earlier row ``q`` that they touch:
    overlap, or come within ``reach`` voxels along X (1: diagonal neighbours)."""
    j = row_offsets[q]
    j_end = row_offsets[q + 1]
    for i in range(row_offsets[r], row_offsets[r + 1]):
        low = starts[i] - reach
        high = ends[i] + reach
        while j < j_end and ends[j] <= low:
            j += 1
        k = j
        while k < j_end and starts[k] < high:
            a = _root(parent, i)
            b = _root(parent, k)
            if a != b:
                # The smaller index stays the root: a component's root is its first run.
                parent[max(a, b)] = min(a, b)
            k += 1


@numba.njit(cache=True)
def label_runs(starts, ends, row_offsets, shape, full, per_slice):
    """Label the runs' connected components, numbered as ``scipy.ndimage.label`` numbers
    those of the mask.

    Args:
        starts, ends, row_offsets: the mask's :func:`mask_runs`.
        shape: the mask's ZYX shape.
        full: 26-connected components (True) or 6-connected (False).
        per_slice: label each z-slice on its own (8- or 4-connected components).

    Returns:
        ``(labels, sizes)``: int32 label (1, 2, ...) of each run, and int64 voxels per label
        (``sizes[0]`` is 0).
    """
    nz, ny = shape[0], shape[1]
    n = starts.size
    parent = np.arange(n)
    reach = 1 if full else 0
    for r in range(nz * ny):
        if row_offsets[r] == row_offsets[r + 1]:
            continue
        z, y = r // ny, r % ny
        if y > 0:
            _join_rows(parent, starts, ends, row_offsets, r, r - 1, reach)
        if z > 0 and not per_slice:
            _join_rows(parent, starts, ends, row_offsets, r, r - ny, reach)
            if full:
                if y > 0:
                    _join_rows(parent, starts, ends, row_offsets, r, r - ny - 1, reach)
                if y < ny - 1:
                    _join_rows(parent, starts, ends, row_offsets, r, r - ny + 1, reach)
    labels = np.empty(n, np.int32)
    count = 0
    for i in range(n):
        root = _root(parent, i)
        if root == i:
            count += 1
            labels[i] = count
        else:
            labels[i] = labels[root]
    sizes = np.zeros(count + 1, np.int64)
    for i in range(n):
        sizes[labels[i]] += ends[i] - starts[i]
    return labels, sizes


@numba.njit(cache=True)
def paint_runs(starts, ends, row_offsets, values, out):
    """``out[run] = values[i]`` for every run ``i`` whose value is nonzero (``out``: a ZYX
    array of zeros, from numpy)."""
    nz, ny, nx = out.shape
    rows = out.reshape(nz * ny, nx)
    for r in range(nz * ny):
        for i in range(row_offsets[r], row_offsets[r + 1]):
            value = values[i]
            if value:
                for x in range(starts[i], ends[i]):
                    rows[r, x] = value
