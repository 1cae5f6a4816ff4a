#!/usr/bin/env bash
# Signatures and CSRs made by libsbprov, verified by Go's crypto exactly as
# the Mender server verifies an authentication request (goverify/main.go):
# every key type, messages of 0 bytes, 1 byte, 1 MiB, binary, JSON and random;
# tampered messages and signatures must be rejected.
#
# usage: go-verify.sh KEY_TOOL WORK_DIR
set -euo pipefail
tool=$1
work=$2
here=$(cd "$(dirname "$0")" && pwd)

die() { echo "go-verify: FAIL: $*" >&2; exit 1; }
command -v go >/dev/null 2>&1 || die "go not found (scripts/install-deps.sh installs golang-go)"
[ -x "$tool" ] || die "$tool is not executable"
rm -rf "$work"
mkdir -p "$work"

# Offline, no toolchain switching, standard library only.
export GOFLAGS=-mod=mod GOPROXY=off GOTOOLCHAIN=local GOSUMDB=off CGO_ENABLED=0
[ -n "${HOME:-}" ] || export GOCACHE="$work/go-cache"
(cd "$here/goverify" && go build -o "$work/goverify" .) || die "cannot build goverify"
gv=$work/goverify

# Messages: empty, one byte, 1 MiB random, binary with NULs, a Mender auth body.
head -c 0 /dev/urandom > "$work/m-empty"
head -c 1 /dev/urandom > "$work/m-1"
head -c 1048576 /dev/urandom > "$work/m-1mib"
printf 'a\0b\0\377\376\r\n' > "$work/m-binary"
printf '{"id_data":"{\\"mac\\":\\"00:01:02:03:04:05\\"}","pubkey":"-----BEGIN PUBLIC KEY-----\\n...","tier":"standard"}\n' \
    > "$work/m-json"
messages="m-empty m-1 m-1mib m-binary m-json"

checks=0
ok() { checks=$((checks + 1)); }

# Flip one bit of byte $2 of file $1 into $3.
flip() {
    python3 - "$1" "$2" "$3" <<'PY'
import sys
data = bytearray(open(sys.argv[1], "rb").read())
data[int(sys.argv[2])] ^= 1
open(sys.argv[3], "wb").write(data)
PY
}

for type in ed25519 p256 rsa:2048 rsa rsa:4096; do
    name=${type//:/-}
    key=$work/$name.pem
    "$tool" generate "$type" "$key" || die "$type: generate"
    "$tool" pub "$key" > "$work/$name.pub" || die "$type: public key"
    for m in $messages; do
        sig=$work/$name.$m.sig
        "$tool" sign "$key" "$work/$m" > "$sig" || die "$type $m: sign"
        "$gv" sig "$work/$name.pub" "$work/$m" "$sig" >/dev/null || die "$type $m: Go rejects the signature"
        ok
        "$tool" verify "$work/$name.pub" "$work/$m" "$sig" || die "$type $m: libsbprov rejects its own signature"
        ok
    done

    # Tampered message (one bit), tampered signature (one bit): Go must say no.
    flip "$work/m-1mib" 524288 "$work/tampered-msg"
    set +e
    "$gv" sig "$work/$name.pub" "$work/tampered-msg" "$work/$name.m-1mib.sig" 2>/dev/null
    rc=$?
    set -e
    [ $rc -eq 1 ] || die "$type: Go accepted (or failed on) a tampered message: exit $rc"
    ok
    python3 - "$work/$name.m-json.sig" "$work/tampered.sig" <<'PY'
import base64, sys
raw = bytearray(base64.b64decode(open(sys.argv[1]).read(), validate=True))
raw[len(raw) // 2] ^= 1
open(sys.argv[2], "w").write(base64.b64encode(bytes(raw)).decode())
PY
    set +e
    "$gv" sig "$work/$name.pub" "$work/m-json" "$work/tampered.sig" 2>/dev/null
    rc=$?
    "$tool" verify "$work/$name.pub" "$work/m-json" "$work/tampered.sig" 2>/dev/null
    rc_c=$?
    set -e
    [ $rc -eq 1 ] || die "$type: Go accepted (or failed on) a tampered signature: exit $rc"
    [ $rc_c -eq 1 ] || die "$type: libsbprov accepted a tampered signature"
    ok

    # CSR: Go parses it, checks its self-signature, public key, CN and SANs.
    "$tool" csr "$key" "gw-0001" "DNS:gw-0001.example.com,IP:10.0.0.7,IP:2001:db8::1,URI:urn:sbprov:gw-0001,email:ops@example.com" \
        > "$work/$name.csr" || die "$type: CSR"
    summary=$("$gv" csr "$work/$name.csr" "$work/$name.pub" "gw-0001") || die "$type: Go rejects the CSR"
    expect="dns=gw-0001.example.com ip=10.0.0.7,2001:db8::1 uri=urn:sbprov:gw-0001 email=ops@example.com"
    [ "${summary#* * }" = "$expect" ] || die "$type: CSR SANs as Go reads them: '$summary'"
    ok
    "$tool" csr "$key" "gw-0001" > "$work/$name-nosan.csr" || die "$type: CSR without SANs"
    "$gv" csr "$work/$name-nosan.csr" "$work/$name.pub" "gw-0001" >/dev/null || die "$type: Go rejects the CSR"
    ok
    # Random messages of random lengths (ECDSA signatures vary in length).
    for i in $(seq 1 24); do
        head -c $((RANDOM % 3000)) /dev/urandom > "$work/m-random"
        "$tool" sign "$key" "$work/m-random" > "$work/random.sig" || die "$type: sign"
        "$gv" sig "$work/$name.pub" "$work/m-random" "$work/random.sig" >/dev/null ||
            die "$type: Go rejects the signature of a random message ($(wc -c < "$work/m-random") bytes)"
        ok
    done
    echo "ok: $type: ${summary%% dns=*}"
done
echo "ok: $checks checks; Go verifies every libsbprov signature and CSR and rejects tampered ones"
