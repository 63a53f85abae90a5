"""Regions a person draws or gives as files, and what they do to a triplet.

*Excluding* regions get costmap 0 (the Trainer learns nothing there); *merging* regions
take their ground truth from the second segmentation (merging mode). A region is a polygon
on one z-slice or through every slice (its text form is what a decisions file and the
decision log hold), or a mask file.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from seglight.errors import SeglightError
from seglight.io.image import read_image

Log = Callable[[str], None]


def log_to_stderr(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


# --- regions ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Polygon:
    """A region drawn on one z-slice, or on every slice.

    Attributes:
        yx: vertices, shape ``(N, 2)``, in voxel coordinates (row ``y``, column ``x``).
        z: the slice index, or ``None`` for "all z" (the region is a prism through the stack).
    """

    yx: np.ndarray
    z: int | None = None

    def __str__(self) -> str:
        where = "all" if self.z is None else str(self.z)
        return f"{where}: " + " ".join(f"{y:g},{x:g}" for y, x in np.asarray(self.yx))


_POLYGON = re.compile(r"^\s*(all|\d+)\s*:(.*)$", re.IGNORECASE)


def parse_polygons(text: str) -> list[Polygon]:
    """Parse polygons from their text form, as written in a decisions file.

    Polygons are separated by ``|``; each is ``Z: y,x y,x y,x ...`` where ``Z`` is a slice
    index or ``all`` (applied through every z). Example:
    ``all: 0,0 0,20 20,20 | 3: 5,5 5,9 9,9``.

    Raises:
        SeglightError: a polygon that cannot be read, quoting it and the expected form.
    """
    polygons = []
    for part in (text or "").split("|"):
        if not part.strip():
            continue
        match = _POLYGON.match(part)
        try:
            if not match:
                raise ValueError
            yx = np.array(
                [[float(v) for v in pair.split(",")] for pair in match.group(2).split()],
                dtype=np.float64,
            )
            if yx.ndim != 2 or yx.shape[1] != 2 or len(yx) < 3:
                raise ValueError
        except ValueError:
            raise SeglightError(
                f"polygon {part.strip()!r} cannot be read; write 'Z: y,x y,x y,x ...' with Z a "
                "slice index or 'all' and at least 3 vertices, polygons separated by '|'"
            ) from None
        where = match.group(1).lower()
        polygons.append(Polygon(yx=yx, z=None if where == "all" else int(where)))
    return polygons


def format_polygons(polygons: Iterable[Polygon]) -> str:
    """The text form of polygons (inverse of :func:`parse_polygons`)."""
    return " | ".join(str(p) for p in polygons)


def rasterize(polygons: Sequence[Polygon], shape_zyx: tuple[int, int, int], what: str,
              log: Log = log_to_stderr) -> np.ndarray:
    """Fill polygons into a boolean ZYX mask.

    Args:
        polygons: the regions; ``z=None`` fills every slice.
        shape_zyx: the image shape.
        what: names the image and the kind of region in messages (``"cell_01: excluding"``).
        log: receives a line when a polygon is partly outside the image (it is clipped).

    Raises:
        SeglightError: a slice index outside the stack, or a polygon entirely outside the
            image (it would silently do nothing).
    """
    from skimage.draw import polygon as fill_polygon

    n_z, n_y, n_x = shape_zyx
    mask = np.zeros(shape_zyx, bool)
    for poly in polygons:
        if poly.z is not None and not 0 <= poly.z < n_z:
            raise SeglightError(
                f"{what} polygon '{poly}': slice z={poly.z} is outside the stack (0..{n_z - 1})"
            )
        rows, cols = fill_polygon(poly.yx[:, 0], poly.yx[:, 1], shape=(n_y, n_x))
        if rows.size == 0:
            raise SeglightError(
                f"{what} polygon '{poly}' lies outside the image (Y×X = {n_y}×{n_x}); "
                "redraw it on the image"
            )
        # Voxel centres are at integers, so the image spans -0.5 .. n - 0.5 (napari's view).
        inside = (poly.yx >= -0.5).all() and (poly.yx <= np.array([n_y, n_x]) - 0.5).all()
        if not inside:
            log(f"{what} polygon '{poly}' is partly outside the image; clipped to it")
        if poly.z is None:
            mask[:, rows, cols] = True
        else:
            mask[poly.z, rows, cols] = True
    return mask


def read_region_mask(path: Path, shape_zyx: tuple[int, int, int], kind: str,
                     log: Log = log_to_stderr) -> np.ndarray:
    """Read a region mask file (voxels > 0 are in the region) as a boolean ZYX mask.

    A 2D (YX) mask is applied through every z.

    Raises:
        SeglightError: unreadable file, or a shape that matches neither ZYX nor YX.
    """
    data = read_image(path, require_3d=False).data > 0
    if data.shape[0] == 1 and data.shape[1:] == tuple(shape_zyx[1:]):
        data = np.broadcast_to(data, shape_zyx)
    if data.shape != tuple(shape_zyx):
        raise SeglightError(
            f"{path}: {kind} mask shape {data.shape} matches neither the image {tuple(shape_zyx)} "
            f"nor its Y×X {tuple(shape_zyx[1:])}"
        )
    if not data.any():
        log(f"{path}: the {kind} mask is empty (no voxel > 0); it changes nothing")
    return np.array(data)


# --- ground truth and costmap ----------------------------------------------------------


def merge_segmentations(seg1: np.ndarray, seg2: np.ndarray, region: np.ndarray) -> np.ndarray:
    """Ground truth from two segmentations: ``seg1`` outside ``region``, ``seg2`` inside.

    Returns:
        uint8 0/1 mask.
    """
    return np.where(region, seg2 > 0, seg1 > 0).astype(np.uint8)


def costmap_from_exclusion(excluded: np.ndarray) -> np.ndarray:
    """Costmap 1 everywhere except 0 in the excluded voxels (float32)."""
    return np.where(excluded, 0.0, 1.0).astype(np.float32)
