#!/usr/bin/env bash
# Tests of the fleet provisioning tool (examples/python, `sbprov-fleet`)
# against the Mender and Azure emulators (tests/emulators/stack.py).
#
# Usage: SBPROV_BUILD=<build dir> SBPROV_STAGE=<staged prefix> tests/fleet/run.sh [--suite DIR] [pytest args...]
# (ctest passes both; so does the top-level Makefile's environment). --suite
# runs another pytest directory in the same venv (tests/gateway: the gateway
# daemon's tests, which use sbprov-fleet too).
#
# 1. the project venv (scripts/python-venv.sh, $SBPROV_BUILD/venv);
# 2. the sbprov binding installed into it from a scratch copy of
#    bindings/python when it is missing or older than its sources or the
#    staged library (as bindings/python/test.sh installs it);
# 3. examples/python installed from a scratch copy (so the source tree gets
#    no build/ or egg-info), which puts the `sbprov-fleet` console script in
#    the venv;
# 4. pytest on tests/fleet (no cache, no bytecode in the tree).
# Installs are serialised with a lock on the venv. Exits with pytest's status,
# or 77 (skip) without a staged library.
set -euo pipefail

die() { echo "tests/fleet/run.sh: $*" >&2; exit 2; }
[ -n "${SBPROV_BUILD:-}" ] || die "SBPROV_BUILD is not set (the libsbprov build directory)"
[ -n "${SBPROV_STAGE:-}" ] || die "SBPROV_STAGE is not set (the staged install prefix, e.g. build/stage)"
SBPROV_BUILD=$(cd "$SBPROV_BUILD" && pwd) && export SBPROV_BUILD
if ! find "$SBPROV_STAGE" -name sbprov.pc -path '*/pkgconfig/*' 2>/dev/null | grep -q .; then
    echo "tests/fleet/run.sh: SKIP: no staged libsbprov in $SBPROV_STAGE (run 'make build' or cmake --install)" >&2
    exit 77
fi
SBPROV_STAGE=$(cd "$SBPROV_STAGE" && pwd) && export SBPROV_STAGE

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
suite=$here
if [ "${1:-}" = --suite ]; then
    [ -n "${2:-}" ] || die "--suite needs a directory"
    suite=$(cd "$2" && pwd)
    shift 2
fi
export SBPROV_SOURCE_DIR=$repo

py=$("$repo/scripts/python-venv.sh")
scratch=$(mktemp -d "${TMPDIR:-/tmp}/sbprov-fleet.XXXXXX")
trap 'rm -rf "$scratch"' EXIT

copy_tree() {  # copy_tree SRC DEST: sources only, never build artefacts
    mkdir -p "$2"
    tar -C "$1" -cf - \
        --exclude=./build --exclude=./dist --exclude='*.egg-info' --exclude=__pycache__ \
        --exclude=.pytest_cache --exclude='*.so' --exclude='*_wrap.c' --exclude=./sbprov/_sbprov_swig.py \
        . | tar -C "$2" -xf -
}

pip_install() {
    "$py" -m pip install --quiet --disable-pip-version-check --no-build-isolation --no-deps \
        --force-reinstall --no-cache-dir "$@"
}

binding_is_current() {
    "$py" - "$repo/bindings/python" "$SBPROV_STAGE" <<'PY'
import glob, os, sys
src, stage = sys.argv[1], sys.argv[2]
try:
    import sbprov
except Exception:
    sys.exit(1)
installed = os.path.getmtime(sbprov.__file__)
newer = [p for p in glob.glob(os.path.join(src, "sbprov", "*.py")) + [os.path.join(src, "sbprov.i"),
                                                                     os.path.join(src, "setup.py")]
         if os.path.getmtime(p) > installed]
newer += [p for p in glob.glob(os.path.join(stage, "lib*", "**", "libsbprov.so*"), recursive=True)
          if os.path.getmtime(p) > installed]
sys.exit(1 if newer else 0)
PY
}

(
    flock 9
    for mod in setuptools wheel; do
        "$py" -c "import $mod" >/dev/null 2>&1 ||
            "$py" -m pip install --quiet --disable-pip-version-check "$mod"
    done
    if ! binding_is_current; then
        echo "== installing the sbprov binding (libsbprov from $SBPROV_STAGE)"
        pcdirs=$(find "$SBPROV_STAGE" -name sbprov.pc -path '*/pkgconfig/*' -printf '%h:' 2>/dev/null)
        copy_tree "$repo/bindings/python" "$scratch/binding"
        PKG_CONFIG_PATH="${pcdirs}${PKG_CONFIG_PATH:-}" pip_install "$scratch/binding"
    fi
    echo "== installing sbprov-fleet (examples/python)"
    copy_tree "$repo/examples/python" "$scratch/fleet"
    pip_install "$scratch/fleet"
) 9>"$SBPROV_BUILD/venv.install.lock"

cd "$scratch"
echo "== pytest ${suite#"$repo"/}"
status=0
env -u LD_LIBRARY_PATH -u PYTHONPATH PYTHONDONTWRITEBYTECODE=1 \
    "$py" -m pytest -p no:cacheprovider -q --rootdir "$suite" "$suite" "$@" || status=$?
exit $status
