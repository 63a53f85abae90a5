"""Hydra multiruns (grid sweeps and Optuna studies): job folders named by what they vary, each
run's ``result.json``, and the table a sweep ends with.

* ``${seglight_job_dir:...}`` (``conf/hydra/default.yaml``: ``hydra.sweep.subdir``) names a
  job's folder by its number and the overrides the sweep varies, shortened and safe on any
  filesystem: ``3_model=basic_unet,lr=0.003``.
* :class:`SweepSummary` (a Hydra callback, ``hydra.callbacks.sweep_summary``) gathers the
  jobs' ``result.json`` (written by :mod:`seglight.training.record`) into
  ``<sweep dir>/sweep_summary.csv`` and prints it as a table, best first.

Light on purpose (no torch): Hydra imports it for every command's multirun.
"""

from __future__ import annotations

import csv
import json
import logging
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from hydra.experimental.callback import Callback
from omegaconf import DictConfig, OmegaConf

log = logging.getLogger("seglight.sweep")

RESULT_FILE = "result.json"      # a run's record, in its folder
SWEEP_FILE = "sweep.json"        # what the sweep varies and its first job number
SUMMARY_FILE = "sweep_summary.csv"
MAX_NAME = 96                    # characters of a job folder's name

COLUMNS = ("job", "overrides", "metric", "mode", "best", "best_step", "best_epoch", "last",
           "wall_s", "cpu_s", "best_checkpoint", "status", "error", "folder", "all_overrides")


# -- a run's record -----------------------------------------------------------------------

def read_result(folder: str | Path) -> dict[str, Any] | None:
    """The ``result.json`` of a run folder, or None where it has none (or an unreadable one)."""
    try:
        return json.loads((Path(folder) / RESULT_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def write_result(folder: str | Path, result: Mapping[str, Any]) -> Path:
    """Write ``result`` as the folder's ``result.json``, atomically."""
    from seglight.io.atomic import atomic_path

    path = Path(folder) / RESULT_FILE
    with atomic_path(path, suffix=".json") as tmp:
        tmp.write_text(json.dumps(dict(result), indent=1, default=str), encoding="utf-8")
    return path


def one_line(err: BaseException) -> str:
    """An exception as one line: a SeglightError's message, else its type and first line."""
    from seglight.errors import SeglightError

    first = (str(err).strip().splitlines() or [""])[0]
    return first if isinstance(err, SeglightError) else f"{type(err).__name__}: {first}".strip()


def record_traceback(err: BaseException, cfg: DictConfig) -> str:
    """Write the traceback of a job's unexpected error to ``traceback.txt`` in its folder;
    returns `` (traceback in <path>)`` for the log line ('' for a SeglightError: its one
    line says it all)."""
    import traceback

    from seglight.errors import SeglightError

    if isinstance(err, SeglightError):
        return ""
    path = Path(str(cfg.paths.output_dir)) / "traceback.txt"
    try:
        path.write_text("".join(traceback.format_exception(err)), encoding="utf-8")
    except OSError:
        return ""
    return f" (traceback in {path})"


# -- job folders ----------------------------------------------------------------------------

def _split(override: str) -> tuple[str, str]:
    key, _, value = str(override).partition("=")
    return key.lstrip("+~"), value


def swept_keys(overrides: Iterable[str], sweeper_params: Mapping | None = None) -> list[str]:
    """The keys a multirun varies: command-line sweeps (``a=1,2``, ``range()``, ``choice()``,
    ``interval()``...) and the sweeper's ``params`` (Optuna's search space)."""
    from hydra.core.override_parser.overrides_parser import OverridesParser

    parsed = OverridesParser.create().parse_overrides([str(o) for o in overrides])
    keys = [o.key_or_group for o in parsed if o.is_sweep_override()]
    return keys + [str(k) for k in (sweeper_params or {}) if str(k) not in keys]


def sweep_info(sweep_dir: str | Path) -> dict[str, Any]:
    """``sweep.json`` of a sweep folder (written when the multirun starts), or {}."""
    try:
        return json.loads((Path(sweep_dir) / SWEEP_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def _short_value(key: str, value: str) -> str:
    from seglight.cli import PATH_KEYS

    value = value.strip("'\"")
    if key.rsplit(".", 1)[-1] in PATH_KEYS:
        return Path(value).name or value
    try:
        number = float(value)
    except ValueError:
        return value
    if math.isfinite(number) and not re.fullmatch(r"[+-]?\d+", value):
        return f"{number:.4g}"
    return value


def _short_keys(keys: Sequence[str]) -> dict[str, str]:
    """Each key's last component (``lr``), or the whole key where two would be the same."""
    last = [k.rsplit(".", 1)[-1] for k in keys]
    return {k: (s if last.count(s) == 1 else k) for k, s in zip(keys, last, strict=True)}


def job_overrides(overrides: Iterable[str], swept: Sequence[str] | None) -> list[str]:
    """The job's overrides of the swept keys (all of them where ``swept`` is None)."""
    items = [_split(o) for o in overrides]
    keys = list(swept) if swept is not None else [k for k, _ in items]
    return [f"{k}={v}" for k, v in items if k in keys]


def job_dirname(num: Any, overrides: Any, sweep_dir: Any) -> str:
    """A job's folder name: its number, then its values of the swept keys, e.g.
    ``3_model=basic_unet,lr=0.003`` (the ``seglight_job_dir`` resolver)."""
    info = sweep_info(str(sweep_dir))
    number = int(info.get("first_job", 0)) + int(num)
    parts = short_overrides(job_overrides(overrides or [], info.get("swept")))
    name = re.sub(r"[^\w.,=+-]", "_", f"{number}_{parts}" if parts else str(number))
    return name[:MAX_NAME]


def short_overrides(overrides: Sequence[str]) -> str:
    """``model.net.width=3 model.optimizer.lr=0.0030001`` as ``width=3,lr=0.003``."""
    chosen = [_split(o) for o in overrides]
    short = _short_keys([k for k, _ in chosen])
    return ",".join(f"{short[k]}={_short_value(k, v)}" for k, v in chosen)


def job_number(hydra_cfg: DictConfig) -> int:
    """The job's number in its sweep folder (continuing an extended Optuna study's)."""
    return int(sweep_info(hydra_cfg.sweep.dir).get("first_job", 0)) + int(hydra_cfg.job.num)


def register_resolver() -> None:
    """Register ``${seglight_job_dir:num,overrides,sweep_dir}`` (see :func:`job_dirname`)."""
    if not OmegaConf.has_resolver("seglight_job_dir"):
        OmegaConf.register_new_resolver("seglight_job_dir", job_dirname)


# -- the summary ----------------------------------------------------------------------------

def collect(sweep_dir: str | Path) -> list[dict[str, Any]]:
    """One row per job folder of ``sweep_dir`` with a ``result.json``, best first: finished
    jobs by their best value (the metric's mode), then jobs without one, then failed ones."""
    sweep_dir = Path(sweep_dir)
    swept = sweep_info(sweep_dir).get("swept")
    rows = []
    for path in sorted(sweep_dir.glob(f"*/{RESULT_FILE}")):
        result = read_result(path.parent)
        if result is None:
            continue
        overrides = [str(o) for o in result.get("overrides") or []]
        varied = job_overrides(overrides, swept)
        rows.append({**{c: result.get(c) for c in COLUMNS}, "short": short_overrides(varied),
                     "overrides": " ".join(varied),
                     "all_overrides": " ".join(overrides), "folder": str(path.parent)})

    def order(row: dict) -> tuple:
        best = row.get("best")
        sign = -1 if row.get("mode", "max") != "min" else 1
        failed = row.get("status") not in ("done", "running")
        return (failed, best is None, sign * best if best is not None else 0.0,
                row.get("job") if row.get("job") is not None else math.inf)

    return sorted(rows, key=order)


def write_summary(rows: Sequence[Mapping[str, Any]], path: str | Path) -> Path:
    """Write the rows as CSV (``COLUMNS``), atomically."""
    from seglight.io.atomic import atomic_path

    path = Path(path)
    with atomic_path(path, suffix=".csv") as tmp:
        with open(tmp, "w", newline="", encoding="utf-8") as f:
            writer = csv.DictWriter(f, fieldnames=COLUMNS, extrasaction="ignore")
            writer.writeheader()
            writer.writerows(rows)
    return path


def _number(value: Any, digits: int = 4) -> str:
    return "-" if value is None else f"{float(value):.{digits}f}"


def format_table(rows: Sequence[Mapping[str, Any]], sweep_dir: str | Path) -> str:
    """The rows as a fixed-width table for a terminal (checkpoints relative to the sweep)."""
    metric = next((r["metric"] for r in rows if r.get("metric")), "metric")
    header = ["job", "overrides", f"best {metric}", "at step (epoch)", "last", "wall s",
              "CPU s", "best checkpoint", "status"]
    lines = [header]
    for row in rows:
        ckpt = row.get("best_checkpoint") or row.get("last_checkpoint") or "-"
        try:
            ckpt = str(Path(ckpt).relative_to(Path(sweep_dir).resolve()))
        except ValueError:
            pass
        where = (f"{row['best_step']} ({row['best_epoch']})"
                 if row.get("best_step") is not None else "-")
        status = str(row.get("status") or "?")
        if row.get("error"):
            status += f": {row['error']}"
        lines.append([str(row.get("job", "-")), row.get("short") or "-",
                      _number(row.get("best")), where, _number(row.get("last")),
                      _number(row.get("wall_s"), 1), _number(row.get("cpu_s"), 1), ckpt, status])
    widths = [max(len(line[i]) for line in lines) for i in range(len(header) - 1)]
    return "\n".join("  ".join(cell.ljust(w) for cell, w in zip(line, widths, strict=False))
                     + "  " + line[-1] for line in lines)


class SweepSummary(Callback):
    """Hydra callback: names job folders, and ends every multirun with the summary table.

    At the start it writes ``<sweep dir>/sweep.json`` (the swept keys, and the first job
    number: an extended study continues the numbering of its folder); after each job, a line;
    at the end, ``sweep_summary.csv`` and the table, best first. A job that raised is a row
    with its one-line error (``seglight.training.train`` records its own failures and returns
    None, so the sweep goes on); the command then exits with status 1.
    """

    def on_multirun_start(self, config: DictConfig, **kwargs: Any) -> None:
        sweep_dir = Path(config.hydra.sweep.dir)
        sweep_dir.mkdir(parents=True, exist_ok=True)  # before Optuna opens its study there
        done = [r.get("job") for r in map(read_result, sweep_dir.iterdir()) if r] \
            if sweep_dir.is_dir() else []
        numbers = [int(j) for j in done if j is not None]
        info = {"swept": swept_keys(config.hydra.overrides.task,
                                    OmegaConf.select(config, "hydra.sweeper.params")),
                "first_job": max(numbers) + 1 if numbers else 0,
                "overrides": list(config.hydra.overrides.task)}
        (sweep_dir / SWEEP_FILE).write_text(json.dumps(info, indent=1), encoding="utf-8")

    def on_job_end(self, config: DictConfig, job_return: Any, **kwargs: Any) -> None:
        from hydra.core.utils import JobStatus
        from hydra.types import RunMode

        if config.hydra.mode != RunMode.MULTIRUN:  # a single run: nothing to gather
            return
        folder = Path(config.hydra.runtime.output_dir)
        result = read_result(folder)
        if job_return.status == JobStatus.FAILED:  # raised past the task (not a train job)
            result = {**(result or {}), "status": "failed",
                      "error": one_line(job_return._return_value),
                      "job": job_number(config.hydra),
                      "overrides": [str(o) for o in job_return.overrides or []]}
            write_result(folder, result)
        if result is not None:
            log.info("job %s %s: %s %s best %s", result.get("job"), folder.name,
                     result.get("status"), result.get("metric"), _number(result.get("best")))

    def on_multirun_end(self, config: DictConfig, **kwargs: Any) -> None:
        sweep_dir = Path(config.hydra.sweep.dir)
        rows = collect(sweep_dir)
        if not rows:  # a multirun of another command (predict...): nothing to sum up
            return
        path = write_summary(rows, sweep_dir / SUMMARY_FILE)
        failed = [r for r in rows if r.get("status") == "failed"]
        print(f"\nsweep: {len(rows)} job(s), {len(failed)} failed; best first "
              f"({path}):\n{format_table(rows, sweep_dir)}", flush=True)
        if any((Path(r["folder"]) / "tensorboard").is_dir() for r in rows):
            print(f"compare them in TensorBoard (HParams tab): tensorboard --logdir {sweep_dir}",
                  flush=True)
        if failed:
            print(f"error: {len(failed)} of {len(rows)} job(s) failed (the status column says "
                  "why)", flush=True)
            raise SystemExit(1)
