"""Pictures for people: QC panels of 3D images as PNG and as TensorBoard images.

A panel shows each named volume in a column, with two rows: the maximum projection along
z and the middle z-slice. Masks can be drawn as outlines over an image, the way a
biologist checks a segmentation.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
from scipy import ndimage as ndi

from seglight.io.atomic import atomic_path

OUTLINE_RGB = (255, 64, 200)


def to_uint8(img2d: np.ndarray, low_pct: float = 0.5, high_pct: float = 99.8) -> np.ndarray:
    """Contrast-stretch a 2D image to uint8 between two percentiles (masks stay crisp)."""
    img = np.asarray(img2d, dtype=np.float32)
    finite = img[np.isfinite(img)]
    if finite.size == 0:
        return np.zeros(img.shape, np.uint8)
    lo, hi = np.percentile(finite, [low_pct, high_pct])
    if hi <= lo:
        lo, hi = float(finite.min()), float(finite.max())
    if hi <= lo:  # constant: black if zero, white otherwise (an all-ones costmap is white)
        return np.full(img.shape, 255 if hi > 0 else 0, np.uint8)
    out = (np.nan_to_num(img, nan=lo) - lo) / (hi - lo)
    return (np.clip(out, 0, 1) * 255).astype(np.uint8)


def views(volume_zyx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The two views of a panel: (max projection along z, middle z-slice).

    ``volume_zyx`` may be a memory map or a lazy (dask) array: only the projection and the
    slice are computed in memory.
    """
    middle = volume_zyx.shape[0] // 2
    return np.asarray(volume_zyx.max(axis=0)), np.asarray(volume_zyx[middle])


def outline(mask2d: np.ndarray) -> np.ndarray:
    """One-pixel inner boundary of a 2D mask."""
    mask = np.asarray(mask2d) > 0
    return mask & ~ndi.binary_erosion(mask)


def overlay(image2d: np.ndarray, mask2d: np.ndarray, rgb=OUTLINE_RGB) -> np.ndarray:
    """Grey image with the mask's outline drawn in colour; returns (Y, X, 3) uint8."""
    grey = to_uint8(image2d)
    out = np.repeat(grey[..., None], 3, axis=-1)
    out[outline(mask2d)] = rgb
    return out


def panel(
    columns: Sequence[tuple[str, np.ndarray]],
    outline_mask: np.ndarray | None = None,
    outline_on: Sequence[int] = (0,),
) -> np.ndarray:
    """Side-by-side QC panel of ZYX volumes.

    Args:
        columns: ``(title, volume_zyx)`` pairs; all volumes share Y and X.
        outline_mask: an optional ZYX mask drawn as an outline over the columns ``outline_on``.
        outline_on: indices of the columns that get the outline.

    Returns:
        RGB uint8 image: titles on top, max projections in row 1, middle slices in row 2.
    """
    from PIL import Image, ImageDraw

    tiles = []
    for i, (_, vol) in enumerate(columns):
        proj, mid = views(vol)
        if outline_mask is not None and i in outline_on:
            mproj, mmid = views(outline_mask)
            top, bottom = overlay(proj, mproj), overlay(mid, mmid)
        else:
            top = np.repeat(to_uint8(proj)[..., None], 3, axis=-1)
            bottom = np.repeat(to_uint8(mid)[..., None], 3, axis=-1)
        tiles.append((top, bottom))
    h, w = tiles[0][0].shape[:2]
    gap, title_h = 4, 14
    canvas = np.full((title_h + 2 * h + gap, len(tiles) * (w + gap) - gap, 3), 24, np.uint8)
    for i, (top, bottom) in enumerate(tiles):
        x0 = i * (w + gap)
        canvas[title_h : title_h + h, x0 : x0 + w] = top
        canvas[title_h + h + gap :, x0 : x0 + w] = bottom
    img = Image.fromarray(canvas)
    draw = ImageDraw.Draw(img)
    for i, (title, _) in enumerate(columns):
        draw.text((i * (w + gap) + 2, 1), str(title), fill=(235, 235, 235))
    return np.asarray(img)


def save_png(path: str | Path, rgb: np.ndarray) -> Path:
    """Write an RGB (or grey) uint8 image as PNG, atomically."""
    from PIL import Image

    with atomic_path(path, suffix=".png") as tmp:
        Image.fromarray(np.asarray(rgb, np.uint8)).save(tmp, format="PNG")
    return path
