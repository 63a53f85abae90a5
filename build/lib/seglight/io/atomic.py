"""Atomic file writing: write to a temp file beside the target, then rename over it.

A reader (or a resumed run) therefore sees either the complete old file, the complete new
file, or no file, never a half-written one.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


@contextlib.contextmanager
def atomic_path(path: str | Path, suffix: str = "") -> Iterator[Path]:
    """Yield a temp path in ``path``'s folder; on success rename it to ``path``.

    Args:
        path: the final destination; its folder is created if missing.
        suffix: ending of the temp name (writers that check file extensions need the real one).

    The temp file is removed if the block raises. The file gets the permissions a plain
    ``open()`` would give it (mkstemp alone makes it owner-only).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".partial" + suffix, dir=path.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        os.chmod(tmp_path, 0o666 & ~_umask())
        os.replace(tmp_path, path)
    finally:
        if tmp_path.exists():
            tmp_path.unlink()
