"""Object, dot and shell workflows: CETN2, DSP, SLC25A17, FBL, NPM1, ST6GAL1, LMNB1
interphase, LAMP1, RAB5A.

Each is one structure's classic workflow (``docs/classic-steps.md``) as a
:class:`~seglight.classic.steps.Pipeline` of blocks (:mod:`seglight.classic.blocks`, and
the workflow-specific blocks below). Parameters have no Python defaults: they come from
``conf/model/classic/<name>.yaml``. The dot workflows (CETN2, DSP, SLC25A17) and LMNB1
interphase also give a label image (``Pipeline.labels``): the dots as the watershed cut
them, the nuclei their watershed found.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from seglight.classic import morphology as morph
from seglight.classic.filters import filament_2d_slice, spot_response_2d
from seglight.classic.registry import register
from seglight.classic.steps import IMAGE, Pipeline, Step, block

Scales = Sequence[Sequence[float]]

NORMALIZED = Step("normalized", "normalize", (IMAGE,), {"norm": "intensity_norm"})
G3 = Step("smoothed", "gaussian_3d", ("normalized",), {"sigma": "gaussian_sigma"})
G2 = Step("smoothed", "gaussian_2d", ("normalized",), {"sigma": "gaussian_sigma"})
MO_PARAMS = {
    "method": "mo_method",
    "min_size": "mo_min_size",
    "dilate": "mo_dilate",
    "extra_criteria": "mo_extra_criteria",
    "local_adjust": "mo_local_adjust",
}


def _spot_response(block_name: str) -> tuple[Step, Step]:
    """``spot_response`` (``spot_sigma``) and ``spots`` (its ``spot_cutoff``)."""
    return (
        Step("spot_response", block_name, ("smoothed",), {"sigma": "spot_sigma"}),
        Step("spots", "threshold", ("spot_response",), {"cutoff": "spot_cutoff"}),
    )


def _final_size_filter(source: str) -> Step:
    return Step("size_filtered", "size_filter", (source,), {"min_size": "min_size"})


def _dots(name: str, head: Sequence[Step], peak_image: str) -> Pipeline:
    """The dot recipe after smoothing: ``S3 → SF → WS-cut (peaks of peak_image) → SF``
    (CETN2, DSP, SLC25A17); the cut's labels are the workflow's label image."""
    return Pipeline(
        name,
        (
            *head,
            *_spot_response("spot_response_3d"),
            Step("pre_cut_mask", "size_filter", ("spots",), {"min_size": "min_size"}),
            Step("cut_labels", "watershed_cut", ("pre_cut_mask", peak_image),
                 {"min_distance": "peak_min_distance"}),
            Step("cut_mask", "remove_small_labels", ("cut_labels",), {"min_size": "min_size"}),
        ),
        output="cut_mask",
        labels="cut_labels",
    )


@block("dark_spots_2d", ("image", "image"), "mask")
def dark_spots_2d(
    image: np.ndarray, response: np.ndarray, *, response_sigma: float, scales: Scales
) -> np.ndarray:
    """Dark holes: S2 of the inverted image at [sigma, cutoff] pairs, ORed (NPM1).

    The second input is the bright S2 response of the same image at ``response_sigma``.
    The LoG is linear, so at that sigma the response of ``1 - image`` is the bright one
    negated, plus the response to a constant 1 (not zero: the kernel is truncated) — one
    filter pass saved.
    """
    holes = np.zeros(image.shape, bool)
    for sigma, cutoff in scales:
        if sigma == response_sigma:
            constant = spot_response_2d(np.ones((1, 1, 1), np.float32), sigma)[0, 0, 0]
            holes |= constant - response > cutoff
        else:
            holes |= spot_response_2d(1 - image, sigma) > cutoff
    return holes


@block("middle_slice_seeds", ("image",), "labels")
def middle_slice_seeds(
    image: np.ndarray, *, scales: Scales, hole_min: int, hole_max: int
) -> np.ndarray:
    """Nucleus seeds from the middle slice's lamina rings, plus a background plane at z = 0.

    The middle frame (:func:`~seglight.classic.morphology.middle_frame`, by intensity) is
    filtered by F2 at each [sigma, cutoff] pair (that slice alone); holes of
    ``hole_min..hole_max`` pixels are filled; each filled region minus its ring that is
    larger than ``hole_min`` gets a seed at its centroid (labels 2, 3, ...); z = 0 is 1.
    """
    mid_z = morph.middle_frame(image, "intensity")
    shell_yx = filament_2d_slice(image[mid_z], scales)
    filled_yx = morph.fill_holes(shell_yx, hole_min, hole_max)
    return morph.seeds_from_middle_slice(filled_yx & ~shell_yx, image.shape, mid_z, hole_min)


@block("seeded_watershed", ("image", "labels"), "labels")
def seeded_watershed(image: np.ndarray, seeds: np.ndarray) -> np.ndarray:
    """Watershed of the image from the seeds (6-connected), with one-voxel watershed lines."""
    return morph.seeded_watershed(image, seeds)


@block("foreground_regions", ("labels",), "mask")
def foreground_regions(labels: np.ndarray) -> np.ndarray:
    """The regions of labels 2, 3, ... (label 1 is the background seed's region)."""
    return labels > 1


@block("thick_boundaries", ("mask",), "mask")
def thick_boundaries(mask: np.ndarray) -> np.ndarray:
    """Both sides of every object boundary (voxels with a 6-neighbour of the other value)."""
    return morph.thick_boundaries(mask)


@block("region_shell_labels", ("labels",), "labels")
def region_shell_labels(labels: np.ndarray) -> np.ndarray:
    """Regions 2, 3, ... of a seeded watershed numbered 1, 2, ..., each grown by one voxel
    (6-connected) into the background and the watershed lines, so that every voxel of the
    regions' thick boundaries has its region's number (where two regions meet, the
    higher number)."""
    regions = np.where(labels > 1, labels - 1, 0).astype(np.int32)
    grown = regions.copy()
    for axis in range(regions.ndim):
        lead = [slice(None)] * regions.ndim
        trail = [slice(None)] * regions.ndim
        lead[axis], trail[axis] = slice(1, None), slice(None, -1)
        np.maximum(grown[tuple(lead)], regions[tuple(trail)], out=grown[tuple(lead)])
        np.maximum(grown[tuple(trail)], regions[tuple(lead)], out=grown[tuple(trail)])
    return np.where(regions > 0, regions, grown)


register(
    # CETN2 (centrioles): N4 → G2 → S3 → SF → WS-cut (peaks on N[v] of the raw) → SF. The
    # peaks come from a second, unsmoothed normalization that ignores saturated blobs.
    _dots("cetn2", (
        NORMALIZED,
        Step("peak_image", "normalize", (IMAGE,), {"norm": "intensity_norm_peak"}),
        G2,
    ), "peak_image"),
    # DSP (desmosomes): N[v] → G2 → S3 → SF → WS-cut (peaks on the normalized) → SF.
    _dots("dsp", (NORMALIZED, G2), "normalized"),
    # SLC25A17 (peroxisomes): N[a,b] → G2 → S3 → SF → WS-cut → SF.
    _dots("slc25a17", (NORMALIZED, G2), "normalized"),
    # FBL (nucleoli, fibrillarin): N[a,b] → G3 → MO ∪ SF(S2) → SF.
    Pipeline("fbl", (
        NORMALIZED,
        G3,
        Step("masked_object_threshold", "masked_object_threshold", ("smoothed",), MO_PARAMS),
        *_spot_response("spot_response_2d"),
        Step("spots_size_filtered", "size_filter", ("spots",), {"min_size": "min_size"}),
        Step("pre_size_filter", "union", ("masked_object_threshold", "spots_size_filtered")),
        _final_size_filter("pre_size_filter"),
    ), output="size_filtered"),
    # NPM1 (nucleoli, nucleophosmin): N[a,b] → G3 → MO ∪ (S2 ∧ low level), minus the dark
    # holes (S2 of the inverted image) → SF.
    Pipeline("npm1", (
        NORMALIZED,
        G3,
        Step("masked_object_threshold", "masked_object_threshold_with_low", ("smoothed",),
             MO_PARAMS, outputs=("low_level",)),
        *_spot_response("spot_response_2d"),
        Step("spots_in_low_level", "intersection", ("spots", "low_level")),
        Step("dark_holes", "dark_spots_2d", ("smoothed", "spot_response"),
             {"response_sigma": "spot_sigma", "scales": "dark_spot_scales"}),
        Step("objects", "union", ("masked_object_threshold", "spots_in_low_level")),
        Step("pre_size_filter", "difference", ("objects", "dark_holes")),
        _final_size_filter("pre_size_filter"),
    ), output="size_filtered"),
    # ST6GAL1 (Golgi): N[a,b] → G3 → thinning(MO) ∪ S3 → SF.
    Pipeline("st6gal1", (
        NORMALIZED,
        G3,
        Step("masked_object_threshold", "masked_object_threshold", ("smoothed",), MO_PARAMS),
        Step("thinned", "topology_preserving_thinning", ("masked_object_threshold",),
             {"min_thickness": "thin_min_thickness", "thin": "thin_distance"}),
        *_spot_response("spot_response_3d"),
        Step("pre_size_filter", "union", ("thinned", "spots")),
        _final_size_filter("pre_size_filter"),
    ), output="size_filtered"),
    # LMNB1 interphase (nuclear lamina): N[v] → G3 → middle frame → F2 of that slice →
    # filled holes → one seed per nucleus (plus a background plane at z = 0) → watershed of
    # the normalized image → thick boundaries of the nuclei. Flooding the unsmoothed image
    # puts the watershed lines on the lamina's crest.
    Pipeline("lmnb1_interphase", (
        NORMALIZED,
        G3,
        Step("seeds", "middle_slice_seeds", ("smoothed",),
             {"scales": "vesselness_scales", "hole_min": "hole_min", "hole_max": "hole_max"}),
        Step("watershed", "seeded_watershed", ("normalized", "seeds")),
        Step("nuclei", "foreground_regions", ("watershed",)),
        Step("lamina", "thick_boundaries", ("nuclei",)),
        Step("nucleus_labels", "region_shell_labels", ("watershed",)),
    ), output="lamina", labels="nucleus_labels"),
    # LAMP1 (lysosomes): N[a,b] → G2 → S2 ∪ … ∪ F2 → 2D hole filling → SF. Lysosomes image
    # as rings; filling their lumen per slice makes them solid.
    Pipeline("lamp1", (
        NORMALIZED,
        G2,
        Step("spots", "spot_2d_scales", ("smoothed",), {"scales": "spot_scales"}),
        Step("vesselness", "vesselness_2d", ("smoothed",), {"sigma": "vesselness_sigma"}),
        Step("filaments", "threshold", ("vesselness",), {"cutoff": "vesselness_cutoff"}),
        Step("rings", "union", ("spots", "filaments")),
        Step("pre_size_filter", "fill_holes_2d", ("rings",),
             {"min_size": "hole_min", "max_size": "hole_max"}),
        _final_size_filter("pre_size_filter"),
    ), output="size_filtered"),
    # Nucleus (not an Allen Cell workflow): N[a,b] → G3 → AT (Otsu or triangle) → 2D hole
    # filling → SF. A DNA / H2B stain spares the nucleoli, which an automatic threshold
    # leaves as holes; filling them per slice gives filled nuclei.
    Pipeline("nucleus", (
        NORMALIZED,
        G3,
        Step("foreground", "auto_threshold", ("smoothed",),
             {"method": "threshold_method", "adjust": "threshold_adjust"}),
        Step("filled", "fill_holes_2d", ("foreground",),
             {"min_size": "hole_min", "max_size": "hole_max", "fill_border": "fill_border"}),
        _final_size_filter("filled"),
    ), output="size_filtered"),
    # RAB5A (early endosomes): N[v] → G2 → S3 → 2D hole filling → SF.
    Pipeline("rab5a", (
        NORMALIZED,
        G2,
        *_spot_response("spot_response_3d"),
        Step("pre_size_filter", "fill_holes_2d", ("spots",),
             {"min_size": "hole_min", "max_size": "hole_max"}),
        _final_size_filter("pre_size_filter"),
    ), output="size_filtered"),
)
