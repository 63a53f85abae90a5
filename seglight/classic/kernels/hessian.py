"""Compiled (numba) kernels of the Hessian filters of :mod:`seglight.classic.filters`:
eigenvalues, the 3D and 2D filament (vesselness) responses.

The closed-form (trigonometric) eigenvalues of symmetric 3×3 matrices, per voxel in double
precision, fused with the second finite differences so that the six Hessian components
never exist as whole volumes, and skipped for voxels whose Hessian has at most one negative
eigenvalue (their vesselness is 0); the Jerman response in one parallel pass.
"""

from __future__ import annotations

import numba
import numpy as np

_SQRT3 = float(np.sqrt(3.0))


@numba.njit(inline="always")
def _eigenvalues_by_magnitude(a00, a01, a02, a11, a12, a22):
    """Eigenvalues of a symmetric 3×3 matrix, as float32 sorted by absolute value.

    The trigonometric solution of the characteristic cubic, in double precision (accurate
    near repeated eigenvalues, where float32 would lose digits).
    """
    a00 = np.float64(a00)
    a01 = np.float64(a01)
    a02 = np.float64(a02)
    a11 = np.float64(a11)
    a12 = np.float64(a12)
    a22 = np.float64(a22)
    q = (a00 + a11 + a22) / 3.0
    b00 = a00 - q
    b11 = a11 - q
    b22 = a22 - q
    p2 = (b00 * b00 + b11 * b11 + b22 * b22 + 2.0 * (a01 * a01 + a02 * a02 + a12 * a12)) / 6.0
    if p2 > 0.0:
        p = np.sqrt(p2)
        det = (
            b00 * (b11 * b22 - a12 * a12)
            - a01 * (a01 * b22 - a12 * a02)
            + a02 * (a01 * a12 - b11 * a02)
        )
        r = min(max(det / (2.0 * p2 * p), -1.0), 1.0)
        c = np.cos(np.arccos(r) / 3.0)
        # cos(φ + 2π/3) from c = cos φ (φ in [0, π/3], so sin φ >= 0): one libm call fewer;
        # its rounding, ~1e-8 of p at worst, stays below the float32 result's.
        s = np.sqrt(max(1.0 - c * c, 0.0))
        e_hi = q + 2.0 * p * c
        e_lo = q - p * (c + _SQRT3 * s)
        e_mid = 3.0 * q - e_hi - e_lo
    else:
        e_hi = q
        e_mid = q
        e_lo = q
    # The largest magnitude is an extreme; the smallest is the middle one or the other extreme.
    if abs(e_lo) > abs(e_hi):
        l3 = e_lo
        other = e_hi
    else:
        l3 = e_hi
        other = e_lo
    if abs(e_mid) <= abs(other):
        l1 = e_mid
        l2 = other
    else:
        l1 = other
        l2 = e_mid
    return np.float32(l1), np.float32(l2), np.float32(l3)


@numba.njit(parallel=True, cache=True)
def symmetric_eigenvalues(a00, a01, a02, a11, a12, a22, l1, l2, l3):
    """Eigenvalues sorted by magnitude of the matrices given by flat component arrays."""
    for i in numba.prange(a00.size):
        l1[i], l2[i], l3[i] = _eigenvalues_by_magnitude(
            a00[i], a01[i], a02[i], a11[i], a12[i], a22[i]
        )


@numba.njit(inline="always")
def _gradient_at(g, z, y, x, axis):
    """``np.gradient(g, axis=axis)`` of float32 ``g`` at one voxel, in float32 like numpy.

    Central difference inside, one-sided at the two borders (the axis needs 2+ voxels).
    """
    two = np.float32(2.0)
    n = g.shape[axis]
    if axis == 0:
        if z == 0:
            return g[1, y, x] - g[0, y, x]
        if z == n - 1:
            return g[z, y, x] - g[z - 1, y, x]
        return (g[z + 1, y, x] - g[z - 1, y, x]) / two
    if axis == 1:
        if y == 0:
            return g[z, 1, x] - g[z, 0, x]
        if y == n - 1:
            return g[z, y, x] - g[z, y - 1, x]
        return (g[z, y + 1, x] - g[z, y - 1, x]) / two
    if x == 0:
        return g[z, y, 1] - g[z, y, 0]
    if x == n - 1:
        return g[z, y, x] - g[z, y, x - 1]
    return (g[z, y, x + 1] - g[z, y, x - 1]) / two


@numba.njit(inline="always")
def _scaled_hessian_at(g0, g1, g2, z, y, x, scale):
    """The six scaled Hessian components at one voxel from the first gradients (float32)."""
    return (
        _gradient_at(g0, z, y, x, 0) * scale,
        _gradient_at(g0, z, y, x, 1) * scale,
        _gradient_at(g0, z, y, x, 2) * scale,
        _gradient_at(g1, z, y, x, 1) * scale,
        _gradient_at(g1, z, y, x, 2) * scale,
        _gradient_at(g2, z, y, x, 2) * scale,
    )


# A leading principal minor counts as signed only when it is this far from zero, relative to
# the matrix's size: well above the double rounding of the minors, so a sign is never wrong.
_MINOR_TOLERANCE = 1e-9


@numba.njit(inline="always")
def _at_most_one_negative(a00, a01, a02, a11, a12, a22):
    """True when the symmetric matrix surely has at most one negative eigenvalue.

    Sylvester's law of inertia: with nonzero leading principal minors ``D1, D2, D3`` the
    number of negative eigenvalues is the number of sign changes in ``1, D1, D2, D3``. Near
    a zero minor it answers False (undecided), so the caller falls back to the eigenvalues.
    """
    a00 = np.float64(a00)
    a01 = np.float64(a01)
    a02 = np.float64(a02)
    a11 = np.float64(a11)
    a12 = np.float64(a12)
    a22 = np.float64(a22)
    size = abs(a00) + abs(a11) + abs(a22) + abs(a01) + abs(a02) + abs(a12)
    d1 = a00
    d2 = a00 * a11 - a01 * a01
    d3 = a00 * (a11 * a22 - a12 * a12) - a01 * (a01 * a22 - a12 * a02) + a02 * (
        a01 * a12 - a11 * a02
    )
    tol = _MINOR_TOLERANCE * size
    if abs(d1) <= tol or abs(d2) <= tol * size or abs(d3) <= tol * size * size:
        return False
    changes = (d1 < 0) + ((d1 < 0) != (d2 < 0)) + ((d2 < 0) != (d3 < 0))
    return changes < 2


@numba.njit(inline="always")
def _lowest_eigenvalue_bound(a00, a01, a02, a11, a12, a22):
    """Gershgorin's lower bound on the smallest eigenvalue, in double."""
    a01 = abs(np.float64(a01))
    a02 = abs(np.float64(a02))
    a12 = abs(np.float64(a12))
    return min(
        np.float64(a00) - a01 - a02,
        np.float64(a11) - a01 - a12,
        np.float64(a22) - a02 - a12,
    )


@numba.njit(parallel=True, cache=True)
def hessian_l2_l3(g0, g1, g2, scale, l2, l3_negative, l3_min, skipped_bound):
    """λ2 and the sign of λ3 of the scaled Hessian, from the first gradients ``g0, g1, g2``.

    ``H_ab`` is the gradient along ``b`` of ``g_a`` (``a <= b``) times ``scale`` (σ²), in
    float32 as the reference computes it. Writes ``l2`` (float32), ``l3_negative`` (bool)
    and the minimum of λ3 over each slice into ``l3_min``.

    The vesselness is 0 unless λ2 and λ3 are both negative, so a voxel whose Hessian has at
    most one negative eigenvalue (decided cheaply from its minors) skips the eigenvalues:
    it gets ``l2 = 0`` and ``l3_negative = False``, and its λ3 is left out of ``l3_min``;
    instead ``skipped_bound[z]`` receives the lowest Gershgorin bound of the skipped
    voxels, for :func:`skipped_l3_min` to settle the global minimum exactly when needed.
    """
    nz, ny, nx = g0.shape
    for zz in numba.prange(nz):
        z = np.int64(zz)
        low = np.inf
        bound = np.inf
        for y in range(ny):
            for x in range(nx):
                h00, h01, h02, h11, h12, h22 = _scaled_hessian_at(g0, g1, g2, z, y, x, scale)
                if _at_most_one_negative(h00, h01, h02, h11, h12, h22):
                    l2[z, y, x] = 0.0
                    l3_negative[z, y, x] = False
                    bound = min(bound, _lowest_eigenvalue_bound(h00, h01, h02, h11, h12, h22))
                    continue
                _, e2, e3 = _eigenvalues_by_magnitude(h00, h01, h02, h11, h12, h22)
                l2[z, y, x] = e2
                l3_negative[z, y, x] = e3 < 0
                low = min(low, np.float64(e3))
        l3_min[z] = low
        skipped_bound[z] = bound


@numba.njit(parallel=True, cache=True)
def skipped_l3_min(g0, g1, g2, scale, below, slices):
    """Minimum of λ3 over the voxels :func:`hessian_l2_l3` skipped in ``slices`` whose
    Gershgorin bound is under ``below`` (``inf`` when none is lower than ``below``)."""
    _, ny, nx = g0.shape
    lows = np.full(slices.size, np.inf)
    for i in numba.prange(slices.size):
        z = np.int64(slices[i])
        low = np.inf
        for y in range(ny):
            for x in range(nx):
                h00, h01, h02, h11, h12, h22 = _scaled_hessian_at(g0, g1, g2, z, y, x, scale)
                if not _at_most_one_negative(h00, h01, h02, h11, h12, h22):
                    continue
                if _lowest_eigenvalue_bound(h00, h01, h02, h11, h12, h22) >= below:
                    continue
                _, _, e3 = _eigenvalues_by_magnitude(h00, h01, h02, h11, h12, h22)
                low = min(low, np.float64(e3))
        lows[i] = low
    return lows.min()


@numba.njit(parallel=True, cache=True)
def gradients(f, g0, g1, g2):
    """``np.gradient(f)`` of a float32 ZYX volume into ``g0, g1, g2`` (same float32 results)."""
    nz, ny, nx = f.shape
    for zz in numba.prange(nz):
        z = np.int64(zz)
        for y in range(ny):
            for x in range(nx):
                g0[z, y, x] = _gradient_at(f, z, y, x, 0)
                g1[z, y, x] = _gradient_at(f, z, y, x, 1)
                g2[z, y, x] = _gradient_at(f, z, y, x, 2)


@numba.njit(inline="always")
def _jerman_value(v, l_rho, valid):
    """Jerman's vesselness (τ = 1) of one float32 λ2 with the regularized ``l_rho``.

    ``R = 27 λ2² |λρ − λ2| / (2|λ2| + |λρ − λ2|)³`` in float32 (a zero denominator counts as
    1e-10), 1 where ``λ2 < λρ / 2``, 0 outside ``valid`` and where not finite.
    """
    if not valid:
        return np.float32(0.0)
    if v < np.float32(0.5) * l_rho:
        return np.float32(1.0)
    diff = abs(l_rho - v)
    base = np.float32(2.0) * abs(v) + diff
    den = base * base * base
    if den == 0:
        den = np.float32(1e-10)
    r = np.float32(27.0) * (v * v * diff) / den
    return r if np.isfinite(r) else np.float32(0.0)


@numba.njit(parallel=True, cache=True)
def jerman_response(l2, valid, l_rho, out):
    """:func:`_jerman_value` of flat float32 ``l2`` with one ``l_rho`` for all."""
    for i in numba.prange(l2.size):
        out[i] = _jerman_value(l2[i], l_rho, valid[i])


@numba.njit(parallel=True, cache=True)
def hessian_2d_largest(gy, gx, scale, l2):
    """Larger-magnitude eigenvalue of each slice's scaled 2D Hessian, from its Y and X gradients.

    ``H_yy``, ``H_yx`` (gradient along X of the Y gradient) and ``H_xx`` in float32 as the
    reference computes them, the eigenvalue in double, stored as float32.
    """
    nz, ny, nx = gy.shape
    for zz in numba.prange(nz):
        z = np.int64(zz)
        for y in range(ny):
            for x in range(nx):
                a = np.float64(_gradient_at(gy, z, y, x, 1) * scale)
                b = np.float64(_gradient_at(gy, z, y, x, 2) * scale)
                c = np.float64(_gradient_at(gx, z, y, x, 2) * scale)
                half = (a + c) * 0.5
                rad = np.sqrt(((a - c) * 0.5) ** 2 + b * b)
                l2[z, y, x] = half + rad if half >= 0 else half - rad


@numba.njit(parallel=True, cache=True)
def jerman_per_slice(l2, l_rho, out):
    """Jerman's vesselness of each slice ``z`` of ``l2`` with its own ``l_rho[z]``; ``out`` may
    be narrower than ``l2`` (the leading columns are used). Valid where λ2 < 0."""
    nz, ny, nx = out.shape
    for zz in numba.prange(nz):
        z = np.int64(zz)
        rho = l_rho[z]
        for y in range(ny):
            for x in range(nx):
                v = l2[z, y, x]
                out[z, y, x] = _jerman_value(v, rho, v < 0)
