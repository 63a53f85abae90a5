"""The block library: the operations classic workflows are built from.

Each block is a thin, registered wrapper (:func:`seglight.classic.steps.block`) around the
filters of :mod:`seglight.classic.filters`, :mod:`seglight.classic.morphology`,
:mod:`seglight.classic.postprocess` and :mod:`seglight.normalization`: inputs are
positional arrays, parameters keyword-only and annotated (their kinds are what a config and
the editor check). A block of the same input and output kinds can replace another in a
custom workflow (``steps: {smoothed: {block: gaussian_3d}}``), so the smoothing, response,
threshold and size-filter blocks share argument names (``sigma``, ``cutoff``, ``min_size``).

Notation (``docs/classic-steps.md``): ``N`` normalization, ``G3``/``G2`` Gaussian,
``EPS`` edge-preserving smoothing, ``F3``/``F2`` filament filter, ``S3``/``S2`` spot
filter, ``MO`` masked-object threshold, ``AT`` automatic (Otsu/triangle) threshold,
``SF``/``SF2D`` size filter.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from seglight.classic import filters
from seglight.classic import morphology as morph
from seglight.classic.postprocess import size_filter as _size_filter
from seglight.classic.steps import block
from seglight.errors import ConfigError
from seglight.normalization import auto_contrast, auto_contrast_range, min_max

Scales = Sequence[Sequence[float]]

# ------------------------------------------------------------------------- normalization


@block("normalize", ("image",), "image", family="normalization")
def normalize(image: np.ndarray, *, norm: Sequence[float]) -> np.ndarray:
    """Scale intensities to [0, 1]: N[a, b] (mean/std), N[v] (min-max, voxels above v
    set to the minimum; v < 1: plain min-max) or N4[a, b, c, d] (noise std from (c, d))."""
    values = [float(v) for v in norm]
    if len(values) == 2:
        return auto_contrast(image, *values)
    if len(values) == 1:
        return min_max(image, upper=values[0] if values[0] >= 1 else None)
    if len(values) == 4:
        return auto_contrast_range(image, *values)
    raise ConfigError(
        f"intensity normalization {list(norm)}: give [a, b] (mean - a*std .. mean + b*std), "
        "[v] (min-max, voxels above v treated as background) or [a, b, c, d] (N4)"
    )


# ------------------------------------------------------------------------- smoothing


@block("gaussian_3d", ("image",), "image", family="smoothing")
def gaussian_3d(image: np.ndarray, *, sigma: float = 1.0) -> np.ndarray:
    """G3: 3D Gaussian smoothing (sigma in voxels)."""
    return filters.gaussian_3d(image, sigma)


@block("gaussian_2d", ("image",), "image", family="smoothing")
def gaussian_2d(image: np.ndarray, *, sigma: float = 1.0) -> np.ndarray:
    """G2: Gaussian smoothing of each z-slice (sigma in pixels)."""
    return filters.gaussian_2d(image, sigma)


@block("edge_preserving_smoothing", ("image",), "image", family="smoothing")
def edge_preserving_smoothing(image: np.ndarray) -> np.ndarray:
    """EPS: edge-preserving smoothing (Perona-Malik diffusion, ITK's settings)."""
    return filters.edge_preserving_smoothing(image)


# ------------------------------------------------------------------------- responses


def _register_response(name: str, help_line: str) -> None:
    """Register ``filters.<name>(image, sigma)`` as a block taking ``sigma``."""
    response = getattr(filters, name)

    def run(image: np.ndarray, *, sigma: float) -> np.ndarray:
        return response(image, float(sigma))

    run.__name__ = run.__qualname__ = name
    run.__doc__ = help_line
    block(name, ("image",), "image", family="filter response")(run)


#: The single-scale filter responses: block (and filter) name -> help line.
RESPONSES = {
    "vesselness_3d": "F3 response: 3D filament (vesselness) filter at scale sigma, in [0, 1].",
    "vesselness_2d": "F2 response: 2D filament (vesselness) filter of each z-slice at scale "
                     "sigma.",
    "spot_response_3d": "S3 response: 3D spot filter (scale-normalized LoG) at scale sigma.",
    "spot_response_2d": "S2 response: 2D spot filter (scale-normalized LoG) of each z-slice at "
                        "scale sigma.",
}
for _name, _help in RESPONSES.items():
    _register_response(_name, _help)


@block("threshold", ("image",), "mask")
def threshold(response: np.ndarray, *, cutoff: float) -> np.ndarray:
    """Voxels whose value (a filter response) is above the cutoff."""
    return response > cutoff


#: The methods of :func:`auto_threshold`.
AUTO_THRESHOLD_METHODS = ("otsu", "triangle")


@block("auto_threshold", ("image",), "mask")
def auto_threshold(image: np.ndarray, *, method: str = "otsu", adjust: float = 1.0) -> np.ndarray:
    """AT: voxels above an automatic global threshold (Otsu or triangle) times adjust."""
    if method not in AUTO_THRESHOLD_METHODS:
        raise ConfigError(f"auto threshold: method={method!r}; choose one of "
                          f"{list(AUTO_THRESHOLD_METHODS)}")
    find = morph.otsu_threshold if method == "otsu" else morph.triangle_threshold
    level = find(image, morph.image_histogram(image))
    return image > level * float(adjust)


# ------------------------------------------------------------------------- multi-scale filters


def _register_multi_scale(name: str, filter_name: str, help_line: str) -> None:
    """Register ``filters.<filter_name>(image, scales)`` as block ``name`` taking ``scales``."""
    multi_scale = getattr(filters, filter_name)

    def run(image: np.ndarray, *, scales: Scales) -> np.ndarray:
        return multi_scale(image, scales)

    run.__name__ = run.__qualname__ = name
    run.__doc__ = help_line
    block(name, ("image",), "mask", family="multi-scale filter")(run)


#: The multi-scale filters, ``[[sigma, cutoff], ...]`` ORed: block name -> (filter, help line).
MULTI_SCALE = {
    "filament_3d_scales": ("filament_3d", "F3 at several scales: voxels above the cutoff of "
                                          "any [sigma, cutoff] pair."),
    "filament_2d_scales": ("filament_2d", "F2 at several scales: pixels above the cutoff of "
                                          "any [sigma, cutoff] pair."),
    "spot_3d_scales": ("spot_3d", "S3 at several scales: voxels above the cutoff of any "
                                  "[sigma, cutoff] pair."),
    "spot_2d_scales": ("spot_2d", "S2 at several scales: pixels above the cutoff of any "
                                  "[sigma, cutoff] pair."),
}
for _name, (_filter, _help) in MULTI_SCALE.items():
    _register_multi_scale(_name, _filter, _help)


# ------------------------------------------------------------------------- masked objects


def _register_masked_object_threshold(name: str, return_low: bool, help_line: str) -> None:
    """Register MO as block ``name``; with ``return_low`` its low-level (global threshold)
    mask is a second output."""

    def run(
        image: np.ndarray,
        *,
        method: str,
        min_size: int,
        dilate: bool,
        extra_criteria: bool,
        local_adjust: float,
    ) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
        return morph.masked_object_threshold(
            image, method, min_size, dilate, extra_criteria, local_adjust, return_low=return_low
        )

    run.__name__ = run.__qualname__ = name
    run.__doc__ = help_line
    block(name, ("image",), ("mask", "mask") if return_low else "mask")(run)


_register_masked_object_threshold(
    "masked_object_threshold", False,
    "MO: a global threshold finds objects, each one's own Otsu threshold refines it.")
_register_masked_object_threshold(
    "masked_object_threshold_with_low", True,
    "MO, also giving its low-level (global threshold) mask as a second output.")


@block("topology_preserving_thinning", ("mask",), "mask")
def topology_preserving_thinning(
    mask: np.ndarray, *, min_thickness: float, thin: int
) -> np.ndarray:
    """Peel `thin` voxels off where objects are thicker than min_thickness (per slice)."""
    return morph.topology_preserving_thinning(mask, min_thickness, thin)


# ------------------------------------------------------------------------- mask clean-up


@block("size_filter", ("mask",), "mask", family="size filter")
def size_filter(mask: np.ndarray, *, min_size: int) -> np.ndarray:
    """SF: remove objects (6-connected) of at most min_size voxels."""
    return _size_filter(mask, min_size)


@block("size_filter_2d", ("mask",), "mask", family="size filter")
def size_filter_2d(mask: np.ndarray, *, min_size: int) -> np.ndarray:
    """SF2D: remove objects of at most min_size pixels within each z-slice (4-connected)."""
    return _size_filter(mask, min_size, per_slice=True)


@block("fill_holes_2d", ("mask",), "mask")
def fill_holes_2d(
    mask: np.ndarray, *, min_size: int, max_size: int, fill_border: bool = True
) -> np.ndarray:
    """Fill holes of min_size..max_size pixels (inclusive) in each z-slice.

    With ``fill_border`` (the reference's way), background touching the slice's border is
    a hole too when its size is in range; without, only enclosed holes are filled.
    """
    filled = morph.fill_holes(mask, min_size, max_size)
    return filled if fill_border else morph.drop_border_fill(mask, filled)


@block("union", ("mask",), "mask", variadic=True, family="mask logic")
def union(*masks: np.ndarray) -> np.ndarray:
    """Voxels in any of the masks."""
    out = np.array(masks[0], dtype=bool)
    for mask in masks[1:]:
        out |= mask
    return out


@block("intersection", ("mask", "mask"), "mask", family="mask logic")
def intersection(first: np.ndarray, second: np.ndarray) -> np.ndarray:
    """Voxels in both masks."""
    return first & second


@block("difference", ("mask", "mask"), "mask", family="mask logic")
def difference(first: np.ndarray, second: np.ndarray) -> np.ndarray:
    """Voxels of the first mask that are not in the second."""
    return first & ~second


@block("exclusive_or", ("mask", "mask"), "mask", family="mask logic")
def exclusive_or(first: np.ndarray, second: np.ndarray) -> np.ndarray:
    """Voxels in exactly one of the two masks."""
    return first ^ second


# ------------------------------------------------------------------------- labels


@block("watershed_cut", ("mask", "image"), "labels")
def watershed_cut(mask: np.ndarray, peak_image: np.ndarray, *, min_distance: int = 2) -> np.ndarray:
    """Split touching dots: watershed of the distance transform from the peak image's maxima."""
    return morph.watershed_cut(mask, peak_image, min_distance)


@block("remove_small_labels", ("labels",), "mask")
def remove_small_labels(labels: np.ndarray, *, min_size: int) -> np.ndarray:
    """The foreground of the labels holding more than min_size voxels."""
    return morph.remove_small_labels(labels, min_size)
