#!/usr/bin/env bash
# gofmt, go vet and go test of the Mender emulator (../go-test.sh).
# usage: go-test.sh [WORK_DIR]
here=$(cd "$(dirname "$0")" && pwd)
exec "$here/../go-test.sh" "$here" "$@"
