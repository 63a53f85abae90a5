"""Classic workflows of filament- and spot-like structures: a filter response, a cutoff,
size filters.

Sixteen structures (see ``docs/classic-steps.md``): actin and myosin fibres (ACTB,
ACTN1, MYH10), microtubules (TUBA1B), tight junctions (TJP1), mitochondria (TOMM20), the
ER (ATP2A2, SEC61B), the mitotic lamina (LMNB1 mitotic), focal adhesions (PXN), and the
punctate ones: adherens and gap junctions (CTNNB1, GJA1), chromatin (H2B interphase),
nuclear pores (NUP153), cohesin (SMC1A) and speckles (SON).

Each is a :class:`~seglight.classic.steps.Pipeline` of blocks
(:mod:`seglight.classic.blocks`): normalize with ``intensity_norm``, smooth, filter, clean
up; every parameter comes from ``conf/model/classic/<name>.yaml``. A single-scale filter is
two steps, the response and its cutoff, so that tuning the cutoff in the editor does not
recompute the filter. Notation: ``N`` normalization, ``G3``/``G2`` Gaussian, ``EPS``
edge-preserving smoothing, ``F3``/``F2`` filament filter, ``S3``/``S2`` spot filter,
``SF``/``SF2D`` size filter.
"""

from __future__ import annotations

import numpy as np

from seglight.classic.registry import register
from seglight.classic.steps import IMAGE, Pipeline, Step, block

NORMALIZED = Step("normalized", "normalize", (IMAGE,), {"norm": "intensity_norm"})
EPS = Step("smoothed", "edge_preserving_smoothing", ("normalized",))
G3 = Step("smoothed", "gaussian_3d", ("normalized",), {"sigma": "gaussian_sigma"})
G2 = Step("smoothed", "gaussian_2d", ("normalized",), {"sigma": "gaussian_sigma"})


def _response_and_cutoff(
    block_name: str, name: str, sigma: str, cutoff: str, source: str = "smoothed"
) -> tuple[Step, Step]:
    """A single-scale filter as two steps: ``<response>`` (sigma) and ``name`` (cutoff)."""
    response = {"vesselness": "vesselness", "spot": "spot_response"}[block_name.split("_")[0]]
    return (
        Step(response, block_name, (source,), {"sigma": sigma}),
        Step(name, "threshold", (response,), {"cutoff": cutoff}),
    )


def _size_filters(source: str, min_size_2d: bool = False) -> tuple[Step, ...]:
    """``SF``, or ``SF → SF2D → SF`` (small objects, specks within slices, then what is left
    small) when ``min_size_2d``."""
    first = Step("size_filtered", "size_filter", (source,), {"min_size": "min_size"})
    if not min_size_2d:
        return (first,)
    return (
        first,
        Step("size_filtered_2d", "size_filter_2d", ("size_filtered",), {"min_size": "min_size_2d"}),
        Step("size_filtered_again", "size_filter", ("size_filtered_2d",), {"min_size": "min_size"}),
    )


def _pipeline(name: str, *steps: Step) -> Pipeline:
    """A pipeline whose mask is its last step's output."""
    return Pipeline(name, steps, output=steps[-1].name)


def _multiscale_fibres(name: str) -> Pipeline:
    """``N → EPS → F3(scales) → SF``: ACTB, ACTN1, MYH10."""
    return _pipeline(
        name,
        NORMALIZED,
        EPS,
        Step("filament", "filament_3d_scales", ("smoothed",), {"scales": "vesselness_scales"}),
        *_size_filters("filament"),
    )


def _single_scale(name: str, smoothing: Step, response: str, mask: str,
                  min_size_2d: bool = False) -> Pipeline:
    """``N → smoothing → response(σ) > cutoff → SF`` (or ``SF → SF2D → SF``)."""
    kind = response.split("_")[0]
    return _pipeline(
        name,
        NORMALIZED,
        smoothing,
        *_response_and_cutoff(response, mask, f"{kind}_sigma", f"{kind}_cutoff"),
        *_size_filters(mask, min_size_2d),
    )


@block("prune_z", ("mask",), "mask")
def prune_z(mask: np.ndarray, *, min_slice_voxels: int) -> np.ndarray:
    """Keep the slices around the densest one, out to the first with < min_slice_voxels.

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


register(
    # Fibres: N → EPS → F3(scales) → SF.
    _multiscale_fibres("actb"),  # N[3,15] → EPS → F3(2, 0.1) ∪ F3(1, 0.04) → SF(15)
    _multiscale_fibres("actn1"),  # N[3,15] → EPS → F3(2, 0.15) ∪ F3(1, 0.05) → SF(5)
    _multiscale_fibres("myh10"),  # N[2.5,17] → EPS → F3(2, 0.2) ∪ F3(1, 0.015) → SF(16)
    # TUBA1B: N[1.5,8] → EPS → F3(1, 0.01) → SF(20)
    _single_scale("tuba1b", EPS, "vesselness_3d", "filament"),
    # TJP1: N[3,17] → G3(1) → F3(1.5, 0.2) → SF(15)
    _single_scale("tjp1", G3, "vesselness_3d", "filament"),
    # TOMM20: N[3.5,15] → G3(1) → F2(1.5, 0.16) → SF(10)
    _single_scale("tomm20", G3, "vesselness_2d", "filament"),
    # LMNB1 mitotic: N[4000] → G3(1) → F2(0.5, 0.01) → SF(5)
    _single_scale("lmnb1_mitotic", G3, "vesselness_2d", "filament"),
    # The ER: N → EPS → F2 → SF → SF2D → SF (ATP2A2 N[2.5,9], F2(1, 0.25); SEC61B
    # N[2.5,7.5], F2(1, 0.15); both SF(15), SF2D(3)).
    _single_scale("atp2a2", EPS, "vesselness_2d", "filament", min_size_2d=True),
    _single_scale("sec61b", EPS, "vesselness_2d", "filament", min_size_2d=True),
    # PXN: N[11,8] → EPS → F3(1, 0.35) → SF2D(4) → SF(15) → keep the slices around the
    # densest one (out to the first with < 100 voxels).
    _pipeline(
        "pxn",
        NORMALIZED,
        EPS,
        *_response_and_cutoff("vesselness_3d", "filament", "vesselness_sigma", "vesselness_cutoff"),
        Step("size_filtered_2d", "size_filter_2d", ("filament",), {"min_size": "min_size_2d"}),
        Step("size_filtered", "size_filter", ("size_filtered_2d",), {"min_size": "min_size"}),
        Step("z_pruned", "prune_z", ("size_filtered",), {"min_slice_voxels": "min_slice_voxels"}),
    ),
    # CTNNB1: N[4,27] → G3(1) → S2(1.5, 0.01) → SF(10)
    _single_scale("ctnnb1", G3, "spot_response_2d", "spots"),
    # GJA1: N[1,40] → G2(1) → S3(1, 0.031) → SF(5); the reference applies SF(5) twice, the
    # second pass cannot remove anything.
    _single_scale("gja1", G2, "spot_response_3d", "spots"),
    # H2B interphase: N[1,14] → EPS → S2(1, 0.014) ∪ S2(2, 0.039) → SF(3)
    _pipeline(
        "h2b_interphase",
        NORMALIZED,
        EPS,
        Step("spots", "spot_2d_scales", ("smoothed",), {"scales": "spot_scales"}),
        *_size_filters("spots"),
    ),
    # NUP153: N[1,13.5] → EPS → S3(1, 0.07) → SF(7)
    _single_scale("nup153", EPS, "spot_response_3d", "spots"),
    # SMC1A: N[2.5,12] → EPS → S2(1, 0.06) → SF(3)
    _single_scale("smc1a", EPS, "spot_response_2d", "spots"),
    # SON (nuclear speckles): N[2,30] → EPS; s1 = S3 response at σ 1.15, s3 at σ 3. Small
    # speckles are the voxels of s1 > 0.02 outside clusters (objects of s1 > 0.03 with more
    # than 150 voxels); medium ones s1 > 0.07; large ones s3 > 0.2; elongated ones
    # F3(1.2, 0.15). The union goes through SF(15) → SF2D(3) → SF(15).
    _pipeline(
        "son",
        NORMALIZED,
        EPS,
        Step("spot_response", "spot_response_3d", ("smoothed",), {"sigma": "spot_sigma"}),
        Step("large_spot_response", "spot_response_3d", ("smoothed",),
             {"sigma": "large_spot_sigma"}),
        *_response_and_cutoff("vesselness_3d", "filament", "vesselness_sigma", "vesselness_cutoff"),
        Step("cluster_candidates", "threshold", ("spot_response",), {"cutoff": "cluster_cutoff"}),
        Step("clusters", "size_filter", ("cluster_candidates",), {"min_size": "cluster_min_size"}),
        Step("small_candidates", "threshold", ("spot_response",),
             {"cutoff": "small_spot_cutoff"}),
        # The reference XORs the clusters with the low cutoff: clusters lie inside s1 > 0.02
        # (when the cluster cutoff is the higher one), so this removes them from it.
        Step("small_spots", "exclusive_or", ("clusters", "small_candidates")),
        Step("medium_spots", "threshold", ("spot_response",), {"cutoff": "medium_spot_cutoff"}),
        Step("large_spots", "threshold", ("large_spot_response",),
             {"cutoff": "large_spot_cutoff"}),
        Step("spots", "union", ("small_spots", "medium_spots", "large_spots", "filament")),
        *_size_filters("spots", min_size_2d=True),
    ),
)
