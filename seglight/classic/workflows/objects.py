"""Object, dot and shell workflows: CETN2, DSP, SLC25A17, FBL, NPM1, ST6GAL1, LMNB1
interphase, LAMP1, RAB5A.

Each function is one structure's classic workflow (``shared/classic-workflows.md``), a short
composition of :mod:`seglight.classic.filters`, :mod:`seglight.classic.postprocess` and
:mod:`seglight.classic.morphology`. Parameters have no Python defaults: they come from
``conf/model/classic/<name>.yaml``. Every workflow takes the raw ZYX image (float32) and
returns a bool ZYX mask.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from seglight.binarizer import Record
from seglight.classic import morphology as morph
from seglight.classic.filters import (
    filament_2d,
    filament_2d_slice,
    gaussian_2d,
    gaussian_3d,
    spot_2d,
    spot_response_2d,
    spot_response_3d,
)
from seglight.classic.postprocess import size_filter
from seglight.classic.registry import workflow
from seglight.normalization import auto_contrast, auto_contrast_range, min_max

Scales = Sequence[Sequence[float]]


def _dots(
    smooth: np.ndarray,
    peak_image: np.ndarray,
    record: Record,
    spot_sigma: float,
    spot_cutoff: float,
    min_size: int,
    peak_min_distance: int,
) -> np.ndarray:
    """The dot recipe: ``S3 → SF → WS-cut → SF`` (shared by CETN2, DSP, SLC25A17)."""
    response = spot_response_3d(smooth, spot_sigma)
    record("spot_response", response)
    mask = size_filter(response > spot_cutoff, min_size)
    record("pre_cut_mask", mask)
    labels = morph.watershed_cut(mask, peak_image, peak_min_distance)
    record("cut_labels", labels)
    return morph.remove_small_labels(labels, min_size)


@workflow("cetn2")
def cetn2(
    image: np.ndarray,
    *,
    record: Record,
    intensity_norm: Sequence[float],
    intensity_norm_peak: Sequence[float],
    gaussian_sigma: float,
    spot_sigma: float,
    spot_cutoff: float,
    min_size: int,
    peak_min_distance: int,
) -> np.ndarray:
    """CETN2 (centrioles): ``N4 → G2 → S3 → SF → WS-cut (peaks on N[v] of the raw) → SF``."""
    img = auto_contrast_range(image, *intensity_norm)
    record("normalized", img)
    # The peaks come from a second, unsmoothed normalization that ignores saturated blobs.
    peak_image = min_max(image, *intensity_norm_peak)
    record("peak_image", peak_image)
    smooth = gaussian_2d(img, gaussian_sigma)
    record("smoothed", smooth)
    return _dots(smooth, peak_image, record, spot_sigma, spot_cutoff, min_size, peak_min_distance)


@workflow("dsp")
def dsp(
    image: np.ndarray,
    *,
    record: Record,
    intensity_norm: Sequence[float],
    gaussian_sigma: float,
    spot_sigma: float,
    spot_cutoff: float,
    min_size: int,
    peak_min_distance: int,
) -> np.ndarray:
    """DSP (desmosomes): ``N[v] → G2 → S3 → SF → WS-cut (peaks on the normalized) → SF``."""
    img = min_max(image, *intensity_norm)
    record("normalized", img)
    smooth = gaussian_2d(img, gaussian_sigma)
    record("smoothed", smooth)
    return _dots(smooth, img, record, spot_sigma, spot_cutoff, min_size, peak_min_distance)


@workflow("slc25a17")
def slc25a17(
    image: np.ndarray,
    *,
    record: Record,
    intensity_norm: Sequence[float],
    gaussian_sigma: float,
    spot_sigma: float,
    spot_cutoff: float,
    min_size: int,
    peak_min_distance: int,
) -> np.ndarray:
    """SLC25A17 (peroxisomes): ``N[a,b] → G2 → S3 → SF → WS-cut → SF``."""
    img = auto_contrast(image, *intensity_norm)
    record("normalized", img)
    smooth = gaussian_2d(img, gaussian_sigma)
    record("smoothed", smooth)
    return _dots(smooth, img, record, spot_sigma, spot_cutoff, min_size, peak_min_distance)


@workflow("fbl")
def fbl(
    image: np.ndarray,
    *,
    record: Record,
    intensity_norm: Sequence[float],
    gaussian_sigma: float,
    mo_method: str,
    mo_min_size: int,
    mo_dilate: bool,
    mo_extra_criteria: bool,
    mo_local_adjust: float,
    spot_sigma: float,
    spot_cutoff: float,
    min_size: int,
) -> np.ndarray:
    """FBL (nucleoli, fibrillarin): ``N[a,b] → G3 → MO ∪ SF(S2) → SF``."""
    img = auto_contrast(image, *intensity_norm)
    record("normalized", img)
    smooth = gaussian_3d(img, gaussian_sigma)
    record("smoothed", smooth)
    objects = morph.masked_object_threshold(
        smooth, mo_method, mo_min_size, mo_dilate, mo_extra_criteria, mo_local_adjust
    )
    record("masked_object_threshold", objects)
    response = spot_response_2d(smooth, spot_sigma)
    record("spot_response", response)
    finer = size_filter(response > spot_cutoff, min_size)
    mask = objects | finer
    record("pre_size_filter", mask)
    return size_filter(mask, min_size)


@workflow("npm1")
def npm1(
    image: np.ndarray,
    *,
    record: Record,
    intensity_norm: Sequence[float],
    gaussian_sigma: float,
    mo_method: str,
    mo_min_size: int,
    mo_dilate: bool,
    mo_extra_criteria: bool,
    mo_local_adjust: float,
    spot_sigma: float,
    spot_cutoff: float,
    dark_spot_scales: Scales,
    min_size: int,
) -> np.ndarray:
    """NPM1 (nucleoli, nucleophosmin): ``N[a,b] → G3 → MO ∪ (S2 ∧ low level)``, minus the
    dark holes (S2 of the inverted image), ``→ SF``."""
    img = auto_contrast(image, *intensity_norm)
    record("normalized", img)
    smooth = gaussian_3d(img, gaussian_sigma)
    record("smoothed", smooth)
    objects, low = morph.masked_object_threshold(
        smooth,
        mo_method,
        mo_min_size,
        mo_dilate,
        mo_extra_criteria,
        mo_local_adjust,
        return_low=True,
    )
    record("masked_object_threshold", objects)
    response = spot_response_2d(smooth, spot_sigma)
    record("spot_response", response)
    # Dark holes inside the nucleoli are bright spots of the inverted image. The LoG is
    # linear, so at spot_sigma that response is the bright one negated, plus the response
    # to a constant 1 (not zero: the kernel is truncated) — one filter pass saved.
    holes = np.zeros(smooth.shape, bool)
    for sigma, cutoff in dark_spot_scales:
        if sigma == spot_sigma:
            constant = spot_response_2d(np.ones((1, 1, 1), np.float32), sigma)[0, 0, 0]
            holes |= constant - response > cutoff
        else:
            holes |= spot_response_2d(1 - smooth, sigma) > cutoff
    record("dark_holes", holes)
    mask = (objects | ((response > spot_cutoff) & low)) & ~holes
    record("pre_size_filter", mask)
    return size_filter(mask, min_size)


@workflow("st6gal1")
def st6gal1(
    image: np.ndarray,
    *,
    record: Record,
    intensity_norm: Sequence[float],
    gaussian_sigma: float,
    mo_method: str,
    mo_min_size: int,
    mo_dilate: bool,
    mo_extra_criteria: bool,
    mo_local_adjust: float,
    thin_min_thickness: float,
    thin_distance: int,
    spot_sigma: float,
    spot_cutoff: float,
    min_size: int,
) -> np.ndarray:
    """ST6GAL1 (Golgi): ``N[a,b] → G3 → thinning(MO) ∪ S3 → SF``."""
    img = auto_contrast(image, *intensity_norm)
    record("normalized", img)
    smooth = gaussian_3d(img, gaussian_sigma)
    record("smoothed", smooth)
    objects = morph.masked_object_threshold(
        smooth, mo_method, mo_min_size, mo_dilate, mo_extra_criteria, mo_local_adjust
    )
    record("masked_object_threshold", objects)
    thinned = morph.topology_preserving_thinning(objects, thin_min_thickness, thin_distance)
    record("thinned", thinned)
    response = spot_response_3d(smooth, spot_sigma)
    record("spot_response", response)
    mask = thinned | (response > spot_cutoff)
    record("pre_size_filter", mask)
    return size_filter(mask, min_size)


@workflow("lmnb1_interphase")
def lmnb1_interphase(
    image: np.ndarray,
    *,
    record: Record,
    intensity_norm: Sequence[float],
    gaussian_sigma: float,
    vesselness_scales: Scales,
    hole_min: int,
    hole_max: int,
) -> np.ndarray:
    """LMNB1 interphase (nuclear lamina): nuclei found on the middle slice seed a 3D
    watershed; the mask is the thick boundary of the nuclei.

    ``N[v] → G3 → middle frame → F2 of that slice → filled holes → one seed per nucleus
    (plus a background plane at z = 0) → watershed of the normalized image → boundaries``.
    """
    img = min_max(image, *intensity_norm)
    record("normalized", img)
    smooth = gaussian_3d(img, gaussian_sigma)
    record("smoothed", smooth)
    mid_z = morph.middle_frame(smooth, "intensity")
    shell_yx = filament_2d_slice(smooth[mid_z], vesselness_scales)
    filled_yx = morph.fill_holes(shell_yx, hole_min, hole_max)
    seeds = morph.seeds_from_middle_slice(filled_yx & ~shell_yx, img.shape, mid_z, hole_min)
    record("seeds", seeds)
    # Flooding the unsmoothed image puts the watershed lines on the lamina's crest.
    labels = morph.seeded_watershed(img, seeds)
    record("watershed", labels)
    return morph.thick_boundaries(labels > 1)


@workflow("lamp1")
def lamp1(
    image: np.ndarray,
    *,
    record: Record,
    intensity_norm: Sequence[float],
    gaussian_sigma: float,
    spot_scales: Scales,
    vesselness_sigma: float,
    vesselness_cutoff: float,
    hole_min: int,
    hole_max: int,
    min_size: int,
) -> np.ndarray:
    """LAMP1 (lysosomes): ``N[a,b] → G2 → S2 ∪ … ∪ F2 → 2D hole filling → SF``."""
    img = auto_contrast(image, *intensity_norm)
    record("normalized", img)
    smooth = gaussian_2d(img, gaussian_sigma)
    record("smoothed", smooth)
    spots = spot_2d(smooth, spot_scales)
    record("spots", spots)
    filaments = filament_2d(smooth, [[vesselness_sigma, vesselness_cutoff]])
    record("filaments", filaments)
    # Lysosomes image as rings; filling their lumen per slice makes them solid.
    mask = morph.fill_holes(spots | filaments, hole_min, hole_max)
    record("pre_size_filter", mask)
    return size_filter(mask, min_size)


@workflow("rab5a")
def rab5a(
    image: np.ndarray,
    *,
    record: Record,
    intensity_norm: Sequence[float],
    gaussian_sigma: float,
    spot_sigma: float,
    spot_cutoff: float,
    hole_min: int,
    hole_max: int,
    min_size: int,
) -> np.ndarray:
    """RAB5A (early endosomes): ``N[v] → G2 → S3 → 2D hole filling → SF``."""
    img = min_max(image, *intensity_norm)
    record("normalized", img)
    smooth = gaussian_2d(img, gaussian_sigma)
    record("smoothed", smooth)
    response = spot_response_3d(smooth, spot_sigma)
    record("spot_response", response)
    mask = morph.fill_holes(response > spot_cutoff, hole_min, hole_max)
    record("pre_size_filter", mask)
    return size_filter(mask, min_size)
