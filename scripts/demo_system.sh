#!/usr/bin/env bash
# The whole smart-building system on loopback, as the last part of `make demo`:
# the Mender and Azure emulators behind nginx, a fleet provisioned by
# sbprov-fleet, the gateway daemon started on its bundle, and the MCU simulator
# feeding it a meeting over a pty.
#
#   scripts/demo_system.sh WORK PYTHON     (SBPROV_STAGE set; called by scripts/demo.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
work=$1/system
py=$2
: "${SBPROV_STAGE:?}"
bin=$SBPROV_STAGE/bin
stack=$work/stack
mkdir -p "$work/gw"
gw_pid= sim_pid=
cleanup() {
    [ -z "$sim_pid" ] || kill "$sim_pid" 2>/dev/null || true
    [ -z "$gw_pid" ] || kill "$gw_pid" 2>/dev/null || true
    python3 tests/emulators/stack.py down --dir "$stack" >/dev/null 2>&1 || true
}
trap cleanup EXIT
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

step "The whole system: Mender and Azure emulators behind nginx (TLS, test CA) on loopback"
python3 tests/emulators/stack.py up --dir "$stack" --mender --azure >/dev/null
set -a
. "$stack/stack.env"
set +a
echo "mender $SBPROV_TEST_MENDER_URL   dps $SBPROV_TEST_AZURE_DPS_URL   hub $SBPROV_TEST_AZURE_HUB_URL"

step "Factory: the gateway makes its own key; the fleet manifest carries its public key"
"$bin/sbprov" key generate --out "$work/gw/device.pem" > "$work/gw-berlin-0001.pub"
cat > "$work/manifest.csv" <<CSV
serial,mac,room,floor,public_key,registration_id
SN-0001,02:00:5e:10:00:01,4.12,4,gw-berlin-0001.pub,gw-berlin-0001
SN-0002,02:00:5e:10:00:02,5.01,5,,gw-berlin-0002
SN-0003,02:00:5e:10:00:03,6.20,6,,gw-berlin-0003
CSV
cat "$work/manifest.csv"

step "sbprov-fleet provisions the fleet: Mender preauthorization, Azure keys, a bundle per gateway"
rm -rf "$work/fleet-src" && cp -r examples/python "$work/fleet-src"
"$py" -m pip install --quiet --no-build-isolation --no-deps --force-reinstall "$work/fleet-src" >/dev/null
SBPROV_FLEET_GROUP_KEY=$SBPROV_TEST_AZURE_GROUP_KEY SBPROV_FLEET_MENDER_PASSWORD=$SBPROV_TEST_MENDER_PASSWORD \
    "$(dirname "$py")/sbprov-fleet" "$work/manifest.csv" --out "$work/bundles" --mender-url "$SBPROV_TEST_MENDER_URL" \
    --mender-user "$SBPROV_TEST_MENDER_USER" --ca "$SBPROV_TEST_CA" --id-scope "$SBPROV_TEST_AZURE_ID_SCOPE" --jobs 3
bundle=$work/bundles/gw-berlin-0001

step "The gateway's configuration: its bundle, and the rooms of the simulated floor"
"$bin/sbprov-mcu-sim" --list-nodes > "$work/plan.json"
{
    cat <<CONF
[device]
state_dir = $bundle
key = $work/gw/device.pem
identity = stored
[mender]
url = $SBPROV_TEST_MENDER_URL
ca_file = $SBPROV_TEST_CA
[azure]
dps_url = $SBPROV_TEST_AZURE_DPS_URL
hub_url = $SBPROV_TEST_AZURE_HUB_URL
ca_file = $SBPROV_TEST_CA
[telemetry]
batch_max_messages = 50
batch_max_ms = 1000
[input]
serial = $work/ttySIM
clock = node
CONF
    python3 -c '
import json, sys
for r in json.load(open(sys.argv[1]))["rooms"]:
    print("[room \"%s\"]\nnodes = %s" % (r["name"], ", ".join(r["nodes"])))' "$work/plan.json"
} > "$work/gateway.conf"
"$bin/sbprov-gateway" -c "$work/gateway.conf" --check-config | sed 1d

step "sbprov-gateway starts: accepted by Mender at once (preauthorized), registered with DPS"
"$bin/sbprov-gateway" -c "$work/gateway.conf" 2> "$work/gateway.log" &
gw_pid=$!
for _ in $(seq 300); do grep -q "running:" "$work/gateway.log" && break; sleep 0.1; done
sed 's/^sbprov-gateway: //' "$work/gateway.log"

step "The MCU simulator: 70 minutes of 3 rooms with a meeting, 120x real time, over a pty"
"$bin/sbprov-mcu-sim" --pty --pty-link "$work/ttySIM" --speed 120 --truth "$work/truth.jsonl" 2> "$work/sim.log" &
sim_pid=$!
shown=$(wc -l < "$work/gateway.log")
while kill -0 "$sim_pid" 2>/dev/null; do
    sleep 0.5
    total=$(wc -l < "$work/gateway.log")
    if [ "$total" -gt "$shown" ]; then
        sed -n "$((shown + 1)),${total}p" "$work/gateway.log" | grep -E "room |input" | sed 's/^sbprov-gateway: //' || true
        shown=$total
    fi
done
wait "$sim_pid" || true
sim_pid=
tail -1 "$work/sim.log"

step "Stop (SIGTERM): the gateway sends what waits and writes its final stats"
sleep 1.5
kill -TERM "$gw_pid"
wait "$gw_pid"
gw_pid=
tail -n +$((shown + 1)) "$work/gateway.log" | sed 's/^sbprov-gateway: //'

step "Summary"
python3 - "$bundle" "$SBPROV_TEST_AZURE_CONTROL" "$SBPROV_TEST_MENDER_CONTROL" <<'PY'
import json, sys, urllib.request
bundle, azure, mender = sys.argv[1:]
opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
get = lambda url: json.loads(opener.open(url, timeout=10).read())
stats = json.load(open(f"{bundle}/gateway-stats.json"))
devs = [d for d in get(mender + "/_emu/devices")["devices"]]
print(f"Mender: {len(devs)} devices; the gateway {stats['provisioning']['mender_device_id']} is "
      + next(d["status"] for d in devs if d["id"] == stats["provisioning"]["mender_device_id"]))
msgs = [m for m in get(azure + "/_emu/telemetry") if m["device_id"] == stats["provisioning"]["azure_device_id"]]
records = [r for m in msgs for r in json.loads(m["body"])]
events = [r for r in records if "event" in r]
print(f"IoT Hub emulator: {len(msgs)} messages from {stats['provisioning']['azure_device_id']} holding "
      f"{len(records) - len(events)} sensor records and {len(events)} room events")
for e in events:
    print(f"  {e['room']:5} {e['event']:19} {e['reason']}")
f, t = stats["frames"], stats["telemetry"]
print(f"frames accepted {f['accepted']}, dropped {sum(f[k] for k in ('crc','too_long','truncated','bad_version','bad_length','unknown_type','duplicate'))}; "
      f"telemetry queued {t['queued']}, sent {t['sent']} in {t['batches']} batches, lost {t['dropped'] + t['unsent']}")
print(f"{'room':6}{'occupied':>9}{'co2 ppm':>9}{'class':>15}{'°C':>7}{'%RH':>7}")
for r in stats["rooms"]:
    print(f"{r['room']:6}{str(r.get('occupied')):>9}{r.get('co2_ppm', '-'):>9}{r.get('co2_class'):>15}"
          f"{r.get('temperature_c', '-'):>7}{r.get('humidity_pct', '-'):>7}")
env = open(f"{bundle}/azure-iot.env").read().split("\n")
print("env file for the Azure IoT container:", ", ".join(l.split("=", 1)[0] for l in env if l))
assert t["sent"] == t["queued"] and any(e["event"] == "ventilation_needed" for e in events)
assert any(e["event"] == "occupied" for e in events)
PY
