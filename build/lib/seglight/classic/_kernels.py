"""Compiled (numba) kernels of :mod:`seglight.classic.filters`.

Edge-preserving smoothing: one fused pass per diffusion step instead of dozens of
whole-volume numpy temporaries: it works on a few Y×X planes at a time (they stay in cache),
computes every central difference and every face flux once, and runs slabs of slices in
parallel. The scheme mirrors ITK's ``GradientNDAnisotropicDiffusionFunction`` (zero-flux
borders, axes visited X, Y, Z, float32 image between iterations, the conductance scale in
double); the fluxes are computed in float32 with a vectorizable exp rather than in ITK's
double, which doubles the SIMD width and keeps the result within ~1e-6 of ITK's.

Hessian eigenvalues: the closed-form (trigonometric) solution for symmetric 3×3 matrices,
per voxel in double precision, fused with the second finite differences so that the six
Hessian components never exist as whole volumes, and skipped for voxels whose Hessian has at
most one negative eigenvalue (their vesselness is 0); the Jerman response in one parallel pass.

Separable filters: 1D correlations along Z, Y or X, accumulated in double like scipy's, with
the inner loops over contiguous X so that they vectorize, in parallel over slices; the
Laplacian of Gaussian's passes fused per slice where they can be.
"""

from __future__ import annotations

import numba
import numpy as np

# Slices per parallel work item: the planes of a slice's neighbours are shared inside a slab
# and computed twice only at slab borders.
_SLAB = 8


@numba.njit(cache=True)
def _central_planes(f, z, cx, cy, cz):
    """Central differences of slice ``z`` along X, Y and Z (borders replicated), float32."""
    nz, ny, nx = f.shape
    half = np.float32(0.5)
    up = f[min(z + 1, nz - 1)]
    down = f[max(z - 1, 0)]
    here = f[z]
    for y in range(ny):
        north = here[min(y + 1, ny - 1)]
        south = here[max(y - 1, 0)]
        row = here[y]
        # Inside the row the X neighbours need no clamping, so this loop vectorizes.
        for x in range(1, nx - 1):
            cx[y, x] = (row[x + 1] - row[x - 1]) * half
        cx[y, 0] = (row[min(1, nx - 1)] - row[0]) * half
        cx[y, nx - 1] = (row[nx - 1] - row[max(nx - 2, 0)]) * half
        for x in range(nx):
            cy[y, x] = (north[x] - south[x]) * half
            cz[y, x] = (up[y, x] - down[y, x]) * half


# exp(x) for float32 x <= 0 by the classic range reduction x = n·ln 2 + r, |r| <= ln2 / 2,
# a degree-8 Taylor polynomial of exp(r) (Estrin's scheme), and 2^-n assembled from the
# bits of n by exact multiplications by powers of two. Everything is straight-line float32
# arithmetic, so the flux loops vectorize to the full SIMD width (a libm exp call per face
# would cost several times the rest); the error is below 2 ulp.
_F32 = np.float32
_E = tuple(_F32(1.0 / float(np.prod(np.arange(1, n + 1)))) for n in range(9))
_LN2_HI = _F32(0.693145751953125)  # ln 2 split so that n · _LN2_HI is exact
_LN2_LO = _F32(1.428606765330187e-06)
_LOG2E = _F32(1.4426950408889634)
_TWO_POW_MINUS = tuple(_F32(2.0 ** -(1 << b)) for b in range(7))  # 2^-1, 2^-2, ..., 2^-64
_ONE = _F32(1.0)


@numba.njit(inline="always")
def _exp_nonpositive(x):
    """``exp(x)`` for float32 ``x <= 0`` (below −80, where it is < 2e-35, it returns exp(−80))."""
    x = max(x, _F32(-80.0))
    n = np.floor(x * _LOG2E + _F32(0.5))
    r = (x - n * _LN2_HI) - n * _LN2_LO
    r2 = r * r
    r4 = r2 * r2
    low = (_E[0] + _E[1] * r) + (_E[2] + _E[3] * r) * r2
    high = (_E[4] + _E[5] * r) + (_E[6] + _E[7] * r) * r2
    p = low + high * r4 + _E[8] * (r4 * r4)
    m = np.int32(-n)
    s = _ONE
    s *= _TWO_POW_MINUS[0] if m & 1 else _ONE
    s *= _TWO_POW_MINUS[1] if m & 2 else _ONE
    s *= _TWO_POW_MINUS[2] if m & 4 else _ONE
    s *= _TWO_POW_MINUS[3] if m & 8 else _ONE
    s *= _TWO_POW_MINUS[4] if m & 16 else _ONE
    s *= _TWO_POW_MINUS[5] if m & 32 else _ONE
    s *= _TWO_POW_MINUS[6] if m & 64 else _ONE
    return p * s


@numba.njit(inline="always")
def _flux(diff, a0, a1, b0, b1, inv_k):
    """Flux across a face: ``diff · exp(g² / K)``, with ``g²`` summed in ITK's order.

    ``a`` and ``b`` are the central differences along the other two axes (X before Y before
    Z) on the two sides of the face; ``inv_k`` is ``1 / K`` (K negative).
    """
    quarter = np.float32(0.25)
    grad_sq = diff * diff
    ma = a0 + a1
    grad_sq += quarter * ma * ma
    mb = b0 + b1
    grad_sq += quarter * mb * mb
    return diff * _exp_nonpositive(grad_sq * inv_k)


@numba.njit(cache=True)
def _z_fluxes(f, z, inv_k, c_lo, c_hi, out):
    """Fluxes through the faces between slices ``z`` and ``z + 1`` (central differences given)."""
    _, ny, nx = f.shape
    cx0, cy0 = c_lo[0], c_lo[1]
    cx1, cy1 = c_hi[0], c_hi[1]
    for y in range(ny):
        for x in range(nx):
            diff = f[z + 1, y, x] - f[z, y, x]
            out[y, x] = _flux(diff, cx0[y, x], cx1[y, x], cy0[y, x], cy1[y, x], inv_k)


@numba.njit(parallel=True, cache=True)
def mean_gradient_sq(f):
    """Mean over voxels of the squared central-difference gradient magnitude (double)."""
    nz, ny, nx = f.shape
    per_slice = np.zeros(nz)
    for zz in numba.prange(nz):
        # prange indices are unsigned; mixing them with signed offsets would give floats.
        z = np.int64(zz)
        up = f[min(z + 1, nz - 1)]
        down = f[max(z - 1, 0)]
        here = f[z]
        # One partial sum per column: the sums over rows then vectorize (a single running
        # double would serialize them), and the border columns are handled outside the loop.
        acc = np.zeros(nx)
        for y in range(ny):
            north = here[min(y + 1, ny - 1)]
            south = here[max(y - 1, 0)]
            row = here[y]
            for x in range(nx):
                cy = (np.float64(north[x]) - np.float64(south[x])) * 0.5
                cz = (np.float64(up[y, x]) - np.float64(down[y, x])) * 0.5
                acc[x] += cy * cy + cz * cz
            for x in range(1, nx - 1):
                cx = (np.float64(row[x + 1]) - np.float64(row[x - 1])) * 0.5
                acc[x] += cx * cx
            first = (np.float64(row[min(1, nx - 1)]) - np.float64(row[0])) * 0.5
            last = (np.float64(row[nx - 1]) - np.float64(row[max(nx - 2, 0)])) * 0.5
            acc[0] += first * first
            if nx > 1:
                acc[nx - 1] += last * last
        per_slice[z] = acc.sum()
    return per_slice.sum() / f.size


@numba.njit(parallel=True, cache=True)
def diffusion_step(f, out, inv_k, time_step):
    """One explicit diffusion step of float32 ``f`` into float32 ``out`` (``inv_k = 1 / K``,
    negative), in float32 arithmetic."""
    nz, ny, nx = f.shape
    n_slabs = (nz + _SLAB - 1) // _SLAB
    ts = np.float32(time_step)
    for slab in numba.prange(n_slabs):
        z0 = np.int64(slab) * _SLAB
        z1 = min(z0 + _SLAB, nz)
        # Central differences of the current slice and the next one; fluxes below and above
        # the current slice (zero at the image border); Y and X face fluxes padded with a
        # zero face on each side.
        c_cur = np.empty((3, ny, nx), np.float32)
        c_next = np.empty((3, ny, nx), np.float32)
        below = np.zeros((ny, nx), np.float32)
        above = np.zeros((ny, nx), np.float32)
        y_flux = np.zeros((ny + 1, nx), np.float32)
        x_flux = np.zeros(nx + 1, np.float32)
        if z0 > 0:
            c_prev = np.empty((3, ny, nx), np.float32)
            _central_planes(f, z0 - 1, c_prev[0], c_prev[1], c_prev[2])
            _central_planes(f, z0, c_cur[0], c_cur[1], c_cur[2])
            _z_fluxes(f, z0 - 1, inv_k, c_prev, c_cur, below)
        else:
            _central_planes(f, z0, c_cur[0], c_cur[1], c_cur[2])
        for z in range(z0, z1):
            cx, cy, cz = c_cur[0], c_cur[1], c_cur[2]
            if z + 1 < nz:
                _central_planes(f, z + 1, c_next[0], c_next[1], c_next[2])
                _z_fluxes(f, z, inv_k, c_cur, c_next, above)
            else:
                above[:] = 0.0
            for y in range(ny - 1):
                for x in range(nx):
                    diff = f[z, y + 1, x] - f[z, y, x]
                    y_flux[y + 1, x] = _flux(
                        diff, cx[y, x], cx[y + 1, x], cz[y, x], cz[y + 1, x], inv_k
                    )
            for y in range(ny):
                for x in range(nx - 1):
                    diff = f[z, y, x + 1] - f[z, y, x]
                    x_flux[x + 1] = _flux(
                        diff, cy[y, x], cy[y, x + 1], cz[y, x], cz[y, x + 1], inv_k
                    )
                for x in range(nx):
                    # Per axis, X then Y then Z as ITK adds them: flux in through the
                    # forward face minus flux out through the backward face.
                    delta = x_flux[x + 1] - x_flux[x]
                    delta += y_flux[y + 1, x] - y_flux[y, x]
                    delta += above[y, x] - below[y, x]
                    out[z, y, x] = f[z, y, x] + delta * ts
            below, above = above, below
            c_cur, c_next = c_next, c_cur


# --------------------------------------------------------------------------- Hessian


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


# --------------------------------------------------------------------------- separable filters


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
            for i in range(nx + 2 * r):
                line[i] = src[z, y, _border_index(i - r, nx, nearest)]
            acc[:] = 0.0
            for j in range(weights.size):
                w = weights[j]
                for x in range(nx):
                    acc[x] += w * line[x + j]
            for x in range(nx):
                dst[z, y, x] = acc[x]


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


@numba.njit(inline="always")
def _correlate_rows_x(plane, out, weights, line, acc):
    """Each row of a float32 Y×X ``plane`` correlated along X (border "reflect"), in double,
    stored as float32 into ``out``; ``line`` (``nx + 2r``) and ``acc`` (``nx``) are scratch."""
    ny, nx = plane.shape
    r = (weights.size - 1) // 2
    for y in range(ny):
        for i in range(nx + 2 * r):
            line[i] = plane[y, _border_index(i - r, nx, False)]
        acc[:] = 0.0
        for j in range(weights.size):
            w = weights[j]
            for x in range(nx):
                acc[x] += w * line[x + j]
        for x in range(nx):
            out[y, x] = acc[x]


@numba.njit(parallel=True, cache=True)
def log_in_plane(src, dst, gauss, second, scale, g_yx, want_g_yx):
    """``scale ·`` the 2D Laplacian of Gaussian of each z-slice (border "reflect").

    ``d²/dy² (G_x * s) + G_y * (d²/dx² * s)``, each 1D pass accumulated in double and
    stored as float32, the two terms added in float32 and multiplied by ``scale``: the same
    operations, in the same order, as separate passes would do, fused per slice so that no
    intermediate volume is written. With ``want_g_yx`` it also writes the Gaussian over X
    then Y (``G_y * G_x * s``) into ``g_yx``, which the 3D LoG needs.
    """
    nz, ny, nx = src.shape
    r_g = (gauss.size - 1) // 2
    r_s = (second.size - 1) // 2
    for zz in numba.prange(nz):
        z = np.int64(zz)
        line = np.empty(nx + 2 * max(r_g, r_s))
        g_x = np.empty((ny, nx), np.float32)
        d_xx = np.empty((ny, nx), np.float32)
        acc_a = np.empty(nx)
        acc_b = np.empty(nx)
        _correlate_rows_x(src[z], g_x, gauss, line, acc_a)
        _correlate_rows_x(src[z], d_xx, second, line, acc_a)
        for y in range(ny):
            acc_a[:] = 0.0
            for j in range(second.size):
                w = second[j]
                row = g_x[_border_index(y + j - r_s, ny, False)]
                for x in range(nx):
                    acc_a[x] += w * row[x]
            acc_b[:] = 0.0
            for j in range(gauss.size):
                w = gauss[j]
                row = d_xx[_border_index(y + j - r_g, ny, False)]
                for x in range(nx):
                    acc_b[x] += w * row[x]
            for x in range(nx):
                total = np.float32(acc_a[x]) + np.float32(acc_b[x])
                dst[z, y, x] = scale * total
            if want_g_yx:
                acc_a[:] = 0.0
                for j in range(gauss.size):
                    w = gauss[j]
                    row = g_x[_border_index(y + j - r_g, ny, False)]
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
