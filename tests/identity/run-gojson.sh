#!/usr/bin/env bash
# Canonical identity JSON and digest: libsbprov against Go's encoding/json
# doing what the Mender server does (gojson/main.go), on tricky and random
# identities. Byte equality required.
#
# usage: run-gojson.sh IDENTITY_TOOL WORK_DIR [RANDOM_CASES] [SEED]
set -euo pipefail
tool=$1
work=$2
n_random=${3:-3000}
seed=${4:-${SBPROV_SEED:-1}}
here=$(cd "$(dirname "$0")" && pwd)

die() { echo "run-gojson: FAIL: $*" >&2; exit 1; }
command -v go >/dev/null 2>&1 || die "go not found (scripts/install-deps.sh installs golang-go)"
[ -x "$tool" ] || die "$tool is not executable"
mkdir -p "$work"

# Offline, no toolchain switching, standard library only.
export GOFLAGS=-mod=mod GOPROXY=off GOTOOLCHAIN=local GOSUMDB=off CGO_ENABLED=0
[ -n "${HOME:-}" ] || export GOCACHE="$work/go-cache"
(cd "$here/gojson" && go build -o "$work/gojson" .) || die "cannot build gojson"

"$tool" cases "$n_random" "$seed" > "$work/cases.txt"
"$work/gojson" < "$work/cases.txt" > "$work/go.txt" || die "gojson failed"
"$tool" canon-cases < "$work/cases.txt" > "$work/c.txt" || die "identity_tool canon-cases failed"

cases=$(wc -l < "$work/cases.txt")
if ! cmp -s "$work/go.txt" "$work/c.txt"; then
    line=$(cmp "$work/go.txt" "$work/c.txt" | awk '{print $NF}' || true)
    [ -n "$line" ] || line=1
    echo "first difference at case $line (seed $seed):" >&2
    echo "  input: $(sed -n "${line}p" "$work/cases.txt")" >&2
    for side in go c; do
        row=$(sed -n "${line}p" "$work/$side.txt")
        printf '  %-3s %s\n      digest %s\n' "$side:" "$(printf '%b' "$(echo "${row% *}" | sed 's/../\\x&/g')" | od -An -c | head -8)" "${row##* }" >&2
    done
    die "$(diff "$work/go.txt" "$work/c.txt" | grep -c '^<') of $cases cases differ"
fi
echo "ok: $cases identities, canonical JSON and SHA-256 identical to Go's"
