#!/usr/bin/env bash
# Write requirements/tested.txt: the exact versions of an environment that just passed the
# suite (run it in the venv .ci/run or the README's first command made, after the tests pass).
# A lab rebuilds that environment with
#   pip install torch==2.13.0 -c requirements/tested.txt -e ".[dev]"
# torch is left out: its build (CPU, CUDA 12.x, ...) is the machine's choice, pinned by the
# README's command; seglight itself is left out (it is the clone).
#
# Usage: bash scripts/freeze_tested.sh   (PYTHON=/path/to/python picks the environment)
set -euo pipefail
PYTHON="${PYTHON:-python}"
cd "$(dirname "$0")/.."
out=requirements/tested.txt
tmp="$(mktemp)"
{
    echo "# The exact versions of the last environment that passed seglight's suite."
    echo "# Written by scripts/freeze_tested.sh on $(date -u +%Y-%m-%d) with $("$PYTHON" --version)"
    echo "# ($("$PYTHON" -c 'import platform; print(platform.platform())'))."
    echo "# Use as constraints: pip install torch==2.13.0 -c requirements/tested.txt -e \".[dev]\""
    "$PYTHON" -m pip list --format=freeze --exclude-editable \
        | grep -viE '^(torch|seglight|pip|setuptools|wheel)==' | sort -f
} > "$tmp"
mv "$tmp" "$out"
echo "freeze_tested: $(grep -vc '^#' "$out") packages -> $out"
