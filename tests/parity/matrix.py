"""Images that vary what real data varies, for the parity matrix of the classic workflows.

The structure-like images of :mod:`seglight.data.structures` are all of one kind: uint16,
a background of ~450 counts, a few hundred counts of signal, 24 slices. Real stacks differ
in ways that change what a workflow computes (the normalization bounds, the thresholds, the
size of the objects the filters see), so each *case* here takes a workflow's image and
changes one property:

- dtype: uint8, uint16 over the full 16-bit range, float32 in [0, 1];
- dynamic range: a few dozen grey levels (a dim camera) to 65535;
- dim and saturated images (a bright tail clipped at the top of the dtype);
- z extent from 3 to 80 slices, and strong anisotropy (z sampled 4x coarser than yx);
- empty regions (a constant half) and objects cut by the image border;
- large bright objects: a hiPSC-like nuclei image, far brighter than most workflows are
  tuned for, fed to every workflow (:func:`hipsc_nuclei`), and a dim, anisotropic
  yeast-mitochondria-like stack (:func:`dim_mitochondria`).

Every case is deterministic (seeded) and small, so the whole matrix runs in a few minutes.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from seglight.data.structures import (
    MATRIX_SHAPE,
    Shape,
    _rescale,
    dim_mitochondria,
    hipsc_nuclei,
    structure_image,
)


def _as_uint8(img: np.ndarray) -> np.ndarray:
    return np.round(_rescale(img, 0, 255)).astype(np.uint8)


def _full_16bit(img: np.ndarray) -> np.ndarray:
    return np.round(_rescale(img, 0, 65535)).astype(np.uint16)


def _unit_float(img: np.ndarray) -> np.ndarray:
    return _rescale(img, 0.0, 1.0).astype(np.float32)


def _few_levels(img: np.ndarray) -> np.ndarray:
    """About 40 grey levels over a pedestal, like a dim camera (uint16 64..104)."""
    return np.round(_rescale(img, 64, 104)).astype(np.uint16)


def _saturated(img: np.ndarray) -> np.ndarray:
    """A gain that clips the brightest ~2% of the voxels at 65535."""
    img = img.astype(np.float64)
    top = np.percentile(img, 98)
    return np.clip((img - img.min()) / max(top - img.min(), 1e-12) * 65535, 0, 65535).astype(
        np.uint16
    )


def _empty_half(img: np.ndarray) -> np.ndarray:
    """The right half replaced by flat background: a large empty region beside the objects."""
    out = img.copy()
    half = img.shape[2] // 2
    out[:, :, half:] = np.median(img)
    return out


def _cut_by_border(img: np.ndarray) -> np.ndarray:
    """Rolled so objects wrap around, then a border strip of each axis set to the maximum:
    objects touching every face of the volume, and a saturated frame."""
    out = np.roll(img, (img.shape[0] // 3, img.shape[1] // 3, img.shape[2] // 3), axis=(0, 1, 2))
    out[0] = np.percentile(out, 99.5)
    out[:, :, :2] = out.max()
    return out


#: Per-image transforms of a workflow's structure image (each one property).
TRANSFORMS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "uint8": _as_uint8,
    "uint16_full": _full_16bit,
    "float32_unit": _unit_float,
    "few_levels": _few_levels,
    "saturated": _saturated,
    "empty_half": _empty_half,
    "border": _cut_by_border,
}

#: Shapes that vary the z extent and anisotropy, with small yx so the reference is quick.
SHAPES: dict[str, Shape] = {
    "z3": (3, 64, 64),
    "z80": (80, 40, 40),
}


def case_image(workflow: str, case: str, seed: int = 0) -> np.ndarray:
    """The image of one matrix case for ``workflow``.

    ``case`` is a key of :data:`TRANSFORMS` or :data:`SHAPES`, ``"anisotropic"``,
    ``"nuclei"`` (:func:`hipsc_nuclei`) or ``"dim_mito"`` (:func:`dim_mitochondria`).
    """
    if case == "nuclei":
        return hipsc_nuclei(MATRIX_SHAPE, seed)
    if case == "dim_mito":
        return dim_mitochondria(MATRIX_SHAPE, seed)
    if case in SHAPES:
        return structure_image(workflow, SHAPES[case], seed)
    if case == "anisotropic":
        z, y, x = MATRIX_SHAPE
        return structure_image(workflow, (4 * z, y, x), seed)[::4]
    return TRANSFORMS[case](structure_image(workflow, MATRIX_SHAPE, seed))


CASES: tuple[str, ...] = (*TRANSFORMS, *SHAPES, "anisotropic", "nuclei", "dim_mito")
