"""Classic workflows of filament- and spot-like structures: a filter response, a cutoff,
size filters.

Sixteen structures (see ``shared/classic-workflows.md``): actin and myosin fibres (ACTB,
ACTN1, MYH10), microtubules (TUBA1B), tight junctions (TJP1), mitochondria (TOMM20), the
ER (ATP2A2, SEC61B), the mitotic lamina (LMNB1 mitotic), focal adhesions (PXN), and the
punctate ones: adherens and gap junctions (CTNNB1, GJA1), chromatin (H2B interphase),
nuclear pores (NUP153), cohesin (SMC1A) and speckles (SON).

Each workflow normalizes with ``intensity_norm``, smooths, filters and cleans up; every
parameter comes from ``conf/model/classic/<name>.yaml``. Notation: ``N`` normalization,
``G3``/``G2`` Gaussian, ``EPS`` edge-preserving smoothing, ``F3``/``F2`` filament filter,
``S3``/``S2`` spot filter, ``SF``/``SF2D`` size filter.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from seglight.binarizer import Record
from seglight.classic.filters import (
    Scales,
    edge_preserving_smoothing,
    filament_2d,
    filament_3d,
    gaussian_2d,
    gaussian_3d,
    spot_2d,
    spot_3d,
    spot_response_3d,
)
from seglight.classic.postprocess import size_filter
from seglight.classic.registry import workflow
from seglight.errors import ConfigError
from seglight.normalization import auto_contrast, min_max

Norm = Sequence[float]


def _normalize(image: np.ndarray, intensity_norm: Norm, record: Record) -> np.ndarray:
    """``N[a, b]`` (two values) or ``N[v]`` (one value; ``v < 1`` is plain min–max)."""
    values = [float(v) for v in intensity_norm]
    if len(values) == 2:
        img = auto_contrast(image, *values)
    elif len(values) == 1:
        img = min_max(image, upper=values[0] if values[0] >= 1 else None)
    else:
        raise ConfigError(
            f"intensity_norm={list(intensity_norm)}: give [a, b] (mean - a*std .. mean + b*std) "
            "or [v] (min-max, voxels above v treated as background)"
        )
    record("normalized", img)
    return img


def _single(sigma: float, cutoff: float) -> Scales:
    return [[sigma, cutoff]]


def _filament_3d_workflow(
    image: np.ndarray,
    record: Record,
    intensity_norm: Norm,
    scales: Scales,
    min_size: int,
) -> np.ndarray:
    """``N → EPS → F3(scales) → SF(min_size)``, the fibre workflows."""
    img = _normalize(image, intensity_norm, record)
    smooth = edge_preserving_smoothing(img)
    record("smoothed", smooth)
    mask = filament_3d(smooth, scales)
    record("filament", mask)
    return size_filter(mask, min_size)


def _gaussian_filament_workflow(
    image: np.ndarray,
    record: Record,
    intensity_norm: Norm,
    gaussian_sigma: float,
    filament: Callable[[np.ndarray, Scales], np.ndarray],
    scales: Scales,
    min_size: int,
) -> np.ndarray:
    """``N → G3 → filament(scales) → SF(min_size)``, with a 3D or 2D filament filter."""
    img = _normalize(image, intensity_norm, record)
    smooth = gaussian_3d(img, gaussian_sigma)
    record("smoothed", smooth)
    mask = filament(smooth, scales)
    record("filament", mask)
    return size_filter(mask, min_size)


def _sf_sf2d_sf(mask: np.ndarray, min_size: int, min_size_2d: int) -> np.ndarray:
    """``SF → SF2D → SF``: small objects, then specks within slices, then what is left small."""
    mask = size_filter(mask, min_size)
    mask = size_filter(mask, min_size_2d, per_slice=True)
    return size_filter(mask, min_size)


@workflow("actb")
def actb(
    image: np.ndarray,
    *,
    record: Record,
    intensity_norm: Norm,
    vesselness_scales: Scales,
    min_size: int,
) -> np.ndarray:
    """ACTB (actin filaments): ``N[3,15] → EPS → F3(2, 0.1) ∪ F3(1, 0.04) → SF(15)``."""
    return _filament_3d_workflow(image, record, intensity_norm, vesselness_scales, min_size)


@workflow("actn1")
def actn1(
    image: np.ndarray,
    *,
    record: Record,
    intensity_norm: Norm,
    vesselness_scales: Scales,
    min_size: int,
) -> np.ndarray:
    """ACTN1 (actin bundles): ``N[3,15] → EPS → F3(2, 0.15) ∪ F3(1, 0.05) → SF(5)``."""
    return _filament_3d_workflow(image, record, intensity_norm, vesselness_scales, min_size)


@workflow("myh10")
def myh10(
    image: np.ndarray,
    *,
    record: Record,
    intensity_norm: Norm,
    vesselness_scales: Scales,
    min_size: int,
) -> np.ndarray:
    """MYH10 (myosin fibres): ``N[2.5,17] → EPS → F3(2, 0.2) ∪ F3(1, 0.015) → SF(16)``."""
    return _filament_3d_workflow(image, record, intensity_norm, vesselness_scales, min_size)


@workflow("tuba1b")
def tuba1b(
    image: np.ndarray,
    *,
    record: Record,
    intensity_norm: Norm,
    vesselness_sigma: float,
    vesselness_cutoff: float,
    min_size: int,
) -> np.ndarray:
    """TUBA1B (microtubules): ``N[1.5,8] → EPS → F3(1, 0.01) → SF(20)``."""
    scales = _single(vesselness_sigma, vesselness_cutoff)
    return _filament_3d_workflow(image, record, intensity_norm, scales, min_size)


@workflow("tjp1")
def tjp1(
    image: np.ndarray,
    *,
    record: Record,
    intensity_norm: Norm,
    gaussian_sigma: float,
    vesselness_sigma: float,
    vesselness_cutoff: float,
    min_size: int,
) -> np.ndarray:
    """TJP1 (tight junctions): ``N[3,17] → G3(1) → F3(1.5, 0.2) → SF(15)``."""
    return _gaussian_filament_workflow(
        image, record, intensity_norm, gaussian_sigma, filament_3d,
        _single(vesselness_sigma, vesselness_cutoff), min_size,
    )


@workflow("tomm20")
def tomm20(
    image: np.ndarray,
    *,
    record: Record,
    intensity_norm: Norm,
    gaussian_sigma: float,
    vesselness_sigma: float,
    vesselness_cutoff: float,
    min_size: int,
) -> np.ndarray:
    """TOMM20 (mitochondria): ``N[3.5,15] → G3(1) → F2(1.5, 0.16) → SF(10)``."""
    return _gaussian_filament_workflow(
        image, record, intensity_norm, gaussian_sigma, filament_2d,
        _single(vesselness_sigma, vesselness_cutoff), min_size,
    )


@workflow("lmnb1_mitotic")
def lmnb1_mitotic(
    image: np.ndarray,
    *,
    record: Record,
    intensity_norm: Norm,
    gaussian_sigma: float,
    vesselness_sigma: float,
    vesselness_cutoff: float,
    min_size: int,
) -> np.ndarray:
    """LMNB1 mitotic (lamina fragments): ``N[4000] → G3(1) → F2(0.5, 0.01) → SF(5)``."""
    return _gaussian_filament_workflow(
        image, record, intensity_norm, gaussian_sigma, filament_2d,
        _single(vesselness_sigma, vesselness_cutoff), min_size,
    )


def _er_workflow(
    image: np.ndarray,
    record: Record,
    intensity_norm: Norm,
    vesselness_sigma: float,
    vesselness_cutoff: float,
    min_size: int,
    min_size_2d: int,
) -> np.ndarray:
    """``N → EPS → F2 → SF → SF2D → SF``, the ER workflows."""
    img = _normalize(image, intensity_norm, record)
    smooth = edge_preserving_smoothing(img)
    record("smoothed", smooth)
    mask = filament_2d(smooth, _single(vesselness_sigma, vesselness_cutoff))
    record("filament", mask)
    return _sf_sf2d_sf(mask, min_size, min_size_2d)


@workflow("atp2a2")
def atp2a2(
    image: np.ndarray,
    *,
    record: Record,
    intensity_norm: Norm,
    vesselness_sigma: float,
    vesselness_cutoff: float,
    min_size: int,
    min_size_2d: int,
) -> np.ndarray:
    """ATP2A2 (ER): ``N[2.5,9] → EPS → F2(1, 0.25) → SF(15) → SF2D(3) → SF(15)``."""
    return _er_workflow(
        image, record, intensity_norm, vesselness_sigma, vesselness_cutoff, min_size, min_size_2d
    )


@workflow("sec61b")
def sec61b(
    image: np.ndarray,
    *,
    record: Record,
    intensity_norm: Norm,
    vesselness_sigma: float,
    vesselness_cutoff: float,
    min_size: int,
    min_size_2d: int,
) -> np.ndarray:
    """SEC61B (ER): ``N[2.5,7.5] → EPS → F2(1, 0.15) → SF(15) → SF2D(3) → SF(15)``."""
    return _er_workflow(
        image, record, intensity_norm, vesselness_sigma, vesselness_cutoff, min_size, min_size_2d
    )


def _prune_z(mask: np.ndarray, min_slice_voxels: int) -> np.ndarray:
    """Keep the slices around the densest one, out to the first sparse slice on each side.

    From the slice with the most foreground, walk down and up; the first slice with fewer
    than ``min_slice_voxels`` voxels on each side is the last one kept (a slice of exactly
    ``min_slice_voxels`` voxels is not sparse: the walk goes on past it, as the installed
    reference's pruning does with its fixed 100). As in the reference,
    slice 0 is never the stopping slice when walking down, and the walk up stops at the
    second-to-last slice at the latest, so the last slice is always dropped. The reference
    also keeps the per-slice counts in 16 bits, so they wrap above 65535 voxels (which can
    change the densest slice on big, dense slices); that is reproduced for equal masks.
    """
    nz = mask.shape[0]
    counts = np.count_nonzero(mask, axis=(1, 2)).astype(np.uint16)
    densest = int(np.argmax(counts))
    sparse = counts < min_slice_voxels
    low = 0
    below = np.flatnonzero(sparse[1:densest])
    if below.size:
        low = int(below[-1]) + 1
    high = nz - 2
    above = np.flatnonzero(sparse[densest + 1 : nz - 1])
    if above.size:
        high = densest + 1 + int(above[0])
    out = mask.copy()
    out[:low] = False
    out[high + 1 :] = False
    return out


@workflow("pxn")
def pxn(
    image: np.ndarray,
    *,
    record: Record,
    intensity_norm: Norm,
    vesselness_sigma: float,
    vesselness_cutoff: float,
    min_size: int,
    min_size_2d: int,
    min_slice_voxels: int,
) -> np.ndarray:
    """PXN (focal adhesions): ``N[11,8] → EPS → F3(1, 0.35) → SF2D(4) → SF(15)``, then only
    the slices around the densest one (out to the first with < 100 voxels) are kept."""
    img = _normalize(image, intensity_norm, record)
    smooth = edge_preserving_smoothing(img)
    record("smoothed", smooth)
    mask = filament_3d(smooth, _single(vesselness_sigma, vesselness_cutoff))
    record("filament", mask)
    mask = size_filter(mask, min_size_2d, per_slice=True)
    mask = size_filter(mask, min_size)
    record("before_z_pruning", mask)
    return _prune_z(mask, min_slice_voxels)


@workflow("ctnnb1")
def ctnnb1(
    image: np.ndarray,
    *,
    record: Record,
    intensity_norm: Norm,
    gaussian_sigma: float,
    spot_sigma: float,
    spot_cutoff: float,
    min_size: int,
) -> np.ndarray:
    """CTNNB1 (adherens junctions): ``N[4,27] → G3(1) → S2(1.5, 0.01) → SF(10)``."""
    img = _normalize(image, intensity_norm, record)
    smooth = gaussian_3d(img, gaussian_sigma)
    record("smoothed", smooth)
    mask = spot_2d(smooth, _single(spot_sigma, spot_cutoff))
    record("spot", mask)
    return size_filter(mask, min_size)


@workflow("gja1")
def gja1(
    image: np.ndarray,
    *,
    record: Record,
    intensity_norm: Norm,
    gaussian_sigma: float,
    spot_sigma: float,
    spot_cutoff: float,
    min_size: int,
) -> np.ndarray:
    """GJA1 (gap junctions): ``N[1,40] → G2(1) → S3(1, 0.031) → SF(5)``.

    The reference applies ``SF(5)`` twice; the second pass cannot remove anything.
    """
    img = _normalize(image, intensity_norm, record)
    smooth = gaussian_2d(img, gaussian_sigma)
    record("smoothed", smooth)
    mask = spot_3d(smooth, _single(spot_sigma, spot_cutoff))
    record("spot", mask)
    return size_filter(mask, min_size)


def _eps_spot_workflow(
    image: np.ndarray,
    record: Record,
    intensity_norm: Norm,
    spot: Callable[[np.ndarray, Scales], np.ndarray],
    scales: Scales,
    min_size: int,
) -> np.ndarray:
    """``N → EPS → spot(scales) → SF``."""
    img = _normalize(image, intensity_norm, record)
    smooth = edge_preserving_smoothing(img)
    record("smoothed", smooth)
    mask = spot(smooth, scales)
    record("spot", mask)
    return size_filter(mask, min_size)


@workflow("h2b_interphase")
def h2b_interphase(
    image: np.ndarray,
    *,
    record: Record,
    intensity_norm: Norm,
    spot_scales: Scales,
    min_size: int,
) -> np.ndarray:
    """H2B interphase (chromatin): ``N[1,14] → EPS → S2(1, 0.014) ∪ S2(2, 0.039) → SF(3)``."""
    return _eps_spot_workflow(image, record, intensity_norm, spot_2d, spot_scales, min_size)


@workflow("nup153")
def nup153(
    image: np.ndarray,
    *,
    record: Record,
    intensity_norm: Norm,
    spot_sigma: float,
    spot_cutoff: float,
    min_size: int,
) -> np.ndarray:
    """NUP153 (nuclear pores): ``N[1,13.5] → EPS → S3(1, 0.07) → SF(7)``."""
    return _eps_spot_workflow(
        image, record, intensity_norm, spot_3d, _single(spot_sigma, spot_cutoff), min_size
    )


@workflow("smc1a")
def smc1a(
    image: np.ndarray,
    *,
    record: Record,
    intensity_norm: Norm,
    spot_sigma: float,
    spot_cutoff: float,
    min_size: int,
) -> np.ndarray:
    """SMC1A (cohesin foci): ``N[2.5,12] → EPS → S2(1, 0.06) → SF(3)``."""
    return _eps_spot_workflow(
        image, record, intensity_norm, spot_2d, _single(spot_sigma, spot_cutoff), min_size
    )


@workflow("son")
def son(
    image: np.ndarray,
    *,
    record: Record,
    intensity_norm: Norm,
    vesselness_sigma: float,
    vesselness_cutoff: float,
    spot_sigma: float,
    small_spot_cutoff: float,
    cluster_cutoff: float,
    cluster_min_size: int,
    medium_spot_cutoff: float,
    large_spot_sigma: float,
    large_spot_cutoff: float,
    min_size: int,
    min_size_2d: int,
) -> np.ndarray:
    """SON (nuclear speckles): small, medium, large and elongated speckles, ORed.

    ``N[2,30] → EPS``; ``s1`` = S3 response at σ 1.15, ``s3`` at σ 3. Small speckles are the
    voxels of ``s1 > 0.02`` outside clusters (objects of ``s1 > 0.03`` with more than 150
    voxels); medium ones ``s1 > 0.07``; large ones ``s3 > 0.2``; elongated ones
    ``F3(1.2, 0.15)``. The union goes through ``SF(15) → SF2D(3) → SF(15)``.
    """
    img = _normalize(image, intensity_norm, record)
    smooth = edge_preserving_smoothing(img)
    record("smoothed", smooth)
    s1 = spot_response_3d(smooth, spot_sigma)
    record("spot_response", s1)
    s3 = spot_response_3d(smooth, large_spot_sigma)
    record("large_spot_response", s3)
    elongated = filament_3d(smooth, _single(vesselness_sigma, vesselness_cutoff))
    record("filament", elongated)
    clusters = size_filter(s1 > cluster_cutoff, cluster_min_size)
    # The reference XORs the clusters with the low cutoff: clusters lie inside s1 > 0.02
    # (when the cluster cutoff is the higher one), so this removes them from it.
    small = clusters ^ (s1 > small_spot_cutoff)
    mask = small | (s1 > medium_spot_cutoff) | (s3 > large_spot_cutoff) | elongated
    record("spots", mask)
    return _sf_sf2d_sf(mask, min_size, min_size_2d)
