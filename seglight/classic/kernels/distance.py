"""Compiled (numba) exact Euclidean distance transforms of :mod:`seglight.classic.morphology`.

Squared distances to the nearest background voxel (unit spacing), in integers: exact, so
their square roots equal ``scipy.ndimage.distance_transform_edt`` bit for bit. The
transform is separable: the distance along Z first, then per plane the minimum over Y and
then over X of ``(offset)² + squared distance so far``.

Along Y and X each line takes the cheaper of two exact methods. Where every squared
distance of the line (or plane) so far is at most ``r²``, no voxel farther than ``r`` can
improve on the voxel's own value, so a minimum over a window of ``2r + 1`` suffices — the
masks of dots, rims and tubules, whose distances are a few voxels, take a handful of
vectorized passes. Wider objects take the lower envelope of parabolas (Felzenszwalb and
Huttenlocher), linear in the line's length.
"""

from __future__ import annotations

import numba
import numpy as np

#: The squared distance of a voxel with no background along the axes done so far (larger
#: than any real one; the transform returns -1 for it).
FAR = np.int32(1 << 30)
#: The widest window (half-width, voxels) taken instead of the lower envelope.
MAX_WINDOW = 6


@numba.njit(inline="always")
def _floor_sqrt(value):
    root = np.int64(np.sqrt(np.float64(value)))
    while root * root > value:
        root -= 1
    while (root + 1) * (root + 1) <= value:
        root += 1
    return root


@numba.njit(inline="always")
def _lower_envelope(f, n, sites, bounds, out):
    """1D squared distance transform of the sampled function ``f[:n]`` (Felzenszwalb and
    Huttenlocher's lower envelope of parabolas), into ``out[:n]``. Infinite samples
    (``f < 0`` marks them) hold no parabola; a line without any stays infinite (-1)."""
    k = -1
    for q in range(n):
        if f[q] < 0:
            continue
        while k >= 0:
            v = sites[k]
            s = ((f[q] + q * q) - (f[v] + v * v)) / (2.0 * (q - v))
            if s <= bounds[k]:
                k -= 1
            else:
                break
        k += 1
        sites[k] = q
        bounds[k] = -np.inf if k == 0 else (
            ((f[q] + q * q) - (f[sites[k - 1]] + sites[k - 1] * sites[k - 1]))
            / (2.0 * (q - sites[k - 1]))
        )
    if k < 0:
        for q in range(n):
            out[q] = -1.0
        return
    j = 0
    for q in range(n):
        while j < k and bounds[j + 1] < q:
            j += 1
        d = q - sites[j]
        out[q] = d * d + f[sites[j]]


@numba.njit(inline="always")
def _envelope_of_line(line, f, sites, bounds, out):
    """The lower envelope of the int32 ``line`` (``FAR``: no parabola), in place."""
    n = line.size
    for q in range(n):
        f[q] = -1.0 if line[q] >= FAR else np.float64(line[q])
    _lower_envelope(f, n, sites, bounds, out)
    for q in range(n):
        line[q] = FAR if out[q] < 0 else np.int32(out[q])


@numba.njit(inline="always")
def _reach(values):
    """The window half-width that is exact for ``values`` (``-1``: some are ``FAR``)."""
    top = 0
    for v in values.flat:
        if v >= FAR:
            return -1
        top = max(top, v)
    return _floor_sqrt(top)


@numba.njit(inline="always")
def _min_over_y(plane, scratch, f, sites, bounds, out):
    """``plane[y, x] = min over y' of (y − y')² + plane[y', x]``, in place."""
    ny, nx = plane.shape
    reach = _reach(plane)
    if 0 <= reach <= MAX_WINDOW:
        scratch[:, :] = plane
        for d in range(1, min(reach, ny - 1) + 1):
            step = np.int32(d * d)
            for y in range(ny - d):
                for x in range(nx):
                    plane[y, x] = min(plane[y, x], scratch[y + d, x] + step)
                    plane[y + d, x] = min(plane[y + d, x], scratch[y, x] + step)
        return
    line = np.empty(ny, np.int32)
    for x in range(nx):
        for y in range(ny):
            line[y] = plane[y, x]
        _envelope_of_line(line, f, sites, bounds, out)
        for y in range(ny):
            plane[y, x] = line[y]


@numba.njit(inline="always")
def _min_over_x(plane, row_copy, f, sites, bounds, out):
    """``plane[y, x] = min over x' of (x − x')² + plane[y, x']``, in place, row by row."""
    ny, nx = plane.shape
    for y in range(ny):
        row = plane[y]
        reach = _reach(row)
        if 0 <= reach <= MAX_WINDOW:
            row_copy[:] = row
            for d in range(1, min(reach, nx - 1) + 1):
                step = np.int32(d * d)
                for x in range(nx - d):
                    row[x] = min(row[x], row_copy[x + d] + step)
                    row[x + d] = min(row[x + d], row_copy[x] + step)
        else:
            _envelope_of_line(row, f, sites, bounds, out)


@numba.njit(inline="always")
def _in_plane(sq, z):
    """Turn plane ``sq[z]`` (squared distances along Z, or 0 / ``FAR``) into squared
    distances over Z, Y and X, in place; ``FAR`` becomes -1."""
    ny, nx = sq.shape[1], sq.shape[2]
    longest = max(ny, nx)
    f = np.empty(longest, np.float64)
    sites = np.empty(longest, np.int64)
    bounds = np.empty(longest, np.float64)
    out = np.empty(longest, np.float64)
    plane = sq[z]
    _min_over_y(plane, np.empty((ny, nx), np.int32), f, sites, bounds, out)
    _min_over_x(plane, np.empty(nx, np.int32), f, sites, bounds, out)
    for y in range(ny):
        for x in range(nx):
            if plane[y, x] >= FAR:
                plane[y, x] = -1


@numba.njit(parallel=True, cache=True)
def squared_edt(mask, sq):
    """Fill the int32 ZYX ``sq`` with the squared Euclidean distance of every voxel of a
    bool ZYX mask to the nearest False voxel (unit spacing); -1 everywhere when the mask
    has no False voxel at all.

    Exact, so its square root equals ``scipy.ndimage.distance_transform_edt`` bit for bit.
    (``sq`` comes from numpy, whose large arrays sit on huge pages: allocated here, the
    page faults of a volume cost more than the transform.)
    """
    nz, ny, nx = mask.shape
    # Along Z: a forward and a backward sweep of whole rows (vectorized over X).
    for y in numba.prange(ny):
        for x in range(nx):
            sq[0, y, x] = FAR if mask[0, y, x] else 0
        for z in range(1, nz):
            for x in range(nx):
                sq[z, y, x] = min(sq[z - 1, y, x] + 1, FAR) if mask[z, y, x] else 0
        for z in range(nz - 2, -1, -1):
            for x in range(nx):
                sq[z, y, x] = min(sq[z, y, x], sq[z + 1, y, x] + 1)
        for z in range(nz):
            for x in range(nx):
                d = sq[z, y, x]
                sq[z, y, x] = FAR if d >= FAR else d * d
    for z in numba.prange(nz):
        _in_plane(sq, z)


@numba.njit(parallel=True, cache=True)
def squared_edt_per_slice(mask, sq):
    """Fill the int32 ZYX ``sq`` with the squared Euclidean distance of each pixel of a
    bool ZYX mask to the nearest False pixel of its own z-slice; -1 in a slice without
    any False pixel."""
    nz, ny, nx = mask.shape
    for z in numba.prange(nz):
        for y in range(ny):
            for x in range(nx):
                sq[z, y, x] = FAR if mask[z, y, x] else 0
        _in_plane(sq, z)
