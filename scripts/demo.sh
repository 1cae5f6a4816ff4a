#!/usr/bin/env bash
# `make demo`: show what libsbprov does today, end to end, with the installed
# CLI and the Python and Go bindings agreeing on every key.
set -euo pipefail
cd "$(dirname "$0")/.."
: "${SBPROV_BUILD:?run through make demo}" "${SBPROV_STAGE:?run through make demo}"
sbprov=$SBPROV_STAGE/bin/sbprov
work=$(mktemp -d)
stack=$work/stack
cleanup() {
    python3 tests/emulators/stack.py down --dir "$stack" >/dev/null 2>&1 || true
    rm -rf "$work"
}
trap cleanup EXIT
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

step "Library"
"$sbprov" version

step "This gateway's identity, as the Mender server will canonicalise it"
sources=mac,machine-id,hostname template='gw-{mac:compact}'
if ! "$sbprov" identity show --source mac >/dev/null; then
    echo "(no physical Ethernet interface here: using machine-id and hostname)"
    sources=machine-id,hostname template='gw-{machine_id}'
fi
"$sbprov" identity show --source "$sources" --json
echo "id_data_sha256: $("$sbprov" identity show --source "$sources" --digest)"
regid=$("$sbprov" identity id --source "$sources" --template "$template")
echo "Azure registration ID from the template $template: $regid"

step "Its device key (Ed25519, PKCS#8, created 0600 atomically) and a Mender-style signature"
"$sbprov" key generate --type ed25519 --out "$work/mender-agent.pem" >"$work/public.pem"
ls -l "$work/mender-agent.pem" | awk '{print $1, $NF}'
cat "$work/public.pem"
# The body of a Mender auth request; the signature covers exactly these bytes.
python3 -c 'import json, sys; print(json.dumps({"id_data": sys.argv[1], "pubkey": open(sys.argv[2]).read()}), end="")' \
    "$("$sbprov" identity show --source "$sources" --json)" "$work/public.pem" >"$work/body.json"
sig=$("$sbprov" key sign --key "$work/mender-agent.pem" <"$work/body.json")
echo "X-MEN-Signature: $sig"
"$sbprov" key verify --public-key "$work/public.pem" --signature "$sig" <"$work/body.json"

step "A DPS enrollment group key (64 random bytes, as DPS generates them)"
"$sbprov" azure keygen --bytes 64 | sed -n 1p >"$work/group.key"
chmod 600 "$work/group.key"
echo "written to a 0600 file; first characters: $(cut -c1-12 "$work/group.key")..."

step "Device keys for a fleet of 1,000 gateways, derived in one batch"
for i in $(seq -w 1 1000); do echo "gw-berlin-$i"; done >"$work/ids.txt"
start=$(date +%s%N)
"$sbprov" azure derive-key --group-key-file "$work/group.key" --registration-ids-from "$work/ids.txt" >"$work/keys.txt"
ms=$(( ($(date +%s%N) - start) / 1000000 ))
echo "$(wc -l <"$work/keys.txt") keys in ${ms} ms (process start included); first three:"
paste "$work/ids.txt" "$work/keys.txt" | sed -n 1,3p

step "DPS registration token for gw-berlin-0001 (skn=registration, valid 1 h)"
key1=$(head -n 1 "$work/keys.txt")
"$sbprov" azure sas --resource 0ne00000000/registrations/gw-berlin-0001 --key "$key1" --ttl 3600 --policy registration

step "Its IoT Hub connection string, validated and parsed back"
cs=$("$sbprov" azure connstr build --host-name office-berlin.azure-devices.net --device-id gw-berlin-0001 \
      --shared-access-key "$key1")
echo "$cs"
printf '%s' "$cs" | "$sbprov" azure connstr parse -

step "Bad input gets a specific error, never a silent fix"
"$sbprov" azure derive-key --group-key-file "$work/group.key" --registration-id GW-Berlin-1 || true
"$sbprov" azure connstr parse "HostName=h.net;DeviceId=d;x509=true;SharedAccessKey=$key1" || true

step "Mender over HTTPS: a Mender server emulator behind nginx with a test CA, on loopback"
python3 tests/emulators/stack.py up --dir "$stack" --mender >/dev/null
set -a
. "$stack/stack.env"
set +a
echo "server $SBPROV_TEST_MENDER_URL (TLS by nginx, CA $(basename "$SBPROV_TEST_CA"))"
printf '%s' "$SBPROV_TEST_MENDER_PASSWORD" > "$work/mender.pass"
conn=(--server "$SBPROV_TEST_MENDER_URL" --ca "$SBPROV_TEST_CA")
login=(--user "$SBPROV_TEST_MENDER_USER" --password-file "$work/mender.pass")
ident=(--identity mac=02:00:00:00:be:01)

step "Provisioning preauthorizes the gateway's identity and public key (idempotent)"
id1=$("$sbprov" mender preauth "${conn[@]}" "${login[@]}" "${ident[@]}" --public-key "$work/public.pem")
echo "device ID $id1; preauthorizing again answers:"
"$sbprov" mender preauth "${conn[@]}" "${login[@]}" "${ident[@]}" --public-key "$work/public.pem" --json 2>/dev/null

step "The gateway authenticates (signed request) and is accepted at first contact"
"$sbprov" mender auth "${conn[@]}" --key "$work/mender-agent.pem" "${ident[@]}" --json
"$sbprov" mender inventory "${conn[@]}" --key "$work/mender-agent.pem" "${ident[@]}" \
    device_type=sbprov-gateway artifact_name=gw-1.0 --number rooms=12 >/dev/null
"$sbprov" mender status "${conn[@]}" "${login[@]}" "$id1"

step "An unknown gateway is pending until someone accepts it"
"$sbprov" key generate --type ecdsa-p256 --out "$work/other.pem" >/dev/null
set +e
"$sbprov" mender auth "${conn[@]}" --key "$work/other.pem" --identity mac=02:00:00:00:be:02
echo "exit $? (4 = not accepted yet)"
set -e
"$sbprov" mender accept "${conn[@]}" "${login[@]}" --identity mac=02:00:00:00:be:02 >/dev/null
"$sbprov" mender auth "${conn[@]}" --key "$work/other.pem" --identity mac=02:00:00:00:be:02 >/dev/null &&
    echo "accepted after 'sbprov mender accept'"
"$sbprov" mender count "${conn[@]}" "${login[@]}" --status accepted | sed 's/^/accepted devices: /'

step "An untrusted server certificate is refused, with the reason"
"$sbprov" mender auth --server "$SBPROV_TEST_MENDER_UNTRUSTED_URL" --ca "$SBPROV_TEST_CA" \
    --key "$work/mender-agent.pem" "${ident[@]}" || true
python3 tests/emulators/stack.py down --dir "$stack" >/dev/null

step "Azure over HTTPS: DPS and IoT Hub emulators behind nginx; the key derived from the group key"
python3 tests/emulators/stack.py up --dir "$stack" --azure >/dev/null
set -a
. "$stack/stack.env"
set +a
printf '%s' "$SBPROV_TEST_AZURE_GROUP_KEY" > "$work/azure-group.key"
"$sbprov" azure register --endpoint "$SBPROV_TEST_AZURE_DPS_URL" --ca "$SBPROV_TEST_CA" \
    --id-scope "$SBPROV_TEST_AZURE_ID_SCOPE" --registration-id gw-berlin-0001 \
    --group-key-file "$work/azure-group.key" --payload '{"site":"berlin","floor":4}' \
    --connection-string-out "$work/device.cs"
ls -l "$work/device.cs" | awk '{print "device connection string written:", $1, $NF}'

step "Telemetry to IoT Hub (JSON lines, application properties), as the hub recorded it"
printf '{"co2_ppm":812,"temperature_c":21.53}\n{"co2_ppm":1240,"temperature_c":22.1}\n' |
    "$sbprov" azure send --endpoint "$SBPROV_TEST_AZURE_HUB_URL" --ca "$SBPROV_TEST_CA" \
        --connection-string-file "$work/device.cs" --lines --property room=4.12
python3 - "$SBPROV_TEST_AZURE_CONTROL" <<'PY'
import json, sys, urllib.request
for m in json.load(urllib.request.urlopen(sys.argv[1] + "/_emu/telemetry?device_id=gw-berlin-0001")):
    print(f"  {m['device_id']}: {m['body']}  properties={m['properties']}  content_type={m['content_type']}")
PY
python3 tests/emulators/stack.py down --dir "$stack" >/dev/null

step "Python binding derives the same 1,000 keys"
py=$(scripts/python-venv.sh)
# Install the binding from this checkout every time, so the demo shows this code.
PKG_CONFIG_PATH=$SBPROV_STAGE/lib/pkgconfig "$py" -m pip install --quiet --no-build-isolation --no-deps \
    --force-reinstall bindings/python >/dev/null
"$py" - "$work" <<'PY'
import sys
import sbprov
import sbprov.azure as az
work = sys.argv[1]
group = open(f"{work}/group.key").read().strip()
ids = open(f"{work}/ids.txt").read().split()
keys = az.derive_device_keys(group, ids)
assert keys == open(f"{work}/keys.txt").read().split(), "Python and C disagree"
print(f"sbprov {sbprov.__version__}: {len(keys)} keys identical to the CLI's")
PY

step "Go binding: its runnable examples, checked against their expected output"
(cd bindings/go && PKG_CONFIG_PATH=$SBPROV_STAGE/lib/pkgconfig LD_LIBRARY_PATH=$SBPROV_STAGE/lib \
    go test -count=1 -run '^Example' -v . | grep -E '^(=== RUN|--- |ok|FAIL)')

scripts/demo_system.sh "$work" "$py"

step "Done"
echo "Every value above came from libsbprov; nothing left behind in $work."
