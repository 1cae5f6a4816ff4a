"""sbprov-gateway end to end, against the Mender and Azure emulators behind
nginx (TLS) on loopback: provisioning, restart, telemetry, faults, signals,
configuration errors."""

from __future__ import annotations

import json
import os
import pty
import re
import shutil
import signal
import subprocess
import time
import tty
from pathlib import Path

import pytest

from conftest import CLI, GATEWAY, NODE_A, NODE_B, Gateway, ref_derive, wait_for


def public_key_pem(key_path: Path) -> str:
    r = subprocess.run(["openssl", "pkey", "-in", str(key_path), "-pubout"], capture_output=True, text=True,
                       check=True)
    return r.stdout


def env_file(path: Path) -> dict:
    out = {}
    for line in path.read_text().splitlines():
        name, _, value = line.partition("=")
        out[name] = value
    return out


# ---- configuration -------------------------------------------------------------------

@pytest.mark.parametrize("body, message", [
    ("[device]\nstate_dir = /x\nstate_dri = /y\n", "gateway.conf:3: unknown key 'state_dri' in [device]"),
    ("[devices]\n", "gateway.conf:1: unknown section [devices]"),
    ("[device]\nstate_dir = /x\n[telemetry]\nbatch_max_ms = soon\n",
     "gateway.conf:4: batch_max_ms: 'soon' is not a whole number"),
    ("[device]\nstate_dir = /x\nstate_dir = /y\n", "gateway.conf:3: 'state_dir' is set twice in [device] (first on line 2)"),
    ("[input]\nudp = :1\n", "[device] state_dir is required"),
    ("[device]\nstate_dir = /x\n[input]\nudp = :1\nserial = /dev/ttyS0\n", "needs exactly one of 'serial' and 'udp'"),
    ("[device]\nstate_dir = /x\n[input]\nudp = :1\n[room \"a\"]\nnodes = 0011223344556677\n[room \"b\"]\n"
     "nodes = 0011223344556677\n", "gateway.conf:8: node 0011223344556677 is already in room \"a\" (line 5)"),
    ("[device]\nstate_dir = /x\n[input]\nudp = :1\n[room \"a\"]\nnodes = 0011\n", "is not 16 hex digits"),
    ("[device]\nstate_dir = /x\n[input]\nudp = :1\n[room \"a\"]\nnodes = 0011223344556677\nventilate_ppm = 3000\n",
     "gateway.conf:5: [room \"a\"]:"),
    ("[device]\nstate_dir = /x\nidentity = dmi\n[input]\nudp = :1\n", "identity: 'dmi' is not auto, stored, probe"),
    ("just text\n", "gateway.conf:1: expected 'key = value' or a [section]"),
])
def test_configuration_errors_name_file_and_line(tmp_path, body, message):
    conf = tmp_path / "gateway.conf"
    conf.write_text(body)
    r = subprocess.run([str(GATEWAY), "-c", str(conf)], capture_output=True, text=True, timeout=20)
    assert r.returncode == 2, r.stderr
    assert message in r.stderr, r.stderr


def test_check_config_prints_a_summary(gw):
    gw.write_config()
    r = gw.run("--check-config")
    assert r.returncode == 0, r.stderr
    assert "OK" in r.stdout and "rooms      1 (2 nodes)" in r.stdout and "DPS" in r.stdout


def test_missing_config_and_bad_option(tmp_path):
    r = subprocess.run([str(GATEWAY), "-c", str(tmp_path / "none.conf")], capture_output=True, text=True)
    assert r.returncode == 2 and "none.conf: cannot open: No such file or directory" in r.stderr
    r = subprocess.run([str(GATEWAY), "--frobnicate"], capture_output=True, text=True)
    assert r.returncode == 2 and "unknown or incomplete option '--frobnicate'" in r.stderr


# ---- provisioning, telemetry, restart -------------------------------------------------

def test_first_start_provisions_then_telemetry_arrives(gw):
    gw.write_config()
    gw.start()
    gw.wait_log("waiting until the server accepts this device")
    gw.accept()
    gw.wait_log("mender: accepted as device")
    gw.wait_log("running: 1 rooms, telemetry to IoT Hub")

    # Mender: the device with this identity and the gateway's own key, accepted.
    dev = gw.mender_device()
    assert dev["status"] == "accepted"
    assert dev["identity_data"] == {"mac": gw.mac, "serial": "SN-GW-42"}
    assert [a["pubkey"].strip() for a in dev["auth_sets"]] == [public_key_pem(gw.state / "device.pem").strip()]
    assert (gw.state / "device.pem").stat().st_mode & 0o777 == 0o600

    # Azure: the env file carries the connection string with the derived key.
    key = ref_derive(gw.e["SBPROV_TEST_AZURE_GROUP_KEY"], gw.registration_id)
    env = env_file(gw.state / "azure-iot.env")
    assert env["IOTHUB_DEVICE_CONNECTION_STRING"] == (
        f"HostName={gw.e['SBPROV_TEST_AZURE_HUB_HOST']};DeviceId={gw.registration_id};SharedAccessKey={key}")
    assert env["IOTHUB_DEVICE_DPS_DEVICE_KEY"] == key
    assert env["IOTHUB_DEVICE_DPS_ID_SCOPE"] == gw.e["SBPROV_TEST_AZURE_ID_SCOPE"]
    assert (gw.state / "azure-iot.env").stat().st_mode & 0o777 == 0o600

    # A meeting: occupied at once (motion), ventilation needed past 1000 ppm.
    gw.send(gw.meeting(n=20))
    gw.wait_log("room 4.12: occupied (motion)")
    gw.wait_log("room 4.12: ventilation_needed (co2 ")
    records = wait_for("20 records at the hub",
                       lambda: (lambda r: r if len([x for x in r if "node" in x]) == 20 else None)(
                           gw.telemetry_records()))
    frames = [x for x in records if "node" in x]
    assert [f["seq"] for f in frames] == list(range(1, 21))
    assert frames[0] == {"room": "4.12", "received_ms": frames[0]["received_ms"], "node": NODE_A, "epoch": 1,
                         "seq": 1, "time_ms": 1000, "co2_ppm": 600, "temperature_c": 21.5, "motion": 1}
    events = [x for x in records if "event" in x]
    assert [e["event"] for e in events] == ["occupied", "ventilation_needed"]
    assert events[1]["room"] == "4.12" and events[1]["threshold_ppm"] == 1000 and events[1]["co2_ppm"] >= 1000
    msgs = gw.telemetry()
    assert all(m["properties"]["source"] == "sbprov-gateway" and m["content_type"] == "application/json"
               for m in msgs)
    assert sum(int(m["properties"]["records"]) for m in msgs) == len(records)

    assert gw.stop() == 0
    stats = gw.stats()
    assert stats["final"] is True
    assert stats["frames"]["accepted"] == 20 and stats["telemetry"]["sent"] == 22
    assert stats["telemetry"]["dropped"] == 0 and stats["telemetry"]["unsent"] == 0
    room = stats["rooms"][0]
    assert room["room"] == "4.12" and room["occupied"] is True and room["co2_class"] == "ventilate"


def test_restart_provisions_nothing_twice(gw):
    gw.write_config()
    gw.start()
    gw.wait_log("waiting until the server accepts this device")
    gw.accept()
    gw.wait_log("running:")
    assert gw.stop() == 0
    auth_before = len(gw.mender_requests("/auth_requests"))
    dps_before = len(gw.azure_requests("/registrations/"))
    env_before = (gw.state / "azure-iot.env").read_text()
    key_before = (gw.state / "device.pem").read_bytes()

    # The second start takes the identity the first one stored (as JSON).
    gw.write_config(device=f"state_dir = {gw.state}\nidentity = stored\n")
    gw.log.unlink()
    gw.start()
    gw.wait_log("running:")
    assert '(from the store)' in gw.log_text()
    gw.wait_log("authenticated earlier (stored token still valid)")
    gw.wait_log("registered earlier (stored connection string)")
    assert len(gw.mender_requests("/auth_requests")) == auth_before
    assert len(gw.azure_requests("/registrations/")) == dps_before
    assert (gw.state / "device.pem").read_bytes() == key_before
    assert (gw.state / "azure-iot.env").read_text() == env_before
    assert len(gw.mender("GET", "/_emu/devices")["devices"]) == 1
    stats = wait_for("stats", gw.stats)
    assert stats["provisioning"]["mender_reused"] is True and stats["provisioning"]["azure_reused"] is True
    gw.send(gw.meeting(n=3))
    wait_for("3 records at the hub", lambda: len(gw.telemetry_records()) >= 3)
    assert gw.stop() == 0


def test_mender_down_at_start_is_retried(gw):
    # Preauthorized, so the first request that gets through is accepted.
    gw.write_config()
    gw.state.mkdir()
    key = gw.state / "device.pem"
    subprocess.run([str(CLI), "key", "generate", "--out", str(key)], check=True, capture_output=True)
    gw.mender("POST", "/_emu/faults", [{"route": "auth_requests", "status": 503, "count": 2},
                                       {"route": "auth_requests", "drop": True, "count": 1}])
    pw = gw.tmp / "pw"
    pw.write_text(gw.e["SBPROV_TEST_MENDER_PASSWORD"])
    r = subprocess.run([str(CLI), "mender", "preauth", "--server", gw.e["SBPROV_TEST_MENDER_URL"], "--ca",
                        gw.e["SBPROV_TEST_CA"], "--user", gw.e["SBPROV_TEST_MENDER_USER"], "--password-file",
                        str(pw), "--identity", f"mac={gw.mac}", "--identity", "serial=SN-GW-42", "--key", str(key)],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stderr
    gw.start()
    gw.wait_log("mender: accepted as device", timeout=30)
    auth = gw.mender_requests("/auth_requests")
    assert len(auth) == 4, [a.get("status") for a in auth]  # 503, 503, dropped, 200
    assert [a["status"] for a in auth if a.get("status")][-1] == 200
    gw.wait_log("running:")
    assert gw.stop() == 0


def test_iot_hub_429_backs_off_and_loses_nothing(gw):
    gw.write_config(telemetry="batch_max_messages = 5\nbatch_max_ms = 100\nqueue_max_messages = 1000\n"
                              "retry_max_s = 1\n")
    gw.start()
    gw.accept()
    gw.wait_log("running:")
    gw.azure("POST", "/_emu/faults", [{"route": "hub_telemetry", "status": 429, "retry_after": "1", "count": 12}])
    gw.send(gw.meeting(n=60))
    gw.wait_log("telemetry: sending", timeout=30)
    records = wait_for("60 records at the hub after the throttling",
                       lambda: (lambda r: r if len([x for x in r if "node" in x]) == 60 else None)(
                           gw.telemetry_records()), timeout=90)
    assert sorted(x["seq"] for x in records if "node" in x) == list(range(1, 61))
    assert gw.stop() == 0
    t = gw.stats()["telemetry"]
    assert t["retries"] > 0 and t["dropped"] == 0 and t["unsent"] == 0 and t["sent"] == t["queued"]


def test_loss_beyond_the_queue_bound_is_counted(gw):
    # The hub refuses everything; the ring holds queue_max_messages, the
    # sender one batch; every other message is dropped and counted.
    gw.write_config(telemetry="batch_max_messages = 5\nbatch_max_ms = 100\nqueue_max_messages = 20\n"
                              "retry_max_s = 1\n")
    gw.start()
    gw.accept()
    gw.wait_log("running:")
    gw.azure("POST", "/_emu/faults", [{"route": "hub_telemetry", "status": 503}])
    gw.send(gw.meeting(n=5))
    wait_for("a failed batch", lambda: gw.stats().get("telemetry", {}).get("retries", 0) > 0, timeout=40)
    gw.send(gw.meeting(n=60, seq0=6))
    stats = wait_for("65 records accepted", lambda: (lambda s: s if s.get("frames", {}).get("accepted") == 65
                                                      else None)(gw.stats()))
    t = stats["telemetry"]
    assert t["waiting"] == 25 and t["dropped"] == t["queued"] - 25, t
    assert "queue full" in gw.log_text()
    gw.azure("DELETE", "/_emu/faults")
    wait_for("the queue drained", lambda: gw.stats()["telemetry"]["waiting"] == 0, timeout=30)
    t = gw.stats()["telemetry"]
    assert t["sent"] == 25 and t["sent"] + t["dropped"] == t["queued"]
    assert gw.stop() == 0


def test_sighup_reloads_rooms_and_sigterm_stops_cleanly(gw):
    gw.write_config()
    gw.start()
    gw.accept()
    gw.wait_log("running: 1 rooms")
    gw.send([{"node": "00000000000000c1", "epoch": 1, "seq": 1, "time_ms": 0, "readings": {"co2_ppm": 500}}])
    gw.wait_log("node 00000000000000c1 is in no room")
    text = gw.conf.read_text() + '[room "4.14"]\nnodes = 00000000000000c1\nventilate_ppm = 800\n'
    gw.conf.write_text(text)
    gw.proc.send_signal(signal.SIGHUP)
    gw.wait_log("reloaded")
    gw.send([{"node": "00000000000000c1", "epoch": 1, "seq": 2, "time_ms": 1000, "readings": {"motion": 3}}])
    gw.wait_log("room 4.14: occupied (motion)")
    # A broken file on reload keeps the running rooms.
    gw.conf.write_text(text + "bogus line\n")
    gw.proc.send_signal(signal.SIGHUP)
    gw.wait_log("keeping the running configuration")
    assert gw.proc.poll() is None
    assert gw.stop(signal.SIGINT) == 0
    assert gw.stats()["final"] is True and [r["room"] for r in gw.stats()["rooms"]] == ["4.12", "4.14"]


def test_sigterm_while_waiting_for_mender(gw):
    gw.write_config()
    gw.start()
    gw.wait_log("waiting until the server accepts this device")
    t0 = time.monotonic()
    assert gw.stop() == 0
    assert time.monotonic() - t0 < 5
    assert "stopped during provisioning" in gw.log_text()


def test_frames_from_a_pty_and_a_reopened_device(gw):
    master, slave = pty.openpty()
    tty.setraw(slave)
    link = gw.tmp / "ttySIM"
    link.symlink_to(os.ttyname(slave))
    gw.write_config(input_=f"serial = {link}\nbaud = 115200\nclock = node\n")
    gw.start()
    gw.accept()
    gw.wait_log(f"input {link} opened")
    stream = gw.tmp / "stream.bin"
    gw.send(gw.meeting(n=5), udp=False, stream_to=stream)
    data = stream.read_bytes()
    os.write(master, data[:7])  # cut mid-record: the decoder keeps the rest
    time.sleep(0.2)
    os.write(master, data[7:])
    wait_for("5 records", lambda: gw.stats().get("frames", {}).get("accepted") == 5)
    os.close(master)
    os.close(slave)
    gw.wait_log("reopening when it is back")
    assert gw.proc.poll() is None
    assert gw.stop() == 0


def test_fleet_bundle_gateway(gw, fleet_cmd):
    """The factory flow: the gateway's key is made on the device, its public
    key goes into the fleet manifest, sbprov-fleet preauthorizes it and writes
    the bundle (store + env file); the gateway started on the bundle is
    accepted at once and registers with the bundle's derived key."""
    bundle_root = gw.tmp / "bundles"
    key = gw.tmp / "device.pem"
    subprocess.run([str(CLI), "key", "generate", "--out", str(key)], check=True, capture_output=True)
    (gw.tmp / "device.pub").write_text(public_key_pem(key))
    manifest = gw.tmp / "manifest.csv"
    manifest.write_text("serial,mac,room,public_key,registration_id\n"
                        f"SN-GW-42,{gw.mac},4.12,device.pub,{gw.registration_id}\n")
    env = gw.env()
    env.update(SBPROV_FLEET_GROUP_KEY=gw.e["SBPROV_TEST_AZURE_GROUP_KEY"],
               SBPROV_FLEET_MENDER_PASSWORD=gw.e["SBPROV_TEST_MENDER_PASSWORD"])
    r = subprocess.run([*fleet_cmd, str(manifest), "--out", str(bundle_root), "--mender-url",
                        gw.e["SBPROV_TEST_MENDER_URL"], "--mender-user", gw.e["SBPROV_TEST_MENDER_USER"], "--ca",
                        gw.e["SBPROV_TEST_CA"], "--id-scope", gw.e["SBPROV_TEST_AZURE_ID_SCOPE"]],
                       capture_output=True, text=True, env=env, timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr
    bundle = bundle_root / gw.registration_id
    gw.state = bundle
    gw.write_config(device=f"state_dir = {bundle}\nkey = {key}\nidentity = stored\n",
                    azure=(f"dps_url = {gw.e['SBPROV_TEST_AZURE_DPS_URL']}\nhub_url = {gw.e['SBPROV_TEST_AZURE_HUB_URL']}\n"
                           f"ca_file = {gw.e['SBPROV_TEST_CA']}\n"))
    gw.start()
    gw.wait_log("mender: accepted as device", timeout=30)  # preauthorized: no operator step
    gw.wait_log("running:")
    assert gw.mender_device()["status"] == "accepted"
    env_vars = env_file(bundle / "azure-iot.env")
    assert env_vars["IOTHUB_DEVICE_CONNECTION_STRING"].endswith(
        "SharedAccessKey=" + ref_derive(gw.e["SBPROV_TEST_AZURE_GROUP_KEY"], gw.registration_id))
    gw.send(gw.meeting(n=2))
    wait_for("2 records at the hub", lambda: len(gw.telemetry_records()) >= 2)
    assert gw.stop() == 0


def test_example_configuration_is_valid(tmp_path):
    from conftest import REPO
    text = (REPO / "examples" / "gateway" / "gateway.conf.example").read_text()
    conf = tmp_path / "gateway.conf"
    conf.write_text(text.replace("state_dir = /var/lib/sbprov", f"state_dir = {tmp_path}"))
    r = subprocess.run([str(GATEWAY), "-c", str(conf), "--check-config"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert "rooms      2 (3 nodes)" in r.stdout


@pytest.mark.skipif(shutil.which("valgrind") is None, reason="valgrind is not installed")
def test_under_valgrind_no_leak_or_memory_error(gw):
    """Provisioning, frames, events, telemetry, SIGHUP and SIGTERM under
    memcheck: no invalid access, no definitely lost block."""
    gw.write_config()
    gw.start(wrapper=("valgrind", "--quiet", "--error-exitcode=9", "--leak-check=full",
                      "--errors-for-leak-kinds=definite", "--show-leak-kinds=definite"))
    gw.wait_log("waiting until the server accepts this device", timeout=60)
    gw.accept()
    gw.wait_log("running:", timeout=60)
    gw.send(gw.meeting(n=12))
    gw.wait_log("ventilation_needed", timeout=60)
    wait_for("12 records at the hub", lambda: len([x for x in gw.telemetry_records() if "node" in x]) == 12,
             timeout=60)
    gw.proc.send_signal(signal.SIGHUP)
    gw.wait_log("reloaded", timeout=30)
    assert gw.stop(timeout=60) == 0, gw.log_text()
    assert not re.search(r"^==\d+==", gw.log_text(), re.M), gw.log_text()  # memcheck's report lines


@pytest.mark.skipif(shutil.which("swtpm") is None, reason="swtpm is not installed (scripts/install-deps.sh)")
def test_device_key_in_a_tpm(gw):
    """key = handle:0x81000010 with key_providers = tpm2,default: the Mender
    auth requests are signed in the (software) TPM; preauthorized by its
    public key, the gateway is accepted at once and registers with DPS."""
    from conftest import REPO
    ident = gw.tmp / "tpm-identity.sh"
    ident.write_text("#!/bin/sh\necho mac=02:00:5e:10:00:7b\necho serial=SN-TPM-1\n")
    ident.chmod(0o755)
    gw.write_config(device=f"state_dir = {gw.state}\nidentity = script:{ident}\nkey = @KEY@\n"
                           "key_providers = tpm2,default\n")
    template = gw.tmp / "gateway.conf.in"
    template.write_text(gw.conf.read_text())
    r = subprocess.run([str(REPO / "tests" / "gateway" / "tpm-provision.sh"), str(GATEWAY), str(CLI),
                        str(gw.tmp / "tpm"), str(template)], capture_output=True, text=True, timeout=180,
                       env={**gw.env(), **{k: v for k, v in gw.e.items() if k.startswith("SBPROV_TEST_")}})
    assert r.returncode == 0, r.stdout + r.stderr
    assert "mender: accepted as device" in r.stderr and "azure: registered as gw-02005e10007b" in r.stderr
    pem = r.stdout[r.stdout.index("-----BEGIN PUBLIC KEY-----"):].strip()
    dev = next(d for d in gw.mender("GET", "/_emu/devices")["devices"]
               if d["identity_data"].get("serial") == "SN-TPM-1")
    assert dev["status"] == "accepted" and [a["pubkey"].strip() for a in dev["auth_sets"]] == [pem]
    assert not (gw.state / "device.pem").exists()  # nothing written for a URI key


def test_long_room_name_with_quotes_reaches_the_hub(gw):
    """The longest room name (63 bytes), all of it characters JSON escapes:
    records and every event arrive as valid JSON. Events used to be rendered
    into a 320-byte slot when queued; "ventilation_done" and "free" with such
    a name did not fit and were dropped without being counted."""
    name = '"\\' * 31 + "x"
    assert len(name) == 63
    gw.write_config(rooms=f'[room "{name}"]\nnodes = {NODE_A}\n')
    gw.start()
    gw.accept()
    gw.wait_log("running:")
    rising = gw.meeting(n=20)
    falling = [{"node": NODE_A, "epoch": 1, "seq": 21 + i, "time_ms": 1000 + (20 + i) * 60000,
                "readings": {"co2_ppm": 1360 - 40 * i, "motion": 0}} for i in range(20)]
    gw.send(rising + falling)
    want = ["occupied", "ventilation_needed", "ventilation_done", "free"]
    records = wait_for("40 records and 4 events at the hub",
                       lambda: (lambda r: r if len(r) == 44 else None)(gw.telemetry_records()))
    events = [r for r in records if "event" in r]
    assert [e["event"] for e in events] == want and {r["room"] for r in records} == {name}
    longest = max(len(json.dumps(e, separators=(",", ":"))) for e in events)
    assert longest > 320  # the case that was lost
    assert gw.stop() == 0
    t = gw.stats()["telemetry"]
    assert t["queued"] == t["sent"] == 44


def test_dps_settings_without_an_id_scope_are_refused(gw):
    e = gw.e
    gw.write_config(mender="", azure=f"dps_url = {e['SBPROV_TEST_AZURE_DPS_URL']}\n"
                                     f"group_key_file = {gw.group_key_file}\n")
    r = gw.run("--provision-only")
    assert r.returncode == 1, r.stderr
    assert "[azure] configures DPS but there is no ID scope: set id_scope" in r.stderr
