#!/usr/bin/env bash
# gofmt, go vet and go test of emukit, the code the emulators share, offline:
# standard library only, no module downloads, no toolchain switching.
#
# usage: go-test.sh [WORK_DIR]
#   WORK_DIR keeps the Go build cache when HOME is unset or not writable.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
work=${1:-}

die() { echo "emukit go-test: FAIL: $*" >&2; exit 1; }
command -v go >/dev/null 2>&1 || die "go not found (Debian package golang-go; scripts/install-deps.sh installs it)"

export GOFLAGS=-mod=mod GOPROXY=off GOTOOLCHAIN=local GOSUMDB=off CGO_ENABLED=0
if [ -z "${HOME:-}" ] || [ ! -w "${HOME}" ]; then
    [ -n "$work" ] || work=$(mktemp -d)
    mkdir -p "$work"
    export GOCACHE="$work/go-cache" GOPATH="$work/gopath"
fi
cd "$here"
unformatted=$("$(go env GOROOT)/bin/gofmt" -l .)
[ -z "$unformatted" ] || die "not gofmt-clean: $unformatted"
go vet ./... || die "go vet"
go test -count=1 ./...
