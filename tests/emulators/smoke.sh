#!/usr/bin/env bash
# Smoke test of the test stack with curl and openssl only: the Mender
# emulator behind nginx/TLS behaves as the real server on the paths the C
# client uses, and every TLS case fails or succeeds as it should.
#
# usage: smoke.sh STACK_DIR      (a directory brought up by stack.py)
#   e.g. python3 tests/emulators/stack.py run --dir /tmp/stack -- \
#            bash tests/emulators/smoke.sh /tmp/stack
set -uo pipefail

dir=${1:?usage: smoke.sh STACK_DIR}
[ -r "$dir/stack.env" ] || { echo "smoke: $dir/stack.env not found (stack.py up first)" >&2; exit 2; }
# shellcheck disable=SC1091
. "$dir/stack.env"
for tool in curl openssl python3 base64; do
    command -v "$tool" >/dev/null 2>&1 || { echo "smoke: $tool not found" >&2; exit 2; }
done

# Loopback only: no proxy from the environment.
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY
work=$(mktemp -d "${TMPDIR:-/tmp}/sbprov-smoke.XXXXXX")
trap 'rm -rf "$work"' EXIT

URL=$SBPROV_TEST_MENDER_URL
CTL=$SBPROV_TEST_MENDER_CONTROL
CA=$SBPROV_TEST_CA
passed=0
failed=0
pass() { passed=$((passed + 1)); echo "ok   - $*"; }
fail() { failed=$((failed + 1)); echo "FAIL - $*"; }
# check DESCRIPTION COMMAND...: the command's success is the check.
check() {
    local what=$1
    shift
    if "$@"; then pass "$what"; else fail "$what"; fi
}

# req NAME METHOD URL [curl args]: body in $work/NAME.body, headers in
# $work/NAME.hdr, curl's stderr in $work/NAME.err; prints the HTTP status
# (000 when there was no HTTP answer) and returns curl's exit status.
req() {
    local name=$1 method=$2 url=$3
    shift 3
    curl -sS --max-time 30 --cacert "$CA" -X "$method" -o "$work/$name.body" -D "$work/$name.hdr" \
        -w '%{http_code}' "$@" "$url" 2>"$work/$name.err"
}
header() { grep -i "^$2:" "$work/$1.hdr" | tail -1 | cut -d: -f2- | tr -d '\r' | sed 's/^ *//'; }
body() { cat "$work/$1.body"; }
# json NAME EXPR: evaluate a Python expression on the parsed body (as j).
json() { python3 -c "import json,sys; j=json.load(open(sys.argv[1])); print($2)" "$work/$1.body"; }
# jwt_claim TOKEN CLAIM
jwt_claim() {
    python3 - "$1" "$2" <<'PY'
import base64, json, sys
p = sys.argv[1].split(".")[1]
print(json.loads(base64.urlsafe_b64decode(p + "=" * (-len(p) % 4)))[sys.argv[2]])
PY
}
pem_json() { awk '{printf "%s\\n", $0}' "$1"; }

# auth_body FILE IDDATA PUBFILE: an auth request body (id_data as a string).
auth_body() {
    local id=${2//\"/\\\"}
    printf '{"id_data":"%s","pubkey":"%s","tier":"standard"}' "$id" "$(pem_json "$3")" >"$1"
}
# sign KEYFILE KIND BODYFILE: the X-MEN-Signature value.
sign() {
    if [ "$2" = ed25519 ]; then
        openssl pkeyutl -sign -inkey "$1" -rawin -in "$3" | base64 -w0
    else
        openssl dgst -sha256 -sign "$1" "$3" | base64 -w0
    fi
}
# newkey NAME KIND: $work/NAME.key and $work/NAME.pub
newkey() {
    case $2 in
        ed25519) openssl genpkey -algorithm ed25519 -out "$work/$1.key" ;;
        rsa) openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:3072 -out "$work/$1.key" ;;
        p256) openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$work/$1.key" ;;
    esac 2>/dev/null
    openssl pkey -in "$work/$1.key" -pubout -out "$work/$1.pub"
}
preauth() { # NAME IDENTITY_JSON PUBFILE AUTH_HEADER
    printf '{"identity_data":%s,"pubkey":"%s"}' "$2" "$(pem_json "$3")" >"$work/$1.json"
    req "$1" POST "$URL/api/management/v2/devauth/devices" -H "Authorization: $4" \
        -H 'Content-Type: application/json' --data-binary "@$work/$1.json"
}
authreq() { # NAME KEYNAME KIND IDDATA [CONTENT_TYPE]
    local name=$1 key=$2 kind=$3 id=$4 ctype=${5:-application/json}
    auth_body "$work/$name.json" "$id" "$work/$key.pub"
    req "$name" POST "$URL/api/devices/v1/authentication/auth_requests" -H "Content-Type: $ctype" \
        -H "X-MEN-Signature: $(sign "$work/$key.key" "$kind" "$work/$name.json")" \
        --data-binary "@$work/$name.json"
}

echo "# stack $dir: $URL (control $CTL)"
curl -sS -X POST "$CTL/_emu/reset" >/dev/null || { echo "smoke: control API unreachable" >&2; exit 1; }

# --- login ---------------------------------------------------------------------
st=$(req login POST "$URL/api/management/v1/useradm/auth/login" -u "$SBPROV_TEST_MENDER_USER:$SBPROV_TEST_MENDER_PASSWORD")
UJWT=$(body login)
check "login: 200 application/jwt with a JWT" \
    test "$st" = 200 -a "$(header login Content-Type)" = application/jwt -a "$(tr -cd . <"$work/login.body")" = ..
st=$(req badlogin POST "$URL/api/management/v1/useradm/auth/login" -u "$SBPROV_TEST_MENDER_USER:wrong")
check "login with a wrong password: 401" test "$st" = 401
st=$(req noauth GET "$URL/api/management/v2/devauth/devices")
check "management without a token: 401" test "$st" = 401

# --- preauthorize (Ed25519) ---------------------------------------------------------
newkey ed ed25519
ID_ED='{"mac":"52:54:00:12:34:56","serial":"smoke-ed"}'
st=$(preauth pre1 "$ID_ED" "$work/ed.pub" "Bearer $UJWT")
loc=$(header pre1 Location)
DEV_ED=${loc#devices/}
check "preauthorize: 201, Location devices/<uuid>, empty body ($loc)" \
    bash -c "[ '$st' = 201 ] && [[ '$loc' =~ ^devices/[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$ ]] && [ ! -s '$work/pre1.body' ]"
st=$(preauth pre2 "$ID_ED" "$work/ed.pub" "Bearer $UJWT")
check "second preauthorize: 409 with the existing device" \
    test "$st" = 409 -a "$(json pre2 'j["id"]' 2>/dev/null)" = "$DEV_ED" -a "$(json pre2 'j["status"]' 2>/dev/null)" = preauthorized

# --- auth requests ----------------------------------------------------------------------
# Keys in another order than the preauthorization: the identity is canonicalized.
st=$(authreq auth-ed ed ed25519 '{"serial":"smoke-ed","mac":"52:54:00:12:34:56"}')
DJWT=$(body auth-ed)
check "Ed25519 auth request for the preauthorized device: 200 application/jwt" \
    test "$st" = 200 -a "$(header auth-ed Content-Type)" = application/jwt
check "device JWT: sub is the device id, mender.device is true" \
    test "$(jwt_claim "$DJWT" sub 2>/dev/null)" = "$DEV_ED" -a "$(jwt_claim "$DJWT" mender.device 2>/dev/null)" = True

newkey rsa rsa
st=$(preauth pre-rsa '{"mac":"52:54:00:00:00:02"}' "$work/rsa.pub" "Bearer $SBPROV_TEST_MENDER_PAT")
check "preauthorize an RSA key with the PAT: 201" test "$st" = 201
st=$(authreq auth-rsa rsa rsa '{"mac":"52:54:00:00:00:02"}')
check "RSA (PKCS#1 v1.5, SHA-256) auth request: 200 application/jwt" \
    test "$st" = 200 -a "$(header auth-rsa Content-Type)" = application/jwt

newkey ec p256
st=$(preauth pre-ec '{"mac":"52:54:00:00:00:03"}' "$work/ec.pub" "Bearer $UJWT")
st2=$(authreq auth-ec ec p256 '{"mac":"52:54:00:00:00:03"}')
check "ECDSA P-256 (DER, SHA-256) auth request: 200" test "$st" = 201 -a "$st2" = 200

# --- device API with the token ------------------------------------------------------------
st=$(req inv PUT "$URL/api/devices/v1/inventory/device/attributes" -H "Authorization: Bearer $DJWT" \
    -H 'Content-Type: application/json' --data-binary '[{"name":"device_type","value":"sbgw"},{"name":"cpus","value":2}]')
check "inventory PUT with the device JWT: 200" test "$st" = 200
st=$(req next GET "$URL/api/devices/v1/deployments/device/deployments/next?artifact_name=rel-1&device_type=sbgw" \
    -H "Authorization: Bearer $DJWT")
check "deployments/next v1: 204 (nothing pending)" test "$st" = 204
st=$(req next2 POST "$URL/api/devices/v2/deployments/device/deployments/next" -H "Authorization: Bearer $DJWT" \
    -H 'Content-Type: application/json' --data-binary '{"device_provides":{"device_type":"sbgw","artifact_name":"rel-1"}}')
check "deployments/next v2: 404 (open-source server)" test "$st" = 404
curl -sS -X POST "$CTL/_emu/deployments" -H 'Content-Type: application/json' \
    -d "{\"device_id\":\"$DEV_ED\",\"id\":\"dep-1\",\"artifact_name\":\"rel-2\",\"device_types_compatible\":[\"sbgw\"]}" >/dev/null
st=$(req next3 GET "$URL/api/devices/v1/deployments/device/deployments/next?artifact_name=rel-1&device_type=sbgw" \
    -H "Authorization: Bearer $DJWT")
check "deployments/next v1 with a configured deployment: 200" \
    test "$st" = 200 -a "$(json next3 'j["artifact"]["artifact_name"]' 2>/dev/null)" = rel-2
st=$(req badtok PUT "$URL/api/devices/v1/inventory/device/attributes" -H "Authorization: Bearer $UJWT" \
    -H 'Content-Type: application/json' --data-binary '[]')
check "inventory with a user JWT instead of a device JWT: 401" test "$st" = 401
curl -sS -X POST "$CTL/_emu/expire-token" -H 'Content-Type: application/json' \
    -d "{\"device_id\":\"$DEV_ED\",\"now\":true}" >/dev/null
st=$(req expired PUT "$URL/api/devices/v1/inventory/device/attributes" -H "Authorization: Bearer $DJWT" \
    -H 'Content-Type: application/json' --data-binary '[]')
check "expired device JWT: 403" test "$st" = 403

# --- unknown device, bad signature, content type, size ------------------------------------------
newkey unk ed25519
st=$(authreq auth-unk unk ed25519 '{"mac":"52:54:00:99:99:99"}')
check "unknown device: 401 dev auth: unauthorized" \
    test "$st" = 401 -a "$(json auth-unk 'j["error"]' 2>/dev/null)" = "dev auth: unauthorized"
st=$(req pending GET "$URL/api/management/v2/devauth/devices?status=pending" -H "Authorization: Bearer $UJWT")
check "the unknown device shows as pending" \
    test "$st" = 200 -a "$(json pending '[d["identity_data"].get("mac") for d in j]' 2>/dev/null)" = "['52:54:00:99:99:99']"
st=$(req count0 GET "$URL/api/management/v2/devauth/devices/count" -H "Authorization: Bearer $UJWT")
before=$(json count0 'j["count"]' 2>/dev/null)
auth_body "$work/badsig.json" '{"mac":"52:54:00:77:77:77"}' "$work/unk.pub"
st=$(req badsig POST "$URL/api/devices/v1/authentication/auth_requests" -H 'Content-Type: application/json' \
    -H "X-MEN-Signature: $(sign "$work/ed.key" ed25519 "$work/badsig.json")" --data-binary "@$work/badsig.json")
req count1 GET "$URL/api/management/v2/devauth/devices/count" -H "Authorization: Bearer $UJWT" >/dev/null
check "bad signature: 401, nothing recorded" \
    test "$st" = 401 -a "$(json badsig 'j["error"]' 2>/dev/null)" = "signature verification failed" \
    -a "$(json count1 'j["count"]' 2>/dev/null)" = "$before"
st=$(authreq ctype unk ed25519 '{"mac":"52:54:00:99:99:99"}' text/plain)
check "wrong Content-Type: 415" \
    test "$st" = 415 -a "$(json ctype 'j["error"]' 2>/dev/null)" = "Bad Content-Type, expected 'application/json'"
head -c 1572864 /dev/zero | tr '\0' ' ' >"$work/big.json"
st=$(req big POST "$URL/api/devices/v1/authentication/auth_requests" -H 'Content-Type: application/json' \
    -H 'X-MEN-Signature: x' --data-binary "@$work/big.json")
check "1.5 MiB body passes nginx and gets the emulator's 413 (JSON)" \
    test "$st" = 413 -a -n "$(json big 'j["request_id"]' 2>/dev/null)"

# --- faults through nginx ----------------------------------------------------------------------------
curl -sS -X POST "$CTL/_emu/faults" -H 'Content-Type: application/json' \
    -d '[{"route":"auth_requests","count":1,"status":503,"retry_after":"7"}]' >/dev/null
st=$(authreq fault503 ed ed25519 '{"serial":"smoke-ed","mac":"52:54:00:12:34:56"}')
check "injected 503 with Retry-After reaches the client" test "$st" = 503 -a "$(header fault503 Retry-After)" = 7
curl -sS -X POST "$CTL/_emu/faults" -H 'Content-Type: application/json' \
    -d '[{"route":"useradm_login","count":1,"truncate":true,"status":200,"content_type":"application/jwt","body":"eyJhbGciOiJFZERTQSJ9.e30.c2lnbmF0dXJl"}]' >/dev/null
req trunc POST "$URL/api/management/v1/useradm/auth/login" -u "$SBPROV_TEST_MENDER_USER:$SBPROV_TEST_MENDER_PASSWORD" >/dev/null
rc=$?
check "injected truncated body reaches the client (curl exit $rc, want 18)" test "$rc" = 18
curl -sS -X DELETE "$CTL/_emu/faults" >/dev/null

# --- TLS cases -----------------------------------------------------------------------------------------
LOGIN=/api/management/v1/useradm/auth/login
UP=("-u" "$SBPROV_TEST_MENDER_USER:$SBPROV_TEST_MENDER_PASSWORD")
st=$(req mtls-none POST "$SBPROV_TEST_MENDER_MTLS_URL$LOGIN" "${UP[@]}")
rc=$?
check "mtls without a client certificate fails at TLS (curl exit $rc, no HTTP status)" test "$rc" != 0 -a "$st" = 000
st=$(req mtls-rsa POST "$SBPROV_TEST_MENDER_MTLS_URL$LOGIN" "${UP[@]}" \
    --cert "$SBPROV_TEST_CLIENT_CERT_RSA" --key "$SBPROV_TEST_CLIENT_KEY_RSA")
check "mtls with the RSA client certificate: login 200" test "$st" = 200
st=$(req mtls-ec POST "$SBPROV_TEST_MENDER_MTLS_URL$LOGIN" "${UP[@]}" \
    --cert "$SBPROV_TEST_CLIENT_CERT_EC" --key "$SBPROV_TEST_CLIENT_KEY_EC")
check "mtls with the EC client certificate: login 200" test "$st" = 200
st=$(req mtls-bad POST "$SBPROV_TEST_MENDER_MTLS_URL$LOGIN" "${UP[@]}" \
    --cert "$SBPROV_TEST_CLIENT_CERT_UNTRUSTED" --key "$SBPROV_TEST_CLIENT_KEY_UNTRUSTED")
check "mtls with a client certificate from another CA: refused by nginx ($st)" test "$st" != 200
for case in WRONGHOST EXPIRED UNTRUSTED; do
    var=SBPROV_TEST_MENDER_${case}_URL
    u=${!var}
    st=$(req "tls-$case" GET "$u/_stack/health")
    rc=$?
    check "$case: verification fails (curl exit $rc: $(head -1 "$work/tls-$case.err" | cut -c1-70))" \
        test "$rc" = 60 -o "$rc" = 51 -o "$rc" = 35
    st=$(curl -sS -k --max-time 10 -o /dev/null -w '%{http_code}' "$u/_stack/health" 2>/dev/null)
    check "$case: the same server answers without verification" test "$st" = 200
done
check "expired: the failure is the expiry" grep -qi expired "$work/tls-EXPIRED.err"
port=${SBPROV_TEST_MENDER_WRONGHOST_URL##*:}
st=$(req wh-ok GET "https://wrong.example:$port/_stack/health" --resolve "wrong.example:$port:127.0.0.1")
check "wronghost: valid for wrong.example" test "$st" = 200
st=$(curl -sS --max-time 10 --cacert "$SBPROV_TEST_OTHER_CA" -o /dev/null -w '%{http_code}' \
    "$SBPROV_TEST_MENDER_UNTRUSTED_URL/_stack/health" 2>/dev/null)
check "untrusted: valid under the other CA" test "$st" = 200

# --- the emulator saw only the violations this script provoked -------------------------------------------
curl -sS "$CTL/_emu/violations" -o "$work/violations.body"
kinds=$(json violations '",".join(sorted(v["kind"] for v in j))')
check "spec violations are exactly the provoked ones (got: $kinds)" test "$kinds" = "auth-header,content-type,signature,size"
st=$(curl -sS -o "$work/state.body" -w '%{http_code}' "$CTL/_emu/devices")
check "control API state: the Ed25519 device is accepted with its inventory" \
    test "$(json state '[(d["status"], len(d["inventory"])) for d in j["devices"] if d["id"] == "'"$DEV_ED"'"]' 2>/dev/null)" = "[('accepted', 2)]"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
