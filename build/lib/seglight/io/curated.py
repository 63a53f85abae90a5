"""The curated training-data format shared by the Curator and the Trainer.

A curated folder holds triplets, one per training image::

    <name>.ome.tif      the image (any readable format: .tif, .tiff, .ome.tif, .ome.tiff)
    <name>_GT.ome.tif   ground truth; voxels > 0 are foreground
    <name>_CM.ome.tif   costmap, optional; 0 = "this voxel teaches nothing", absent = all ones

Images are stored raw (the Trainer normalizes them with the data config's recipe), so the
same folder can be used with any normalization.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from seglight.errors import SeglightError
from seglight.io.image import (
    ImageZYX,
    Spacing,
    image_stem,
    is_image_file,
    read_image,
    write_ome_tiff,
)

GT_SUFFIX = "_GT"
CM_SUFFIX = "_CM"


@dataclass(frozen=True)
class Triplet:
    """Paths of one curated sample."""

    name: str
    image: Path
    gt: Path
    costmap: Path | None = None


def split_role(stem: str) -> tuple[str, str]:
    """Split a stem into sample name and role: ``cell_GT`` -> ``("cell", "_GT")``,
    ``cell_CM`` -> ``("cell", "_CM")``, ``cell`` -> ``("cell", "")``."""
    for suffix in (GT_SUFFIX, CM_SUFFIX):
        if stem.endswith(suffix):
            return stem[: -len(suffix)], suffix
    return stem, ""


def find_triplets(folder: str | Path) -> list[Triplet]:
    """List the triplets in ``folder``, sorted by name.

    Raises:
        SeglightError: the folder is missing, or a ground truth / costmap has no image (or
            an image has no ground truth), naming the file.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise SeglightError(f"{folder}: no such folder of curated triplets")
    images: dict[str, Path] = {}
    gts: dict[str, Path] = {}
    cms: dict[str, Path] = {}
    for path in sorted(folder.iterdir()):
        if path.name.startswith(".") or not path.is_file() or not is_image_file(path):
            continue
        name, role = split_role(image_stem(path))
        table = {GT_SUFFIX: gts, CM_SUFFIX: cms, "": images}[role]
        if name in table:
            raise SeglightError(
                f"{path}: two files for the same sample ({table[name].name}); keep one of them"
            )
        table[name] = path
    for name, gt in gts.items():
        if name not in images:
            raise SeglightError(f"{gt}: ground truth without an image {name}.tif next to it")
    for name, cm in cms.items():
        if name not in images:
            raise SeglightError(f"{cm}: costmap without an image {name}.tif next to it")
    for name, image in images.items():
        if name not in gts:
            raise SeglightError(
                f"{image}: image without ground truth; add {name}{GT_SUFFIX}.tif or remove it"
            )
    return [Triplet(n, images[n], gts[n], cms.get(n)) for n in sorted(images)]


@dataclass
class Sample:
    """A loaded triplet: image (float32), ground truth (uint8 0/1) and costmap (float32)."""

    name: str
    image: np.ndarray
    gt: np.ndarray
    costmap: np.ndarray
    spacing_um: Spacing


def load_triplet(triplet: Triplet) -> Sample:
    """Read a triplet and check that the three volumes have the same shape.

    Raises:
        SeglightError: unreadable file, or a shape mismatch (naming the file and both shapes).
    """
    image: ImageZYX = read_image(triplet.image)
    gt = read_image(triplet.gt).data
    if gt.shape != image.shape:
        raise SeglightError(
            f"{triplet.gt}: shape {gt.shape} differs from its image {triplet.image.name} "
            f"{image.shape}; ground truth must match the image voxel for voxel"
        )
    if triplet.costmap is None:
        costmap = np.ones(image.shape, np.float32)
    else:
        costmap = read_image(triplet.costmap).data.astype(np.float32)
        if costmap.shape != image.shape:
            raise SeglightError(
                f"{triplet.costmap}: shape {costmap.shape} differs from its image "
                f"{triplet.image.name} {image.shape}; the costmap must match the image"
            )
    return Sample(
        name=triplet.name,
        image=image.data.astype(np.float32, copy=False),
        gt=(gt > 0).astype(np.uint8),
        costmap=costmap,
        spacing_um=image.spacing_um,
    )


_NUMBERED = re.compile(r"^(\d+)$|_(\d+)$")


def next_index(folder: str | Path) -> int:
    """One past the highest number ending a triplet name in ``folder`` (0 if none).

    The Curator names samples ``<prefix>_<n>``; a folder that already has triplets continues
    the numbering instead of overwriting them.
    """
    folder = Path(folder)
    if not folder.is_dir():
        return 0
    highest = -1
    for path in folder.iterdir():
        if not is_image_file(path):
            continue
        match = _NUMBERED.search(split_role(image_stem(path))[0])
        if match:
            highest = max(highest, int(match.group(1) or match.group(2)))
    return highest + 1


def write_triplet(
    folder: str | Path,
    name: str,
    image: np.ndarray,
    gt: np.ndarray,
    costmap: np.ndarray | None = None,
    spacing_um: Spacing = (None, None, None),
) -> Triplet:
    """Write one triplet as OME-TIFF (GT as uint8 0/1, costmap as float32), atomically.

    The image is written last, so a folder never lists an image whose ground truth is
    missing, even when the run is killed halfway.
    """
    folder = Path(folder)
    if gt.shape != image.shape or (costmap is not None and costmap.shape != image.shape):
        raise ValueError(
            f"triplet {name}: shapes differ (image {image.shape}, gt {gt.shape}, "
            f"costmap {None if costmap is None else costmap.shape})"
        )
    gt_path = write_ome_tiff(folder / f"{name}{GT_SUFFIX}.ome.tif", (gt > 0).astype(np.uint8),
                             spacing_um)
    cm_path = None
    if costmap is not None:
        cm_path = write_ome_tiff(folder / f"{name}{CM_SUFFIX}.ome.tif",
                                 costmap.astype(np.float32), spacing_um)
    image_path = write_ome_tiff(folder / f"{name}.ome.tif", image, spacing_um)
    return Triplet(name, image_path, gt_path, cm_path)
