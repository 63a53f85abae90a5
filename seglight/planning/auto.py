"""``plan=`` and ``experiment=auto`` for ``python -m seglight.train``: the command line is
rewritten before Hydra reads it.

- ``plan=plan.yaml``: the plan's overrides go first, the user's after them (so theirs win);
- ``experiment=auto``: the folder (``data.path``, or the demo) is planned first, with
  ``auto.budget``, ``auto.device`` and ``auto.memory_gb`` (``conf/experiment/auto.yaml``);
  the plan is written under ``runs/train_auto/plans/`` and applied as ``plan=`` is.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from seglight.errors import ConfigError
from seglight.planning.plan_file import expand_plan_argument, override_key, take_plan_argument

AUTO = "experiment=auto"
#: The settings the planner reads from the training command line; the others (any key the
#: plan sets, such as ``callbacks.ema.decay``, which ``conf/train.yaml`` leaves empty) apply
#: to the training run only, after the plan.
PLANNER_READS = ("data", "paths", "auto", "budget", "task_name", "experiment", "hydra")


def _planner_arguments(args: Sequence[str]) -> list[str]:
    return [a for a in args
            if (key := override_key(a)) and key.split(".", 1)[0].split("@", 1)[0] in PLANNER_READS]


def plan_for_auto(args: Sequence[str]) -> Path:
    """Plan the folder the command line trains on; the path of the plan written."""
    from omegaconf import OmegaConf

    from seglight.planning import make_plan, plan_table, save_plan
    from seglight.planning.planner import compose_train

    cfg = compose_train(_planner_arguments(args))
    folder = Path(str(cfg.data.path))
    if cfg.data.get("demo") is not None:
        from seglight.data.demo import ensure_demo_dataset

        ensure_demo_dataset(folder, **OmegaConf.to_container(cfg.data.demo, resolve=True))
    auto = cfg.get("auto") or {}
    budget = cfg.get("budget") or auto.get("budget") or "30min"
    plan = make_plan(folder, budget=budget, device=auto.get("device", "auto"),
                     memory_gb=auto.get("memory_gb"), clock=auto.get("clock", "wall"))
    stamp = datetime.now().strftime("%Y-%m-%d_%H-%M-%S")
    path = Path(str(cfg.paths.log_dir)) / str(cfg.task_name) / "plans" / f"{stamp}_plan.yaml"
    save_plan(plan, path, "python -m seglight.train " + " ".join(args))
    print(plan_table(plan), file=sys.stderr)
    print(f"plan written to {path}", file=sys.stderr, flush=True)
    return path


def train_arguments(args: Sequence[str]) -> list[str]:
    """The training command line with ``plan=`` expanded and ``experiment=auto`` planned.

    Raises:
        ConfigError: a missing or malformed plan, both ``plan=`` and ``experiment=auto``, or
            a folder or budget the planner refuses (one line).
    """
    args = list(args)
    if AUTO in args and not any(a in ("--help", "-h", "--cfg", "-c") for a in args):
        plan, _ = take_plan_argument(args)
        if plan is not None:
            raise ConfigError("experiment=auto makes its own plan; drop plan= (or drop "
                              "experiment=auto to train the plan you have)")
        args.append(f"plan={plan_for_auto(args)}")
    return expand_plan_argument(args)
