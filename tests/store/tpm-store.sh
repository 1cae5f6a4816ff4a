#!/usr/bin/env bash
# A credential store whose key is sealed to a key held by a TPM: a software
# TPM (swtpm) on loopback, primary decrypt keys made persistent, and the
# sbprov CLI with --sealing-key handle:0x8100000N through the tpm2 OpenSSL
# provider (in the documented order: tpm2, then default).
#
#   0x81000003  ECC P-256 (owner hierarchy): the store's sealing key (ECDH)
#   0x81000004  ECC P-256 (endorsement hierarchy): another TPM key, refused
#   0x81000005  RSA 2048 (owner hierarchy): RSA-OAEP, which tpm2-openssl can
#               decrypt only from version 1.2 (Debian 12 ships 1.1.1): the
#               store works, or creating it fails with SBPROV_EPROVIDER
#               naming RSA-OAEP and leaves no store behind
#
# Values go in and come out byte for byte, each call a new process; the
# metadata says kdf=sealed / seal=ecdh-p256 and no file of the store holds a
# copy of a value; a file key, another TPM key and a key file are refused
# (SBPROV_EKEY); once the key is evicted the store cannot be opened (a clear
# error, nothing on stdout, the store unchanged). Eviction alone destroys
# nothing: a primary key is derived from the hierarchy's seed and its
# template, so the same template brings the same key back; after tpm2_clear
# (a new owner seed) it is another key and the store is refused for good.
#
# Installs nothing: fails with a clear message if swtpm, tpm2-tools or
# tpm2-openssl are missing (scripts/install-deps.sh installs them). swtpm is
# always stopped and its state removed (tests/lib/swtpm.sh).
#
# usage: tpm-store.sh SBPROV_CLI WORK_DIR
set -euo pipefail
cli=$1
work=$2
here=$(cd "$(dirname "$0")" && pwd)

die() { echo "store-tpm: FAIL: $*" >&2; exit 1; }

# shellcheck source=../lib/swtpm.sh
. "$here/../lib/swtpm.sh"
swtpm_require store-tpm openssl "Debian: openssl" sha256sum "Debian: coreutils"
[ -x "$cli" ] || die "$cli is not executable"

rm -rf "$work"
mkdir -p "$work"
trap swtpm_cleanup EXIT
trap 'exit 130' INT TERM
swtpm_start "$work/swtpm.log"

checks=0
ok() { checks=$((checks + 1)); }
tpm=(--provider tpm2 --provider default)
store=$work/store

# expect_fail WHAT CMD...: CMD must exit 2 (the operation failed) and print
# nothing on stdout; its stderr ends up in $err. The TSS2 libraries' own
# logging of the provoked TPM errors is silenced.
expect_fail() {
    local what=$1 rc
    shift
    set +e
    err=$(TSS2_LOG=all+NONE "$@" 2>&1 >"$work/stdout")
    rc=$?
    set -e
    [ $rc -eq 2 ] || die "$what: exit $rc, want 2 (stderr: $err)"
    [ ! -s "$work/stdout" ] || die "$what: printed on stdout: $(head -c 200 "$work/stdout" | od -c | head -3)"
}

# no_copies DIR VALUE_FILE...: no file in DIR holds a value (its first 32
# bytes, raw or in Base64).
no_copies() {
    python3 - "$@" <<'PY' || die "a value is stored in the clear in $1"
import base64, pathlib, sys
files = {p.name: p.read_bytes() for p in pathlib.Path(sys.argv[1]).iterdir() if p.is_file()}
for v in sys.argv[2:]:
    value = pathlib.Path(v).read_bytes()[:32]
    if not value:
        continue
    for needle in (value, base64.b64encode(value)):
        for name, data in files.items():
            if needle in data:
                sys.exit(f"store-tpm: {name} holds a copy of {v}")
PY
}

# Fingerprint of the TPM key at HANDLE: from the CLI, checked against the
# public key tpm2-tools reads.
fingerprint() {
    local fp
    fp=$("$cli" key public --key "handle:$1" "${tpm[@]}" --fingerprint) || die "handle:$1: fingerprint"
    tpm2_readpublic -Q -c "$1" -f pem -o "$work/$1.pem" || die "$1: tpm2_readpublic"
    [ "$fp" = "$(openssl pkey -pubin -in "$work/$1.pem" -outform DER | sha256sum | cut -d' ' -f1)" ] ||
        die "handle:$1: the CLI's fingerprint differs from the TPM's public key"
    echo "$fp"
}

# Primary decrypt keys, made persistent (no resource manager is needed for
# persistent handles; the transient copies are flushed).
attrs='fixedtpm|fixedparent|sensitivedataorigin|userwithauth|decrypt'
persist() { # HANDLE HIERARCHY ALGORITHM
    tpm2_createprimary -Q -C "$2" -G "$3" -a "$attrs" -c "$work/primary.ctx" || die "createprimary $3 ($1)"
    tpm2_evictcontrol -Q -C o -c "$work/primary.ctx" "$1" || die "evictcontrol $1"
    tpm2_flushcontext -t || die "flushcontext"
}
persist 0x81000003 o ecc256
# The same template under the owner hierarchy would give the same key again.
persist 0x81000004 e ecc256
persist 0x81000005 o rsa2048
fp3=$(fingerprint 0x81000003)
fp4=$(fingerprint 0x81000004)
fp5=$(fingerprint 0x81000005)
[ "$fp3" != "$fp4" ] || die "0x81000003 and 0x81000004 hold the same key"
ok

# Values: binary (NUL bytes, trailing newline), a connection string, empty.
head -c 4096 /dev/urandom > "$work/v-bin"
printf '\0\r\n' >> "$work/v-bin"
printf 'HostName=hub.example.net;DeviceId=gw-tpm-0001;SharedAccessKey=%s\n' \
    "$(head -c 32 /dev/urandom | base64)" > "$work/v-conn"
: > "$work/v-empty"
names=(bin azure.conn empty)
files=("$work/v-bin" "$work/v-conn" "$work/v-empty")

# ---- ECC P-256: ECDH in the TPM ------------------------------------------------
sealed=(--dir "$store" --sealing-key handle:0x81000003 "${tpm[@]}")
"$cli" store "${sealed[@]}" --create put "${names[0]}" < "${files[0]}" ||
    die "creating a store sealed to handle:0x81000003 (providers tpm2,default) failed"
for i in 1 2; do
    "$cli" store "${sealed[@]}" put "${names[$i]}" < "${files[$i]}" || die "put ${names[$i]}"
done
ok
# Each call is a new process that opens the store (and unseals its key) anew.
for i in 0 1 2; do
    "$cli" store "${sealed[@]}" get "${names[$i]}" > "$work/out" || die "get ${names[$i]}"
    cmp -s "$work/out" "${files[$i]}" || die "get ${names[$i]}: not the value put, byte for byte"
    ok
done
[ "$("$cli" store "${sealed[@]}" list)" = "$(printf 'azure.conn\nbin\nempty')" ] || die "list"
"$cli" store "${sealed[@]}" exists azure.conn || die "exists"
ok
meta=$store/.sbprov-store
for line in "mode=aes-256-gcm" "kdf=sealed" "seal=ecdh-p256" "seal_key=$fp3"; do
    grep -qx -- "$line" "$meta" || die "metadata lacks '$line': $(cat "$meta")"
done
! grep -q '^scrypt\|^salt=' "$meta" || die "metadata of a sealed store has scrypt parameters"
ok
no_copies "$store" "${files[@]}"
ok
echo "ok: store sealed to handle:0x81000003 (ECDH in the TPM): 3 values byte for byte across processes;" \
    "metadata kdf=sealed, seal=ecdh-p256, seal_key=${fp3:0:16}..., no copy of a value"

# ---- refused: other keys, another key source -----------------------------------
sums() { (cd "$store" && sha256sum .sbprov-store e.*); }
before=$(sums)
"$cli" key generate --type ecdsa-p256 --out "$work/file-key.pem" > /dev/null || die "key generate"
fpf=$("$cli" key public --key "$work/file-key.pem" --fingerprint) || die "file key fingerprint"
expect_fail "a file key" "$cli" store --dir "$store" --sealing-key "$work/file-key.pem" get bin
[[ "$err" == *"is sealed to key $fp3, not to the given key $fpf"* ]] || die "a file key: $err"
ok
expect_fail "handle:0x81000004" "$cli" store --dir "$store" --sealing-key handle:0x81000004 "${tpm[@]}" get bin
[[ "$err" == *"is sealed to key $fp3, not to the given key $fp4"* ]] || die "handle:0x81000004: $err"
ok
"$cli" store keygen --out "$work/store.key" || die "store keygen"
expect_fail "a key file" "$cli" store --dir "$store" --key-file "$work/store.key" get bin
[[ "$err" == *"is sealed to key $fp3, no sealing key was given"* ]] || die "a key file: $err"
ok
[ "$(sums)" = "$before" ] || die "a refused open changed the store"
"$cli" store "${sealed[@]}" get azure.conn | cmp -s - "$work/v-conn" || die "the store no longer opens"
ok
echo "ok: refused (EKEY, naming both fingerprints): a P-256 file key, handle:0x81000004; a key file"

# ---- RSA 2048: RSA-OAEP in the TPM, where the provider can ---------------------
rsa=$work/store-rsa
set +e
err=$(TSS2_LOG=all+NONE "$cli" store --dir "$rsa" --sealing-key handle:0x81000005 "${tpm[@]}" --create \
    put azure.conn < "$work/v-conn" 2>&1)
rc=$?
set -e
provider_version=$(dpkg-query -W -f '${Version}' tpm2-openssl 2>/dev/null || echo "?")
if [ $rc -eq 0 ]; then
    "$cli" store --dir "$rsa" --sealing-key handle:0x81000005 "${tpm[@]}" get azure.conn > "$work/out" ||
        die "RSA: get"
    cmp -s "$work/out" "$work/v-conn" || die "RSA: not the value put"
    grep -qx "seal=rsa-oaep-sha256" "$rsa/.sbprov-store" && grep -qx "seal_key=$fp5" "$rsa/.sbprov-store" ||
        die "RSA: metadata: $(cat "$rsa/.sbprov-store")"
    no_copies "$rsa" "$work/v-conn"
    echo "ok: store sealed to handle:0x81000005 (RSA-OAEP in the TPM; tpm2-openssl $provider_version)"
else
    [ $rc -eq 2 ] && [[ "$err" == *"cannot decrypt RSA-OAEP"* ]] ||
        die "RSA: want a working store or the EPROVIDER message about RSA-OAEP; got exit $rc: $err"
    [ ! -e "$rsa/.sbprov-store" ] || die "RSA: a store was created that its key cannot open"
    [ -z "$(find "$rsa" -name 'e.*' -o -name '.*.tmp-*')" ] || die "RSA: files left behind: $(ls -A "$rsa")"
    echo "ok: RSA: refused as expected with tpm2-openssl $provider_version: ${err#sbprov: }"
fi
ok

# ---- the key evicted from the TPM ----------------------------------------------
tpm2_evictcontrol -Q -C o -c 0x81000003 || die "evictcontrol (evict) 0x81000003"
expect_fail "evicted key" "$cli" store "${sealed[@]}" get bin
[[ "$err" == *"handle:0x81000003"*"no private key found"* ]] || die "evicted key: $err"
[ "$(sums)" = "$before" ] || die "a failed open changed the store"
ok
echo "ok: key evicted: ${err#sbprov: }"
# The same template in the same hierarchy is the same key again.
persist 0x81000003 o ecc256
[ "$(fingerprint 0x81000003)" = "$fp3" ] || die "re-created primary: another key"
"$cli" store "${sealed[@]}" get bin | cmp -s - "$work/v-bin" || die "re-created primary: the store does not open"
ok
# A new owner seed: the re-created primary is another key; the store is lost.
tpm2_clear -Q || die "tpm2_clear"
persist 0x81000003 o ecc256
fpn=$(fingerprint 0x81000003)
[ "$fpn" != "$fp3" ] || die "after tpm2_clear: the same key"
expect_fail "after tpm2_clear" "$cli" store "${sealed[@]}" get bin
[[ "$err" == *"is sealed to key $fp3, not to the given key $fpn"* ]] || die "after tpm2_clear: $err"
[ "$(sums)" = "$before" ] || die "a failed open changed the store"
ok
echo "ok: re-created from the same template the key opens the store again; after tpm2_clear it is refused"

echo "ok: $checks checks of a store sealed to keys in swtpm"
