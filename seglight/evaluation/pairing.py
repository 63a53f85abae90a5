"""Matching predictions, ground truths and costmaps by file name.

An image ``<stem>`` has its prediction ``<stem><pred_suffix>.<ext>`` in the prediction folder,
its ground truth ``<stem><gt_suffix>.<ext>`` in the ground-truth folder and, optionally, its
costmap ``<stem><costmap_suffix>.<ext>`` in the costmap folder (``<ext>`` is any image
extension: ``.tif``, ``.tiff``, ``.ome.tif``, ...). The defaults pair the predict runner's
``<stem>_struct_segmentation.tiff`` with ``<stem>.tif``; a curated folder of triplets is read
with ``gt_suffix=_GT costmap=<same folder> costmap_suffix=_CM``.

When an image has no ``<stem><pred_suffix>`` file but the prediction folder (a folder other
than the ground truth's) holds a file of the ground truth's own name (``pred/im0.tif`` for
``gt/im0.tif``, as another tool writes its masks), that file is its prediction.

Several roles may share one folder: a file then belongs to the role with the longest suffix
it ends with, so with ``gt_suffix=""`` a curated folder's ``cell_CM.tif`` is the costmap of
``cell``, not the ground truth of an image called ``cell_CM``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from seglight.errors import SeglightError
from seglight.io.image import image_stem, is_image_file


@dataclass(frozen=True)
class Pair:
    """The files of one image to score.

    Attributes:
        name: the image stem shared by the files.
        pred: the prediction, or ``None`` when missing.
        gt: the ground truth, or ``None`` when missing.
        costmap: the costmap, or ``None`` (no costmap folder, or no costmap for this image:
            every voxel counts, as in a curated folder).
        problem: one line saying which partner is missing, or ``None``.
    """

    name: str
    pred: Path | None
    gt: Path | None
    costmap: Path | None = None
    problem: str | None = None

    @property
    def not_predicted(self) -> bool:
        """A ground truth without a prediction: listed, not scored, not a failure (a larger
        ground-truth folder than the predictions, e.g. a whole curated folder)."""
        return self.pred is None and self.gt is not None


def _images(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir()
                  if p.is_file() and not p.name.startswith(".") and is_image_file(p))


def _index(folder: Path, suffix: str, rivals: list[str]) -> dict[str, Path]:
    """Files of ``folder`` ending in ``suffix`` by image name; files that end in a longer
    rival suffix (another role in the same folder) are left to that role."""
    index: dict[str, Path] = {}
    for path in _images(folder):
        stem = image_stem(path)
        if not stem.endswith(suffix):
            continue
        if any(len(r) > len(suffix) and stem.endswith(r) for r in rivals):
            continue
        index.setdefault(stem[: len(stem) - len(suffix)], path)
    return index


def pair_files(pred: str | Path, gt: str | Path, costmap: str | Path | None = None,
               pred_suffix: str = "_struct_segmentation", gt_suffix: str = "",
               costmap_suffix: str = "_CM") -> list[Pair]:
    """Pair the files of the prediction, ground-truth and costmap folders by image name.

    Args:
        pred: folder of predicted masks.
        gt: folder of ground-truth masks.
        costmap: optional folder of costmaps.
        pred_suffix: a prediction is ``<stem><pred_suffix>.<ext>``.
        gt_suffix: a ground truth is ``<stem><gt_suffix>.<ext>``.
        costmap_suffix: a costmap is ``<stem><costmap_suffix>.<ext>``.

    Returns:
        Every image found in either folder, sorted by name; a pair with a missing partner
        has a :attr:`Pair.problem`.

    Raises:
        SeglightError: a folder is missing, or nothing matches the suffixes.
    """
    roles = {"pred": (pred, pred_suffix), "gt": (gt, gt_suffix)}
    if costmap is not None:
        roles["costmap"] = (costmap, costmap_suffix)
    folders = {}
    for role, (folder, _) in roles.items():
        folders[role] = Path(folder)
        if not folders[role].is_dir():
            raise SeglightError(f"{role}={folder}: no such folder")
    indexes = {}
    for role, (_, suffix) in roles.items():
        rivals = [s for other, (_, s) in roles.items()
                  if other != role and folders[other].resolve() == folders[role].resolve()]
        indexes[role] = _index(folders[role], suffix, rivals)
    if not indexes["pred"] and not indexes["gt"]:
        raise SeglightError(
            f"pred={pred}, gt={gt}: no masks named <stem>{pred_suffix}.tif[f] or "
            f"<stem>{gt_suffix}.tif[f]; check the folders, pred_suffix= and gt_suffix="
        )
    if pred_suffix and folders["pred"].resolve() != folders["gt"].resolve():
        # Masks from another tool, named like their ground truth: pred/im0.tif, gt/im0.tif.
        same_named = _index(folders["pred"], "", [pred_suffix])
        for name in indexes["gt"].keys() - indexes["pred"].keys():
            if name in same_named:
                indexes["pred"][name] = same_named[name]
    pairs = []
    for name in sorted(indexes["pred"].keys() | indexes["gt"].keys()):
        pred_path, gt_path = indexes["pred"].get(name), indexes["gt"].get(name)
        problem = None
        if pred_path is None:
            problem = (f"{gt_path}: no prediction {name}{pred_suffix}.tif[f] in {pred}; "
                       "predict this image or check pred_suffix=")
        elif gt_path is None:
            problem = (f"{pred_path}: no ground truth {name}{gt_suffix}.tif[f] in {gt}; "
                       "check gt= and gt_suffix=")
        pairs.append(Pair(name, pred_path, gt_path, indexes.get("costmap", {}).get(name),
                          problem))
    return pairs
