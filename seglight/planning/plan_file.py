"""``plan.yaml``: a plan a person can read and edit, and how training applies it.

The file's ``overrides:`` section is what training uses: one line per setting, a config
group choice (``model: unet_xy_padded``) or a dotted key (``data.batch_size: 4``), each with
its reason as a comment. The other sections (``fingerprint:``, ``measured:``, ``plan:``)
record what the plan saw and measured; training ignores them.

``python -m seglight.train plan=plan.yaml [key=value ...]`` turns the overrides into Hydra
overrides placed *before* the command line's, so a user's ``key=value`` wins; a user's
group choice (``model=unet_xy``) replaces the plan's and drops the plan's network settings
(``model.net.*``: they were planned for the other network).
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

from seglight.errors import ConfigError

_PLAIN = re.compile(r"^[A-Za-z_][\w.\-/]*$")
#: The config groups a plan may choose (the others are not planned).
GROUPS = ("model", "data", "trainer", "data/normalization")


def hydra_value(value: Any) -> str:
    """``value`` in Hydra's override syntax (lists ``[a,b]``, dicts ``{k:v}``, null)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, list | tuple):
        return "[" + ",".join(hydra_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ",".join(f"{k}:{hydra_value(v)}" for k, v in value.items()) + "}"
    text = str(value)
    if _PLAIN.match(text) and text not in ("true", "false", "null"):
        return text
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def yaml_value(value: Any) -> str:
    """``value`` as one line of YAML."""
    if isinstance(value, str) and _PLAIN.match(value) and value not in ("true", "false", "null"):
        return value
    return json.dumps(value)


def write_plan(path: str | Path, rows: Sequence[tuple[str, Any, str]], header: Sequence[str],
               sections: dict[str, Any]) -> Path:
    """Write ``plan.yaml`` atomically: the overrides with their reasons, then ``sections``."""
    from seglight.io.atomic import atomic_path

    width = min(max((len(k) + len(yaml_value(v)) for k, v, _ in rows), default=0) + 4, 52)
    lines = [f"# {h}" for h in header]
    lines.append("overrides:")
    for key, value, reason in rows:
        entry = f"  {key}: {yaml_value(value)}"
        lines.append(f"{entry:<{width}}  # {reason}")
    body = "\n".join(lines) + "\n"
    if sections:
        body += yaml.safe_dump(sections, sort_keys=False, default_flow_style=None, width=100)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as tmp:
        Path(tmp).write_text(body, encoding="utf-8")
    return path


def read_overrides(path: str | Path) -> list[tuple[str, Any]]:
    """The ``overrides:`` of a plan file, in order.

    Raises:
        ConfigError: no such file, or not a plan (naming the file).
    """
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"plan={path}: no such file; make one with python -m seglight.plan "
                          "data.path=<folder>")
    try:
        content = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as err:
        raise ConfigError(f"plan={path}: not valid YAML ({str(err).splitlines()[0]})") from None
    if not isinstance(content, dict) or not isinstance(content.get("overrides"), dict):
        raise ConfigError(f"plan={path}: no 'overrides:' section; is it a seglight plan?")
    return list(content["overrides"].items())


def override_key(arg: str) -> str | None:
    """The key a ``key=value`` override sets (``+``/``~`` dropped); None for a flag."""
    if arg.startswith("-") or "=" not in arg:
        return None
    return arg.split("=", 1)[0].lstrip("+~")


def merge_plan(plan: Sequence[tuple[str, Any]], args: Sequence[str]) -> tuple[list[str], list[str]]:
    """The Hydra overrides of a plan followed by ``args`` (the user's, which win).

    Returns:
        (the arguments to compose with, one line per plan setting the user's choices dropped)
    """
    user_keys = {k for k in map(override_key, args) if k}
    out, dropped = [], []
    for key, value in plan:
        if key in user_keys:
            continue  # the user's value follows and wins; one value per key keeps Hydra quiet
        if "model" in user_keys and key.startswith("model.net."):
            dropped.append(f"{key}={hydra_value(value)} (planned for another network)")
            continue
        out.append(f"{key}={hydra_value(value)}")
    return out + list(args), dropped


def take_plan_argument(args: Sequence[str]) -> tuple[str | None, list[str]]:
    """(``plan=`` value or None, the other arguments)."""
    plan, rest = None, []
    for arg in args:
        if arg.startswith("plan="):
            plan = arg.split("=", 1)[1].strip("'\"") or None
            plan = None if plan == "null" else plan
        else:
            rest.append(arg)
    return plan, rest


def expand_plan_argument(args: Sequence[str]) -> list[str]:
    """``args`` with ``plan=FILE`` replaced by the plan's overrides (placed first) and kept
    as ``plan=FILE`` (recorded in the run's config). Lines about dropped settings go to
    stderr."""
    import sys

    plan, rest = take_plan_argument(args)
    if plan is None:
        return list(args)
    merged, dropped = merge_plan(read_overrides(plan), rest)
    for line in dropped:
        print(f"plan: {line} dropped by your command line", file=sys.stderr)
    return merged + [f"plan={plan}"]


def header_lines(folder: str, command: str) -> list[str]:
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    return [
        f"seglight plan for {folder} ({when})",
        f"made by: {command}",
        "train with: python -m seglight.train plan=plan.yaml [key=value ...]  (yours win)",
        "Edit any value under overrides:; the comment says why the plan chose it. The other",
        "sections record what was fingerprinted and measured (training ignores them).",
    ]
