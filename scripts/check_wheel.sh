#!/usr/bin/env bash
# Install seglight as a user does, from a wheel, into a fresh virtual environment, and run it
# from a folder outside the clone: every entry point's --help, a classic predict on a tiny
# image, a two-step training on the demo data, and a curation of the predicted mask.
# CI runs this after the README's two commands (.ci/run).
#
# Usage: bash scripts/check_wheel.sh   (PYTHON=/path/to/python picks the interpreter)
set -euo pipefail

PYTHON="${PYTHON:-python}"
REPO="$(cd "$(dirname "$0")/.." && pwd)"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

echo "check_wheel: building the wheel"
"$PYTHON" -m pip wheel -q --no-deps -w "$WORK/dist" "$REPO"
WHEEL="$(ls "$WORK"/dist/seglight-*.whl)"
"$PYTHON" -m zipfile -l "$WHEEL" > "$WORK/wheel.txt"
grep -q "seglight/conf/model/classic/sec61b.yaml" "$WORK/wheel.txt" \
    || { echo "check_wheel: the wheel has no seglight/conf/ configs"; exit 1; }

# A user's install: a new virtual environment (no system site-packages) and the wheel's own
# dependencies, resolved now by pip from the wheel's metadata (torch pinned to the CPU build on
# disk, as the README says). Nothing is borrowed from the environment that built the wheel.
echo "check_wheel: installing it and its dependencies into a fresh virtual environment"
"$PYTHON" -m venv "$WORK/venv"
VPY="$WORK/venv/bin/python"
"$VPY" -m pip install -q torch==2.13.0 "$WHEEL"

mkdir -p "$WORK/user é"
cd "$WORK/user é"  # outside the clone; a folder name a lab might use
"$VPY" - <<'PY'
import seglight, sys
from pathlib import Path
assert Path(seglight.__file__).is_relative_to(Path(sys.prefix)), seglight.__file__
assert (seglight.CONF_DIR / "train.yaml").is_file(), seglight.CONF_DIR
print(f"check_wheel: seglight from {Path(seglight.__file__).parent}, configs in {seglight.CONF_DIR}")
PY
for module in seglight.train seglight.predict seglight.curate seglight.evaluate seglight.plan \
        seglight.check seglight.export; do
    if "$VPY" -c "import importlib.util, sys; sys.exit(importlib.util.find_spec('$module') is None)"; then
        "$VPY" -m "$module" --help > "help_$module.txt"
        echo "check_wheel: python -m $module --help ($(wc -l < "help_$module.txt") lines)"
    fi
done

"$VPY" - <<'PY'
import numpy as np
from seglight.io import write_ome_tiff

rng = np.random.default_rng(0)
image = rng.integers(300, 500, (8, 48, 48)).astype(np.uint16)
image[3:5, 10:30, 10:30] += 2500
write_ome_tiff("raw/cell 1.ome.tif", image, (0.29, 0.108, 0.108))
PY
"$VPY" -m seglight.predict model=classic/h2b_interphase input=raw output=seg progress=false
test -f "seg/cell 1_struct_segmentation.tiff"
"$VPY" -m seglight.curate mode=takeall raw=raw seg=seg out=curated
test -f curated/curation_log.csv
"$VPY" -m seglight.train trainer.max_steps=2 trainer.limit_val_batches=1 \
    data.demo.n_images=2 data.samples_per_epoch=8 trainer.enable_progress_bar=false
ls runs/train/*/checkpoints/last.ckpt > /dev/null
test -d data/demo  # the demo data went to the working directory, not into site-packages
find "$WORK/venv" -type d \( -name runs -o -name demo \) > "$WORK/written.txt"
if [ -s "$WORK/written.txt" ]; then
    echo "check_wheel: seglight wrote into its install location:"; cat "$WORK/written.txt"; exit 1
fi
echo "check_wheel: OK (wheel installed, predicted, curated and trained outside the clone)"
