#!/usr/bin/env bash
# Builds the Go example against the staged libsbprov and runs it: 40 frames of
# a meeting (six people, CO2 rising 40 ppm/min, motion) sent as UDP datagrams
# by `sbprov frame encode --udp` must make room 4.12 occupied and raise a
# ventilation alert; a frame from an unplaced node is reported; the key
# derivation prints Azure's published value.
#
# usage: SBPROV_STAGE=build/stage examples/go/test.sh [WORK_DIR]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
work=${1:-$(mktemp -d)}
mkdir -p "$work"
die() { echo "examples/go/test.sh: FAIL: $*" >&2; exit 1; }
[ -n "${SBPROV_STAGE:-}" ] || die "SBPROV_STAGE is not set"
cli="$SBPROV_STAGE/bin/sbprov"
[ -x "$cli" ] || die "$cli not found: run 'make build' first"

export PKG_CONFIG_PATH="$SBPROV_STAGE/lib/pkgconfig${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}"
export LD_LIBRARY_PATH="$SBPROV_STAGE/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
export GOFLAGS=-mod=mod GOPROXY=off GOTOOLCHAIN=local GOSUMDB=off CGO_ENABLED=1
if [ -z "${HOME:-}" ] || [ ! -w "${HOME}" ]; then
    export GOCACHE="$work/go-cache" GOPATH="$work/gopath"
fi
cd "$here"
unformatted=$("$(go env GOROOT)/bin/gofmt" -l .)
[ -z "$unformatted" ] || die "not gofmt-clean: $unformatted"
go vet . || die "go vet"
go build -o "$work/sbprov-rooms" . || die "go build"

# Key derivation: Azure's published example (the DPS docs' group key and
# registration ID, also in ../shared/vectors/azure-published.json).
printf '%s\n' '8isrFI1sGsIlvvFSSFRiMfCNzv21fjbE/+ah/lSh3lF8e2YG1Te7w1KpZhJFFXJrqYKi9yegxkqIChbqOS9Egw==' > "$work/group.key"
got=$("$work/sbprov-rooms" -group-key-file "$work/group.key" -registration-id sn-007-888-abc-mac-a1-b2-c3-d4-e5-f6)
[ "$got" = "Jsm0lyGpjaVYVP2g3FnmnmG9dI/9qU24wNoykUmermc=" ] || die "derived key $got"

port=$(python3 -c 'import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$work/sbprov-rooms" -listen "127.0.0.1:$port" -room 4.12=0011223344556677 -count 41 -node-time \
    > "$work/out.txt" 2> "$work/err.txt" &
pid=$!
for _ in $(seq 50); do grep -q '^listening' "$work/out.txt" 2>/dev/null && break; sleep 0.1; done
python3 - > "$work/frames.jsonl" <<'PY'
for minute in range(40):
    print('{"node":"0011223344556677","epoch":1,"seq":%d,"time_ms":%d,"readings":{"co2_ppm":%d,"motion":%d,'
          '"temperature_c":21.5}}' % (minute, minute * 60000, 600 + 40 * minute, 1 if minute % 3 == 0 else 0))
print('{"node":"0909090909090909","epoch":1,"seq":1,"readings":{"co2_ppm":500}}')
PY
"$cli" frame encode --udp "127.0.0.1:$port" < "$work/frames.jsonl" || die "sbprov frame encode --udp"
for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
kill "$pid" 2>/dev/null && die "sbprov-rooms did not finish: $(cat "$work/err.txt")"
wait "$pid" || die "sbprov-rooms failed: $(cat "$work/err.txt")"
grep -q '^event 4.12: occupied' "$work/out.txt" || die "no occupied event: $(cat "$work/out.txt")"
grep -q '^event 4.12: ventilation_needed' "$work/out.txt" || die "no ventilation alert: $(cat "$work/out.txt")"
grep -q 'node 0909090909090909, which is in no room' "$work/out.txt" || die "unplaced node not reported"
grep -q '^room {"room":"4.12".*"occupied":true' "$work/out.txt" || die "final state: $(cat "$work/out.txt")"
grep -q '^frames 41, dropped 0' "$work/out.txt" || die "counters: $(tail -1 "$work/out.txt")"
echo "examples/go/test.sh: ok"
