"""sbprov-mcu-sim: its frames decoded by the independent Python reference
(tests/frame/reference.py), its physics against the design figures, outputs,
faults and options."""

from __future__ import annotations

import json
import os
import pty
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tests" / "frame"))
import reference  # noqa: E402

SIM = os.environ.get("SBPROV_MCU_SIM") or str(Path(os.environ.get("SBPROV_STAGE", REPO / "build" / "stage"))
                                             / "bin" / "sbprov-mcu-sim")
CO2, TEMP, HUM, MOTION, BATTERY = 0x01, 0x02, 0x03, 0x04, 0x08


def run(*args, **kw):
    return subprocess.run([SIM, *args], capture_output=True, timeout=60, **kw)


def decode(data: bytes):
    dec = reference.Decoder()
    return dec, dec.feed(data)


def readings(f):
    return {r["kind"]: r["value"] for r in f["readings"]}


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    d = tmp_path_factory.mktemp("demo")
    r = run("--output", str(d / "demo.bin"), "--speed", "0", "--truth", str(d / "truth.jsonl"))
    assert r.returncode == 0, r.stderr
    summary = json.loads(r.stderr.decode().strip().splitlines()[-1])
    truth = [json.loads(line) for line in (d / "truth.jsonl").read_text().splitlines()]
    dec, frames = decode((d / "demo.bin").read_bytes())
    plan = json.loads(run("--list-nodes").stdout)
    return {"frames": frames, "dec": dec, "summary": summary, "truth": truth, "plan": plan}


def co2_series(frames, node):
    return [(f["time_ms"] / 60000.0, readings(f)[CO2]) for f in frames if f["node"] == node and f["type"] == 1]


def slope(points):
    n = len(points)
    mx = sum(p[0] for p in points) / n
    my = sum(p[1] for p in points) / n
    return sum((x - mx) * (y - my) for x, y in points) / sum((x - mx) ** 2 for x, _ in points)


def test_six_people_in_50_m3_raise_co2_by_about_40_ppm_per_minute(demo):
    pts = [p for p in co2_series(demo["frames"], "5342000000000100") if 4 <= p[0] <= 12]
    assert 36 <= slope(pts) <= 44, slope(pts)


def test_open_window_brings_co2_down_towards_outdoor_air(demo):
    pts = co2_series(demo["frames"], "5342000000000100")
    at = dict((round(t), v) for t, v in pts)
    assert at[30] > 1300 and at[40] < at[30] - 400          # window open 30..40
    assert slope([p for p in pts if 31 <= p[0] <= 39]) < -20
    assert at[29] > 1000                                    # ventilation needed before the window


def test_empty_room_stays_at_baseline_without_motion(demo):
    frames = [f for f in demo["frames"] if f["node"] == "5342000000000300" and f["type"] == 1]
    assert frames and all(readings(f)[MOTION] == 0 for f in frames)
    assert all(400 <= readings(f)[CO2] <= 500 for f in frames)


def test_motion_only_while_people_are_in(demo):
    pir = [f for f in demo["frames"] if f["node"] == "5342000000000101" and f["type"] == 1]
    during = [readings(f)[MOTION] for f in pir if 3 <= f["time_ms"] / 60000 < 50]
    after = [readings(f)[MOTION] for f in pir if f["time_ms"] / 60000 >= 51]
    assert sum(1 for m in during if m > 0) >= 0.9 * len(during) and all(m == 0 for m in after)
    assert set(readings(pir[0])) == {MOTION, BATTERY}  # a PIR-only node


def test_sequence_hello_and_timestamps(demo):
    frames, dec = demo["frames"], demo["dec"]
    assert dec.counters["frames"] == demo["summary"]["frames"] == len(frames)
    assert all(dec.counters[k] == 0 for k in reference.DROPS) and dec.counters["gaps"] == 0
    by_node = {}
    for f in frames:
        by_node.setdefault(f["node"], []).append(f)
    plan_nodes = {n for r in demo["plan"]["rooms"] for n in r["nodes"]}
    assert set(by_node) == plan_nodes
    for node, fs in by_node.items():
        assert fs[0]["type"] == reference.TYPE_HELLO and all(f["type"] == 1 for f in fs[1:])
        assert all((b["seq"] - a["seq"]) % 65536 == 1 for a, b in zip(fs, fs[1:]))
        assert [f["time_ms"] for f in fs[1:]] == [i * 30000 for i in range(len(fs) - 1)]
        assert fs[-1]["time_ms"] == 70 * 60 * 1000


def test_decoded_values_follow_the_truth(demo):
    truth = {(t["room"], t["t_s"]): t for t in demo["truth"]}
    for f in demo["frames"]:
        if f["node"] == "5342000000000100" and f["type"] == 1:
            t = truth[("4.12", f["time_ms"] // 1000)]
            r = readings(f)
            assert abs(r[CO2] - t["co2_ppm"]) < 30 and abs(r[TEMP] / 100 - t["temperature_c"]) < 0.2


def test_deterministic_for_a_seed(tmp_path):
    a = run("--output", "-", "--speed", "0", "--seed", "7", "--quiet").stdout
    b = run("--output", "-", "--speed", "0", "--seed", "7", "--quiet").stdout
    c = run("--output", "-", "--speed", "0", "--seed", "8", "--quiet").stdout
    assert a == b and a != c and len(a) > 10000


def test_frames_exact_count_and_speed():
    t0 = time.monotonic()
    r = run("--output", "-", "--speed", "0", "--scenario", "steady", "--rooms", "50", "--frames", "3000")
    elapsed = time.monotonic() - t0
    dec, frames = decode(r.stdout)
    assert len(frames) == 3000 and json.loads(r.stderr.splitlines()[-1])["frames"] == 3000
    assert len({f["node"] for f in frames}) == 50
    print(f"3000 frames in {elapsed:.2f} s")


def test_udp_datagrams_carry_records_without_cobs():
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    sock.settimeout(5)
    port = sock.getsockname()[1]
    r = run("--udp", f"127.0.0.1:{port}", "--speed", "0", "--frames", "12")
    assert r.returncode == 0, r.stderr
    dec = reference.Decoder()
    got = [dec.record(sock.recv(512)) for _ in range(12)]
    assert all(len(g) == 1 for g in got) and dec.counters["frames"] == 12


def test_pty_output_and_link(tmp_path):
    link = tmp_path / "ttySIM"
    p = subprocess.Popen([SIM, "--pty", "--pty-link", str(link), "--speed", "0", "--frames", "20"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    first = p.stderr.readline().decode()
    assert first.startswith("pty: /dev/pts/")
    deadline = time.monotonic() + 5
    while not link.exists() and time.monotonic() < deadline:
        time.sleep(0.01)
    fd = os.open(link, os.O_RDONLY | os.O_NOCTTY)
    data = b""
    dec = reference.Decoder()
    while dec.counters["frames"] < 20:
        data = os.read(fd, 4096)
        dec.feed(data)
    os.close(fd)
    assert p.wait(timeout=10) == 0 and not link.exists()


def test_faults_show_up_in_the_decoder_counters():
    r = run("--output", "-", "--speed", "0", "--seed", "3", "--corrupt-rate", "0.1", "--drop-rate", "0.05",
            "--duplicate-rate", "0.05", "--reboot-at", "1800")
    s = json.loads(r.stderr.splitlines()[-1])
    dec, frames = decode(r.stdout)
    assert s["corrupted"] > 10 and s["dropped"] > 5 and s["duplicated"] > 5 and s["reboots"] == 4
    damaged = sum(dec.counters[k] for k in ("crc", "truncated", "too_long", "bad_length", "bad_version",
                                            "unknown_type"))
    assert damaged >= s["corrupted"] * 0.9  # a flip may split a record in two: both parts are dropped
    assert dec.counters["reboots"] == 4 and dec.counters["gaps"] >= s["dropped"] - s["corrupted"]
    assert dec.counters["duplicate"] >= 1
    assert dec.counters["frames"] <= s["frames"] - s["dropped"] + s["duplicated"]


def test_sigterm_stops_cleanly():
    p = subprocess.Popen([SIM, "--output", "/dev/null", "--speed", "1"], stderr=subprocess.PIPE)
    time.sleep(0.5)
    p.send_signal(signal.SIGTERM)
    assert p.wait(timeout=5) == 0
    assert json.loads(p.stderr.read().decode().splitlines()[-1])["frames"] >= 4


@pytest.mark.parametrize("args, message", [
    (["--scenario", "mall", "--output", "-"], "unknown scenario 'mall'"),
    (["--output", "-", "--drop-rate", "1.5"], "--drop-rate: '1.5' is not a rate 0..1"),
    (["--udp", "localhost"], "--udp localhost: want HOST:PORT"),
    (["--output", "-", "--udp", "127.0.0.1:9"], "give exactly one of"),
    ([], "give exactly one of"),
    (["--output", "-", "--bogus"], "unknown option '--bogus'"),
    (["--udp", "127.0.0.1:9", "--corrupt-rate", "0.1"], "--corrupt-rate needs a byte stream"),
])
def test_bad_options(args, message):
    r = run(*args)
    assert r.returncode in (1, 2) and message in r.stderr.decode(), r.stderr
    assert r.returncode == (1 if "HOST:PORT" in message else 2)
