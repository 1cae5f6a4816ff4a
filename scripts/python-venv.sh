#!/usr/bin/env bash
# Create (once) the project's Python virtual environment at $SBPROV_BUILD/venv,
# with the system site-packages visible and pytest present; print its python.
set -euo pipefail
: "${SBPROV_BUILD:?set SBPROV_BUILD to the build directory}"
venv=$SBPROV_BUILD/venv
if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv --system-site-packages "$venv" >&2
fi
if ! "$venv/bin/python" -c 'import pytest' 2>/dev/null; then
    "$venv/bin/python" -m pip install --quiet pytest >&2
fi
echo "$venv/bin/python"
