#!/usr/bin/env bash
# Tests the Go binding against a staged libsbprov.
#
#   SBPROV_STAGE=/path/to/build/stage SBPROV_BUILD=/path/to/build bindings/go/test.sh
#
# SBPROV_STAGE is the install prefix of `make build` (lib/, include/,
# lib/pkgconfig/sbprov.pc); SBPROV_BUILD is its build directory (for the C
# oracle, tests/sbprov-azure-oracle). The top-level Makefile exports both.
# Optional: SBPROV_ORACLE (oracle path), SBPROV_VECTORS (directory of
# azure-published.json), SBPROV_SEED (seed of the random inputs).
#
# Steps: generated SWIG files up to date (when swig is installed), gofmt,
# go vet, go test with the strongest cgo pointer checks this Go has, and go
# test -race. Runs offline: the module has no dependencies. Exits non-zero on
# any failure.
#
# The two go test runs happen under the test stack of the repository,
# tests/emulators/stack.py --mender --azure (the Mender and the Azure
# emulators behind nginx with a test CA on loopback; needs go, python3,
# nginx and openssl), which exports the SBPROV_TEST_* variables the Mender
# and Azure tests read, in a temporary work directory (kept, with its logs,
# if the tests fail). If SBPROV_TEST_MENDER_URL or SBPROV_TEST_AZURE_URL is
# already set (a stack is up), the tests use that one (the tests of an
# emulator it lacks are skipped). SBPROV_GO_NO_STACK=1 runs them without a
# stack: the network tests are then skipped.
#
# Internal: `test.sh --go-tests` runs only the go test steps (what stack.py
# runs).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
stack_py="$repo/tests/emulators/stack.py"
cd "$here"

go_tests_only=0
if [ "${1:-}" = --go-tests ]; then
    go_tests_only=1
fi

die() { echo "go/test.sh: FAIL: $*" >&2; exit 1; }
step() { echo "== go/test.sh: $*"; }

[ -n "${SBPROV_STAGE:-}" ] || die "SBPROV_STAGE is not set (the staged install of 'make build', e.g. build/stage)"
[ -n "${SBPROV_BUILD:-}" ] || die "SBPROV_BUILD is not set (the build directory of 'make build', e.g. build)"
[ -f "$SBPROV_STAGE/lib/pkgconfig/sbprov.pc" ] || die "$SBPROV_STAGE/lib/pkgconfig/sbprov.pc not found: run 'make build' first"
command -v go >/dev/null 2>&1 || die "go not found (apt-get install golang-go)"

export PKG_CONFIG_PATH="$SBPROV_STAGE/lib/pkgconfig${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}"
export LD_LIBRARY_PATH="$SBPROV_STAGE/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
export SBPROV_ORACLE="${SBPROV_ORACLE:-$SBPROV_BUILD/tests/sbprov-azure-oracle}"
export SBPROV_REQUIRE_ORACLE=1
[ -x "$SBPROV_ORACLE" ] || die "C oracle $SBPROV_ORACLE not found or not executable: run 'make build' first"

# Offline and self-contained: no module downloads, no toolchain switching.
export GOFLAGS=-mod=mod
export GOPROXY=off
export GOTOOLCHAIN=local
export GOSUMDB=off
export CGO_ENABLED=1
gocache=$(go env GOCACHE 2>/dev/null || true)
if [ -z "$gocache" ] || [ "$gocache" = off ] || ! { mkdir -p "$gocache" && [ -w "$gocache" ]; } 2>/dev/null; then
    export GOCACHE="${TMPDIR:-/tmp}/sbprov-go-cache-$(id -u)"
fi

goversion=$(go env GOVERSION)

# 4. Strongest cgo pointer checking: GOEXPERIMENT=cgocheck2 from Go 1.21 on
#    (GODEBUG=cgocheck=2 was removed then), GODEBUG=cgocheck=2 before.
minor=$(echo "$goversion" | sed -n 's/.*go1\.\([0-9][0-9]*\).*/\1/p')
[ -n "$minor" ] || die "cannot parse Go version '$goversion'"
if [ "$minor" -ge 21 ]; then
    cgocheck_env=(GOEXPERIMENT="${GOEXPERIMENT:+$GOEXPERIMENT,}cgocheck2")
else
    cgocheck_env=(GODEBUG="${GODEBUG:+$GODEBUG,}cgocheck=2")
fi

go_tests() {
    if [ -n "${SBPROV_TEST_MENDER_URL:-}" ]; then
        step "Mender tests against $SBPROV_TEST_MENDER_URL"
    else
        echo "go/test.sh: NOTE: no Mender emulator in the test stack: the Mender network tests are skipped" >&2
    fi
    if [ -n "${SBPROV_TEST_AZURE_URL:-}" ]; then
        step "Azure tests against $SBPROV_TEST_AZURE_URL"
    else
        echo "go/test.sh: NOTE: no Azure emulator in the test stack: the Azure network tests are skipped" >&2
    fi
    step "go test -count=1 ./... with ${cgocheck_env[*]}"
    env "${cgocheck_env[@]}" go test -count=1 ./... || die "go test (${cgocheck_env[*]})"

    # 5. Race detector (also with the pointer checks).
    step "go test -race -count=1 ./... with ${cgocheck_env[*]}"
    env "${cgocheck_env[@]}" go test -race -count=1 ./... || die "go test -race"
}

if [ "$go_tests_only" = 1 ]; then
    go_tests
    exit 0
fi

step "$goversion, libsbprov $(pkg-config --modversion sbprov) from $SBPROV_STAGE"

# 1. Committed SWIG output matches sbprov.i and the headers.
if command -v swig >/dev/null 2>&1; then
    have=$(swig -version | sed -n 's/^SWIG Version //p')
    used=$(sed -n 's/^ \* Version //p' internal/capi/capi.go | head -n 1)
    if [ "$have" != "$used" ]; then
        echo "go/test.sh: NOTE: generated files come from SWIG $used, installed is $have: freshness check skipped" >&2
    else
        step "generated files up to date (SWIG $have)"
        tmp=$(mktemp -d)
        trap 'rm -rf "$tmp"' EXIT
        ./generate.sh "$tmp" >/dev/null
        for f in capi.go capi_wrap.c; do
            if ! diff -u "internal/capi/$f" "$tmp/$f" >"$tmp/$f.diff"; then
                head -n 40 "$tmp/$f.diff" >&2
                die "internal/capi/$f is stale: run bindings/go/generate.sh and commit the result"
            fi
        done
    fi
else
    echo "go/test.sh: NOTE: swig not installed: freshness check of internal/capi skipped" >&2
fi

# 2. Formatting.
step "gofmt"
unformatted=$(gofmt -l .)
[ -z "$unformatted" ] || die "not gofmt-formatted: $unformatted"

# 3. go vet.
step "go vet ./..."
go vet ./... || die "go vet"

# 4.-5. go test, under the test stack (see the top of this file).
if [ -n "${SBPROV_TEST_MENDER_URL:-}" ] || [ -n "${SBPROV_TEST_AZURE_URL:-}" ] || [ "${SBPROV_GO_NO_STACK:-0}" = 1 ]; then
    go_tests
else
    [ -f "$stack_py" ] || die "$stack_py not found"
    command -v python3 >/dev/null 2>&1 ||
        die "python3 not found: the network tests run under tests/emulators/stack.py (SBPROV_GO_NO_STACK=1 skips them)"
    stackdir=$(mktemp -d "${TMPDIR:-/tmp}/sbprov-go-stack.XXXXXX")
    step "test stack: python3 tests/emulators/stack.py run --dir $stackdir --mender --azure -- test.sh --go-tests"
    rc=0
    python3 "$stack_py" run --dir "$stackdir" --mender --azure -- bash "$here/test.sh" --go-tests || rc=$?
    if [ "$rc" -ne 0 ]; then
        echo "go/test.sh: stack work directory (logs, request log) kept in $stackdir" >&2
        die "go test under the test stack (exit $rc)"
    fi
    rm -rf "$stackdir"
fi

step "all Go binding tests passed"
