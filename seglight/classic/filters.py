"""Smoothing and shape filters of the classic workflows: G3/G2, EPS, Hessian, F3/F2, S3/S2.

Every function takes and returns ZYX numpy arrays (images float32, masks bool); sigmas are
in voxels and isotropic. The definitions are in ``docs/classic-steps.md``; where the
reference Segmenter's masks depend on a detail of its arithmetic (border modes, the order of
the finite differences, the global-minimum regularization of the filament filter, the 2D
filament filter's maximum-projection concatenation), that detail is reproduced on purpose
and the comment says so.

Speed comes from compiled, parallel kernels (:mod:`seglight.classic.kernels`, numba):
a fused float32 diffusion step for EPS, closed-form eigenvalues fused with the finite
differences instead of a LAPACK call per voxel (and skipped where the filament response is
0 anyway), and separable Gaussian/LoG passes that share work between terms and are fused per
slice; and from whole-stack vectorization instead of per-slice Python loops. Every result
equals the reference's to float32 rounding, EPS to ~1e-6 (see ``tests/classic/test_filters.py``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from seglight.classic.kernels import diffusion as diffusion_kernels
from seglight.classic.kernels import hessian as hessian_kernels
from seglight.classic.kernels import separable as separable_kernels
from seglight.errors import ConfigError

Scales = Sequence[Sequence[float]]

# The Gaussian of the smoothing steps and of the Hessian is cut at 3 sigma, the LoG at 4.
_GAUSSIAN_TRUNCATE = 3.0
_LOG_TRUNCATE = 4.0


def _as_float32(img: np.ndarray) -> np.ndarray:
    return np.asarray(img, dtype=np.float32)


def _check_3d(img: np.ndarray, step: str) -> None:
    if img.ndim != 3:
        raise ConfigError(f"{step} needs a 3D ZYX image; got shape {img.shape}")


def _check_scales(scales: Scales, step: str) -> list[tuple[float, float]]:
    pairs = [tuple(pair) for pair in scales]
    if not pairs or any(len(pair) != 2 or pair[0] <= 0 for pair in pairs):
        raise ConfigError(
            f"{step} scales {scales!r}: give a non-empty list of [sigma, cutoff] pairs "
            "with sigma > 0"
        )
    return [(float(sigma), float(cutoff)) for sigma, cutoff in pairs]


def _union_above_cutoffs(
    img: np.ndarray, scales: Scales, response: Callable[[np.ndarray, float], np.ndarray],
    step: str,
) -> np.ndarray:
    """OR over ``[sigma, cutoff]`` pairs of ``response(img, sigma) > cutoff``: how every
    multi-scale filter of the Segmenter turns responses into a mask."""
    mask = np.zeros(np.shape(img), bool)
    for sigma, cutoff in _check_scales(scales, step):
        mask |= response(img, sigma) > cutoff
    return mask


# --------------------------------------------------------------------------- smoothing


def _gaussian_weights(sigma: float, order: int, truncate: float) -> np.ndarray:
    """1D Gaussian (``order`` 0) or its second derivative (``order`` 2), as scipy builds them:
    radius ``int(truncate·σ + 0.5)``, the Gaussian normalized to sum 1."""
    if not sigma > 0:
        raise ConfigError(f"Gaussian sigma={sigma}: use a positive sigma (voxels)")
    radius = int(truncate * sigma + 0.5)
    x = np.arange(-radius, radius + 1, dtype=np.float64)
    phi = np.exp(-0.5 * (x / sigma) ** 2)
    phi /= phi.sum()
    if order == 2:
        phi *= x * x / sigma**4 - 1.0 / sigma**2
    return phi


_CORRELATE = {
    0: separable_kernels.correlate_z,
    1: separable_kernels.correlate_y,
    2: separable_kernels.correlate_x,
}


def _correlate(img: np.ndarray, weights: np.ndarray, axis: int, nearest: bool) -> np.ndarray:
    """Correlate a float32 ZYX volume with 1D ``weights`` along ``axis`` (border "nearest"
    or "reflect"), accumulating in double like scipy's ``correlate1d``, in parallel."""
    out = np.empty(img.shape, np.float32)
    _CORRELATE[axis](np.ascontiguousarray(img, dtype=np.float32), out, weights, nearest)
    return out


def _smooth(img: np.ndarray, sigma: float, axes: Sequence[int]) -> np.ndarray:
    weights = _gaussian_weights(sigma, 0, _GAUSSIAN_TRUNCATE)
    out = _as_float32(img)
    for axis in axes:
        out = _correlate(out, weights, axis, nearest=True)
    return out


def gaussian_3d(img: np.ndarray, sigma: float) -> np.ndarray:
    """``G3(σ)``: 3D Gaussian smoothing, border mode "nearest", truncated at 3σ.

    The same filter as scipy's ``gaussian_filter(img, σ, mode="nearest", truncate=3)``
    (equal to float32 rounding), run as a parallel separable filter.

    Args:
        img: ZYX image.
        sigma: standard deviation in voxels, on every axis.

    Returns:
        float32 ZYX image.
    """
    img = _as_float32(img)
    _check_3d(img, "G3 smoothing")
    return _smooth(img, sigma, (2, 1, 0))


def gaussian_2d(img: np.ndarray, sigma: float) -> np.ndarray:
    """``G2(σ)``: the Gaussian of :func:`gaussian_3d` applied to each z-slice on its own.

    Args:
        img: ZYX image.
        sigma: standard deviation in voxels, along Y and X.

    Returns:
        float32 ZYX image.
    """
    img = _as_float32(img)
    _check_3d(img, "G2 smoothing")
    return _smooth(img, sigma, (2, 1))


def edge_preserving_smoothing(
    img: np.ndarray, iterations: int = 10, conductance: float = 1.2, time_step: float = 0.0625
) -> np.ndarray:
    """``EPS``: Perona–Malik gradient anisotropic diffusion, as ITK computes it.

    This is the scheme of ITK's ``GradientAnisotropicDiffusionImageFilter`` with unit spacing
    and zero-flux (replicate) borders: per iteration, the flux through each face between two
    neighbours is ``d · exp(−g² / K)``, where ``d`` is the forward difference across the face
    and ``g²`` adds ``d²`` to the squared mean of the two neighbours' central differences
    along the other axes; ``K = 2 · conductance² · ⟨|∇I|²⟩`` is rescaled every iteration by
    the mean squared central-difference gradient of the current image (in double, as ITK).
    The fluxes are computed in float32 (ITK uses double) by a fused, parallel, vectorized
    kernel: several times faster than ITK, and within ~1e-6 of its output on [0, 1] images
    (a few float32 ulps), far below what moves a filter cutoff.

    Args:
        img: ZYX image.
        iterations: number of diffusion steps.
        conductance: edge threshold in units of the image's RMS gradient; smaller keeps
            more edges.
        time_step: step of the explicit scheme; ``1 / 16`` is the stable maximum in 3D.

    Returns:
        float32 ZYX image.

    Raises:
        ConfigError: a non-3D image, or a negative or zero parameter.
    """
    out = np.ascontiguousarray(img, dtype=np.float32)
    _check_3d(out, "edge_preserving_smoothing")
    if iterations < 0 or conductance <= 0 or time_step <= 0:
        raise ConfigError(
            f"edge_preserving_smoothing: iterations={iterations}, conductance={conductance}, "
            f"time_step={time_step}; use iterations >= 0 and positive conductance and time_step"
        )
    out = out.copy()
    spare = np.empty_like(out)
    for _ in range(iterations):
        mean_sq = diffusion_kernels.mean_gradient_sq(out)
        # ITK keeps K in the pixel type (float32); rounding it the same way keeps outputs equal.
        k = float(np.float32(-2.0 * conductance * conductance * mean_sq))
        if k == 0.0:
            # A flat image (ITK's K = 0 case): no gradient, no flux, nothing left to change.
            break
        diffusion_kernels.diffusion_step(
            out, spare, np.float32(1.0) / np.float32(k), float(time_step)
        )
        out, spare = spare, out
    return out


# --------------------------------------------------------------------------- Hessian


def hessian_3d(img: np.ndarray, sigma: float) -> list[np.ndarray]:
    """Scale-normalized Hessian: ``G3(σ)`` then a central-difference gradient applied twice.

    The second derivative along one axis is the ``[1, 0, −2, 0, 1] / 4`` stencil that two
    central differences make (one-sided at the borders); every component is multiplied by
    ``σ²`` so that responses at different scales compare.

    Args:
        img: ZYX image.
        sigma: Gaussian standard deviation in voxels.

    Returns:
        The six float32 components ``[H_zz, H_zy, H_zx, H_yy, H_yx, H_xx]``.
    """
    img = _as_float32(img)
    _check_3d(img, "the 3D Hessian")
    grads = _gradients(gaussian_3d(img, sigma))
    scale = np.float32(sigma * sigma)
    # H_ab is the gradient along b of the gradient along a (a <= b), in that order, as the
    # reference computes it, so that the rounding is the same.
    return [np.gradient(grads[a], axis=b) * scale for a in range(3) for b in range(a, 3)]


def symmetric_eigenvalues_3x3(
    h: Sequence[np.ndarray],
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Eigenvalues of symmetric 3×3 matrices, closed form, sorted by absolute value.

    Uses the trigonometric solution of the characteristic cubic (no iteration), computed in
    double precision per element for accuracy near repeated eigenvalues, returned as float32
    (what LAPACK gives the reference for float32 input, to rounding).

    Args:
        h: the six components ``[a00, a01, a02, a11, a12, a22]`` (arrays of one shape).

    Returns:
        ``(λ1, λ2, λ3)`` with ``|λ1| <= |λ2| <= |λ3|``, float32.
    """
    comps = np.broadcast_arrays(*(np.asarray(c, dtype=np.float32) for c in h))
    shape = comps[0].shape
    flat = [np.ascontiguousarray(c).ravel() for c in comps]
    out = [np.empty(flat[0].size, np.float32) for _ in range(3)]
    hessian_kernels.symmetric_eigenvalues(*flat, *out)
    l1, l2, l3 = (o.reshape(shape) for o in out)
    return l1, l2, l3


def hessian_eigenvalues_3d(
    img: np.ndarray, sigma: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Eigenvalues of :func:`hessian_3d`, sorted by absolute value (``|λ1| <= |λ2| <= |λ3|``).

    Args:
        img: ZYX image.
        sigma: Gaussian standard deviation in voxels.

    Returns:
        ``(λ1, λ2, λ3)``, float32 ZYX arrays.
    """
    return symmetric_eigenvalues_3x3(hessian_3d(img, sigma))


# --------------------------------------------------------------------------- filament filter


def _jerman(l2: np.ndarray, l_rho: float, valid: np.ndarray) -> np.ndarray:
    """Jerman's vesselness (τ = 1) from λ2 and the regularized λρ, 0 outside ``valid``."""
    l2 = np.ascontiguousarray(l2, dtype=np.float32)
    out = np.empty(l2.shape, np.float32)
    hessian_kernels.jerman_response(
        l2.ravel(), np.ascontiguousarray(valid).ravel(), np.float32(l_rho), out.ravel()
    )
    return out


def _gradients(img: np.ndarray) -> list[np.ndarray]:
    """``np.gradient`` of a float32 ZYX volume (one-sided at the borders), in parallel."""
    img = np.ascontiguousarray(img, dtype=np.float32)
    if min(img.shape) < 2:
        raise ConfigError(
            f"the 3D Hessian needs at least 2 voxels along Z, Y and X; got shape {img.shape}"
        )
    grads = [np.empty(img.shape, np.float32) for _ in range(3)]
    hessian_kernels.gradients(img, *grads)
    return grads


def vesselness_3d(img: np.ndarray, sigma: float) -> np.ndarray:
    """``F3(σ)`` response: Jerman's vesselness (τ = 1) for bright tubes on a dark background.

    With Hessian eigenvalues ``|λ1| <= |λ2| <= |λ3|`` (:func:`hessian_eigenvalues_3d`),
    ``λρ`` is ``λ3`` except that every negative ``λ3`` is replaced by the minimum of ``λ3``
    over the whole volume (the reference's regularization, which makes the response depend on
    the brightest tube in the stack); then
    ``R = 27 λ2² |λρ − λ2| / (2|λ2| + |λρ − λ2|)³``, ``R = 1`` where ``λ2 < λρ / 2``, and
    ``R = 0`` where ``λ2 >= 0`` or ``λ3 >= 0``.

    Args:
        img: ZYX image, usually smoothed.
        sigma: scale in voxels (about the tube radius).

    Returns:
        float32 ZYX response in [0, 1].
    """
    img = _as_float32(img)
    _check_3d(img, "F3 vesselness")
    grads = _gradients(gaussian_3d(img, sigma))
    l2 = np.empty(img.shape, np.float32)
    l3_negative = np.empty(img.shape, bool)
    l3_min = np.empty(img.shape[0])
    skipped_bound = np.empty(img.shape[0])
    scale = np.float32(sigma * sigma)
    hessian_kernels.hessian_l2_l3(*grads, scale, l2, l3_negative, l3_min, skipped_bound)
    l_rho = float(l3_min.min())
    # Voxels with at most one negative eigenvalue skipped the eigenvalues (their response is
    # 0), but one of them may still hold the volume's lowest λ3: look only where its
    # Gershgorin bound says it could (a small margin covers the eigenvalues' rounding).
    margin = 1e-6 * abs(l_rho) if np.isfinite(l_rho) else 0.0
    suspects = np.flatnonzero(skipped_bound < l_rho + margin)
    if suspects.size:
        l_rho = min(
            l_rho, hessian_kernels.skipped_l3_min(*grads, scale, l_rho + margin, suspects)
        )
    valid = l3_negative & (l2 < 0)
    return _jerman(l2, l_rho, valid)


def filament_3d(img: np.ndarray, scales: Scales) -> np.ndarray:
    """``F3(σ1, c1) ∪ F3(σ2, c2) ∪ …``: voxels whose 3D vesselness exceeds the cutoff at any scale.

    Args:
        img: ZYX image, usually smoothed.
        scales: ``[[sigma, cutoff], ...]``.

    Returns:
        bool ZYX mask.
    """
    return _union_above_cutoffs(img, scales, vesselness_3d, "F3 filament")


def _hessian_2d_largest(smoothed: np.ndarray, sigma: float) -> np.ndarray:
    """Larger-magnitude eigenvalue of each smoothed slice's scaled 2D Hessian (axes Y, X)."""
    if min(smoothed.shape[1:]) < 2:
        raise ConfigError(
            f"the 2D Hessian needs at least 2 pixels along Y and X; got {smoothed.shape}"
        )
    gy, gx = (np.ascontiguousarray(g) for g in np.gradient(smoothed, axis=(1, 2)))
    l2 = np.empty(smoothed.shape, np.float32)
    hessian_kernels.hessian_2d_largest(gy, gx, np.float32(sigma * sigma), l2)
    return l2


def vesselness_2d(img: np.ndarray, sigma: float) -> np.ndarray:
    """``F2(σ)`` response: 2D Jerman vesselness of each z-slice, as the reference computes it.

    The reference filters each slice concatenated along X with the stack's maximum-intensity
    projection (MIP), keeps the slice's part, and zeroes its last 3 columns; the regularizing
    minimum of ``λ2`` (here the larger-magnitude eigenvalue) is taken over the concatenated
    image, so the MIP takes part. Masks only match the reference's if that is reproduced, so
    it is — without building the full concatenation: beyond ``r + 2`` columns from the seam
    (``r`` = the Gaussian radius) the MIP half is the same for every slice, so it is filtered
    once, and each slice is filtered together with a ``2(r + 2)``-column strip of the MIP.

    Args:
        img: ZYX image, usually smoothed.
        sigma: scale in pixels (about the ridge half-width).

    Returns:
        float32 ZYX response in [0, 1].
    """
    img = _as_float32(img)
    _check_3d(img, "F2 vesselness")
    nz, ny, nx = img.shape
    mip = img.max(axis=0)
    reach = int(_GAUSSIAN_TRUNCATE * sigma + 0.5) + 2
    # Alone, the MIP's columns from `reach` on equal those of the concatenation; its
    # first columns are seen (differently) by every slice through the strip below.
    mip_l2 = _hessian_2d_largest(_smooth(mip[None], sigma, (2, 1)), sigma)[0]
    mip_min = float(mip_l2[:, reach:].min()) if nx > reach else np.inf
    strip = np.broadcast_to(mip[None, :, : 2 * reach], (nz, ny, min(2 * reach, nx)))
    joined = _smooth(np.concatenate([img, strip], axis=2), sigma, (2, 1))
    l2 = _hessian_2d_largest(joined, sigma)
    exact = min(nx + reach, l2.shape[2])
    per_slice_min = np.minimum(l2[:, :, :exact].min(axis=(1, 2)), np.float32(mip_min))
    resp = np.zeros(img.shape, np.float32)
    keep = max(nx - 3, 0)
    part = np.empty((nz, ny, keep), np.float32)
    hessian_kernels.jerman_per_slice(l2, per_slice_min.astype(np.float32), part)
    resp[:, :, :keep] = part
    return resp


def filament_2d(img: np.ndarray, scales: Scales) -> np.ndarray:
    """``F2(σ1, c1) ∪ …``: pixels whose per-slice 2D vesselness exceeds the cutoff at any scale.

    Args:
        img: ZYX image, usually smoothed.
        scales: ``[[sigma, cutoff], ...]``.

    Returns:
        bool ZYX mask.
    """
    return _union_above_cutoffs(img, scales, vesselness_2d, "F2 filament")


# --------------------------------------------------------------------------- spot filter


def filament_2d_slice(img_yx: np.ndarray, scales: Scales) -> np.ndarray:
    """``F2`` of one YX slice on its own: ``F2(σ1, c1) ∪ F2(σ2, c2) ∪ …`` of that slice,
    without the maximum-projection concatenation of :func:`filament_2d`.

    Each scale smooths the slice at its sigma before the Hessian, like every filament
    filter; the response is regularized by the slice's own lowest eigenvalue.

    Args:
        img_yx: one YX slice, usually smoothed.
        scales: ``[[sigma, cutoff], ...]``.

    Returns:
        bool YX mask.
    """
    mask = np.zeros(img_yx.shape, bool)
    slice_zyx = np.asarray(img_yx, np.float32)[None]
    for sigma, cutoff in _check_scales(scales, "F2 filament (one slice)"):
        smoothed = _smooth(slice_zyx, float(sigma), (2, 1))
        l2 = _hessian_2d_largest(smoothed, float(sigma))[0]
        mask |= _jerman(l2, float(l2.min()), l2 < 0) > cutoff
    return mask


def _scaled_log_in_plane(
    img: np.ndarray, sigma: float, scale: float, g_yx: np.ndarray | None = None
) -> np.ndarray:
    """``scale ·`` scipy's 2D ``gaussian_laplace`` (border "reflect", truncate 4) of each
    z-slice: the second derivative along one axis with the Gaussian along the other, summed;
    the 4 one-dimensional passes run fused per slice (no intermediate volume). Given a
    float32 ``g_yx``, the same pass also fills it with the Gaussian over X then Y."""
    out = np.empty(img.shape, np.float32)
    separable_kernels.log_in_plane(
        np.ascontiguousarray(img, dtype=np.float32),
        out,
        _gaussian_weights(sigma, 0, _LOG_TRUNCATE),
        _gaussian_weights(sigma, 2, _LOG_TRUNCATE),
        np.float32(scale),
        out if g_yx is None else g_yx,
        g_yx is not None,
    )
    return out


def _scaled_log_3d(img: np.ndarray, sigma: float, scale: float) -> np.ndarray:
    """``scale ·`` scipy's 3D ``gaussian_laplace`` (border "reflect", truncate 4).

    The sum over axes of (second derivative along one axis, Gaussian along the others),
    with the passes shared between the terms: the in-plane terms of every slice and the
    Gaussian over X then Y in one fused pass, then the two Z passes fused with the sum and
    the scale.
    """
    g_yx = np.empty(img.shape, np.float32)
    in_plane_terms = _scaled_log_in_plane(img, sigma, 1.0, g_yx)
    out = np.empty(img.shape, np.float32)
    separable_kernels.log_z_terms(
        g_yx,
        in_plane_terms,
        out,
        _gaussian_weights(sigma, 0, _LOG_TRUNCATE),
        _gaussian_weights(sigma, 2, _LOG_TRUNCATE),
        np.float32(scale),
    )
    return out


def spot_response_3d(img: np.ndarray, sigma: float) -> np.ndarray:
    """``S3(σ)`` response: scale-normalized negative LoG, ``−σ² · ∇²G_σ * img`` (3D).

    Border mode "reflect", Gaussian truncated at 4σ (scipy's ``gaussian_laplace`` defaults,
    which the reference uses; equal to it to float32 rounding). Bright blobs of radius about
    ``σ·√3`` respond most.

    Args:
        img: ZYX image, usually smoothed.
        sigma: scale in voxels.

    Returns:
        float32 ZYX response.
    """
    img = _as_float32(img)
    _check_3d(img, "S3 spot")
    return _scaled_log_3d(img, sigma, -(sigma**2))


def spot_response_2d(img: np.ndarray, sigma: float) -> np.ndarray:
    """``S2(σ)`` response: :func:`spot_response_3d`'s 2D LoG on each z-slice.

    Args:
        img: ZYX image, usually smoothed.
        sigma: scale in pixels.

    Returns:
        float32 ZYX response.
    """
    img = _as_float32(img)
    _check_3d(img, "S2 spot")
    return _scaled_log_in_plane(img, sigma, -(sigma**2))


def spot_3d(img: np.ndarray, scales: Scales) -> np.ndarray:
    """``S3(σ1, c1) ∪ …``: voxels whose 3D spot response exceeds the cutoff at any scale.

    Args:
        img: ZYX image, usually smoothed.
        scales: ``[[sigma, cutoff], ...]``.

    Returns:
        bool ZYX mask.
    """
    return _union_above_cutoffs(img, scales, spot_response_3d, "S3 spot")


def spot_2d(img: np.ndarray, scales: Scales) -> np.ndarray:
    """``S2(σ1, c1) ∪ …``: pixels whose per-slice 2D spot response exceeds the cutoff at any scale.

    Args:
        img: ZYX image, usually smoothed.
        scales: ``[[sigma, cutoff], ...]``.

    Returns:
        bool ZYX mask.
    """
    return _union_above_cutoffs(img, scales, spot_response_2d, "S2 spot")
