#!/usr/bin/env bash
# The gateway provisioning with its device key in a (software) TPM: a
# persistent ECDSA P-256 signing key, preauthorized in Mender by its public
# key, used by sbprov-gateway --provision-only through the tpm2 OpenSSL
# provider. Run by tests/gateway/test_gateway.py with the stack's variables
# in the environment; prints the TPM key's public key (PEM) last.
#
#   tpm-provision.sh GATEWAY CLI WORK CONFIG_TEMPLATE
set -euo pipefail
gateway=$1 cli=$2 work=$3 template=$4
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib/swtpm.sh"
swtpm_require gateway-tpm
mkdir -p "$work"
trap swtpm_cleanup EXIT
trap 'exit 130' INT TERM
swtpm_start "$work/swtpm.log"

handle=0x81000010
tpm2_createprimary -Q -C o -G ecc256:ecdsa-sha256 \
    -a 'fixedtpm|fixedparent|sensitivedataorigin|userwithauth|sign' -c "$work/primary.ctx"
tpm2_evictcontrol -Q -C o -c "$work/primary.ctx" "$handle"
tpm2_flushcontext -t
tpm=(--provider tpm2 --provider default)
"$cli" key public --key "handle:$handle" "${tpm[@]}" > "$work/tpm.pub"

printf '%s' "$SBPROV_TEST_MENDER_PASSWORD" > "$work/pw"
"$cli" mender preauth --server "$SBPROV_TEST_MENDER_URL" --ca "$SBPROV_TEST_CA" --user "$SBPROV_TEST_MENDER_USER" \
    --password-file "$work/pw" --identity mac=02:00:5e:10:00:7b --identity serial=SN-TPM-1 \
    --public-key "$work/tpm.pub" >/dev/null
sed "s|@KEY@|handle:$handle|" "$template" > "$work/gateway.conf"
"$gateway" -c "$work/gateway.conf" --provision-only
cat "$work/tpm.pub"
