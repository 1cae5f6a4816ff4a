#!/usr/bin/env bash
# Regenerates the committed SWIG output (internal/capi/capi.go and
# internal/capi/capi_wrap.c) from sbprov.i. Run it after changing sbprov.i or
# the public C headers, and commit the result: users of the Go module need a
# C compiler and pkg-config, not SWIG.
#
# Usage: generate.sh [OUTDIR]      (default: internal/capi beside this script)
#
# Headers come from $SBPROV_STAGE/include when SBPROV_STAGE is set (the staged
# install of `make build`), otherwise from `pkg-config --cflags-only-I sbprov`.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
out=${1:-$here/internal/capi}

command -v swig >/dev/null 2>&1 || { echo "generate.sh: swig not found (apt-get install swig)" >&2; exit 1; }

if [ -n "${SBPROV_STAGE:-}" ]; then
    includes=(-I"$SBPROV_STAGE/include")
elif pkg-config --exists sbprov 2>/dev/null; then
    # shellcheck disable=SC2207
    includes=($(pkg-config --cflags-only-I sbprov))
else
    echo "generate.sh: set SBPROV_STAGE or make sbprov.pc visible to pkg-config" >&2
    exit 1
fi
[ -f "${includes[0]#-I}/sbprov/version.h" ] || {
    echo "generate.sh: ${includes[0]#-I}/sbprov/version.h not found (is the library built and staged?)" >&2
    exit 1
}

mkdir -p "$out"
# Run from this directory with a relative interface path, so the output does
# not depend on where the checkout or OUTDIR is.
cd "$here"
swig -go -cgo -intgosize 64 -Werror "${includes[@]}" \
    -outdir "$out" -o "$out/capi_wrap.c" sbprov.i
# gofmt the Go half, as any Go file in a module should be; SWIG's own layout
# is not gofmt-clean.
gofmt -w "$out/capi.go"
