"""Compiled (numba) separable filters of :mod:`seglight.classic.filters`: Gaussian
smoothing and the Laplacian of Gaussian.

1D correlations along Z, Y or X, accumulated in double like scipy's, with the inner loops
over contiguous X so that they vectorize, in parallel over slices; the Laplacian of
Gaussian's passes fused per slice where they can be.
"""

from __future__ import annotations

import numba
import numpy as np


@numba.njit(inline="always")
def _border_index(i, n, nearest):
    """Index of the input sample at ``i`` for a line of ``n``: clamped (``nearest``) or
    mirrored with the edge sample repeated (scipy's ``reflect``), any distance outside."""
    if nearest:
        return min(max(i, 0), n - 1)
    period = 2 * n
    i = i % period
    if i < 0:
        i += period
    return i if i < n else period - 1 - i


@numba.njit(inline="always")
def _bordered_line(row, line, r, nearest):
    """``line[i] = row[i − r]`` with the border extension of ``r`` samples each side (the
    interior copied, only the ``2r`` border samples looked up), in double."""
    nx = row.size
    for i in range(r):
        line[i] = row[_border_index(i - r, nx, nearest)]
        line[nx + r + i] = row[_border_index(nx + i, nx, nearest)]
    for x in range(nx):
        line[r + x] = row[x]


@numba.njit(parallel=True, cache=True)
def correlate_z(src, dst, weights, nearest):
    """``dst[z] = Σ_j weights[j] · src[z + j − r]`` along Z (axis 0), accumulated in double."""
    nz, ny, nx = src.shape
    r = (weights.size - 1) // 2
    for zz in numba.prange(nz):
        z = np.int64(zz)
        acc = np.empty(nx)
        for y in range(ny):
            acc[:] = 0.0
            for j in range(weights.size):
                w = weights[j]
                row = src[_border_index(z + j - r, nz, nearest), y]
                for x in range(nx):
                    acc[x] += w * row[x]
            for x in range(nx):
                dst[z, y, x] = acc[x]


@numba.njit(parallel=True, cache=True)
def correlate_y(src, dst, weights, nearest):
    """``dst[:, y] = Σ_j weights[j] · src[:, y + j − r]`` along Y (axis 1), in double."""
    nz, ny, nx = src.shape
    r = (weights.size - 1) // 2
    for zz in numba.prange(nz):
        z = np.int64(zz)
        acc = np.empty(nx)
        for y in range(ny):
            acc[:] = 0.0
            for j in range(weights.size):
                w = weights[j]
                row = src[z, _border_index(y + j - r, ny, nearest)]
                for x in range(nx):
                    acc[x] += w * row[x]
            for x in range(nx):
                dst[z, y, x] = acc[x]


@numba.njit(parallel=True, cache=True)
def correlate_x(src, dst, weights, nearest):
    """``dst[..., x] = Σ_j weights[j] · src[..., x + j − r]`` along X (axis 2), in double."""
    nz, ny, nx = src.shape
    r = (weights.size - 1) // 2
    for zz in numba.prange(nz):
        z = np.int64(zz)
        line = np.empty(nx + 2 * r)
        acc = np.empty(nx)
        for y in range(ny):
            # The row with its border extension, so that the taps below need no index checks.
            _bordered_line(src[z, y], line, r, nearest)
            acc[:] = 0.0
            for j in range(weights.size):
                w = weights[j]
                for x in range(nx):
                    acc[x] += w * line[x + j]
            for x in range(nx):
                dst[z, y, x] = acc[x]



@numba.njit(parallel=True, cache=True)
def log_in_plane(src, dst, gauss, second, scale, g_yx, want_g_yx):
    """``scale ·`` the 2D Laplacian of Gaussian of each z-slice (border "reflect").

    ``d²/dy² (G_x * s) + G_y * (d²/dx² * s)``, each 1D pass accumulated in double and
    stored as float32, the two terms added in float32 and multiplied by ``scale``: the same
    operations, in the same order, as separate passes would do, fused per slice so that no
    intermediate volume is written, and the two passes along each axis share their loads.
    With ``want_g_yx`` it also writes the Gaussian over X then Y (``G_y * G_x * s``) into
    ``g_yx``, which the 3D LoG needs. ``gauss`` and ``second`` have the same length (one
    sigma, one truncation).
    """
    nz, ny, nx = src.shape
    r = (gauss.size - 1) // 2
    for zz in numba.prange(nz):
        z = np.int64(zz)
        line = np.empty(nx + 2 * r)
        g_x = np.empty((ny, nx), np.float32)
        d_xx = np.empty((ny, nx), np.float32)
        acc_a = np.empty(nx)
        acc_b = np.empty(nx)
        for y in range(ny):
            _bordered_line(src[z, y], line, r, False)
            acc_a[:] = 0.0
            acc_b[:] = 0.0
            for j in range(gauss.size):
                w_g = gauss[j]
                w_s = second[j]
                for x in range(nx):
                    value = line[x + j]
                    acc_a[x] += w_g * value
                    acc_b[x] += w_s * value
            for x in range(nx):
                g_x[y, x] = acc_a[x]
                d_xx[y, x] = acc_b[x]
        for y in range(ny):
            acc_a[:] = 0.0
            acc_b[:] = 0.0
            for j in range(gauss.size):
                w_s = second[j]
                w_g = gauss[j]
                source = _border_index(y + j - r, ny, False)
                row_a = g_x[source]
                row_b = d_xx[source]
                for x in range(nx):
                    acc_a[x] += w_s * row_a[x]
                    acc_b[x] += w_g * row_b[x]
            for x in range(nx):
                total = np.float32(acc_a[x]) + np.float32(acc_b[x])
                dst[z, y, x] = scale * total
            if want_g_yx:
                acc_a[:] = 0.0
                for j in range(gauss.size):
                    w = gauss[j]
                    row = g_x[_border_index(y + j - r, ny, False)]
                    for x in range(nx):
                        acc_a[x] += w * row[x]
                for x in range(nx):
                    g_yx[z, y, x] = acc_a[x]


@numba.njit(parallel=True, cache=True)
def log_z_terms(a, b, dst, gauss, second, scale):
    """``scale · (second-derivative pass of a along Z + Gaussian pass of b along Z)``
    (border "reflect"): the last two passes of the 3D Laplacian of Gaussian, fused. Each pass
    is accumulated in double and rounded to float32, the sum and product are in float32."""
    nz, ny, nx = a.shape
    r_g = (gauss.size - 1) // 2
    r_s = (second.size - 1) // 2
    for zz in numba.prange(nz):
        z = np.int64(zz)
        acc_a = np.empty(nx)
        acc_b = np.empty(nx)
        for y in range(ny):
            acc_a[:] = 0.0
            for j in range(second.size):
                w = second[j]
                row = a[_border_index(z + j - r_s, nz, False), y]
                for x in range(nx):
                    acc_a[x] += w * row[x]
            acc_b[:] = 0.0
            for j in range(gauss.size):
                w = gauss[j]
                row = b[_border_index(z + j - r_g, nz, False), y]
                for x in range(nx):
                    acc_b[x] += w * row[x]
            for x in range(nx):
                total = np.float32(acc_a[x]) + np.float32(acc_b[x])
                dst[z, y, x] = scale * total
