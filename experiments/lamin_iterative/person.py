"""The person at the Curator, scripted: judge each cell of a segmentation, write what a person
would draw.

A person curating Lamin B1 segmentations looks at each cell and decides whether its mask is
right. Here that look is a comparison with the true mask, cell by cell: a cell's *zone* is its
region grown by a few voxels (so that a mask drawn on either side of the envelope counts),
and a segmentation is right in a zone when its Dice with the truth there reaches
``min_dice``. Outside every zone a person paints over spurious blobs. What is written is what
the Curator takes: excluding masks (costmap 0) and, for merging, merging-region masks, plus
a decisions file recording every judgment.
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy import ndimage as ndi
from skimage.segmentation import expand_labels

from seglight.errors import SeglightError
from seglight.io import image_stem, read_image, write_ome_tiff


@dataclass
class Judgment:
    """One cell (or the background) of one image."""

    image: str
    zone: int
    kind: str
    dice: list[float]
    action: str


def zones_of(cells: np.ndarray | None, truth: np.ndarray, margin: int,
             tile_yx: int) -> np.ndarray:
    """Cell zones: labelled cells grown by ``margin`` voxels, or else YX tiles through z.

    Without cell labels (a user's folder of true masks only) a person judges square tiles.
    """
    if cells is not None:
        return expand_labels(cells.astype(np.int32), margin)
    _, ny, nx = truth.shape
    ty, tx = np.meshgrid(np.arange(ny) // tile_yx, np.arange(nx) // tile_yx, indexing="ij")
    tiles = ty * (-(-nx // tile_yx)) + tx + 1
    return np.broadcast_to(tiles, truth.shape).astype(np.int32)


def _dice(seg: np.ndarray, truth: np.ndarray) -> float:
    total = seg.sum() + truth.sum()
    return 1.0 if total == 0 else 2.0 * np.logical_and(seg, truth).sum() / total


def judge(segs: Sequence[np.ndarray], truth: np.ndarray, zones: np.ndarray,
          min_dice: float) -> tuple[np.ndarray, np.ndarray, list[tuple[int, str, list]]]:
    """Per zone, take the first segmentation that is right; exclude the zone if none is.

    Args:
        segs: candidate segmentations, preferred first (bool ZYX).
        truth: the true mask (bool ZYX).
        zones: zone labels (0 = background).
        min_dice: a segmentation is right in a zone when its Dice there reaches this.

    Returns:
        ``(excluded, from_second, rows)``: voxels to exclude, voxels to take from the second
        segmentation (merging regions), and one ``(zone, action, dices)`` per zone.
    """
    excluded = np.zeros(truth.shape, bool)
    from_second = np.zeros(truth.shape, bool)
    rows = []
    for zone, where in enumerate(ndi.find_objects(zones), start=1):
        if where is None:
            continue
        inside = zones[where] == zone
        dices = [_dice(seg[where] & inside, truth[where] & inside) for seg in segs]
        if max(dices) < min_dice:
            excluded[where] |= inside
            action = "exclude"
        elif dices[0] >= min_dice:
            action = "take"
        else:
            from_second[where] |= inside
            action = "merge"
        rows.append((zone, action, dices))
    # Background: spurious objects of the taken segmentation are painted over, with a margin.
    background = zones == 0
    taken = np.where(from_second, segs[-1], segs[0])
    spurious = ndi.binary_dilation(taken & background & ~truth, iterations=2) & background
    excluded |= spurious
    rows.append((0, f"exclude {int(spurious.sum())} background voxels" if spurious.any()
                 else "take", [float("nan")] * len(segs)))
    return excluded, from_second, rows


def curate_like_a_person(raw_dir: Path, seg_dirs: Sequence[Path], truth_dir: Path,
                         cells_dir: Path | None, kinds_csv: Path | None, out: Path,
                         min_dice: float, margin: int = 3, tile_yx: int = 32,
                         seg_suffix: str = "_struct_segmentation") -> dict[str, int]:
    """Write excluding masks (``out/mask``), merging masks (``out/merge``, with two
    segmentations) and ``out/decisions.csv`` for every raw image.

    Returns:
        How many zones were taken, merged and excluded.
    """
    kinds = _read_kinds(kinds_csv)
    counts = {"take": 0, "merge": 0, "exclude": 0}
    rows: list[Judgment] = []
    for raw in sorted(p for p in raw_dir.iterdir() if not p.name.startswith(".")):
        stem = image_stem(raw)
        truth = read_image(_partner(truth_dir, stem)).data > 0
        segs = [read_image(_partner(d, stem + seg_suffix)).data > 0 for d in seg_dirs]
        cells = read_image(_partner(cells_dir, stem)).data if cells_dir else None
        zones = zones_of(cells, truth, margin, tile_yx)
        excluded, from_second, judged = judge(segs, truth, zones, min_dice)
        spacing = read_image(raw).spacing_um
        # Only drawn regions are written (the Curator warns about empty masks).
        (out / "mask").mkdir(parents=True, exist_ok=True)
        (out / "merge").mkdir(parents=True, exist_ok=True)
        if excluded.any():
            write_ome_tiff(out / "mask" / f"{stem}_mask.tiff", excluded.astype(np.uint8), spacing)
        if from_second.any():
            write_ome_tiff(out / "merge" / f"{stem}_merge.tiff", from_second.astype(np.uint8),
                           spacing)
        for zone, action, dices in judged:
            kind = "background" if zone == 0 else kinds.get(stem, {}).get(zone, "cell")
            rows.append(Judgment(stem, zone, kind, dices, action))
            if zone:
                counts[action] += 1
    names = [f"dice_{Path(d).parent.name}" for d in seg_dirs]  # the binarizer's folder
    with open(out / "decisions.csv", "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["image", "zone", "kind", *names, "action"])
        writer.writerows([r.image, r.zone, r.kind, *(f"{d:.3f}" for d in r.dice), r.action]
                         for r in rows)
    return counts


def _partner(folder: Path, stem: str) -> Path:
    for path in folder.iterdir():
        if image_stem(path) == stem:
            return path
    raise SeglightError(f"{folder}: no image named {stem}.tif; name it after its raw image")


def _read_kinds(path: Path | None) -> dict[str, dict[int, str]]:
    kinds: dict[str, dict[int, str]] = {}
    if path and path.is_file():
        with open(path, newline="") as f:
            for row in csv.DictReader(f):
                kinds.setdefault(row["image"], {})[int(row["label"])] = row["kind"]
    return kinds
