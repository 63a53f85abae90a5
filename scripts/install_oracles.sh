#!/usr/bin/env bash
# Install the reference Allen Cell Structure Segmenter as a *test-only* oracle (CI runs this).
#
# seglight's workflows never import it; seglight/classic/reference.py loads it for the tests
# (tests/helpers/oracle.py) and scripts/bench_classic.py, which skip or
# stop cleanly without it. --no-deps because its pinned dependencies (old numpy, itkwidgets,
# jupyter, ...) do not install on numpy 2; the few it needs at run time are listed below.
# aicsimageio does not import with current tifffile; seglight/classic/reference.py puts a stand-in in
# its place when that happens (only the reference's file writers use it).
# Test data: the stardist wheel ships a real 3D nuclei stack (data/images/img3d.tif) that the
# parity matrix reads from disk; it is installed --no-deps, for that file only (never imported).
#
# Idempotent: when the right versions are already installed it only checks and exits.
# Usage: scripts/install_oracles.sh   (PYTHON=/path/to/python to pick an interpreter)
set -euo pipefail

PYTHON="${PYTHON:-python}"
cd "$(dirname "$0")/.."

already_installed() {
    "$PYTHON" - <<'PY'
import importlib.metadata as md
import sys

from packaging.version import Version

def version(name):
    try:
        return Version(md.version(name))
    except md.PackageNotFoundError:
        return None

ok = (
    version("aicssegmentation") == Version("0.5.3")
    and version("itk") is not None
    and version("pandas") is not None
    and version("aicsimageio") is not None
    and version("numcodecs") is not None
    and version("numcodecs") < Version("0.16")
    and version("stardist") is not None
)
sys.exit(0 if ok else 1)
PY
}

if already_installed; then
    echo "install_oracles: aicssegmentation 0.5.3 and its run-time dependencies are already installed"
else
    "$PYTHON" -m pip install --no-deps "aicssegmentation==0.5.3"
    "$PYTHON" -m pip install itk pandas "numcodecs<0.16"
    "$PYTHON" -m pip install --no-deps aicsimageio
    "$PYTHON" -m pip install --no-deps "stardist==0.9.2"
fi

# The pin on numcodecs must not break seglight's own image I/O (bioio pulls in zarr 3).
"$PYTHON" -c "import bioio, bioio_ome_tiff, zarr, numcodecs; print(f'install_oracles: bioio imports (zarr {zarr.__version__}, numcodecs {numcodecs.__version__})')"
# The reference workflows must import through seglight.classic.reference.
"$PYTHON" - <<'PY'
import sys
from pathlib import Path

sys.path.insert(0, str(Path.cwd()))
from seglight.classic.reference import reference_workflow

reference_workflow("tomm20")
print("install_oracles: the reference workflows import")
PY
