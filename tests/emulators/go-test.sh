#!/usr/bin/env bash
# gofmt, go vet and go test of one of the emulators' Go modules (mender, azure,
# emukit), offline: standard library only, no module downloads, no toolchain
# switching. Each module's own go-test.sh calls this one.
#
# usage: go-test.sh MODULE_DIR [WORK_DIR]
#   WORK_DIR keeps the Go build cache when HOME is unset or not writable.
set -euo pipefail
here=$(cd "${1:?usage: go-test.sh MODULE_DIR [WORK_DIR]}" && pwd)
name=$(basename "$here")
work=${2:-}

die() { echo "$name go-test: FAIL: $*" >&2; exit 1; }
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
