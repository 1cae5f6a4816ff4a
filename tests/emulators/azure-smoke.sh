#!/usr/bin/env bash
# Smoke test of the Azure emulator (DPS + IoT Hub) behind nginx/TLS with curl,
# openssl and python3 only: derive a device key from the enrollment group key,
# register through DPS, send telemetry with the device's SAS, use the identity
# registry with the service policy, and check the 401 / 429 / TLS cases.
#
# usage: azure-smoke.sh STACK_DIR      (a directory brought up by stack.py --azure)
#   e.g. python3 tests/emulators/stack.py run --dir /tmp/azure-stack --azure -- \
#            bash tests/emulators/azure-smoke.sh /tmp/azure-stack
set -uo pipefail

dir=${1:?usage: azure-smoke.sh STACK_DIR}
[ -r "$dir/stack.env" ] || { echo "azure-smoke: $dir/stack.env not found (stack.py up --azure first)" >&2; exit 2; }
# shellcheck disable=SC1091
. "$dir/stack.env"
[ -n "${SBPROV_TEST_AZURE_URL:-}" ] || { echo "azure-smoke: the stack has no Azure emulator (--azure)" >&2; exit 2; }
for tool in curl openssl python3 base64 od; do
    command -v "$tool" >/dev/null 2>&1 || { echo "azure-smoke: $tool not found" >&2; exit 2; }
done

# Loopback only: no proxy from the environment.
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY
work=$(mktemp -d "${TMPDIR:-/tmp}/sbprov-azure-smoke.XXXXXX")
trap 'rm -rf "$work"' EXIT

DPS=$SBPROV_TEST_AZURE_DPS_URL
HUB=$SBPROV_TEST_AZURE_HUB_URL
CTL=$SBPROV_TEST_AZURE_CONTROL
CA=$SBPROV_TEST_CA
SCOPE=$SBPROV_TEST_AZURE_ID_SCOPE
HUBHOST=$SBPROV_TEST_AZURE_HUB_HOST
DPSV="api-version=$SBPROV_TEST_AZURE_DPS_API_VERSION"
HUBV="api-version=$SBPROV_TEST_AZURE_HUB_API_VERSION"
passed=0
failed=0
pass() { passed=$((passed + 1)); echo "ok   - $*"; }
fail() { failed=$((failed + 1)); echo "FAIL - $*"; }
check() {
    local what=$1
    shift
    if "$@"; then pass "$what"; else fail "$what"; fi
}

# req NAME METHOD URL [curl args]: body in $work/NAME.body, headers in
# $work/NAME.hdr; prints the HTTP status (000 without an HTTP answer) and
# returns curl's exit status.
req() {
    local name=$1 method=$2 url=$3
    shift 3
    curl -sS --max-time 30 --cacert "$CA" -X "$method" -o "$work/$name.body" -D "$work/$name.hdr" \
        -w '%{http_code}' "$@" "$url" 2>"$work/$name.err"
}
header() { grep -i "^$2:" "$work/$1.hdr" | tail -1 | cut -d: -f2- | tr -d '\r' | sed 's/^ *//'; }
json() { python3 -c "import json,sys; j=json.load(open(sys.argv[1])); print($2)" "$work/$1.body"; }
ctl() { curl -sS --max-time 10 -X "$1" "$CTL$2" -H 'Content-Type: application/json' ${3:+-d "$3"}; }

# derive GROUP_KEY REGISTRATION_ID: Base64(HMAC-SHA256(Base64Decode(key), id)).
derive() {
    python3 -c 'import base64, hashlib, hmac, sys
print(base64.b64encode(hmac.new(base64.b64decode(sys.argv[1]), sys.argv[2].encode(), hashlib.sha256).digest()).decode())' "$1" "$2"
}
# derive_openssl: the same with the openssl CLI.
derive_openssl() {
    local hex
    hex=$(printf %s "$1" | base64 -d | od -An -v -tx1 | tr -d ' \n')
    printf %s "$2" | openssl dgst -sha256 -mac HMAC -macopt "hexkey:$hex" -binary | base64 -w0
}
# sas KEY RESOURCE TTL_SECONDS [SKN]: a SharedAccessSignature token, sr and
# sig URL-encoded with upper-case hex (as the Azure SDKs do).
sas() {
    python3 - "$@" <<'PY'
import base64, hashlib, hmac, sys, time, urllib.parse
key, resource, ttl = sys.argv[1], sys.argv[2], int(sys.argv[3])
skn = sys.argv[4] if len(sys.argv) > 4 else ""
se = str(int(time.time()) + ttl)
sr = urllib.parse.quote(resource, safe="")
sig = base64.b64encode(hmac.new(base64.b64decode(key), (sr + "\n" + se).encode(), hashlib.sha256).digest()).decode()
tok = "SharedAccessSignature sr=%s&sig=%s&se=%s" % (sr, urllib.parse.quote(sig, safe=""), se)
print(tok + ("&skn=" + skn if skn else ""))
PY
}
# connstr_get CONNSTR KEY: a field of a service connection string.
connstr_get() {
    python3 -c 'import sys
print(dict(p.split("=", 1) for p in sys.argv[1].split(";"))[sys.argv[2]])' "$1" "$2"
}

echo "# stack $dir: DPS $DPS, hub $HUB (host name $HUBHOST), control $CTL"
ctl POST /_emu/reset >/dev/null || { echo "azure-smoke: control API unreachable" >&2; exit 1; }

# --- DPS registration with a derived key ------------------------------------------
RID="sbprov-smoke-$(od -An -N4 -tx1 /dev/urandom | tr -d ' \n')"
DEVKEY=$(derive "$SBPROV_TEST_AZURE_GROUP_KEY" "$RID")
check "derived key: python hmac and openssl agree (44 Base64 characters)" \
    test "$DEVKEY" = "$(derive_openssl "$SBPROV_TEST_AZURE_GROUP_KEY" "$RID")" -a "${#DEVKEY}" = 44
DPSTOK=$(sas "$DEVKEY" "$SCOPE/registrations/$RID" 3600 registration)
st=$(req reg PUT "$DPS/$SCOPE/registrations/$RID/register?$DPSV" -H "Authorization: $DPSTOK" \
    -H 'Content-Type: application/json; charset=utf-8' --data-binary "{\"registrationId\":\"$RID\"}")
OPID=$(json reg 'j["operationId"]' 2>/dev/null)
check "register: 202 assigning with an operationId and Retry-After ($(header reg Retry-After))" \
    test "$st" = 202 -a "$(json reg 'j["status"]' 2>/dev/null)" = assigning -a -n "$OPID" -a -n "$(header reg Retry-After)"
check "register: Date and x-ms-request-id headers" test -n "$(header reg Date)" -a -n "$(header reg x-ms-request-id)"
polls=0
while :; do
    polls=$((polls + 1))
    sleep "$(header reg Retry-After || echo 1)"
    st=$(req reg GET "$DPS/$SCOPE/registrations/$RID/operations/$OPID?$DPSV" -H "Authorization: $DPSTOK")
    [ "$st" = 202 ] && [ "$polls" -lt 10 ] || break
done
check "poll: 200 assigned after $polls polls" test "$st" = 200 -a "$(json reg 'j["status"]' 2>/dev/null)" = assigned
check "assignment: hub $HUBHOST, device id = registration id, initialAssignment" \
    test "$(json reg '(j["registrationState"]["assignedHub"], j["registrationState"]["deviceId"], j["registrationState"]["substatus"])' 2>/dev/null)" \
    = "('$HUBHOST', '$RID', 'initialAssignment')"

# --- telemetry with the device SAS ------------------------------------------------------
DEVTOK=$(sas "$DEVKEY" "$HUBHOST/devices/$RID" 3600)
st=$(req d2c POST "$HUB/devices/$RID/messages/events?$HUBV" -H "Authorization: $DEVTOK" \
    -H 'Content-Type: application/json' -H 'iothub-messageid: smoke-1' -H 'iothub-contenttype: application/json' \
    -H 'iothub-contentencoding: utf-8' -H 'iothub-app-source: azure-smoke' --data-binary '{"temperature":21.5}')
check "telemetry with the derived device key: 204" test "$st" = 204
curl -sS "$CTL/_emu/telemetry?device_id=$RID" -o "$work/tel.body"
check "the message is recorded with its properties" \
    test "$(json tel '[(m["body"], m["message_id"], m["content_type"], m["properties"]) for m in j]' 2>/dev/null)" \
    = "[('{\"temperature\":21.5}', 'smoke-1', 'application/json', {'source': 'azure-smoke'})]"

# --- registry with the service policy ------------------------------------------------------
POLICY=$(connstr_get "$SBPROV_TEST_AZURE_SERVICE_CONNSTR" SharedAccessKeyName)
SVCKEY=$(connstr_get "$SBPROV_TEST_AZURE_SERVICE_CONNSTR" SharedAccessKey)
SVCHOST=$(connstr_get "$SBPROV_TEST_AZURE_SERVICE_CONNSTR" HostName)
SVCTOK=$(sas "$SVCKEY" "$SVCHOST" 3600 "$POLICY")
DEV2="smoke-registry-dev"
st=$(req create PUT "$HUB/devices/$DEV2?$HUBV" -H "Authorization: $SVCTOK" -H 'Content-Type: application/json; charset=utf-8' \
    --data-binary "{\"deviceId\":\"$DEV2\",\"status\":\"enabled\",\"authentication\":{\"type\":\"sas\"}}")
ETAG=$(json create 'j["etag"]' 2>/dev/null)
check "registry create ($POLICY): 200 with generated keys and an etag" \
    test "$st" = 200 -a -n "$ETAG" -a "$(json create 'len(j["authentication"]["symmetricKey"]["primaryKey"])' 2>/dev/null)" = 44
st=$(req get GET "$HUB/devices/$DEV2?$HUBV" -H "Authorization: $SVCTOK")
check "registry get: 200, ETag header \"$ETAG\"" test "$st" = 200 -a "$(header get ETag)" = "\"$ETAG\""
st=$(req create2 PUT "$HUB/devices/$DEV2?$HUBV" -H "Authorization: $SVCTOK" -H 'Content-Type: application/json' \
    --data-binary "{\"deviceId\":\"$DEV2\"}")
check "registry create again without If-Match: 409 DeviceAlreadyExists" \
    test "$st" = 409 -a "$(header create2 iothub-errorcode)" = DeviceAlreadyExists
st=$(req del412 DELETE "$HUB/devices/$DEV2?$HUBV" -H "Authorization: $SVCTOK" -H 'If-Match: "stale"')
check "registry delete with a stale etag: 412" test "$st" = 412
st=$(req del DELETE "$HUB/devices/$DEV2?$HUBV" -H "Authorization: $SVCTOK" -H "If-Match: \"$ETAG\"")
st2=$(req get2 GET "$HUB/devices/$DEV2?$HUBV" -H "Authorization: $SVCTOK")
check "registry delete with the etag: 204, then 404 DeviceNotFound" \
    test "$st" = 204 -a "$st2" = 404 -a "$(header get2 iothub-errorcode)" = DeviceNotFound

# --- 401s -----------------------------------------------------------------------------------------
RID2="${RID}-b"
st=$(req wrong PUT "$DPS/$SCOPE/registrations/$RID2/register?$DPSV" -H 'Content-Type: application/json' \
    -H "Authorization: $(sas "$SBPROV_TEST_AZURE_GROUP_KEY" "$SCOPE/registrations/$RID2" 3600 registration)" \
    --data-binary "{\"registrationId\":\"$RID2\"}")
check "DPS token signed with the group key instead of the derived key: 401, errorCode 401002" \
    test "$st" = 401 -a "$(json wrong 'j["errorCode"]' 2>/dev/null)" = 401002
st=$(req wrong2 POST "$HUB/devices/$RID/messages/events?$HUBV" -H "Authorization: $(sas "$SVCKEY" "$HUBHOST/devices/$RID" 3600)" \
    --data-binary x)
check "telemetry with a wrong device key: 401 IotHubUnauthorizedAccess" \
    test "$st" = 401 -a "$(header wrong2 iothub-errorcode)" = IotHubUnauthorizedAccess
st=$(req expired POST "$HUB/devices/$RID/messages/events?$HUBV" -H "Authorization: $(sas "$DEVKEY" "$HUBHOST/devices/$RID" -600)" \
    --data-binary x)
check "telemetry with a token expired 10 minutes ago: 401 (expired)" \
    test "$st" = 401 -a "$(json expired '"expired" in j["Message"]' 2>/dev/null)" = True
st=$(req skew POST "$HUB/devices/$RID/messages/events?$HUBV" -H "Authorization: $(sas "$DEVKEY" "$HUBHOST/devices/$RID" -120)" \
    --data-binary x)
check "telemetry with a token expired 2 minutes ago: 204 (5 minutes of clock skew)" test "$st" = 204
st=$(req badsr POST "$HUB/devices/$RID/messages/events?$HUBV" \
    -H "Authorization: $(sas "$DEVKEY" "${HUB#https://}/devices/$RID" 3600)" --data-binary x)
check "device token whose sr names the nginx URL instead of the hub host name: 401" test "$st" = 401

# --- faults ---------------------------------------------------------------------------------------
ctl POST /_emu/faults '{"route":"dps_register","count":1,"status":429,"retry_after":"5"}' >/dev/null
st=$(req f429 PUT "$DPS/$SCOPE/registrations/$RID/register?$DPSV" -H "Authorization: $DPSTOK" \
    -H 'Content-Type: application/json' --data-binary "{\"registrationId\":\"$RID\"}")
check "injected 429 reaches the client with Retry-After: 5 and a DPS error body" \
    test "$st" = 429 -a "$(header f429 Retry-After)" = 5 -a "$(json f429 'j["errorCode"]' 2>/dev/null)" = 429001
ctl POST /_emu/faults '{"route":"hub_telemetry","count":1,"status":503}' >/dev/null
st=$(req f503 POST "$HUB/devices/$RID/messages/events?$HUBV" -H "Authorization: $DEVTOK" --data-binary x)
check "injected 503 on telemetry with an IoT Hub error body" \
    test "$st" = 503 -a "$(header f503 iothub-errorcode)" = ServiceUnavailable
ctl POST /_emu/faults '{"route":"dps_operation","count":1,"truncate":true,"status":200}' >/dev/null
req trunc GET "$DPS/$SCOPE/registrations/$RID/operations/$OPID?$DPSV" -H "Authorization: $DPSTOK" >/dev/null
rc=$?
check "injected truncated body reaches the client (curl exit $rc, want 18)" test "$rc" = 18
ctl DELETE /_emu/faults >/dev/null
st=$(req rereg PUT "$DPS/$SCOPE/registrations/$RID/register?$DPSV" -H "Authorization: $DPSTOK" \
    -H 'Content-Type: application/json' --data-binary "{\"registrationId\":\"$RID\"}")
check "re-registration after the faults: 202" test "$st" = 202

# --- clock offset: the Date header through nginx ------------------------------------------------------
ctl POST /_emu/config '{"clock_offset":"-2h"}' >/dev/null
req date GET "$HUB/devices/$RID?$HUBV" -H "Authorization: $SVCTOK" >/dev/null
off=$(python3 -c 'import email.utils, sys, time
print(round((email.utils.parsedate_to_datetime(sys.argv[1]).timestamp() - time.time()) / 60))' "$(header date Date)")
check "clock_offset -2h: the Date header nginx passes on is 120 minutes behind ($off)" test "$off" = -120
check "clock_offset -2h: exactly one Date header" test "$(grep -ci '^date:' "$work/date.hdr")" = 1
ctl POST /_emu/config '{"clock_offset":0}' >/dev/null

# --- endpoints --------------------------------------------------------------------------------------------
st=$(req cross PUT "$HUB/$SCOPE/registrations/$RID/register?$DPSV" -H "Authorization: $DPSTOK" \
    -H 'Content-Type: application/json' --data-binary "{\"registrationId\":\"$RID\"}")
check "a DPS request sent to the hub endpoint: 404" test "$st" = 404
st=$(req both GET "$SBPROV_TEST_AZURE_URL/devices/$RID?$HUBV" -H "Authorization: $SVCTOK")
check "the combined endpoint serves the hub API too" test "$st" = 200

# --- TLS cases ---------------------------------------------------------------------------------------------
P="/devices/$RID?$HUBV"
st=$(req mtls-none GET "$SBPROV_TEST_AZURE_MTLS_URL$P" -H "Authorization: $SVCTOK")
rc=$?
check "mtls without a client certificate fails at TLS (curl exit $rc)" test "$rc" != 0 -a "$st" = 000
st=$(req mtls-ec GET "$SBPROV_TEST_AZURE_MTLS_URL$P" -H "Authorization: $SVCTOK" \
    --cert "$SBPROV_TEST_CLIENT_CERT_EC" --key "$SBPROV_TEST_CLIENT_KEY_EC")
check "mtls with the EC client certificate: 200" test "$st" = 200
for case in WRONGHOST EXPIRED UNTRUSTED; do
    var=SBPROV_TEST_AZURE_${case}_URL
    u=${!var}
    st=$(req "tls-$case" GET "$u/_stack/health")
    rc=$?
    check "$case: verification fails (curl exit $rc)" test "$rc" = 60 -o "$rc" = 51 -o "$rc" = 35
done

# --- the emulator saw only the violations this script provoked ------------------------------------------
curl -sS "$CTL/_emu/violations" -o "$work/violations.body"
kinds=$(json violations '",".join(sorted(set(v["kind"] for v in j)))')
check "violations are exactly the provoked ones (got: $kinds)" test "$kinds" = "route,sas-scope,signature"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
