#!/usr/bin/env bash
# Build, install and test the Python binding against a staged libsbprov.
#
# Usage: SBPROV_STAGE=<staged prefix> SBPROV_BUILD=<build dir> bindings/python/test.sh [pytest args...]
# (the top-level Makefile exports both). Creates or reuses a venv at
# $SBPROV_BUILD/venv, installs the binding into it from a scratch copy of the
# sources (so the source tree gets no build artefacts), then runs pytest from
# outside the source tree so that the installed package is what gets tested.
# Exits with pytest's status.
#
# Optional: SBPROV_VECTORS (published test vectors, default ../../../shared/vectors
# from this directory), SBPROV_ORACLE (C oracle, default
# $SBPROV_BUILD/tests/sbprov-azure-oracle), PYTHON (default python3),
# SBPROV_SOURCE_DIR (the repository, default ../.. from this directory: the
# Mender tests start tests/emulators/stack.py from it, and skip if nginx or go
# is missing).
set -euo pipefail

die() { echo "bindings/python/test.sh: $*" >&2; exit 2; }

[ -n "${SBPROV_STAGE:-}" ] || die "SBPROV_STAGE is not set (the staged install prefix of libsbprov, e.g. build/stage); run 'make build' first"
[ -n "${SBPROV_BUILD:-}" ] || die "SBPROV_BUILD is not set (the libsbprov build directory, e.g. build)"
SBPROV_STAGE=$(cd "$SBPROV_STAGE" 2>/dev/null && pwd) || die "SBPROV_STAGE: no such directory"
SBPROV_BUILD=$(cd "$SBPROV_BUILD" 2>/dev/null && pwd) || die "SBPROV_BUILD: no such directory"

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
python=${PYTHON:-python3}

# pkg-config must find the staged library (its .pc may be under lib, lib64 or lib/<triplet>).
pcdirs=$(find "$SBPROV_STAGE" -name sbprov.pc -path '*/pkgconfig/*' -printf '%h:' 2>/dev/null || true)
[ -n "$pcdirs" ] || die "no sbprov.pc under $SBPROV_STAGE; run 'make build' first"
export PKG_CONFIG_PATH="${pcdirs}${PKG_CONFIG_PATH:-}"

export SBPROV_VECTORS=${SBPROV_VECTORS:-$(cd "$here/../../.." && pwd)/shared/vectors}
export SBPROV_ORACLE=${SBPROV_ORACLE:-$SBPROV_BUILD/tests/sbprov-azure-oracle}
export SBPROV_SOURCE_DIR=${SBPROV_SOURCE_DIR:-$(cd "$here/../.." && pwd)}
[ -x "$SBPROV_ORACLE" ] || die "C oracle not found at $SBPROV_ORACLE; run 'make build' first"
[ -d "$SBPROV_VECTORS" ] || die "test vectors not found at $SBPROV_VECTORS (set SBPROV_VECTORS)"

# --- venv (created once, reused) ---------------------------------------------
venv=$SBPROV_BUILD/venv
if [ ! -x "$venv/bin/python" ]; then
    echo "== creating venv $venv"
    "$python" -m venv --system-site-packages "$venv"
fi
vpy=$venv/bin/python
# Build tools (an offline build: --no-build-isolation) and pytest; taken from
# the system site-packages when there, from PyPI only when missing.
for mod in setuptools wheel pytest; do
    if ! "$vpy" -c "import $mod" >/dev/null 2>&1; then
        echo "== installing $mod into the venv"
        "$vpy" -m pip install --quiet --disable-pip-version-check "$mod"
    fi
done

# --- install from a scratch copy ---------------------------------------------
scratch=$(mktemp -d "${TMPDIR:-/tmp}/sbprov-python.XXXXXX")
trap 'rm -rf "$scratch"' EXIT
mkdir "$scratch/src" "$scratch/run"
# Only the sources: never a stray build/, egg-info or generated file.
tar -C "$here" -cf - \
    --exclude=./build --exclude=./dist --exclude='*.egg-info' --exclude=__pycache__ \
    --exclude=.pytest_cache --exclude='*.so' --exclude='*_wrap.c' --exclude=./sbprov/_sbprov_swig.py \
    . | tar -C "$scratch/src" -xf -

echo "== pip install (libsbprov from $SBPROV_STAGE)"
"$vpy" -m pip install --quiet --disable-pip-version-check --no-build-isolation --no-deps \
    --force-reinstall --no-cache-dir "$scratch/src"

# --- test the installed package ----------------------------------------------
cp -R "$here/tests" "$scratch/run/tests"
cd "$scratch/run"
echo "== pytest (in $scratch/run, importing the installed sbprov)"
status=0
env -u LD_LIBRARY_PATH -u PYTHONPATH PYTHONDONTWRITEBYTECODE=1 \
    "$vpy" -m pytest -p no:cacheprovider -q tests "$@" || status=$?
exit $status
