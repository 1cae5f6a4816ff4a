"""End-to-end tests of `sbprov-fleet` (examples/python) against the Go Mender
and Azure emulators behind nginx with TLS (tests/emulators/stack.py).

What the tool did is checked in the emulators (the Mender emulator's device
state and request log), in the bundles it wrote (the encrypted store opened
with the binding, the env file, manifest.json) and against an independent
derivation of the Azure device keys with Python's hmac. Every test ends by
checking that neither emulator saw a request that breaks its API.
"""

from __future__ import annotations

import fcntl
import json
import os
import pty
import shutil
import signal
import stat
import subprocess
import time
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path
from typing import Dict, List

import pytest

from sbprov import azure, keys, mender
from sbprov.store import Store

from conftest import ref_derive

DEFAULT_DPS_HOST = "global.azure-devices-provisioning.net"
ENV_NAMES = ("IOTHUB_DEVICE_SECURITY_TYPE", "IOTHUB_DEVICE_DPS_ENDPOINT", "IOTHUB_DEVICE_DPS_ID_SCOPE",
             "IOTHUB_DEVICE_DPS_DEVICE_ID", "IOTHUB_DEVICE_DPS_DEVICE_KEY")


# ---------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------

def rid_of(mac: str) -> str:
    return "gw-" + mac.replace(":", "").lower()


def fingerprint(pem: str) -> str:
    with keys.from_public_pem(pem) as k:
        return k.fingerprint


def open_store(bundle: Path) -> Store:
    return Store(bundle / "store", key_file=bundle / "store.key", create=False)


def private_key(bundle: Path, scratch: Path) -> keys.Key:
    """The bundle's private key, out of its store (the binding loads keys
    from files only)."""
    with open_store(bundle) as st:
        pem = st["device.key"]
    path = scratch / f"{bundle.name}.key"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(pem)
    try:
        return keys.load(path)
    finally:
        path.unlink()


def parse_env(path: Path) -> Dict[str, str]:
    out = {}
    for line in path.read_text().splitlines():
        name, _, value = line.partition("=")
        out[name] = value
    return out


def mode(path: Path) -> int:
    return stat.S_IMODE(os.lstat(path).st_mode)


def identity_key(identity: dict) -> str:
    return json.dumps(identity, sort_keys=True)


def server_devices(fleet) -> Dict[str, dict]:
    """The Mender emulator's devices by identity."""
    return {identity_key(d["identity_data"]): d for d in fleet.mender_devices()}


def created_per_identity(fleet, since: int = 0) -> Counter:
    """How many preauthorizations were created (201) per identity."""
    c: Counter = Counter()
    for r in fleet.preauth_requests(since):
        if r["status"] == 201:
            c[identity_key(json.loads(r["body"])["identity_data"])] += 1
    return c


def wait_for(cond, timeout: float = 30.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


def parse_time(text: str) -> float:
    """RFC 3339 with up to nanoseconds, as Go writes it, to Unix seconds."""
    text = text.rstrip("Z")
    base, _, frac = text.partition(".")
    t = datetime.fromisoformat(base).replace(tzinfo=timezone.utc).timestamp()
    return t + (float("0." + frac) if frac else 0.0)


def assert_consistent(fleet, rows: List[dict]) -> None:
    """Every row's device: in Mender once, preauthorized (or accepted) with
    exactly one auth set holding the bundle's key; created exactly once."""
    devices = server_devices(fleet)
    assert len(devices) == len(rows)
    created = created_per_identity(fleet)
    for row in rows:
        ident = {"mac": row["mac"], "serial": row["serial"]}
        d = devices[identity_key(ident)]
        assert len(d["auth_sets"]) == 1, d
        assert d["auth_sets"][0]["status"] in ("preauthorized", "accepted")
        bundle = fleet.bundle(rid_of(row["mac"]))
        with open_store(bundle) as st:
            assert fingerprint(d["auth_sets"][0]["pubkey"]) == fingerprint(st["device.pub"].decode())
        manifest = json.loads((bundle / "manifest.json").read_text())
        assert manifest["mender"]["device_id"] == d["id"]
        assert created[identity_key(ident)] == 1, f"{ident} preauthorized {created[identity_key(ident)]} times"


# ---------------------------------------------------------------------------
# provisioning
# ---------------------------------------------------------------------------

def test_five_devices_are_provisioned(fleet, tmp_path):
    macs = ["02:00:5E:10:00:01", "02-00-5e-10-00-02", "0200.5e10.0003", "02005E100004", "02:00:5e:10:00:05"]
    rows = [{"serial": f"SN-{i}", "mac": m, "room": f"4.1{i}", "floor": "4"} for i, m in enumerate(macs, 1)]
    rows[3]["floor"] = ""  # an empty extra cell is no inventory attribute
    fleet.write_manifest(rows)
    start = time.monotonic()
    r = fleet.run("--jobs", "2")
    elapsed = time.monotonic() - start
    assert r.returncode == 0, r.stderr
    print(f"5 devices provisioned in {elapsed:.2f} s (process included)")
    results = fleet.results()
    assert [d["status"] for d in results.values()] == ["provisioned"] * 5
    assert "5 devices: 5 provisioned, 0 already, 0 failed" in r.stdout
    header = [c.strip() for c in r.stdout.splitlines()[0].split("|")]
    assert header == ["device", "registration ID", "Mender device ID", "status", "reason"]
    assert mode(fleet.out) == 0o700

    devices = server_devices(fleet)
    assert len(devices) == 5
    for i, row in enumerate(rows, 1):
        mac = f"02:00:5e:10:00:0{i}"
        rid = f"gw-02005e10000{i}"
        assert rid in r.stdout
        ident = {"mac": mac, "serial": row["serial"]}
        d = devices[identity_key(ident)]
        assert d["status"] == "preauthorized"
        assert len(d["auth_sets"]) == 1 and d["auth_sets"][0]["status"] == "preauthorized"

        bundle = fleet.bundle(rid)
        assert mode(bundle) == 0o700 and mode(bundle / "store.key") == 0o600
        assert mode(bundle / "azure-iot.env") == 0o600
        assert not (bundle / ".device.key.tmp").exists()
        # The private key is only in the encrypted store.
        for p in bundle.rglob("*"):
            if p.is_file() and "store" not in p.relative_to(bundle).parts:
                assert b"PRIVATE KEY" not in p.read_bytes(), p
        for p in (bundle / "store").iterdir():
            assert b"PRIVATE KEY" not in p.read_bytes(), p

        # Mender has the bundle's key: the same in the store (private and
        # public), in device.pub and on the server.
        key = private_key(bundle, tmp_path)
        assert key.type == "ed25519"
        with open_store(bundle) as st:
            entries = set(st)
            stored_pub = st["device.pub"].decode()
            stored = {n: st[n].decode() for n in ENV_NAMES}
            assert st["mender.device_id"].decode() == d["id"]
            assert json.loads(st["mender.identity"]) == ident
            assert st["mender.server"].decode() == fleet.url
        assert {"device.key", "device.pub", *ENV_NAMES} <= entries
        server_fp = fingerprint(d["auth_sets"][0]["pubkey"])
        assert key.fingerprint == server_fp == fingerprint(stored_pub)
        assert fingerprint((bundle / "device.pub").read_text()) == server_fp

        # The env file: the derived key, computed here independently.
        env = parse_env(bundle / "azure-iot.env")
        assert list(env) == list(ENV_NAMES)
        assert env["IOTHUB_DEVICE_DPS_DEVICE_KEY"] == ref_derive(fleet.group_key, rid)
        assert env == stored
        assert env["IOTHUB_DEVICE_DPS_DEVICE_ID"] == rid
        assert env["IOTHUB_DEVICE_DPS_ID_SCOPE"] == fleet.id_scope
        assert env["IOTHUB_DEVICE_DPS_ENDPOINT"] == DEFAULT_DPS_HOST
        assert env["IOTHUB_DEVICE_SECURITY_TYPE"] == "DPS"

        manifest = json.loads((bundle / "manifest.json").read_text())
        assert manifest["registration_id"] == rid and manifest["serial"] == row["serial"]
        assert manifest["mender"]["device_id"] == d["id"] == results[rid]["mender_device_id"]
        assert manifest["mender"]["identity"] == ident
        assert manifest["mender"]["preauthorization"] == "created"
        expected_inventory = {"room": row["room"]} | ({"floor": "4"} if row["floor"] else {})
        assert manifest["mender"]["inventory"] == expected_inventory
        assert manifest["key"]["source"] == "generated" and manifest["key"]["fingerprint_sha256"] == server_fp
        assert manifest["azure"]["id_scope"] == fleet.id_scope
        assert env["IOTHUB_DEVICE_DPS_DEVICE_KEY"] not in json.dumps(manifest)

        # The bundle works: the device is accepted at once with its key.
        with mender.Device(fleet.url, ident, key, ca=fleet.ca) as dev:
            assert dev.authenticate() is True
            assert dev.device_id == d["id"]
        key.close()

    # And DPS assigns a device with the env file's key (the emulator checks it
    # against the enrollment group's key).
    env = parse_env(fleet.bundle("gw-02005e100001") / "azure-iot.env")
    with azure.Provisioning(env["IOTHUB_DEVICE_DPS_ID_SCOPE"], env["IOTHUB_DEVICE_DPS_DEVICE_ID"],
                            env["IOTHUB_DEVICE_DPS_DEVICE_KEY"], endpoint=fleet.dps_url, ca=fleet.ca) as dps:
        reg = dps.register(timeout=30)
    assert reg.status == "assigned", reg


def test_a_rerun_does_nothing_new(fleet):
    rows = fleet.devices(5)
    fleet.write_manifest(rows)
    assert fleet.run().returncode == 0
    seq = fleet.last_seq()
    before = {p: p.read_bytes() for p in fleet.out.rglob("*") if p.is_file() and p.name != ".sbprov-fleet.lock"}

    r = fleet.run()
    assert r.returncode == 0, r.stderr
    assert set(fleet.statuses().values()) == {"already"}
    assert "5 devices: 0 provisioned, 5 already, 0 failed" in r.stdout
    # No device request at all: the login and its check only.
    assert fleet.preauth_requests(seq) == []
    assert {q["route"] for q in fleet.requests(seq)} <= {"useradm_login", "devauth_count"}
    after = {p: p.read_bytes() for p in fleet.out.rglob("*") if p.is_file() and p.name != ".sbprov-fleet.lock"}
    assert after == before
    assert_consistent(fleet, rows)


def test_jobs_4_provisions_concurrently(fleet):
    rows = fleet.devices(12)
    fleet.write_manifest(rows)
    fleet.mender("POST", "/_emu/faults", {"route": "devauth_devices", "method": "POST", "delay_ms": 300})
    start = time.monotonic()
    r = fleet.run("--jobs", "4")
    elapsed = time.monotonic() - start
    assert r.returncode == 0, r.stderr
    assert set(fleet.statuses().values()) == {"provisioned"}
    reqs = fleet.preauth_requests()
    assert len(reqs) == 12 and {q["status"] for q in reqs} == {201}
    # How many preauthorizations were in flight at once (request start and
    # duration from the emulator's log): several, never more than --jobs.
    events = []
    for q in reqs:
        t0 = parse_time(q["time"])
        events += [(t0, 1), (t0 + q["duration_ms"] / 1000, -1)]
    level = peak = 0
    for _, step in sorted(events, key=lambda e: (e[0], e[1])):
        level += step
        peak = max(peak, level)
    assert 2 <= peak <= 4, peak
    assert elapsed < 12 * 0.3, f"{elapsed:.1f} s: no faster than one at a time"
    assert_consistent(fleet, rows)


def test_a_hundred_devices_with_8_jobs(fleet):
    rows = fleet.devices(100)
    fleet.write_manifest(rows)
    start = time.monotonic()
    r = fleet.run("--jobs", "8", timeout=300)
    elapsed = time.monotonic() - start
    assert r.returncode == 0, r.stderr
    print(f"100 devices provisioned in {elapsed:.2f} s with --jobs 8 (process included)")
    assert Counter(fleet.statuses().values()) == {"provisioned": 100}
    assert len(fleet.finished()) == 100
    assert_consistent(fleet, rows)


# ---------------------------------------------------------------------------
# failures, crashes and resuming
# ---------------------------------------------------------------------------

def test_transient_failures_are_retried(fleet):
    rows = fleet.devices(3)
    fleet.write_manifest(rows)
    fleet.mender("POST", "/_emu/faults", [
        {"route": "devauth_devices", "method": "POST", "count": 1, "status": 503},
        {"route": "devauth_devices", "method": "POST", "count": 1, "status": 429, "retry_after": "1"},
    ])
    r = fleet.run("--jobs", "1", "--retries", "2")
    assert r.returncode == 0, r.stderr
    assert set(fleet.statuses().values()) == {"provisioned"}
    assert [q["status"] for q in fleet.preauth_requests()] == [503, 429, 201, 201, 201]
    assert_consistent(fleet, rows)


def test_failed_devices_are_done_by_the_next_run(fleet):
    rows = fleet.devices(5)
    fleet.write_manifest(rows)
    rids = [rid_of(r["mac"]) for r in rows]
    # The server fails every preauthorization after the second.
    fleet.mender("POST", "/_emu/faults", {"route": "devauth_devices", "method": "POST", "skip": 2, "status": 503})
    r = fleet.run("--jobs", "1", "--retries", "0")
    assert r.returncode == 1, r.stderr
    results = fleet.results()
    assert [results[i]["status"] for i in rids] == ["provisioned"] * 2 + ["failed"] * 3
    for rid in rids[2:]:
        assert "503" in results[rid]["reason"], results[rid]
        assert not (fleet.bundle(rid) / "manifest.json").exists()
        assert rid in r.stdout and "failed" in r.stdout
    assert fleet.finished() == set(rids[:2])
    # The failed devices' keys were kept (in their stores) for the next run.
    kept = {}
    for rid in rids[2:]:
        with open_store(fleet.bundle(rid)) as st:
            kept[rid] = fingerprint(st["device.pub"].decode())

    fleet.mender("DELETE", "/_emu/faults")
    r = fleet.run("--jobs", "2")
    assert r.returncode == 0, r.stderr
    results = fleet.results()
    assert [results[i]["status"] for i in rids] == ["already"] * 2 + ["provisioned"] * 3
    for rid, fp in kept.items():
        with open_store(fleet.bundle(rid)) as st:
            assert fingerprint(st["device.pub"].decode()) == fp
    assert fleet.finished() == set(rids)
    assert_consistent(fleet, rows)


def test_killed_mid_run_then_run_again(fleet):
    rows = fleet.devices(8)
    fleet.write_manifest(rows)
    rids = [rid_of(r["mac"]) for r in rows]
    fleet.mender("POST", "/_emu/faults", {"route": "devauth_devices", "method": "POST", "delay_ms": 400})
    p = fleet.popen("--jobs", "1")
    try:
        wait_for(lambda: len(fleet.finished()) >= 3, what="three finished devices")
        time.sleep(0.2)  # the next preauthorization is in flight
    finally:
        p.kill()
        p.communicate()
    assert p.returncode == -signal.SIGKILL
    done = fleet.finished()
    assert 3 <= len(done) < 8
    time.sleep(0.5)  # whatever the server still does with the request in flight
    fleet.mender("DELETE", "/_emu/faults")

    r = fleet.run("--jobs", "3")
    assert r.returncode == 0, r.stderr
    statuses = fleet.statuses()
    assert {rid for rid in rids if statuses[rid] == "already"} == done
    assert {rid for rid in rids if statuses[rid] == "provisioned"} == set(rids) - done
    assert fleet.finished() == set(rids)
    assert_consistent(fleet, rows)


def test_crash_after_preauthorization_before_the_record(fleet):
    """The worst moment to die: Mender has the device, the bundle is
    incomplete and the state file does not name it (recreated here exactly:
    the state lines removed, manifest.json and the env file gone, a torn
    line at the end of the state file)."""
    rows = fleet.devices(5)
    fleet.write_manifest(rows)
    assert fleet.run().returncode == 0
    rids = [rid_of(r["mac"]) for r in rows]
    victims = rids[1:3]
    state = fleet.out / ".sbprov-fleet-state.jsonl"
    lines = state.read_text().splitlines(keepends=True)
    kept = [ln for ln in lines if not any(f'"device":"{v}"' in ln for v in victims)]
    assert len(kept) == len(lines) - 2
    state.write_text("".join(kept) + '{"device":"' + victims[0] + '","finis')  # torn by the crash
    for v in victims:
        (fleet.bundle(v) / "manifest.json").unlink()
        (fleet.bundle(v) / "azure-iot.env").unlink()
    seq = fleet.last_seq()

    r = fleet.run("--jobs", "2")
    assert r.returncode == 0, r.stderr
    results = fleet.results()
    for rid in rids:
        if rid in victims:
            assert results[rid]["status"] == "provisioned"
            assert "already in Mender (preauthorized)" in results[rid]["note"]
            env = parse_env(fleet.bundle(rid) / "azure-iot.env")
            assert env["IOTHUB_DEVICE_DPS_DEVICE_KEY"] == ref_derive(fleet.group_key, rid)
        else:
            assert results[rid]["status"] == "already"
    # Two preauthorizations, both answered 409 (existed): nothing new in Mender.
    assert [q["status"] for q in fleet.preauth_requests(seq)] == [409, 409]
    for line in state.read_text().splitlines():
        json.loads(line)  # the torn line is gone
    assert fleet.finished() == set(rids)
    assert_consistent(fleet, rows)


def test_sigint_stops_cleanly_and_the_next_run_finishes(fleet):
    rows = fleet.devices(6)
    fleet.write_manifest(rows)
    fleet.mender("POST", "/_emu/faults", {"route": "devauth_devices", "method": "POST", "delay_ms": 500})
    p = fleet.popen("--jobs", "1")
    try:
        wait_for(lambda: len(fleet.finished()) >= 1, what="a finished device")
        p.send_signal(signal.SIGINT)
        out, err = p.communicate(timeout=30)
    finally:
        if p.poll() is None:
            p.kill()
            p.communicate()
    assert p.returncode == 130, err
    assert "SIGINT: stopping" in err
    report = json.loads(fleet.report.read_text())
    assert report["interrupted"] is True
    statuses = Counter(d["status"] for d in report["devices"])
    assert statuses["not done"] >= 1 and statuses["failed"] == 0
    assert "not done" in out
    fleet.mender("DELETE", "/_emu/faults")
    time.sleep(0.6)

    r = fleet.run("--jobs", "2")
    assert r.returncode == 0, r.stderr
    assert len(fleet.finished()) == 6
    assert_consistent(fleet, rows)


def test_identity_with_another_key_is_a_conflict(fleet):
    rows = fleet.devices(3)
    fleet.write_manifest(rows)
    rids = [rid_of(r["mac"]) for r in rows]
    ident = {"mac": rows[1]["mac"], "serial": rows[1]["serial"]}
    with mender.Management(fleet.url, user=fleet.user, password=fleet.password, ca=fleet.ca) as m, \
            keys.generate("ed25519") as other:
        existing = m.preauthorize(ident, other).device_id
        other_fp = other.fingerprint

    r = fleet.run()
    assert r.returncode == 1
    results = fleet.results()
    assert results[rids[0]]["status"] == results[rids[2]]["status"] == "provisioned"
    bad = results[rids[1]]
    assert bad["status"] == "failed" and bad["reason"].startswith("conflict:")
    assert other_fp[:16] in bad["reason"] and existing in bad["reason"]
    assert bad["mender_device_id"] == existing
    row = next(line for line in r.stdout.splitlines() if rids[1] in line)
    assert "failed" in row and "conflict" in row
    assert rids[1] not in fleet.finished()
    # Mender is unchanged for that identity.
    d = server_devices(fleet)[identity_key(ident)]
    assert [fingerprint(a["pubkey"]) for a in d["auth_sets"]] == [other_fp]

    r = fleet.run()  # still a conflict; the others are done
    assert r.returncode == 1
    assert fleet.statuses() == {rids[0]: "already", rids[1]: "failed", rids[2]: "already"}


def test_removed_bundle_is_redone_and_meets_its_old_key(fleet):
    """Removing OUT/<id> asks for the device again; a new key then collides
    with the one Mender has (never a second auth set added silently)."""
    rows = fleet.devices(2)
    fleet.write_manifest(rows)
    assert fleet.run().returncode == 0
    rid = rid_of(rows[0]["mac"])
    shutil.rmtree(fleet.bundle(rid))
    r = fleet.run()
    assert r.returncode == 1
    assert fleet.results()[rid]["reason"].startswith("conflict:")
    assert len(server_devices(fleet)[identity_key({"mac": rows[0]["mac"], "serial": rows[0]["serial"]})]
               ["auth_sets"]) == 1


def test_changed_settings_are_not_skipped_silently(fleet):
    rows = fleet.devices(2)
    fleet.write_manifest(rows)
    assert fleet.run().returncode == 0
    args = fleet.base_args()
    args[args.index("--id-scope") + 1] = "0ne00000001"
    r = fleet.run(*args, base=False)
    assert r.returncode == 1
    for d in fleet.results().values():
        assert d["status"] == "failed" and "provisioned earlier with another id_scope" in d["reason"]


# ---------------------------------------------------------------------------
# keys the devices reported
# ---------------------------------------------------------------------------

def test_reported_public_keys(fleet, tmp_path):
    (tmp_path / "keys").mkdir()
    k1 = keys.generate("ecdsa-p256")
    (tmp_path / "keys" / "dev1.pub").write_text(k1.public_pem)
    k2 = keys.generate("rsa-2048")
    rows = fleet.devices(3)
    rows[0]["public_key"] = "keys/dev1.pub"  # relative to the manifest
    rows[1]["public_key"] = k2.public_pem  # inline, a quoted multi-line cell
    fleet.write_manifest(rows, header=["serial", "mac", "room", "public_key"])
    r = fleet.run("--key-type", "ecdsa-p256")
    assert r.returncode == 0, r.stderr
    rids = [rid_of(r["mac"]) for r in rows]
    devices = server_devices(fleet)
    for row, rid, given in zip(rows, rids, (k1, k2, None)):
        d = devices[identity_key({"mac": row["mac"], "serial": row["serial"]})]
        manifest = json.loads((fleet.bundle(rid) / "manifest.json").read_text())
        with open_store(fleet.bundle(rid)) as st:
            has_private = "device.key" in st
            pub = st["device.pub"].decode()
        if given is not None:
            assert not has_private and manifest["key"]["source"] == "reported"
            assert manifest["key"]["private_key_entry"] is None
            assert fingerprint(d["auth_sets"][0]["pubkey"]) == given.fingerprint == fingerprint(pub)
        else:
            assert has_private and manifest["key"]["source"] == "generated"
            key = private_key(fleet.bundle(rid), tmp_path)
            assert key.type == "ecdsa-p256" and key.fingerprint == fingerprint(d["auth_sets"][0]["pubkey"])
    # The device holding k1 is accepted with it.
    with mender.Device(fleet.url, {"mac": rows[0]["mac"], "serial": rows[0]["serial"]}, k1, ca=fleet.ca) as dev:
        assert dev.authenticate() is True
    assert fleet.run().returncode == 0
    assert set(fleet.statuses().values()) == {"already"}


# ---------------------------------------------------------------------------
# the manifest: every problem, with its line, before anything is done
# ---------------------------------------------------------------------------

def test_manifest_errors_are_listed_with_their_lines(fleet, tmp_path):
    pub = keys.generate("ed25519").public_pem
    with keys.generate("ed25519") as k:
        k.save(tmp_path / "private.pem")
    lines = ["serial,mac,room,registration_id,public_key"]
    expect: Dict[int, str] = {}

    def row(text: str, error: str = "") -> None:
        start = len(lines) + 1
        lines.extend(text.split("\n"))
        if error:
            expect[start] = error

    row(f'SN-1,02:00:00:00:00:01,1,,"{pub.strip()}"')  # valid, spans several lines
    row("SN-1,02:00:00:00:00:02,1,,", "serial SN-1 is also on line 2")
    row("SN-3,02:00:00:00:00:0g,1,,", "is not a MAC address")
    row("# a comment line")
    row("SN-4,02:00:00:00:00:01,1,,", "mac 02:00:00:00:00:01 is also on line 2")
    row("SN-5,02:00:00:00:00:05,,,", "room is empty")
    row("SN-6,02:00:00:00:00:06,1,gw-020000000002,", "registration ID gw-020000000002 is also on line")
    row("SN-7,02:00:00:00:00:07,1,Bad_ID,", "registration_id 'Bad_ID'")
    row("SN-8,02:00:00:00:00:08,1,,missing.pem", "cannot read it")
    row("SN-9,02:00:00:00:00:09,1,,private.pem", "holds a private key")
    row("SN-10,ff:ff:ff:ff:ff:ff,1,,", "multicast/broadcast")
    row(",02:00:00:00:00:0b,1,,", "serial is empty")
    row("SN-12,02:00:00:00:00:0c,1,,,extra", "6 fields, but the header has 5")
    row(f'SN-13,02:00:00:00:00:0d,1,,"{pub.strip()}"', "public key (SHA-256")
    row("SN-14,02:00:00:00:00:0e,1,,", "")  # fine
    fleet.manifest.write_text("\n".join(lines) + "\n")

    r = fleet.run()
    assert r.returncode == 2
    err = r.stderr.splitlines()
    for line, msg in expect.items():
        assert any(e.startswith(f"{fleet.manifest}:{line}: ") and msg in e for e in err), (line, msg, r.stderr)
    reported = {int(e.split(":")[1]) for e in err if e.startswith(str(fleet.manifest) + ":")}
    assert reported == set(expect), r.stderr
    assert "nothing was done" in r.stderr
    assert not fleet.out.exists()
    assert fleet.requests() == []  # not even a login


@pytest.mark.parametrize("template, message, per_line", [
    ("gw-{mac", "is not closed", False),
    ("gw-{floor}", "names a column the manifest does not have", False),
    ("gw-{mac:upper}", "--id-template", False),
    ("{serial}", "upper-case 'S'", True),
])
def test_bad_templates(fleet, template, message, per_line):
    fleet.write_manifest(fleet.devices(3))
    r = fleet.run("--id-template", template)
    assert r.returncode == 2
    assert message in r.stderr, r.stderr
    lines = [e for e in r.stderr.splitlines() if e.startswith(f"{fleet.manifest}:")]
    if per_line:
        assert [int(e.split(":")[1]) for e in lines] == [2, 3, 4]
    else:
        assert len(lines) == 1 and lines[0].startswith(f"{fleet.manifest}: --id-template")
    assert not fleet.out.exists()


def test_header_problems(fleet):
    fleet.manifest.write_text("Serial,MAC,floor,floor\nSN-1,02:00:00:00:00:01,1,2\n")
    r = fleet.run()
    assert r.returncode == 2
    assert f"{fleet.manifest}:1: required column 'room' is missing" in r.stderr
    assert f"{fleet.manifest}:1: column 'floor' appears twice" in r.stderr
    fleet.manifest.write_text("serial,mac,room\n")
    r = fleet.run()
    assert r.returncode == 2 and "no devices" in r.stderr


def test_identity_and_template_options(fleet):
    rows = fleet.devices(2, site="hq")
    fleet.write_manifest(rows)
    r = fleet.run("--identity", "mac", "--id-template", "{site}-{serial:compact}")
    assert r.returncode == 0, r.stderr
    results = fleet.results()
    assert set(results) == {"hq-sn0001", "hq-sn0002"}
    manifest = json.loads((fleet.bundle("hq-sn0001") / "manifest.json").read_text())
    assert manifest["mender"]["identity"] == {"mac": rows[0]["mac"]}
    assert manifest["mender"]["inventory"] == {"serial": "SN-0001", "room": "4.01", "site": "hq"}
    assert {identity_key(d["identity_data"]) for d in fleet.mender_devices()} == \
        {identity_key({"mac": r["mac"]}) for r in rows}


def test_check_validates_and_plans_only(fleet):
    fleet.write_manifest(fleet.devices(2))
    r = fleet.run("--check", base=False, env={k: v for k, v in fleet.env().items()
                                              if not k.startswith("SBPROV_FLEET_")})
    assert r.returncode == 0, r.stderr
    assert "gw-020000000001" in r.stdout and "2 devices: manifest valid" in r.stdout
    assert fleet.requests() == []


# ---------------------------------------------------------------------------
# secrets, credentials, locking, output
# ---------------------------------------------------------------------------

def test_secrets_are_never_taken_from_the_command_line(fleet):
    fleet.write_manifest(fleet.devices(1))
    for opt in ("--password", "--mender-password", "--token", "--mender-token", "--group-key"):
        r = fleet.run(opt, "s3cret-value")
        assert r.returncode == 2, (opt, r.stderr)
        assert "is not accepted" in r.stderr
        assert "s3cret-value" not in r.stderr + r.stdout
    help_text = fleet.run("--help", base=False).stdout
    for name in ("SBPROV_FLEET_GROUP_KEY", "SBPROV_FLEET_MENDER_PASSWORD", "SBPROV_FLEET_MENDER_TOKEN",
                 "exit status", "--group-key-file", "--mender-token-file", "--jobs"):
        assert name in help_text
    r = fleet.run(env=fleet.env(SBPROV_FLEET_GROUP_KEY=None))
    assert r.returncode == 2 and "SBPROV_FLEET_GROUP_KEY" in r.stderr
    assert not fleet.out.exists()


def test_token_and_secret_files(fleet, tmp_path):
    rows = fleet.devices(2)
    fleet.write_manifest(rows)
    (tmp_path / "pat").write_text(fleet.pat + "\n")
    (tmp_path / "group.key").write_text(fleet.group_key + "\n")
    args = ["--out", str(fleet.out), "--mender-url", fleet.url, "--ca", fleet.ca, "--id-scope", fleet.id_scope,
            "--mender-token-file", str(tmp_path / "pat"), "--group-key-file", str(tmp_path / "group.key"),
            "--json-report", str(fleet.report)]
    env = {k: v for k, v in fleet.env().items() if not k.startswith("SBPROV_FLEET_")}
    r = fleet.run(*args, base=False, env=env)
    assert r.returncode == 0, r.stderr
    assert set(fleet.statuses().values()) == {"provisioned"}
    assert {q["route"] for q in fleet.requests()} == {"devauth_count", "devauth_devices"}  # no login with a PAT
    # A PAT in the environment works the same way.
    r = fleet.run(*args[:8], "--json-report", str(fleet.report), base=False,
                  env=dict(env, SBPROV_FLEET_MENDER_TOKEN=fleet.pat, SBPROV_FLEET_GROUP_KEY=fleet.group_key))
    assert r.returncode == 0, r.stderr
    assert set(fleet.statuses().values()) == {"already"}
    assert_consistent(fleet, rows)


def test_wrong_password_stops_before_any_device(fleet):
    fleet.write_manifest(fleet.devices(2))
    r = fleet.run(env=fleet.env(SBPROV_FLEET_MENDER_PASSWORD="wrong"))
    assert r.returncode == 3
    assert "AuthError" in r.stderr
    assert [p for p in fleet.out.iterdir() if not p.name.startswith(".")] == []
    assert fleet.preauth_requests() == []


def test_one_run_per_output_directory(fleet):
    fleet.write_manifest(fleet.devices(1))
    fleet.out.mkdir(mode=0o700)
    fd = os.open(fleet.out / ".sbprov-fleet.lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        r = fleet.run()
    finally:
        os.close(fd)
    assert r.returncode == 3 and "another sbprov-fleet run is using this directory" in r.stderr
    assert fleet.preauth_requests() == []


def test_progress_bar_on_a_tty_and_lines_otherwise(fleet):
    fleet.write_manifest(fleet.devices(5))
    master, slave = pty.openpty()
    p = subprocess.Popen(fleet.argv("--jobs", "2"), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=slave,
                         env=fleet.env())
    os.close(slave)
    data = b""
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not chunk:
            break
        data += chunk
    os.close(master)
    out, _ = p.communicate(timeout=60)
    assert p.returncode == 0
    assert b"\r\x1b[K[" in data and b"5/5  5 provisioned" in data
    assert b"\x1b[" not in out  # the table (stdout, a pipe) has no escapes
    r = fleet.run()
    assert r.returncode == 0
    assert "[5/5]" in r.stderr and "\x1b[" not in r.stderr
    assert sum(1 for line in r.stderr.splitlines() if ": already" in line) == 5
