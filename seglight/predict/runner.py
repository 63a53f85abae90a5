"""The predict runner: files in, one mask (and/or probability map) per scene and timepoint out.

It never asks "classic or network?": it calls a :class:`~seglight.binarizer.Binarizer`.
What it adds is what a run over hundreds of images needs:

- inputs from a file, a folder (``input_glob``) or a CSV listing files;
- every scene and timepoint (or the chosen ones), each written separately;
- outputs written to a temp file and renamed, so a killed run leaves no half file;
- existing outputs skipped unless ``overwrite``, so the same command resumes a run;
- a broken file reported in one line and skipped; the run goes on and ends with a summary;
- with ``labels=true``, numbered objects and their measurements (:mod:`seglight.measure`);
- for a GUI: a progress callback and a cooperative cancel (:meth:`PredictRunner.run`).
"""

from __future__ import annotations

import contextlib
import csv
import logging
import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from seglight.binarizer import (
    Binarizer,
    LabelingBinarizer,
    LargeImageBinarizer,
    SpacingAware,
    no_record,
)
from seglight.errors import ConfigError, SeglightError
from seglight.io import image_layout, image_stem, is_image_file, read_image, write_ome_tiff
from seglight.io.atomic import atomic_path
from seglight.io.image import ImageZYX, Spacing
from seglight.masks import remove_small_objects
from seglight.summary import Summary

log = logging.getLogger("seglight.predict")

#: What the Curator reads next to each raw image.
MASK_NAME = "{stem}_struct_segmentation.tiff"
PROBA_NAME = "{stem}_struct_probability.tiff"
QC_NAME = "{stem}_qc.png"
LABELS_NAME = "{stem}_struct_labels.tiff"
OBJECTS_NAME = "{stem}_objects.csv"

#: ``on_progress(done, total, path)``: ``done`` of ``total`` files finished, ``path`` the last.
Progress = Callable[[int, int, Path], None]


def find_inputs(input: str | Path, input_glob: str = "*") -> list[Path]:
    """The image files named by ``input``: a file (or a ``.zarr`` folder), a folder (matched
    with ``input_glob``), or a ``.csv`` whose first column (or column ``path``/``file``) lists
    files.

    Relative paths in a CSV are relative to the CSV's folder.

    Raises:
        ConfigError: ``input`` does not exist, or names no image file.
    """
    path = Path(input)
    if not path.exists():
        raise ConfigError(f"input={path}: no such file or folder")
    if path.is_dir() and not is_image_file(path):  # a .zarr image is a folder too
        files = sorted(p for p in path.glob(input_glob)
                       if (p.is_file() or p.suffix.lower() == ".zarr")
                       and not p.name.startswith(".") and is_image_file(p))
        if not files:
            raise ConfigError(
                f"input={path}: no image file matches input_glob={input_glob!r} "
                "(.tif, .tiff, .ome.tif, .czi, .zarr); set input_glob= to match your files"
            )
        return files
    if path.suffix.lower() == ".csv":
        return _csv_inputs(path)
    return [path]


def _csv_inputs(path: Path) -> list[Path]:
    with open(path, newline="", encoding="utf-8-sig") as f:
        rows = [row for row in csv.reader(f) if row and row[0].strip()]
    if not rows:
        raise ConfigError(f"input={path}: the CSV lists no files")
    header = [c.strip().lower() for c in rows[0]]
    column = next((header.index(k) for k in ("path", "file", "filename") if k in header), None)
    if column is not None:
        rows = rows[1:]
    elif not is_image_file(rows[0][0].strip()):
        rows = rows[1:]  # a header row with another name
    column = column or 0
    files = []
    for row in rows:
        name = Path(row[column].strip())
        files.append(name if name.is_absolute() else path.parent / name)
    if not files:
        raise ConfigError(f"input={path}: the CSV lists no files")
    return files


class ImageRef(NamedTuple):
    """One image of a file, as the runner processes it."""

    scene: int
    timepoint: int
    stem: str
    shape_zyx: tuple[int, int, int]


@dataclass
class OutputOptions:
    """What the runner writes for each image.

    Attributes:
        output_dir: the output folder.
        threshold: mask threshold; ``None``: the binarizer's; negative: no mask (only the
            probability map).
        write_proba: also write the probability map.
        proba_dtype: ``float32`` (OME-TIFF) or ``float16`` (plain TIFF: OME has no half
            floats; the voxel size is kept in the TIFF resolution and description).
        min_size: remove mask objects (26-connected) of fewer than this many voxels; an
            object of exactly ``min_size`` voxels is kept (0 or 1: keep all).
        mask_name: file name pattern of the mask (``{stem}``: the image's name).
        proba_name: file name pattern of the probability map.
        qc: write a QC PNG per image (mask outline over the input).
        qc_name: its file name pattern.
        save_intermediates: write a classic workflow's intermediate steps.
        labels: also write a label image (objects numbered 1..n: the binarizer's own labels
            where it offers them, :class:`~seglight.binarizer.LabelingBinarizer`, else the
            26-connected components of the mask) and a table measuring each object
            (:func:`seglight.measure.measure_objects`). Not for images processed window by
            window (one warning line each).
        labels_name: file name pattern of the label image.
        objects_name: file name pattern of the object table (CSV).
        overwrite: recompute images whose outputs exist (default: skip them).
        channel: the structure channel, by index or name.
        scenes: scene indices to process (``None``: all).
        timepoints: timepoint indices to process (``None``: all).
        max_in_memory_voxels: larger images are processed window by window from disk
            (networks only; see :mod:`seglight.predict.lazy`).
    """

    output_dir: Path
    threshold: float | None = None
    write_proba: bool = False
    proba_dtype: str = "float32"
    min_size: int = 0
    mask_name: str = MASK_NAME
    proba_name: str = PROBA_NAME
    qc: bool = False
    qc_name: str = QC_NAME
    save_intermediates: bool = False
    labels: bool = False
    labels_name: str = LABELS_NAME
    split_touching: float | None = None
    objects_name: str = OBJECTS_NAME
    overwrite: bool = False
    channel: int | str = 0
    scenes: Sequence[int] | None = None
    timepoints: Sequence[int] | None = None
    max_in_memory_voxels: int = 500_000_000

    def __post_init__(self) -> None:
        self.output_dir = Path(self.output_dir)
        if self.proba_dtype not in ("float32", "float16"):
            raise ConfigError(f"proba_dtype={self.proba_dtype}; use float32 or float16")
        if self.threshold is not None and self.threshold > 1:
            raise ConfigError(
                f"threshold={self.threshold} must be in [0, 1] (or -1: probability map only)"
            )
        if int(self.min_size) < 0:
            raise ConfigError(f"min_size={self.min_size} must be 0 or more voxels")
        names = ("mask_name", "proba_name", "qc_name", "labels_name", "objects_name")
        for name in names:
            pattern = getattr(self, name)
            if "{stem}" not in pattern:
                raise ConfigError(f"{name}={pattern!r} must contain {{stem}} (the image's name)")
        if self.labels and not self.writes_mask:
            raise ConfigError(f"labels=true numbers the objects of the mask, and "
                              f"threshold={self.threshold} writes no mask; drop one of them")
        written = [n for n, on in zip(names, (self.writes_mask, self.writes_proba, self.qc,
                                              self.labels, self.labels), strict=True) if on]
        for i, a in enumerate(written):
            for b in written[i + 1:]:
                if getattr(self, a) == getattr(self, b):
                    raise ConfigError(f"{a} and {b} are both {getattr(self, a)!r}; give them "
                                      "different names")

    @property
    def writes_mask(self) -> bool:
        return self.threshold is None or self.threshold >= 0

    @property
    def writes_proba(self) -> bool:
        return self.write_proba or not self.writes_mask

    def outputs(self, stem: str, in_memory: bool = True) -> list[Path]:
        """The files written for the image named ``stem``; all present means done.

        Args:
            stem: the image's name.
            in_memory: the image is processed whole (``False``: window by window, which
                gets no label image).
        """
        paths = []
        if self.writes_proba:
            paths.append(self.output_dir / self.proba_name.format(stem=stem))
        if self.writes_mask:
            paths.append(self.output_dir / self.mask_name.format(stem=stem))
        if self.qc:
            paths.append(self.output_dir / self.qc_name.format(stem=stem))
        if self.labels and in_memory:
            paths.append(self.output_dir / self.labels_name.format(stem=stem))
            paths.append(self.output_dir / self.objects_name.format(stem=stem))
        return paths


def drop_objects_below(mask: np.ndarray, min_size: int) -> np.ndarray:
    """The ``min_size`` option: drop 26-connected objects of fewer than ``min_size`` voxels.

    An object of exactly ``min_size`` voxels is kept: this option has no reference
    counterpart, so it keeps the plain meaning of "smaller than", unlike the classic
    workflows' size filters (see :mod:`seglight.masks`).
    """
    return remove_small_objects(mask, min_size, connectivity=3, keep_equal=True)


def _write_proba(path: Path, proba: np.ndarray, spacing_um: Spacing, dtype: str) -> None:
    if dtype == "float32":
        write_ome_tiff(path, proba.astype(np.float32, copy=False), spacing_um, "probability")
        return
    import tifffile

    # OME has no half-float pixel type: a plain TIFF, spacing in its resolution and description.
    _, y, x = spacing_um
    resolution = (1 / x, 1 / y) if x and y else None
    with atomic_path(path, suffix=".tiff") as tmp:
        tifffile.imwrite(
            tmp, proba.astype(np.float16), photometric="minisblack", resolution=resolution,
            resolutionunit="MICROMETER" if resolution else None,
            metadata={"axes": "ZYX", "spacing_um": [s or 0 for s in spacing_um]},
        )


class PredictRunner:
    """Run a binarizer over files and write its outputs.

    Args:
        binarizer: any :class:`~seglight.binarizer.Binarizer`.
        options: what to write and where.
    """

    def __init__(self, binarizer: Binarizer, options: OutputOptions):
        self.binarizer = binarizer
        self.options = options
        self.threshold = (
            float(binarizer.threshold) if options.threshold is None else float(options.threshold)
        )

    # -- one file ---------------------------------------------------------------------------

    def _selection(self, path: Path, available: int, chosen: Sequence[int] | None,
                   what: str) -> list[int]:
        if chosen is None:
            return list(range(available))
        bad = [i for i in chosen if not 0 <= int(i) < available]
        if bad:
            raise SeglightError(
                f"{path}: {what} {bad} out of range; the file has {available} {what}(s); "
                f"choose among 0..{available - 1}"
            )
        return [int(i) for i in chosen]

    def images_of(self, path: Path) -> list[ImageRef]:
        """The images of a file that the run processes (scene, timepoint, stem, shape).

        The stem is the file's, with ``_S<n>`` / ``_T<n>`` added when the file has several
        scenes / timepoints, so each is written separately.

        Raises:
            SeglightError: the file cannot be read, or a chosen scene/timepoint is not there.
        """
        layout = image_layout(path)
        scenes = self._selection(path, layout["scenes"], self.options.scenes, "scene")
        times = self._selection(path, layout["timepoints"], self.options.timepoints, "timepoint")
        stem = image_stem(path)
        images = []
        for scene in scenes:
            for t in times:
                name = stem
                if layout["scenes"] > 1:
                    name += f"_S{scene}"
                if layout["timepoints"] > 1:
                    name += f"_T{t}"
                images.append(ImageRef(scene, t, name, layout["shape_zyx"]))
        return images

    def process_file(self, path: str | Path,
                     should_stop: Callable[[], bool] | None = None) -> Summary:
        """Predict every selected image of one file; a broken file is counted, not raised.

        Args:
            path: the file.
            should_stop: checked before each image; once it returns true the file's other
                images are left for a later run (neither written nor counted).
        """
        path = Path(path)
        summary = Summary()
        try:
            images = self.images_of(path)
        except SeglightError as err:
            self._fail(summary, path, err)
            return summary
        for ref in images:
            if should_stop is not None and should_stop():
                break
            lazy = self.window_by_window(ref.shape_zyx)
            outputs = self.options.outputs(ref.stem, in_memory=not lazy)
            if not self.options.overwrite and all(p.exists() for p in outputs):
                summary.skipped += 1
                continue
            try:
                image = read_image(path, self.options.channel, ref.scene, ref.timepoint,
                                   lazy=lazy)
                self.process_image(image, ref.stem)
            except SeglightError as err:
                self._fail(summary, path, err)
                continue
            except (MemoryError, RuntimeError, ValueError) as err:
                # A file the binarizer cannot handle (odd shape, out of memory) must not end
                # a run over hundreds of images; its traceback goes to the debug log.
                log.debug("failure on %s", path, exc_info=True)
                self._fail(summary, path, f"{type(err).__name__}: {str(err).splitlines()[0]}")
                continue
            summary.written += 1
        return summary

    def window_by_window(self, shape_zyx: Sequence[int]) -> bool:
        """Whether an image of this size is read lazily and predicted window by window:
        larger than ``max_in_memory_voxels``, and the binarizer can (a network)."""
        return (math.prod(shape_zyx) > self.options.max_in_memory_voxels
                and isinstance(self.binarizer, LargeImageBinarizer))

    @staticmethod
    def _fail(summary: Summary, path: Path, err: Exception | str) -> None:
        message = str(err)
        if not message.startswith(str(path)):
            message = f"{path}: {message}"
        summary.failed += 1
        summary.failures.append(message)
        log.error("failed: %s", message)

    def process_image(self, image: ImageZYX, stem: str) -> list[Path]:
        """Binarize one image and write its outputs; returns the written paths.

        An image in memory is predicted whole; a lazy one (``read_image(..., lazy=True)``)
        window by window, with the probabilities and the mask in memory maps beside the
        outputs. Both then go through the same steps: threshold, size filter, QC, write.
        """
        opts = self.options
        if isinstance(self.binarizer, SpacingAware):
            self.binarizer.warn_spacing(image.spacing_um, stem)
        steps: dict[str, np.ndarray] = {}
        own_labels = None
        with contextlib.ExitStack() as scratch:
            if image.in_memory:
                record = steps.__setitem__ if opts.save_intermediates else no_record
                if opts.labels and isinstance(self.binarizer, LabelingBinarizer):
                    proba, own_labels = self.binarizer.predict_proba_and_labels(
                        image.data, record=record)
                else:
                    proba = self.binarizer.predict_proba(image.data, record=record)
            else:
                proba = self._predict_lazily(image, stem, scratch)
            return self._finish(image, proba, stem, steps, scratch, own_labels)

    def _predict_lazily(self, image: ImageZYX, stem: str,
                        scratch: contextlib.ExitStack) -> np.ndarray:
        from seglight.predict.lazy import scratch_array

        if not isinstance(self.binarizer, LargeImageBinarizer):
            raise SeglightError(
                f"{stem}: the image is larger than max_in_memory_voxels and this binarizer "
                "needs it whole; raise max_in_memory_voxels if the machine has the memory"
            )
        if self.options.save_intermediates:
            log.warning("%s: save_intermediates is not applied to an image processed window "
                        "by window", stem)
        folder = self.options.output_dir
        proba = scratch.enter_context(scratch_array(folder, image.shape, np.float32))
        with scratch_array(folder, image.shape, np.float32) as weights:
            self.binarizer.predict_proba_lazy(image.data, out=proba, weights=weights)
        return proba

    def _finish(self, image: ImageZYX, proba: np.ndarray, stem: str,
                steps: dict[str, np.ndarray], scratch: contextlib.ExitStack,
                own_labels: np.ndarray | None = None) -> list[Path]:
        """Threshold, size filter, QC, objects and write: the one path after any prediction."""
        opts = self.options
        written = []
        if opts.writes_proba:
            path = opts.output_dir / opts.proba_name.format(stem=stem)
            _write_proba(path, proba, image.spacing_um, opts.proba_dtype)
            written.append(path)
        mask = self._mask(proba, scratch, image.in_memory) if opts.writes_mask else None
        del proba
        if steps:
            from seglight.classic.intermediates import save_intermediates

            final = mask if mask is not None else np.zeros(image.shape, np.uint8)
            save_intermediates(opts.output_dir, stem, image, steps, final)
        if opts.qc:
            written.append(self._write_qc(image, mask, stem))
        if opts.labels and mask is not None:
            if image.in_memory:
                written += self._write_objects(image, mask, own_labels, stem)
            else:
                log.warning(
                    "%s: no labels for an image processed window by window (over "
                    "max_in_memory_voxels=%d); label its mask with seglight.measure, or raise "
                    "max_in_memory_voxels if the machine has the memory", stem,
                    opts.max_in_memory_voxels)
        if mask is not None:
            # The mask last: it is what the Curator and a resumed run look for.
            path = opts.output_dir / opts.mask_name.format(stem=stem)
            write_ome_tiff(path, mask, image.spacing_um, "segmentation")
            written.append(path)
        return written

    def _write_objects(self, image: ImageZYX, mask: np.ndarray,
                       own_labels: np.ndarray | None, stem: str) -> list[Path]:
        """Write the label image and the object table of one image; return their paths."""
        from seglight.measure import measure_objects, write_object_table

        opts = self.options
        labels = object_labels(mask, own_labels, stem, opts.split_touching,
                               image.spacing_um)
        table = measure_objects(labels, image.data, image.spacing_um)
        table_path = write_object_table(opts.output_dir / opts.objects_name.format(stem=stem),
                                        table)
        labels_path = opts.output_dir / opts.labels_name.format(stem=stem)
        write_ome_tiff(labels_path, labels, image.spacing_um, "labels")
        return [table_path, labels_path]

    def _mask(self, proba: np.ndarray, scratch: contextlib.ExitStack,
              in_memory: bool) -> np.ndarray:
        """The uint8 0/255 mask: probabilities above the threshold, objects below
        ``min_size`` dropped; for a large image, in a memory map, slab by slab."""
        min_size = int(self.options.min_size)
        if in_memory:
            mask = drop_objects_below(proba > self.threshold, min_size)
            return mask.astype(np.uint8) * np.uint8(255)
        from seglight.predict.lazy import remove_small_objects_on_disk, scratch_array

        folder = self.options.output_dir
        mask = scratch.enter_context(scratch_array(folder, proba.shape, np.uint8))
        for z in range(proba.shape[0]):  # slab by slab: no image-sized temporary
            mask[z] = (proba[z] > self.threshold) * np.uint8(255)
        remove_small_objects_on_disk(mask, min_size, folder)
        return mask

    def _write_qc(self, image: ImageZYX, mask: np.ndarray | None, stem: str) -> Path:
        from seglight.viz import panel, save_png

        columns = [("input", image.data)]
        if mask is not None:
            columns.append(("mask", mask))
        rgb = panel(columns, outline_mask=mask, outline_on=(0,))
        return save_png(self.options.output_dir / self.options.qc_name.format(stem=stem), rgb)

    # -- many files -------------------------------------------------------------------------

    def run(self, paths: Iterable[str | Path], progress: bool = True,
            on_progress: Progress | None = None,
            should_stop: Callable[[], bool] | None = None) -> Summary:
        """Process files one after another; return the summary.

        This is what a GUI calls from a worker thread (the napari workflow editor's "Run on
        folder")::

            summary = runner.run(files, progress=False,
                                 on_progress=lambda done, total, path: ...,
                                 should_stop=lambda: cancel_requested)

        Args:
            paths: the input files (:func:`find_inputs`).
            progress: a tqdm progress bar of files (a terminal's).
            on_progress: called as ``on_progress(done, total, path)`` after each file, with
                the number of files finished, the number of files, and the file just
                finished (written, skipped or failed); from the thread that runs ``run``.
            should_stop: checked before each file and each image of a file: once it returns
                true the run stops there (the image in progress is finished and written
                whole) and returns the summary so far. Outputs written are kept, so the same
                run started again resumes where it stopped.

        Returns:
            The :class:`~seglight.summary.Summary`: images written, skipped (outputs
            existed) and failed (with one line each). Images left by a stop are not counted.
        """
        paths = [Path(p) for p in paths]
        summary = Summary()
        bar = None
        if progress:
            from tqdm.auto import tqdm

            bar = tqdm(total=len(paths), desc="files", unit="file")
        stopped = False
        for done, path in enumerate(paths, start=1):
            if should_stop is not None and should_stop():
                stopped = True
                break
            summary.add(self.process_file(path, should_stop))
            if bar is not None:
                bar.update(1)
                bar.set_postfix_str(summary.line())
            if on_progress is not None:
                on_progress(done, len(paths), path)
        if bar is not None:
            bar.close()
        if stopped:
            log.warning("stopped after %s; run again to resume", summary.line())
        return summary


def object_labels(mask: np.ndarray, own_labels: np.ndarray | None, stem: str = "",
                  split_touching: float | None = None,
                  spacing_um: Any = None) -> np.ndarray:
    """The objects of a final mask, numbered 1..n (uint16, or uint32 past 65,535 objects).

    Args:
        mask: the final ZYX mask (after threshold and ``min_size``; nonzero is foreground).
        own_labels: the binarizer's own label image
            (:meth:`~seglight.binarizer.LabelingBinarizer.predict_proba_and_labels`), or
            ``None``.
        stem: the image's name, for the error message.
        split_touching: split touching objects (:func:`seglight.measure.split_touching`)
            with seeds this far apart (µm); ``None`` or 0: no splitting.
        spacing_um: the voxel size (z, y, x) in µm, for the splitting's distances.

    Returns:
        With ``own_labels``: each of its labels kept inside the mask only, renumbered in the
        order of their values; mask voxels it leaves at 0 (a watershed line) stay 0, and an
        object the mask no longer touches (below ``min_size``) is gone. Without: the
        26-connected components of the mask, the same objects ``min_size`` counts.

    Raises:
        RuntimeError: ``own_labels`` is not an integer image of the mask's shape (a bug of
            the binarizer).
    """
    from seglight.measure import label_objects, relabel_consecutive
    from seglight.measure import split_touching as split

    if own_labels is None:
        labels = relabel_consecutive(label_objects(mask, connectivity=3))
    else:
        own_labels = np.asarray(own_labels)
        if own_labels.shape != mask.shape or not np.issubdtype(own_labels.dtype, np.integer):
            raise RuntimeError(
                f"{stem}: the binarizer's label image is {own_labels.dtype} "
                f"{own_labels.shape}, not integer labels of the image's shape {mask.shape}")
        labels = relabel_consecutive(own_labels, mask)
    return split(labels, spacing_um, split_touching) if split_touching else labels


def options_from(cfg: Any) -> OutputOptions:
    """:class:`OutputOptions` from the ``predict.yaml`` config (or any mapping alike)."""

    def selection(value: Any) -> list[int] | None:
        if value is None or value == "all":
            return None
        if isinstance(value, int):
            return [value]
        return [int(v) for v in value]

    channel = cfg.get("channel", 0)
    return OutputOptions(
        output_dir=Path(str(cfg["output"])),
        threshold=None if cfg.get("threshold") is None else float(cfg["threshold"]),
        write_proba=bool(cfg.get("write_proba", False)),
        proba_dtype=str(cfg.get("proba_dtype", "float32")),
        min_size=int(cfg.get("min_size", 0)),
        mask_name=str(cfg.get("mask_name", MASK_NAME)),
        proba_name=str(cfg.get("proba_name", PROBA_NAME)),
        qc=bool(cfg.get("qc", False)),
        qc_name=str(cfg.get("qc_name", QC_NAME)),
        save_intermediates=bool(cfg.get("save_intermediates", False)),
        labels=bool(cfg.get("labels", False)),
        labels_name=str(cfg.get("labels_name", LABELS_NAME)),
        split_touching=(None if not cfg.get("split_touching")
                        else float(cfg["split_touching"])),
        objects_name=str(cfg.get("objects_name", OBJECTS_NAME)),
        overwrite=bool(cfg.get("overwrite", False)),
        channel=channel if isinstance(channel, int) else str(channel),
        scenes=selection(cfg.get("scenes")),
        timepoints=selection(cfg.get("timepoints")),
        max_in_memory_voxels=int(cfg.get("max_in_memory_voxels", 500_000_000)),
    )
