"""Atomic file writing: write to a temp file beside the target, then rename over it.

A reader (or a resumed run) therefore sees either the complete old file, the complete new
file, or no file, never a half-written one. A process killed outright (SIGKILL, a node
failure) cannot remove its temp file; the temp name carries the writer's host and process
id, so the next writer of the same file removes temp files whose process is gone.
"""

from __future__ import annotations

import contextlib
import glob
import os
import socket
import tempfile
from collections.abc import Iterator
from pathlib import Path


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _host() -> str:
    return socket.gethostname().replace(".", "_")  # no dots: the tag ends at the next one


def _owner_tag() -> str:
    return f"{_host()}-{os.getpid()}"


def _is_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's live process
        return True
    return True


def remove_stale_temps(path: str | Path) -> list[Path]:
    """Remove temp files of ``path`` left by dead writers on this host; return them.

    Temp files of live processes, and of other hosts (a shared filesystem), are kept.
    """
    path = Path(path)
    host = _host()
    removed = []
    for tmp in path.parent.glob(f".{glob.escape(path.name)}.*.partial*"):
        owner = tmp.name[len(path.name) + 2:].split(".", 1)[0]
        tmp_host, _, pid = owner.rpartition("-")
        if tmp_host == host and pid.isdigit() and not _is_alive(int(pid)):
            tmp.unlink(missing_ok=True)
            removed.append(tmp)
    return removed


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
    remove_stale_temps(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.{_owner_tag()}.", suffix=".partial" + suffix,
                               dir=path.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        os.chmod(tmp_path, 0o666 & ~_umask())
        os.replace(tmp_path, path)
    finally:
        if tmp_path.exists():
            tmp_path.unlink()
