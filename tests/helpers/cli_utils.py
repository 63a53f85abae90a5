"""Run ``python -m seglight.<task>`` as a user would, on this checkout's code."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def run_module(module: str, *args: str, cwd: Path, timeout: int = 600
               ) -> subprocess.CompletedProcess:
    """``python -m <module> <args>`` in ``cwd``, output captured as text."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.run([sys.executable, "-m", module, *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=timeout)
