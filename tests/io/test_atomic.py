"""Atomic writes: a complete file or none, and no temp files left behind by dead writers."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from seglight.io.atomic import _owner_tag, atomic_path, remove_stale_temps


def test_a_failed_write_leaves_neither_file_nor_temp(tmp_path):
    target = tmp_path / "out.txt"
    with pytest.raises(RuntimeError), atomic_path(target) as tmp:
        tmp.write_text("half")
        raise RuntimeError("killed")
    assert list(tmp_path.iterdir()) == []


def test_the_temp_of_a_writer_killed_outright_is_removed_by_the_next_write(tmp_path):
    """SIGKILL runs no cleanup: the rerun's writer removes the dead process's temp file."""
    target = tmp_path / "cell_struct_segmentation.tiff"
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)
    pid = int(dead.stdout)
    host = _owner_tag().rsplit("-", 1)[0]
    stale = tmp_path / f".{target.name}.{host}-{pid}.k3j_x9.partial.ome.tif"
    stale.write_bytes(b"")
    alive = tmp_path / f".{target.name}.{_owner_tag()}.abcd.partial.ome.tif"  # this process
    alive.write_bytes(b"")
    other_host = tmp_path / f".{target.name}.node17-{pid}.abcd.partial.ome.tif"
    other_host.write_bytes(b"")
    with atomic_path(target, suffix=".ome.tif") as tmp:
        tmp.write_bytes(b"mask")
    assert target.read_bytes() == b"mask"
    assert not stale.exists()
    assert alive.exists() and other_host.exists()  # a live writer's, another host's: kept


def test_unrelated_hidden_files_are_never_removed(tmp_path):
    (tmp_path / ".a.tif.host-1.partial").write_bytes(b"")  # another target's temp
    keep = tmp_path / ".cell.tif.notes"
    keep.write_text("mine")
    assert remove_stale_temps(tmp_path / "cell.tif") == []
    assert keep.exists()


def test_temp_names_carry_this_process(tmp_path):
    with atomic_path(tmp_path / "x.txt") as tmp:
        assert f"-{os.getpid()}." in tmp.name
        tmp.write_text("ok")
