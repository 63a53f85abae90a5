"""The Curator: pair raw images with their segmentations, turn decisions into triplets.

Three modes turn binarizer outputs into the Trainer's curated format
(:mod:`seglight.io.curated`):

- ``takeall``: every segmentation becomes ground truth;
- ``sorting``: a person marks each segmentation good or bad; good ones are written;
- ``merging``: two segmentations of one image; ground truth is the first outside the
  *merging regions* and the second inside them.

In every mode, *excluding regions* (polygons or mask files) get costmap 0: the Trainer
learns nothing from those voxels. Images are written **raw** by default (the Trainer
normalizes with its data config's recipe); ``normalize: true`` writes them through a
normalization recipe instead, and then the Trainer's recipe must not normalize again.

Regions (polygons, mask files, the ground truth and costmap they give) are in
:mod:`seglight.curate.regions`, the configuration and its checks in
:mod:`seglight.curate.config`, the decision log in :mod:`seglight.curate.decision_log`.

The same :class:`Curator` serves the command line (:func:`curate`, driven by a decisions
file) and the napari widgets (driven by a person), and logs every decision in a
:class:`~seglight.curate.decision_log.DecisionLog` so sessions resume where they stopped.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from seglight.curate.config import CurateConfig
from seglight.curate.decision_log import DecisionLog, Entry, read_decisions
from seglight.curate.regions import (
    Log,
    Polygon,
    costmap_from_exclusion,
    format_polygons,
    log_to_stderr,
    merge_segmentations,
    parse_polygons,
    rasterize,
    read_region_mask,
)
from seglight.curate.uncertainty import order_by_score, score_images
from seglight.errors import SeglightError
from seglight.io.curated import Triplet, next_index, write_triplet
from seglight.io.image import ImageZYX, image_stem, is_image_file, read_image
from seglight.normalization import Normalizer
from seglight.summary import Summary

LOG_NAME = "curation_log.csv"
SCORES_NAME = "uncertainty_scores.csv"


# --- inputs ----------------------------------------------------------------------------



@dataclass
class Item:
    """One raw image and the files that go with it.

    Attributes:
        raw: the raw image.
        seg: its segmentation (the first one, in merging mode); ``None`` if missing.
        seg2: the second segmentation (merging mode).
        mask: an excluding-mask file, if any.
        merge_mask: a merging-region mask file, if any (merging mode).
        problem: why this image cannot be curated (e.g. a missing segmentation).
    """

    raw: Path
    seg: Path | None = None
    seg2: Path | None = None
    mask: Path | None = None
    merge_mask: Path | None = None
    problem: str | None = None

    @property
    def name(self) -> str:
        return image_stem(self.raw)


@dataclass
class Loaded:
    """The voxels of one item, checked to share one ZYX shape."""

    image: ImageZYX
    seg: np.ndarray
    seg2: np.ndarray | None = None
    mask: np.ndarray | None = None
    merge_mask: np.ndarray | None = None


def list_images(folder: Path) -> list[Path]:
    """Image files in ``folder``, sorted by name (hidden and partial files left out)."""
    return sorted(
        p for p in folder.iterdir()
        if p.is_file() and not p.name.startswith(".") and is_image_file(p)
    )


def index_images(folder: Path | None) -> dict[str, Path]:
    """Images in ``folder`` by stem (first by name where two share a stem); empty if ``None``."""
    index: dict[str, Path] = {}
    for path in list_images(folder) if folder is not None else []:
        index.setdefault(image_stem(path), path)
    return index

# --- the Curator -----------------------------------------------------------------------


class Curator:
    """Pairs raw images with their segmentations and turns decisions into triplets.

    Args:
        config: what to curate; validated here.
        log: receives one line per warning or failure (default: standard error).
        interactive: a person decides image by image (napari), so no decisions file is needed.

    Raises:
        ConfigError: an invalid configuration.
        SeglightError: an unreadable decisions file or decision log.
    """

    def __init__(self, config: CurateConfig, log: Log = log_to_stderr, interactive: bool = False):
        config.validate(interactive)
        self.config = config
        self.log = log
        self.out = Path(config.out)
        self.decision_log = DecisionLog(Path(config.log) if config.log else self.out / LOG_NAME)
        self.decisions = read_decisions(config.decisions) if config.decisions else {}
        self.normalizer = Normalizer(config.normalization) if config.normalize else None
        self.items = self._pair()
        self.uncertainty: dict[Path, float] = {}  # scores of the items, once computed
        self._check_decisions()
        # A log from an older seglight gains its fingerprints now, while the raw files are
        # still where it says: a later move of the folders is then recognised too.
        self.decision_log.upgrade()

    def _folder(self, key: str) -> Path | None:
        value = getattr(self.config, key)
        return Path(value) if value else None

    def _pair(self) -> list[Item]:
        cfg = self.config
        raw_dir = Path(cfg.raw)
        seg_dir = self._folder("seg1" if cfg.mode == "merging" else "seg")
        # Segmentations or masks stored next to their raw images are not raw images.
        partners = [(seg_dir, cfg.seg_suffix), (self._folder("seg2"), cfg.seg_suffix),
                    (self._folder("mask"), cfg.mask_suffix),
                    (self._folder("merge_mask"), cfg.merge_mask_suffix)]
        not_raw = tuple(suffix for folder, suffix in partners
                        if suffix and folder is not None and folder.resolve() == raw_dir.resolve())
        segs, segs2 = index_images(seg_dir), index_images(self._folder("seg2"))
        masks, merge_masks = index_images(self._folder("mask")), index_images(
            self._folder("merge_mask"))
        items = []
        for raw in list_images(raw_dir):
            stem = image_stem(raw)
            if not_raw and stem.endswith(not_raw):
                continue
            item = Item(
                raw=raw,
                seg=segs.get(stem + cfg.seg_suffix),
                seg2=segs2.get(stem + cfg.seg_suffix),
                mask=masks.get(stem + cfg.mask_suffix),
                merge_mask=merge_masks.get(stem + cfg.merge_mask_suffix),
            )
            if item.seg is None:
                item.problem = (f"{raw}: no segmentation {stem}{cfg.seg_suffix}.tiff in {seg_dir}; "
                                "binarize this image or check seg_suffix=")
            elif cfg.mode == "merging" and item.seg2 is None:
                item.problem = (f"{raw}: no second segmentation {stem}{cfg.seg_suffix}.tiff in "
                                f"{cfg.seg2}; binarize it with the second workflow")
            items.append(item)
        if not items:
            raise SeglightError(f"raw={cfg.raw}: no images found (.tif, .tiff, .ome.tif, .czi)")
        return items

    def _check_decisions(self) -> None:
        names = {item.name for item in self.items}
        for stem in self.decisions:
            if stem not in names:
                self.log(f"{self.config.decisions}: image {stem} is not in raw={self.config.raw}; "
                         "its decision is ignored")
        for stem, entry in self.decisions.items():
            for column in ("exclude", "merge"):
                try:
                    parse_polygons(getattr(entry, column))
                except SeglightError as err:
                    raise SeglightError(
                        f"{self.config.decisions}, image {stem}, {column}: {err}") from None

    def pending(self, progress: bool = False) -> list[Item]:
        """Items not yet written or rejected in this or an earlier session, in the
        configured ``order`` (with ``uncertainty``, they are scored here first).

        An image is recognised by its path or, if its folder was moved or renamed since, by
        its content (see :class:`~seglight.curate.decision_log.DecisionLog`).

        Args:
            progress: show a progress bar while scoring.
        """
        pending = [item for item in self.items if not self.decision_log.is_done(item.raw)]
        if self.config.order != "uncertainty":
            return pending
        self.score([item for item in pending if item.raw not in self.uncertainty], progress)
        by_raw = {item.raw: item for item in pending}
        return [by_raw[raw] for raw in order_by_score(list(by_raw), self.uncertainty)]

    def score(self, items: Sequence[Item], progress: bool = False) -> None:
        """Compute the uncertainty scores of ``items`` (see :mod:`seglight.curate.uncertainty`);
        network scores are cached in ``<out>/uncertainty_scores.csv`` for later sessions."""
        cfg = self.config
        if cfg.uncertainty_ckpt:
            sources = {"ckpt_path": cfg.uncertainty_ckpt, "cache": self.out / SCORES_NAME}
        else:
            first = cfg.seg1 if cfg.mode == "merging" else cfg.seg
            sources = {"seg": first, "seg2": cfg.uncertainty_seg or cfg.seg2}
        self.uncertainty.update(score_images(
            [item.raw for item in items], seg_suffix=cfg.seg_suffix, channel=cfg.channel,
            progress=progress, log=self.log, **sources))

    def load(self, item: Item) -> Loaded:
        """Read an item's raw image, segmentation(s) and mask files, checking shapes.

        Raises:
            SeglightError: a missing or unreadable file, or a shape mismatch, naming both files.
        """
        if item.problem:
            raise SeglightError(item.problem)
        image = read_image(item.raw, channel=self.config.channel)

        def same_shape(path: Path) -> np.ndarray:
            data = read_image(path).data
            if data.shape != image.shape:
                raise SeglightError(
                    f"{path}: shape {data.shape} differs from its raw image {item.raw.name} "
                    f"{image.shape}; the segmentation must match the image voxel for voxel"
                )
            return data

        return Loaded(
            image=image,
            seg=same_shape(item.seg),
            seg2=same_shape(item.seg2) if item.seg2 else None,
            mask=read_region_mask(item.mask, image.shape, "excluding", self.log)
            if item.mask else None,
            merge_mask=read_region_mask(item.merge_mask, image.shape, "merging", self.log)
            if item.merge_mask else None,
        )

    def _entry(self, item: Item, decision: str, status: str, **kw: str) -> Entry:
        score = self.uncertainty.get(item.raw)
        return Entry(image=item.raw.name, raw=str(item.raw), decision=decision, status=status,
                     mode=self.config.mode,
                     uncertainty="" if score is None else f"{score:.4f}", **kw)

    def accept(
        self,
        item: Item,
        exclude: Sequence[Polygon] = (),
        merge: Sequence[Polygon] = (),
        loaded: Loaded | None = None,
        decision: str = "good",
    ) -> Triplet:
        """Write the item as a triplet and log it; on failure log it as ``failed``.

        Args:
            item: the image to write.
            exclude: excluding regions (costmap 0), added to the item's mask file.
            merge: merging regions (merging mode: ground truth from the second
                segmentation), added to the item's merging mask file.
            loaded: the item's voxels if already read (the napari widget has them).
            decision: the decision logged (``good``, or ``take`` in take-all mode).

        Returns:
            The written triplet.

        Raises:
            SeglightError: the item cannot be written (the reason names the file).
        """
        exclude_text, merge_text = format_polygons(exclude), format_polygons(merge)
        try:
            loaded = loaded or self.load(item)
            triplet = self._write(item, loaded, exclude, merge, exclude_text, merge_text, decision)
        except SeglightError as err:
            self.fail(item, decision, str(err), exclude=exclude_text, merge=merge_text)
            raise
        self.decision_log.append(self._entry(item, decision, "written", output=triplet.name,
                                       exclude=exclude_text, merge=merge_text))
        return triplet

    def _write(self, item: Item, loaded: Loaded, exclude: Sequence[Polygon],
               merge: Sequence[Polygon], exclude_text: str, merge_text: str,
               decision: str) -> Triplet:
        shape = loaded.image.shape
        what = f"{item.raw.name}:"
        if self.config.mode == "merging":
            region = rasterize(merge, shape, f"{what} merging", self.log)
            if loaded.merge_mask is not None:
                region |= loaded.merge_mask
            gt = merge_segmentations(loaded.seg, loaded.seg2, region)
        else:
            gt = (loaded.seg > 0).astype(np.uint8)
        excluded = rasterize(exclude, shape, f"{what} excluding", self.log)
        if loaded.mask is not None:
            excluded |= loaded.mask
        if excluded.all():
            raise SeglightError(
                f"{item.raw}: the excluding regions cover the whole image, so it would teach "
                "nothing; reject it (bad) instead"
            )
        costmap = costmap_from_exclusion(excluded) if excluded.any() else None
        image = self.normalizer(loaded.image.data) if self.normalizer else loaded.image.data
        # A killed run leaves a 'writing' row: the next session reuses its name, so the
        # half-written triplet is overwritten instead of duplicated under a new number.
        previous = self.decision_log.last(item.raw)
        if previous is not None and previous.status == "writing" and previous.output:
            name = previous.output
        else:
            name = f"{self.config.prefix}_{next_index(self.out)}"
        self.decision_log.append(self._entry(item, decision, "writing", output=name,
                                       exclude=exclude_text, merge=merge_text))
        return write_triplet(self.out, name, image, gt, costmap, loaded.image.spacing_um)

    def fail(self, item: Item, decision: str, message: str, **polygons: str) -> None:
        """Log that the item could not be curated; it is offered again next session."""
        self.decision_log.append(self._entry(item, decision, "failed", message=message, **polygons))

    def reject(self, item: Item) -> None:
        """Log the item as bad: it is not written and not shown again."""
        self.decision_log.append(self._entry(item, "bad", "rejected"))

    def defer(self, item: Item) -> None:
        """Log the item as skipped: not written now, offered again next session."""
        self.decision_log.append(self._entry(item, "skip", "deferred"))

    def run(self, progress: bool = True) -> Summary:
        """Curate every pending image from the decisions file (or all, in take-all mode).

        Failures are logged and reported as one line each; the other images go on.

        Args:
            progress: show a tqdm progress bar on standard error.
        """
        from tqdm import tqdm

        pending = self.pending(progress)
        summary = Summary(already_done=len(self.items) - len(pending))
        mode = self.config.mode
        bar = tqdm(pending, desc=f"curate ({mode})", unit="image", disable=not progress,
                   file=sys.stderr)
        for item in bar:
            entry = self.decisions.get(item.name)
            if mode == "takeall":
                decision = "take"
            elif not self.config.decisions:
                decision = "good"  # merging from mask files alone: every image is merged
            elif entry is None:
                summary.skipped += 1  # undecided: stays pending for a later session
                continue
            else:
                decision = entry.decision
            if decision == "bad":
                self.reject(item)
                summary.skipped += 1
                continue
            if decision == "skip":
                self.defer(item)
                summary.skipped += 1
                continue
            try:
                self.accept(
                    item,
                    exclude=parse_polygons(entry.exclude) if entry else (),
                    merge=parse_polygons(entry.merge) if entry else (),
                    decision=decision,
                )
                summary.written += 1
            except SeglightError as err:
                summary.failed += 1
                summary.failures.append(str(err))
                if progress:
                    bar.write(f"failed: {err}", file=sys.stderr)
                else:
                    self.log(f"failed: {err}")
        return summary


def curate(config: CurateConfig | Mapping[str, Any], progress: bool = True,
           log: Log = log_to_stderr) -> Summary:
    """Curate from a script: the Python form of ``python -m seglight.curate``.

    Args:
        config: a :class:`CurateConfig`, or a mapping with its fields (``mode``, ``raw``,
            ``seg``, ``out``, ``decisions``, ...).
        progress: show a progress bar.
        log: receives warnings.

    Returns:
        How many triplets were written, skipped and failed.

    Raises:
        ConfigError: an invalid configuration, before any work.
    """
    if not isinstance(config, CurateConfig):
        config = CurateConfig.from_mapping(config)
    return Curator(config, log=log).run(progress=progress)
