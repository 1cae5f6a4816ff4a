#!/usr/bin/env bash
# Device keys held by a TPM: a software TPM (swtpm) on loopback, primary
# signing keys (ECC P-256 and RSA 2048) made persistent at 0x81000001 and
# 0x81000002, loaded by libsbprov as "handle:0x8100000N" through the tpm2
# OpenSSL provider. The public key, signatures and CSRs are checked with Go's
# crypto as the Mender server checks them, and the private key must never
# leave the TPM (saving it fails with SBPROV_EKEY). Installs nothing: fails
# with a clear message if swtpm, tpm2-tools or tpm2-openssl are missing
# (scripts/install-deps.sh installs them). swtpm is always stopped and its
# state removed (tests/lib/swtpm.sh).
#
# usage: tpm.sh KEY_TOOL WORK_DIR
set -euo pipefail
tool=$1
work=$2
here=$(cd "$(dirname "$0")" && pwd)

die() { echo "tpm: FAIL: $*" >&2; exit 1; }

# shellcheck source=../lib/swtpm.sh
. "$here/../lib/swtpm.sh"
swtpm_require tpm go "Debian: golang-go"
[ -x "$tool" ] || die "$tool is not executable"

rm -rf "$work"
mkdir -p "$work"
trap swtpm_cleanup EXIT
trap 'exit 130' INT TERM

export GOFLAGS=-mod=mod GOPROXY=off GOTOOLCHAIN=local GOSUMDB=off CGO_ENABLED=0
[ -n "${HOME:-}" ] || export GOCACHE="$work/go-cache"
(cd "$here/goverify" && go build -o "$work/goverify" .) || die "cannot build goverify"
gv=$work/goverify

swtpm_start "$work/swtpm.log"

# Primary signing keys in the owner hierarchy, made persistent (no resource
# manager needed for persistent handles). Without a resource manager the
# transient copies stay loaded and the TPM has few slots: flush them.
attrs='fixedtpm|fixedparent|sensitivedataorigin|userwithauth|sign'
tpm2_createprimary -Q -C o -G ecc256:ecdsa-sha256 -a "$attrs" -c "$work/ecc.ctx" || die "createprimary ECC"
tpm2_evictcontrol -Q -C o -c "$work/ecc.ctx" 0x81000001 || die "evictcontrol 0x81000001"
tpm2_flushcontext -t || die "flushcontext"
tpm2_createprimary -Q -C o -G rsa2048:rsassa-sha256 -a "$attrs" -c "$work/rsa.ctx" || die "createprimary RSA"
tpm2_evictcontrol -Q -C o -c "$work/rsa.ctx" 0x81000002 || die "evictcontrol 0x81000002"
tpm2_flushcontext -t || die "flushcontext"

head -c 0 /dev/urandom > "$work/m-empty"
head -c 1 /dev/urandom > "$work/m-1"
head -c 65536 /dev/urandom > "$work/m-64k"
printf '{"id_data":"{\\"mac\\":\\"00:01:02:03:04:05\\"}","pubkey":"...","tier":"standard"}' > "$work/m-json"

kt() { "$tool" --providers tpm2,default "$@"; }
checks=0
ok() { checks=$((checks + 1)); }

for spec in "0x81000001 2 256 ECDSA-SHA256" "0x81000002 3 2048 SHA256-RSA"; do
    read -r handle type bits alg <<< "$spec"
    uri=handle:$handle
    info=$(kt info "$uri") || die "$uri: load"
    [ "$info" = "$type $bits 1" ] || die "$uri: type/bits/has_private '$info', want '$type $bits 1'"
    ok
    kt pub "$uri" > "$work/$handle.pub" || die "$uri: public key"
    head -1 "$work/$handle.pub" | grep -qx -- '-----BEGIN PUBLIC KEY-----' || die "$uri: public key is not SPKI PEM"
    # Same public key as the TPM reports through tpm2-tools.
    tpm2_readpublic -Q -c "$handle" -f pem -o "$work/$handle.tpm.pem" || die "$uri: tpm2_readpublic"
    cmp -s <(openssl pkey -pubin -in "$work/$handle.tpm.pem" -outform DER) \
        <(openssl pkey -pubin -in "$work/$handle.pub" -outform DER) || die "$uri: public key differs from the TPM's"
    ok
    fp=$(kt fingerprint "$uri") || die "$uri: fingerprint"
    [ "$fp" = "$(openssl pkey -pubin -in "$work/$handle.pub" -outform DER | sha256sum | cut -d' ' -f1)" ] ||
        die "$uri: fingerprint"
    ok

    for m in m-empty m-1 m-64k m-json; do
        kt sign "$uri" "$work/$m" > "$work/$handle.$m.sig" || die "$uri $m: sign"
        "$gv" sig "$work/$handle.pub" "$work/$m" "$work/$handle.$m.sig" >/dev/null || die "$uri $m: Go rejects"
        ok
    done
    # A tampered message is rejected.
    printf 'X' >> "$work/m-json"
    set +e
    "$gv" sig "$work/$handle.pub" "$work/m-json" "$work/$handle.m-json.sig" 2>/dev/null
    rc=$?
    set -e
    [ $rc -eq 1 ] || die "$uri: Go accepted a signature over a tampered message (exit $rc)"
    ok
    printf '{"id_data":"{\\"mac\\":\\"00:01:02:03:04:05\\"}","pubkey":"...","tier":"standard"}' > "$work/m-json"

    # An explicit property query naming the provider works too.
    "$tool" --providers tpm2,default --propquery provider=tpm2 sign "$uri" "$work/m-1" > "$work/pq.sig" ||
        die "$uri: sign with propquery provider=tpm2"
    "$gv" sig "$work/$handle.pub" "$work/m-1" "$work/pq.sig" >/dev/null || die "$uri: Go rejects (propquery)"
    ok
    # The trap the key's own provider avoids: fetched from the default
    # provider, signing fails (the private key is not in memory).
    set +e
    err=$(TSS2_LOG=all+NONE "$tool" --providers tpm2,default --propquery '?provider=default' sign "$uri" \
        "$work/m-1" 2>&1 >/dev/null)
    rc=$?
    set -e
    [ $rc -eq 1 ] && [[ "$err" == *"EPROVIDER (-17)"*"missing private key"* ]] ||
        die "$uri: signing through the default provider should fail with EPROVIDER: $err"
    echo "ok: $uri: through the default provider: ${err#*: }"
    ok
    set +e
    err=$(TSS2_LOG=all+NONE "$tool" --providers tpm2,default --propquery '?provider=default' csr "$uri" gw \
        2>&1 >/dev/null)
    rc=$?
    set -e
    [ $rc -eq 1 ] && [[ "$err" == *"ECRYPTO (-10)"* ]] ||
        die "$uri: a CSR through the default provider should fail with ECRYPTO: $err"
    ok

    kt csr "$uri" "gw-tpm-0001" "DNS:gw-tpm-0001.example.com,IP:10.0.0.9" > "$work/$handle.csr" || die "$uri: CSR"
    summary=$("$gv" csr "$work/$handle.csr" "$work/$handle.pub" "gw-tpm-0001") || die "$uri: Go rejects the CSR"
    [ "$summary" = "ok $alg dns=gw-tpm-0001.example.com ip=10.0.0.9 uri= email=" ] || die "$uri: CSR '$summary'"
    openssl req -in "$work/$handle.csr" -noout -verify 2>/dev/null || die "$uri: openssl rejects the CSR"
    ok

    # The private key never leaves the TPM.
    set +e
    err=$(kt save "$uri" "$work/$handle.exported.pem" 2>&1)
    rc=$?
    set -e
    [ $rc -eq 1 ] && [[ "$err" == *"EKEY (-14)"* ]] || die "$uri: save should fail with EKEY: $err"
    [ ! -e "$work/$handle.exported.pem" ] || die "$uri: save left a file behind"
    [ -z "$(find "$work" -maxdepth 1 -name '.*.tmp-*')" ] || die "$uri: save left a temporary file"
    ok
    echo "ok: $uri: type $type, $bits bits, signatures and CSR ($alg) verified by Go; save refused"
done

# A key file that is only a reference into the TPM ("TSS2 PRIVATE KEY", made
# by the tpm2 provider under the owner hierarchy): loaded by path.
openssl genpkey -provider tpm2 -provider default -algorithm EC -pkeyopt group:P-256 -out "$work/tss2.pem" \
    2>/dev/null || die "openssl genpkey -provider tpm2"
head -1 "$work/tss2.pem" | grep -qx -- '-----BEGIN TSS2 PRIVATE KEY-----' || die "tss2.pem is not a TSS2 key"
[ "$(kt info "$work/tss2.pem")" = "2 256 1" ] || die "TSS2 key file: load"
kt pub "$work/tss2.pem" > "$work/tss2.pub" || die "TSS2 key file: public key"
kt sign "$work/tss2.pem" "$work/m-json" > "$work/tss2.sig" || die "TSS2 key file: sign"
"$gv" sig "$work/tss2.pub" "$work/m-json" "$work/tss2.sig" >/dev/null || die "TSS2 key file: Go rejects"
ok
set +e
err=$(kt save "$work/tss2.pem" "$work/tss2.exported.pem" 2>&1)
rc=$?
set -e
[ $rc -eq 1 ] && [[ "$err" == *"EKEY (-14)"* ]] || die "TSS2 key file: save should fail with EKEY: $err"
set +e
err=$("$tool" info "$work/tss2.pem" 2>&1)
rc=$?
set -e
[ $rc -eq 1 ] && [[ "$err" == *"ENOTFOUND (-12)"*"TSS2 PRIVATE KEY"*"providers"* ]] ||
    die "TSS2 key file without the provider: $err"
ok
echo "ok: TSS2 key file: loaded, signature verified by Go, save refused"

# A handle that holds nothing, and a missing provider.
set +e
err=$(TSS2_LOG=all+NONE kt info handle:0x81000009 2>&1)
rc=$?
set -e
[ $rc -eq 1 ] && [[ "$err" == *"ENOTFOUND (-12)"* ]] || die "empty handle: $err"
ok
set +e
err=$("$tool" info handle:0x81000001 2>&1)
rc=$?
set -e
[ $rc -eq 1 ] && [[ "$err" == *"EPROVIDER (-17)"* ]] || die "handle: without the tpm2 provider: $err"
ok
echo "ok: $checks checks with keys held by swtpm"
