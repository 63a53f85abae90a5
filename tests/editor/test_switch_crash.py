"""Issue 29: switching the workflow with "labels + object table" ticked crashed napari in
vispy's glDrawArrays (Xvfb). 20 switches: under the offscreen Qt platform (napari's
``ViewerModel``, the layer list without a canvas, which offscreen Qt cannot draw), and in a
real napari window under Xvfb (OpenGL drawn by software) where ``xvfb-run`` is installed
(the loop that crashed at its first switch before the fix)."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
pytest.importorskip("napari")
pytest.importorskip("pytestqt")

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = Path(__file__).with_name("switch_workflows.py")


def test_twenty_workflow_switches_with_labels_offscreen(qtbot, capsys):
    from tests.editor.switch_workflows import main

    assert main(20, window=False) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[-1] == "OK 20" and len(out) == 21


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("xvfb-run") is None, reason="xvfb-run is not installed")
def test_twenty_workflow_switches_with_labels_under_xvfb(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(ROOT), "QT_QPA_PLATFORM": "xcb",
           "SEGLIGHT_CONFIG_DIR": str(tmp_path)}
    result = subprocess.run(
        ["xvfb-run", "-a", "-s", "-screen 0 1280x1024x24", sys.executable, str(SCRIPT), "20"],
        capture_output=True, text=True, cwd=ROOT, env=env, timeout=1500)
    lines = result.stdout.splitlines()
    assert result.returncode == 0, (result.returncode, lines[-3:], result.stderr[-1500:])
    assert lines[-1] == "OK 20"
