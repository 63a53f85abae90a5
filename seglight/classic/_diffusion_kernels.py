"""Compiled kernels of the edge-preserving smoothing (:func:`seglight.classic.filters.edge_preserving_smoothing`).

One fused pass per diffusion step instead of dozens of whole-volume numpy temporaries: it
works on a few Y×X planes at a time (they stay in cache), computes every central difference
and every face flux once, and runs slabs of slices in parallel. The arithmetic mirrors ITK's
``GradientNDAnisotropicDiffusionFunction`` (double precision per voxel, zero-flux borders,
axes visited X, Y, Z, float32 image between iterations), which is what makes the results
equal to ITK's.
"""

from __future__ import annotations

import numba
import numpy as np

# Slices per parallel work item: the planes of a slice's neighbours are shared inside a slab
# and computed twice only at slab borders.
_SLAB = 8


@numba.njit(cache=True)
def _central_planes(f, z, cx, cy, cz):
    """Central differences of slice ``z`` along X, Y and Z (borders replicated), in double."""
    nz, ny, nx = f.shape
    up = min(z + 1, nz - 1)
    down = max(z - 1, 0)
    for y in range(ny):
        north = min(y + 1, ny - 1)
        south = max(y - 1, 0)
        for x in range(nx):
            east = min(x + 1, nx - 1)
            west = max(x - 1, 0)
            cx[y, x] = (np.float64(f[z, y, east]) - np.float64(f[z, y, west])) * 0.5
            cy[y, x] = (np.float64(f[z, north, x]) - np.float64(f[z, south, x])) * 0.5
            cz[y, x] = (np.float64(f[up, y, x]) - np.float64(f[down, y, x])) * 0.5


@numba.njit(inline="always")
def _flux(diff, a0, a1, b0, b1, k):
    """Flux across a face: ``diff · exp(g² / K)``, with ``g²`` summed in ITK's order.

    ``a`` and ``b`` are the central differences along the other two axes (X before Y before
    Z) on the two sides of the face.
    """
    grad_sq = diff * diff
    ma = a0 + a1
    grad_sq += 0.25 * ma * ma
    mb = b0 + b1
    grad_sq += 0.25 * mb * mb
    return diff * np.exp(grad_sq / k)


@numba.njit(cache=True)
def _z_fluxes(f, z, k, c_lo, c_hi, out):
    """Fluxes through the faces between slices ``z`` and ``z + 1`` (central differences given)."""
    _, ny, nx = f.shape
    cx0, cy0 = c_lo[0], c_lo[1]
    cx1, cy1 = c_hi[0], c_hi[1]
    for y in range(ny):
        for x in range(nx):
            diff = np.float64(f[z + 1, y, x]) - np.float64(f[z, y, x])
            out[y, x] = _flux(diff, cx0[y, x], cx1[y, x], cy0[y, x], cy1[y, x], k)


@numba.njit(parallel=True, cache=True)
def mean_gradient_sq(f):
    """Mean over voxels of the squared central-difference gradient magnitude (double)."""
    nz, ny, nx = f.shape
    per_slice = np.zeros(nz)
    for zz in numba.prange(nz):
        z = np.int64(zz)
        c = np.empty((3, ny, nx))
        _central_planes(f, z, c[0], c[1], c[2])
        per_slice[z] = (c * c).sum()
    return per_slice.sum() / f.size


@numba.njit(parallel=True, cache=True)
def diffusion_step(f, out, k, time_step):
    """One explicit diffusion step of float32 ``f`` into float32 ``out`` (``K`` negative)."""
    nz, ny, nx = f.shape
    n_slabs = (nz + _SLAB - 1) // _SLAB
    for slab in numba.prange(n_slabs):
        z0 = np.int64(slab) * _SLAB
        z1 = min(z0 + _SLAB, nz)
        # Central differences of the current slice and the next one; fluxes below and above
        # the current slice (zero at the image border); Y and X face fluxes padded with a
        # zero face on each side.
        c_cur = np.empty((3, ny, nx))
        c_next = np.empty((3, ny, nx))
        below = np.zeros((ny, nx))
        above = np.zeros((ny, nx))
        y_flux = np.zeros((ny + 1, nx))
        x_flux = np.zeros(nx + 1)
        if z0 > 0:
            c_prev = np.empty((3, ny, nx))
            _central_planes(f, z0 - 1, c_prev[0], c_prev[1], c_prev[2])
            _central_planes(f, z0, c_cur[0], c_cur[1], c_cur[2])
            _z_fluxes(f, z0 - 1, k, c_prev, c_cur, below)
        else:
            _central_planes(f, z0, c_cur[0], c_cur[1], c_cur[2])
        for z in range(z0, z1):
            cx, cy, cz = c_cur[0], c_cur[1], c_cur[2]
            if z + 1 < nz:
                _central_planes(f, z + 1, c_next[0], c_next[1], c_next[2])
                _z_fluxes(f, z, k, c_cur, c_next, above)
            else:
                above[:] = 0.0
            for y in range(ny - 1):
                for x in range(nx):
                    diff = np.float64(f[z, y + 1, x]) - np.float64(f[z, y, x])
                    y_flux[y + 1, x] = _flux(diff, cx[y, x], cx[y + 1, x], cz[y, x], cz[y + 1, x], k)
            for y in range(ny):
                for x in range(nx - 1):
                    diff = np.float64(f[z, y, x + 1]) - np.float64(f[z, y, x])
                    x_flux[x + 1] = _flux(diff, cy[y, x], cy[y, x + 1], cz[y, x], cz[y, x + 1], k)
                for x in range(nx):
                    # Per axis, X then Y then Z as ITK adds them: flux in through the
                    # forward face minus flux out through the backward face.
                    delta = 0.0
                    delta += x_flux[x + 1] - x_flux[x]
                    delta += y_flux[y + 1, x] - y_flux[y, x]
                    delta += above[y, x] - below[y, x]
                    update = np.float64(np.float32(delta)) * time_step
                    out[z, y, x] = np.float32(np.float64(f[z, y, x]) + update)
            below, above = above, below
            c_cur, c_next = c_next, c_cur
