"""The last folders and files the widgets produced, so the next widget starts from them.

The Curator records where it writes triplets (``curated``), the Train widget the best
checkpoint of its last run (``checkpoint``); the Train and Apply widgets read them as their
defaults. One small JSON file, ``$SEGLIGHT_STATE_DIR/recent.json`` (default:
``$XDG_STATE_HOME/seglight``, else ``~/.local/state/seglight``). A missing or unreadable file
means "nothing recorded": a default is a convenience, never an error.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from seglight.io.atomic import atomic_path


def state_file() -> Path:
    """Where the record is kept."""
    folder = os.environ.get("SEGLIGHT_STATE_DIR")
    if not folder:
        base = os.environ.get("XDG_STATE_HOME") or Path.home() / ".local" / "state"
        folder = Path(base) / "seglight"
    return Path(folder) / "recent.json"


def _load() -> dict[str, str]:
    try:
        data = json.loads(state_file().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}


def remember(key: str, path: str | Path) -> None:
    """Record ``path`` (made absolute) under ``key``; a write that fails is ignored."""
    data = _load()
    data[key] = str(Path(path).resolve())
    target = state_file()
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        with atomic_path(target, suffix=".json") as tmp:
            Path(tmp).write_text(json.dumps(data, indent=1), encoding="utf-8")
    except OSError:
        pass


def recall(key: str) -> Path | None:
    """The path last recorded under ``key``, if it still exists."""
    value = _load().get(key)
    return Path(value) if value and Path(value).exists() else None
