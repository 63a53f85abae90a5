"""Held-out evaluation of trained checkpoints: :func:`evaluate_checkpoints`.

``python -m seglight.evaluate ckpt_path=<ckpt | [a,b] | run or sweep folder>
data.path=<curated folder> split=test`` runs it: each checkpoint predicts the images of the
split it recorded when it was trained (:mod:`seglight.data.splits`) through the predict
runner, its masks are scored against the curated ground truth (voxels where the costmap is 0
left out, as in training), and one table, CSV and PNG list a row per checkpoint (its pooled
scores) and a row per image.
"""

from __future__ import annotations

import logging
import math
import os
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from seglight.data.splits import CHECKPOINT_KEY, names_of
from seglight.errors import ConfigError, SeglightError
from seglight.evaluation.folders import evaluate
from seglight.evaluation.report import (
    COLUMNS,
    FAILED,
    OVERALL,
    SCORED,
    cell,
    write_rows,
)
from seglight.io.checkpoint import load_checkpoint
from seglight.io.curated import CM_SUFFIX, GT_SUFFIX, find_triplets

log = logging.getLogger("seglight.evaluation")

#: The checkpoint a run folder is represented by, in order of preference.
PREFERRED = ("best.ckpt", "last.ckpt")
CSV_NAME, PNG_NAME = "evaluation.csv", "evaluation.png"
#: Columns of the combined CSV: the model's, then the single-folder report's.
MODEL_COLUMNS = ("model", "checkpoint", "overrides", "split", "n_images")
_TABLE = (("n_images", "images", 6), ("dice", "Dice", 6), ("iou", "IoU", 6),
          ("object_f1", "objF1", 6), ("hd95_um", "HD95 µm", 8))


def _natural(path: Path) -> list:
    return [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", str(path))]


def _pick(folder: Path) -> list[Path]:
    """The checkpoint(s) of one folder of ``.ckpt`` files: best.ckpt, else last.ckpt, else
    every one."""
    for name in PREFERRED:
        if (folder / name).is_file():
            return [folder / name]
    return sorted(folder.glob("*.ckpt"), key=_natural)


def find_checkpoints(spec: str | Path | Sequence[str | Path]) -> list[Path]:
    """The checkpoints that ``ckpt_path=`` names.

    Args:
        spec: a ``.ckpt`` file, a list of them, or a folder: a run, a sweep (every run below
            it), or a ``checkpoints/`` folder; each folder of checkpoints gives its
            ``best.ckpt`` (else ``last.ckpt``, else every ``.ckpt``).

    Raises:
        ConfigError: a path that does not exist, or a folder without checkpoints.
    """
    items = [spec] if isinstance(spec, (str, Path)) else list(spec)
    found: list[Path] = []
    for item in items:
        path = Path(item)
        if path.is_file():
            found.append(path)
        elif path.is_dir():
            folders = sorted({p.parent for p in path.rglob("*.ckpt")}, key=_natural)
            picked = [c for folder in folders for c in _pick(folder)]
            if not picked:
                raise ConfigError(f"ckpt_path={path}: no .ckpt file in this folder or below; "
                                  "pass a run or sweep folder of python -m seglight.train")
            found += picked
        else:
            raise ConfigError(f"ckpt_path={path}: no such checkpoint file or folder")
    return list(dict.fromkeys(found))


def run_folder(ckpt: Path) -> Path:
    """The run folder of a checkpoint (the parent of its ``checkpoints/`` folder)."""
    return ckpt.parent.parent if ckpt.parent.name == "checkpoints" else ckpt.parent


def _overrides(ckpt: Path) -> str:
    path = run_folder(ckpt) / ".hydra" / "overrides.yaml"
    if not path.is_file():
        return ""
    from omegaconf import OmegaConf

    return " ".join(str(o) for o in OmegaConf.load(path))


def model_names(ckpts: Sequence[Path]) -> dict[Path, str]:
    """A short, unique name per checkpoint: its path below the folder the runs share."""
    runs = [run_folder(c).resolve() for c in ckpts]
    root = Path(os.path.commonpath([r.parent for r in runs])) if runs else Path()
    return {c: c.resolve().relative_to(root).as_posix() for c in ckpts}


def default_out(ckpts: Sequence[Path], split: str) -> Path:
    """``<the folder the runs share>/evaluation_<split>`` (a sweep's own folder for a sweep)."""
    runs = [run_folder(c).resolve() for c in ckpts]
    root = runs[0] if len(runs) == 1 else Path(os.path.commonpath(runs))
    return root / f"evaluation_{split}"


@dataclass
class CheckpointsReport:
    """One row per checkpoint (``image = overall``: its pooled scores) and per image.

    Attributes:
        models: the checkpoints' rows, best Dice first, failed ones last.
        images: the per-image rows, by checkpoint then image.
        csv_path: the CSV written, if it was.
        png_path: the chart written, if it was.
    """

    models: list[dict[str, Any]]
    images: list[dict[str, Any]] = field(default_factory=list)
    csv_path: Path | None = None
    png_path: Path | None = None

    @property
    def failures(self) -> list[str]:
        """One line per checkpoint or image that could not be scored."""
        return [r["error"] for r in [*self.models, *self.images] if r.get("error")]

    def table(self) -> str:
        """A fixed-width table, one row per checkpoint; of the runs' overrides, those that
        differ between them (all of them in the CSV)."""
        width = max(len("model"), *(len(r["model"]) for r in self.models))
        split = [r.get("overrides", "").split() for r in self.models]
        shared = set.intersection(*map(set, split)) if len(split) > 1 else set()
        lines = ["model".ljust(width) + "".join(h.rjust(w + 1) for _, h, w in _TABLE)
                 + ("  overrides" + (" (those that differ)" if shared else ""))]
        for row in self.models:
            if row["status"] == FAILED:
                lines.append(row["model"].ljust(width) + "  failed: " + row["error"])
                continue
            varying = [o for o in row.get("overrides", "").split() if o not in shared]
            lines.append(row["model"].ljust(width)
                         + "".join(" " + cell(row.get(k), w) for k, _, w in _TABLE)
                         + "  " + " ".join(varying))
        return "\n".join(lines)

    def write_csv(self, path: str | Path) -> Path:
        """The model rows, then the image rows, atomically; returns the path."""
        self.csv_path = write_rows(path, [*MODEL_COLUMNS, *COLUMNS],
                                   [*self.models, *self.images])
        return self.csv_path

    def write_png(self, path: str | Path) -> Path:
        """Per checkpoint: pooled Dice and object F1 bars, each image's Dice as a dot."""
        from seglight.evaluation.chart import plot_models

        self.png_path = plot_models(self, path)
        return self.png_path


def _score_one(ckpt: Path, name: str, data_path: str | Path | None, split: str,
               pred_dir: Path, device: str, log_line: Callable[[str], None],
               ) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Predict and score one checkpoint; returns its model row and its image rows."""
    from seglight.predict.build import build_binarizer
    from seglight.predict.runner import OutputOptions, PredictRunner

    base = {"model": name, "checkpoint": str(ckpt), "overrides": _overrides(ckpt),
            "split": split}
    record = load_checkpoint(ckpt).get(CHECKPOINT_KEY)
    folder = data_path or (record or {}).get("path")
    if not folder:
        raise ConfigError(f"{ckpt}: no data folder recorded; pass data.path=<curated folder>")
    triplets = {t.name: t for t in find_triplets(folder)}
    names = names_of(record, split, list(triplets), str(ckpt))
    missing = [n for n in names if n not in triplets]
    if missing:
        raise SeglightError(f"{ckpt}: its {split} images {missing} are not in {folder}; pass "
                            "data.path= the folder it was trained on")
    binarizer = build_binarizer(ckpt_path=ckpt, device=device)
    runner = PredictRunner(binarizer, OutputOptions(output_dir=pred_dir, overwrite=True))
    summary = runner.run([triplets[n].image for n in names], progress=False)
    for line in summary.failures:
        log_line(line)
    report = evaluate(pred_dir, folder, costmap=folder, gt_suffix=GT_SUFFIX,
                      costmap_suffix=CM_SUFFIX, out=pred_dir, log=log_line)
    wanted = set(names)
    images = [{**base, **row} for row in report.rows if row["image"] in wanted]
    model = {**base, **report.overall, "image": OVERALL}
    failed = [r for r in images if r["status"] != SCORED]
    if failed:
        model["error"] = f"{len(failed)} of {len(names)} image(s) not scored (see the CSV)"
    return model, images


def evaluate_checkpoints(ckpt_path: str | Path | Sequence[str | Path],
                         data_path: str | Path | None = None, split: str = "test",
                         out: str | Path | None = None, device: str = "auto",
                         log_line: Callable[[str], None] | None = None) -> CheckpointsReport:
    """Predict the ``split`` images with each checkpoint and score them.

    Args:
        ckpt_path: a checkpoint, a list of them, or a run or sweep folder
            (:func:`find_checkpoints`).
        data_path: the curated folder; default: the one each checkpoint recorded.
        split: ``test``, ``val``, ``train`` (the checkpoint's recorded names) or ``all``
            (every image of the folder).
        out: folder for ``evaluation.csv``, ``evaluation.png`` and
            ``predictions/<model>/`` (masks and each model's own evaluation files);
            default :func:`default_out`.
        device: where the networks run (``auto``, ``cpu``, ``cuda``).
        log_line: receives one line per problem (default: a warning).

    Returns:
        The report; a checkpoint that cannot be evaluated (no recorded split, an empty
        split, a missing image) is a failed row with its one line, and the others go on.
    """
    log_line = log_line or log.warning
    ckpts = find_checkpoints(ckpt_path)
    names = model_names(ckpts)
    out = Path(out) if out else default_out(ckpts, split)
    models, images = [], []
    for ckpt in ckpts:
        folder = out / "predictions" / re.sub(r"[^\w.-]+", "_", names[ckpt].removesuffix(".ckpt"))
        try:
            model, rows = _score_one(ckpt, names[ckpt], data_path, split, folder, device,
                                     log_line)
        except SeglightError as err:
            log_line(str(err))
            model, rows = {"model": names[ckpt], "checkpoint": str(ckpt), "split": split,
                           "overrides": _overrides(ckpt), "image": OVERALL, "status": FAILED,
                           "error": str(err)}, []
        models.append(model)
        images += rows
    models.sort(key=lambda r: (r["status"] == FAILED,
                               -r["dice"] if math.isfinite(r.get("dice", math.nan)) else 0))
    report = CheckpointsReport(models, images)
    report.write_csv(out / CSV_NAME)
    report.write_png(out / PNG_NAME)
    return report
