"""Resuming a run is continuing it: ``ckpt_path=<run>/checkpoints/last.ckpt``.

* The resumed part writes into the original run folder (:func:`continue_in_run_folder`), so
  Lightning's ``ModelCheckpoint`` reloads its best-model tracking (it does only when its
  folder is unchanged) and ``best.ckpt`` stays the best of the whole run; the folder Hydra
  made for the resuming command keeps that command's config and log, and a ``continues``
  link to the run folder (whose ``resumes.txt`` lists it back).
* ``csv/metrics.csv`` keeps the rows of the earlier parts (Lightning's CSV logger starts a new
  file; :func:`keep_csv_rows` puts them back in front).
* :class:`RngStates` saves the random states (Python, NumPy, torch, CUDA) in every checkpoint
  and restores them when training restarts, after the sanity check: the random patches and
  augmentations (drawn from torch's generator, :mod:`seglight.data.patches`) continue as if
  the run had not stopped. With ``data.num_workers=0``, a run stopped at an epoch's end and
  resumed logs the same numbers as one that did not stop (``tests/training/test_resume.py``).
"""

from __future__ import annotations

import contextlib
import csv
import logging
import os
import random
import warnings
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import lightning as L
import numpy as np
import torch
from omegaconf import DictConfig, open_dict

from seglight.sweep import RESULT_FILE

log = logging.getLogger("seglight.train")


def run_folder_of(ckpt_path: str | Path | None) -> Path | None:
    """The run folder of a checkpoint in ``<run>/checkpoints/`` of a seglight run (one with
    ``.hydra/`` or ``result.json``), else None."""
    if not ckpt_path:
        return None
    ckpt = Path(str(ckpt_path)).resolve()
    run = ckpt.parent.parent
    if ckpt.is_file() and ckpt.parent.name == "checkpoints" and ((run / ".hydra").is_dir()
                                              or (run / RESULT_FILE).is_file()):
        return run
    return None


def continue_in_run_folder(cfg: DictConfig) -> bool:
    """Point ``cfg.paths.output_dir`` at the run folder of ``cfg.ckpt_path`` and link the two
    folders; False (nothing changed) when there is no run folder to continue in."""
    run = run_folder_of(cfg.get("ckpt_path"))
    here = Path(str(cfg.paths.output_dir)).resolve()
    if run is None or run == here:
        return run is not None
    with open_dict(cfg):
        cfg.paths.output_dir = str(run)
    stamp = datetime.now().isoformat(timespec="seconds")
    with open(run / "resumes.txt", "a", encoding="utf-8") as f:
        f.write(f"{stamp} resumed from {cfg.ckpt_path}; that command's config and log: {here}\n")
    if here.is_dir():
        with contextlib.suppress(OSError):  # (a filesystem without symlinks: resumes.txt says it)
            (here / "continues").symlink_to(run, target_is_directory=True)
    log.info("resuming %s: the run continues in its folder %s (this command's config and log: "
             "%s)", cfg.ckpt_path, run, here)
    return True


@contextlib.contextmanager
def keep_csv_rows(output_dir: str | Path, ckpt_path: str | Path | None) -> Iterator[None]:
    """Around a resumed fit: the rows ``csv/metrics.csv`` had up to the checkpoint's step stay
    in front of the resumed part's (Lightning's CSV logger would delete them)."""
    if not ckpt_path:
        yield
        return
    with warnings.catch_warnings():  # Lightning's, about the folders a resumed run reuses
        warnings.filterwarnings("ignore", message=r".*(Experiment logs|Checkpoint) directory "
                                r".* exists and is not empty")
        path = Path(output_dir) / "csv" / "metrics.csv"
        if not path.is_file():
            yield
            return
        step = int(torch.load(str(ckpt_path), map_location="cpu",
                              weights_only=True)["global_step"])
        earlier = path.with_name("metrics.before_resume.csv")
        os.replace(path, earlier)
        try:
            yield
        finally:
            _merge_rows(earlier, path, step)


def _merge_rows(earlier: Path, path: Path, step: int) -> None:
    """``path`` = the rows of ``earlier`` up to ``step``, then those of ``path``."""
    from seglight.io.atomic import atomic_path

    with open(earlier, newline="", encoding="utf-8") as f:
        rows = [r for r in csv.DictReader(f) if _step(r) <= step]
    new = []
    if path.is_file():
        with open(path, newline="", encoding="utf-8") as f:
            new = list(csv.DictReader(f))
    keys = sorted({k for row in rows + new for k in row})
    with atomic_path(path, suffix=".csv") as tmp:
        with open(tmp, "w", newline="", encoding="utf-8") as f:
            writer = csv.DictWriter(f, fieldnames=keys)
            writer.writeheader()
            writer.writerows(rows + new)
    earlier.unlink()


def _step(row: dict[str, str]) -> int:
    try:
        return int(float(row.get("step") or -1))
    except ValueError:
        return -1


class RngStates(L.Callback):
    """Saves the random states in checkpoints; restores them when the resumed training starts
    (after the sanity check, whose validation batches would otherwise consume them)."""

    def __init__(self) -> None:
        self._restore: dict[str, Any] | None = None

    def state_dict(self) -> dict[str, Any]:
        # plain data and tensors only: checkpoints are opened with weights_only=True
        name, keys, pos, has_gauss, gauss = np.random.get_state()  # noqa: NPY002 (the global one)
        state = {"python": random.getstate(), "torch": torch.get_rng_state(),
                 "numpy": [name, torch.from_numpy(keys.astype(np.int64)), int(pos),
                           int(has_gauss), float(gauss)]}
        if torch.cuda.is_available() and torch.cuda.is_initialized():
            state["cuda"] = torch.cuda.get_rng_state_all()
        return state

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        self._restore = state_dict

    def on_train_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        state, self._restore = self._restore, None
        if not state:
            return
        random.setstate(_as_python_state(state["python"]))
        name, keys, pos, has_gauss, gauss = state["numpy"]
        np.random.set_state((name, keys.numpy().astype(np.uint32), pos, has_gauss, gauss))  # noqa: NPY002
        torch.set_rng_state(torch.as_tensor(state["torch"], dtype=torch.uint8).cpu())
        if "cuda" in state and torch.cuda.is_available():
            with contextlib.suppress(RuntimeError):  # another number of GPUs than saved with
                torch.cuda.set_rng_state_all(state["cuda"])


def _as_python_state(state: Any) -> tuple:
    """``random.getstate()`` back as tuples (a checkpoint round trip may give lists)."""
    version, internal, gauss = state
    return (version, tuple(internal), gauss)
