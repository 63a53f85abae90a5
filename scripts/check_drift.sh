#!/usr/bin/env bash
# Dependency drift check: install today's newest releases within pyproject.toml's bounds into a
# scratch virtual environment (no cache of what was resolved before) and run the quick tests.
# Run it whenever you like (weekly, before a release): when a new release of a dependency breaks
# seglight, this fails first, naming the test; add a bound in pyproject.toml with the reason.
#
# Usage: bash scripts/check_drift.sh [pytest args]   (default: -m "not slow")
set -euo pipefail
export PIP_DISABLE_PIP_VERSION_CHECK=1
PYTHON="${PYTHON:-python3}"
REPO="$(cd "$(dirname "$0")/.." && pwd)"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

"$PYTHON" -m venv "$WORK/venv"
VPY="$WORK/venv/bin/python"
echo "check_drift: resolving the newest releases within the bounds"
"$VPY" -m pip install -q --upgrade --upgrade-strategy eager torch==2.13.0 -e "$REPO[dev]"
"$VPY" -m pip list --format=freeze --exclude-editable > "$WORK/resolved.txt"
if [ -f "$REPO/requirements/tested.txt" ]; then
    echo "check_drift: releases newer than requirements/tested.txt:"
    "$VPY" - "$REPO/requirements/tested.txt" "$WORK/resolved.txt" <<'PY'
import sys
def pins(path):
    return dict(line.strip().split("==", 1) for line in open(path)
                if "==" in line and not line.startswith("#"))
tested, now = pins(sys.argv[1]), pins(sys.argv[2])
changed = [f"  {name}: {tested[name]} -> {version}" for name, version in sorted(now.items())
           if name in tested and tested[name] != version]
print("\n".join(changed) or "  none")
PY
fi
cd "$REPO"
if [ "$#" -eq 0 ]; then set -- -m "not slow"; fi
"$VPY" -m pytest -q -p no:cacheprovider "$@"
echo "check_drift: OK"
