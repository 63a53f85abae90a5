"""Plan a training run from the data: ``python -m seglight.plan data.path=DIR``.

- :mod:`~seglight.planning.fingerprint`: what a curated folder holds (voxel sizes, shapes,
  intensities, foreground, object thickness and size, costmap coverage);
- :mod:`~seglight.planning.rules`: the decisions, each with a one-line reason;
- :mod:`~seglight.planning.timing`: real training steps timed and their memory counted;
- :mod:`~seglight.planning.planner`: the three together (:func:`make_plan`);
- :mod:`~seglight.planning.plan_file`: ``plan.yaml``, and ``plan=`` for training.
"""

from __future__ import annotations

import shutil
import textwrap
from dataclasses import asdict
from pathlib import Path

from seglight.planning.plan_file import expand_plan_argument, header_lines, write_plan
from seglight.planning.planner import make_plan, overrides, parse_duration
from seglight.planning.rules import Decision, Plan


def plan_table(plan: Plan, width: int | None = None) -> str:
    """The plan as a three-column table: setting, value, reason (info rows in brackets)."""
    width = width or max(100, shutil.get_terminal_size((120, 20)).columns)
    rows = [(d.key if d.applied else f"({d.key})", _short(d.value), d.reason)
            for d in plan.decisions]
    k = max(len(r[0]) for r in rows)
    v = min(max(len(r[1]) for r in rows), 34)
    reason_width = max(30, width - k - v - 4)
    lines = [f"{'setting':<{k}}  {'value':<{v}}  reason",
             "-" * min(width, k + v + 4 + reason_width)]
    for key, value, reason in rows:
        wrapped = textwrap.wrap(reason, reason_width) or [""]
        value_lines = textwrap.wrap(value, v) or [""]
        for i in range(max(len(wrapped), len(value_lines))):
            lines.append(f"{key if i == 0 else '':<{k}}  "
                         f"{value_lines[i] if i < len(value_lines) else '':<{v}}  "
                         f"{wrapped[i] if i < len(wrapped) else ''}".rstrip())
    return "\n".join(lines)


def _short(value) -> str:
    if isinstance(value, dict):
        return ", ".join(f"{k}: {v}" for k, v in value.items() if k != "_partial_")
    if isinstance(value, list):
        return "[" + ", ".join(map(str, value)) + "]"
    return str(value)


def save_plan(plan: Plan, path: str | Path, command: str) -> Path:
    """Write ``plan`` to ``path`` as an editable ``plan.yaml`` (see :mod:`plan_file`)."""
    fp = plan.fingerprint.as_dict()
    measured = asdict(plan.measured) if plan.measured else None
    sections = {
        "plan": {
            "device": plan.request.device,
            "budget_s": round(plan.request.budget_s),
            "memory_gb": round(plan.request.memory_bytes / 1e9, 2),
            "memory_source": plan.request.memory_source,
            "threads": plan.request.threads,
            "info": {d.key: d.value for d in plan.decisions if not d.applied},
            "notes": plan.notes,
        },
        "measured": measured,
        "fingerprint": _rounded(fp),
    }
    rows = [(d.key, d.value, d.reason) for d in plan.decisions if d.applied]
    return write_plan(path, rows, header_lines(plan.fingerprint.path, command), sections)


def _rounded(value):
    if isinstance(value, float):
        return float(f"{value:.4g}")
    if isinstance(value, dict):
        return {k: _rounded(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_rounded(v) for v in value]
    return value


__all__ = ["Decision", "Plan", "expand_plan_argument", "make_plan", "overrides",
           "parse_duration", "plan_table", "save_plan"]
