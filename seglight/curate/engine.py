"""The Curator's engine: pair inputs, rasterize regions, build and write training triplets.

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

The same :class:`Curator` serves the command line (:func:`curate`, driven by a decisions
file) and the napari widgets (driven by a person), and logs every decision in a
:class:`~seglight.curate.decision_log.DecisionLog` so sessions resume where they stopped.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from seglight.curate.decision_log import DecisionLog, Entry, read_decisions
from seglight.curate.uncertainty import order_by_score, score_images
from seglight.errors import ConfigError, SeglightError
from seglight.io.curated import Triplet, next_index, write_triplet
from seglight.io.image import ImageZYX, image_stem, is_image_file, read_image
from seglight.normalization import Normalizer
from seglight.summary import Summary

MODES = ("takeall", "sorting", "merging")
ORDERS = ("as_listed", "uncertainty")
LOG_NAME = "curation_log.csv"
SCORES_NAME = "uncertainty_scores.csv"

Log = Callable[[str], None]


def _stderr(line: str) -> None:
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
              log: Log = _stderr) -> np.ndarray:
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
                     log: Log = _stderr) -> np.ndarray:
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


# --- configuration ---------------------------------------------------------------------


@dataclass
class CurateConfig:
    """What to curate, and how; mirrors ``conf/curate.yaml``.

    Attributes:
        mode: ``takeall``, ``sorting`` or ``merging``.
        raw: folder of raw images.
        out: folder of curated triplets (created; numbering continues after its triplets).
        seg: folder of segmentations (takeall, sorting).
        seg1: first segmentation folder (merging; ground truth outside merging regions).
        seg2: second segmentation folder (merging; ground truth inside merging regions).
        mask: optional folder of excluding masks ``<stem><mask_suffix>.tiff`` (voxels > 0
            get costmap 0; a YX mask applies through z).
        merge_mask: optional folder of merging-region masks (merging mode).
        decisions: CSV of decisions (``image,decision[,exclude,merge]``); required for
            sorting, and for merging unless ``merge_mask`` is given; optional in takeall,
            where only its ``exclude`` polygons are used.
        seg_suffix: a segmentation is ``<raw stem><seg_suffix>.<any image extension>``.
        mask_suffix: an excluding mask is ``<raw stem><mask_suffix>.<ext>``.
        merge_mask_suffix: a merging mask is ``<raw stem><merge_mask_suffix>.<ext>``.
        channel: channel (index or name) of the raw images to curate.
        prefix: triplets are named ``<prefix>_<n>``.
        normalize: write images through ``normalization`` instead of raw (default raw:
            the Trainer normalizes).
        normalization: recipe steps used when ``normalize`` is true.
        log: decision log path (default ``<out>/curation_log.csv``).
        order: ``as_listed`` (by file name) or ``uncertainty`` (most uncertain first, see
            :mod:`seglight.curate.uncertainty`; the score is logged with each decision).
        uncertainty_ckpt: score by this network's flip test-time-augmentation disagreement.
        uncertainty_seg: or by the disagreement between the segmentation and a second one
            in this folder (same names); merging mode uses seg1 and seg2 by default.
    """

    mode: str = "takeall"
    raw: str | None = None
    out: str | None = None
    seg: str | None = None
    seg1: str | None = None
    seg2: str | None = None
    mask: str | None = None
    merge_mask: str | None = None
    decisions: str | None = None
    seg_suffix: str = "_struct_segmentation"
    mask_suffix: str = "_mask"
    merge_mask_suffix: str = "_merge"
    channel: int | str = 0
    prefix: str = "img"
    normalize: bool = False
    normalization: list[dict[str, Any]] | None = None
    log: str | None = None
    order: str = "as_listed"
    uncertainty_ckpt: str | None = None
    uncertainty_seg: str | None = None

    @classmethod
    def from_mapping(cls, cfg: Mapping[str, Any]) -> CurateConfig:
        """Build from a dict or an OmegaConf config (e.g. Hydra's ``cfg``).

        Raises:
            ConfigError: an unknown key, naming it and the known ones.
        """
        try:
            from omegaconf import DictConfig, OmegaConf

            if isinstance(cfg, DictConfig):
                cfg = OmegaConf.to_container(cfg, resolve=True)
        except ImportError:  # omegaconf comes with hydra-core; plain dicts still work
            pass
        known = {f for f in cls.__dataclass_fields__}
        unknown = sorted(set(cfg) - known - {"hydra"})
        if unknown:
            raise ConfigError(f"curate: unknown key(s) {unknown}; known keys: {sorted(known)}")
        return cls(**{k: v for k, v in cfg.items() if k in known})

    def validate(self, interactive: bool = False) -> None:
        """Check the configuration before any work, with one readable line per problem.

        Args:
            interactive: a person decides (napari), so no decisions file is needed.

        Raises:
            ConfigError: a missing or wrong value, naming the key and what to do.
        """
        if self.mode not in MODES:
            raise ConfigError(f"mode={self.mode!r}; choose mode=takeall, sorting or merging")
        needed = {"takeall": ["raw", "seg", "out"], "sorting": ["raw", "seg", "out", "decisions"],
                  "merging": ["raw", "seg1", "seg2", "out"]}[self.mode]
        if interactive:
            needed = [k for k in needed if k != "decisions"]
        missing = [k for k in needed if not getattr(self, k)]
        if missing:
            usage = {
                "takeall": "mode=takeall raw=DIR seg=DIR out=DIR [mask=DIR]",
                "sorting": "mode=sorting raw=DIR seg=DIR out=DIR decisions=FILE.csv",
                "merging": "mode=merging raw=DIR seg1=DIR seg2=DIR out=DIR decisions=FILE.csv",
            }[self.mode]
            raise ConfigError(
                f"mode={self.mode} needs {', '.join(k + '=' for k in missing)}; usage: "
                f"python -m seglight.curate {usage}"
            )
        if self.mode == "merging" and not (self.decisions or self.merge_mask or interactive):
            raise ConfigError(
                "mode=merging needs decisions=FILE.csv (with merge polygons) or merge_mask=DIR; "
                "without merging regions the ground truth is just seg1"
            )
        if self.mode != "merging" and (self.seg1 or self.seg2 or self.merge_mask):
            raise ConfigError(
                f"seg1=/seg2=/merge_mask= are for mode=merging; mode={self.mode} uses seg="
            )
        if self.mode == "merging" and self.seg:
            raise ConfigError("mode=merging takes seg1= and seg2=, not seg=")
        inputs = {k: getattr(self, k) for k in ("raw", "seg", "seg1", "seg2", "mask", "merge_mask")}
        for key, value in inputs.items():
            if value and not Path(value).is_dir():
                raise ConfigError(f"{key}={value}: no such folder")
        if self.decisions and not Path(self.decisions).is_file():
            raise ConfigError(f"decisions={self.decisions}: no such file")
        out = Path(self.out).resolve()
        for key, value in inputs.items():
            if value and Path(value).resolve() == out:
                raise ConfigError(
                    f"out={self.out} is also {key}=; write triplets to a separate folder "
                    "(the Curator never writes into its inputs)"
                )
        if out.exists() and not out.is_dir():
            raise ConfigError(f"out={self.out} is a file; give a folder")
        if not self.seg_suffix and self.mode != "merging" and Path(self.seg).resolve() == Path(
            self.raw
        ).resolve():
            raise ConfigError("seg= is the raw folder and seg_suffix is empty; set seg_suffix=")
        if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*", str(self.prefix)):
            raise ConfigError(f"prefix={self.prefix!r}; use letters, digits, '.', '_' or '-'")
        self._validate_order()
        if not isinstance(self.normalize, bool):
            raise ConfigError(f"normalize={self.normalize!r}; use true or false")
        if self.normalize:
            if not self.normalization:
                raise ConfigError(
                    "normalize=true needs a recipe in normalization= (a list of steps); "
                    "or keep normalize=false to write raw images (the Trainer normalizes)"
                )
            Normalizer(self.normalization)

    def _validate_order(self) -> None:
        if self.order not in ORDERS:
            raise ConfigError(f"order={self.order!r}; use order=as_listed or order=uncertainty")
        if self.uncertainty_ckpt and not Path(self.uncertainty_ckpt).is_file():
            raise ConfigError(f"uncertainty_ckpt={self.uncertainty_ckpt}: no such checkpoint file")
        if self.uncertainty_seg and not Path(self.uncertainty_seg).is_dir():
            raise ConfigError(f"uncertainty_seg={self.uncertainty_seg}: no such folder")
        if (self.order == "uncertainty" and self.mode != "merging"
                and not (self.uncertainty_ckpt or self.uncertainty_seg)):
            raise ConfigError(
                "order=uncertainty needs uncertainty_ckpt=<trained .ckpt> (flip-TTA "
                "disagreement) or uncertainty_seg=DIR (a second segmentation to compare with)"
            )


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

    def __init__(self, config: CurateConfig, log: Log = _stderr, interactive: bool = False):
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
           log: Log = _stderr) -> Summary:
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
