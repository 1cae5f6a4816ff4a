"""`sbprov frame encode|decode` end to end: JSON lines to frames and back,
against the vectors of the independent Python reference (tests/frame), over
stdin, a file, a pty (as a serial device) and UDP."""
import json
import os
import pty
import random
import socket
import subprocess
import sys
import time

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "frame"))
import reference as ref  # noqa: E402

CLI = os.environ.get("SBPROV_CLI") or os.path.join(os.environ.get("SBPROV_STAGE", ""), "bin", "sbprov")
VECTORS = json.load(open(os.path.join(HERE, "..", "frame", "vectors.json"), encoding="utf-8"))
EXAMPLE = ('{"node":"0011223344556677","epoch":1,"seq":5,"readings":{"co2_ppm":812,"temperature_c":21.53,'
           '"humidity_pct":45.2,"motion":1}}')
NAMES = {k: v[0] for k, v in ref.KINDS.items()}


def run(*args, stdin=b"", timeout=30):
    return subprocess.run([CLI, "frame", *args], input=stdin, capture_output=True, timeout=timeout)


def counters_of(stderr):
    last = stderr.decode().strip().splitlines()[-1]
    return json.loads(last)["counters"]


def encodable(vector):
    """The vector as an `encode` input line, or None where JSON cannot say it
    (unknown kinds, out-of-range values, reserved flag bits)."""
    f = vector["fields"]
    if f["flags"] not in (0, ref.FLAG_TIME) or any("raw" in r or not r["valid"] for r in f["readings"]):
        return None
    readings = {}
    for r in f["readings"]:
        decimals = 2 if r["kind"] in (2, 3) else 0
        readings[NAMES[r["kind"]]] = ref.fixed(r["value"], decimals)
    line = '{"node":"%s","epoch":%d,"seq":%d' % (f["node"], f["epoch"], f["seq"])
    if f["time_ms"] is not None:
        line += ',"time_ms":%d' % f["time_ms"]
    if f["type"] == ref.TYPE_HELLO:
        line += ',"type":"hello"'
    line += ',"readings":{%s}}' % ",".join('"%s":%s' % kv for kv in readings.items())
    return line


ENCODABLE = [(v, encodable(v)) for v in VECTORS["records"] if encodable(v) is not None]


def test_example_line_gives_the_spec_wire_bytes():
    r = run("encode", stdin=(EXAMPLE + "\n").encode())
    assert r.returncode == 0, r.stderr
    assert r.stdout.hex() == VECTORS["records"][0]["wire"]


def test_every_encodable_vector_encodes_to_its_record():
    assert len(ENCODABLE) >= 30
    lines = "\n".join(line for _, line in ENCODABLE) + "\n"
    r = run("encode", "--hex", stdin=lines.encode())
    assert r.returncode == 0, r.stderr
    out = r.stdout.decode().splitlines()
    assert len(out) == len(ENCODABLE)
    for (v, line), got in zip(ENCODABLE, out):
        assert got == "%s %s" % (v["record"], v["wire"]), line


def test_decode_every_vector_stream_gives_the_reference_json():
    for fmt, key in (("json", "json"), ("senml", None)):
        stream = b"".join(bytes.fromhex(v["wire"]) for v in VECTORS["records"])
        r = run("decode", "--format", fmt, "--nodes", "4096", stdin=stream)
        assert r.returncode == 0, r.stderr
        lines = r.stdout.decode().splitlines()
        # Records repeating a node's epoch and seq are duplicates on one stream: the
        # reference decoder says which ones arrive.
        d = ref.Decoder(4096)
        want = d.feed(stream)
        assert len(lines) == len(want)
        assert counters_of(r.stderr) == d.counters
        for line, f in zip(lines, want):
            if key:
                assert line == ref.to_json(f)
            else:
                bt = json.loads(line)[0]["bt"] if line != "[]" else None
                assert line == ref.to_senml(f, None if bt is None else round(bt * 1000))
                assert bt is None or abs(bt - time.time()) < 60


def test_malformed_streams_are_counted_not_printed():
    for v in VECTORS["malformed"]:
        wire = bytes.fromhex(v["wire"])
        r = run("decode", stdin=wire)
        assert r.returncode == 0, r.stderr
        assert r.stdout == b"", v["name"]
        counters = counters_of(r.stderr)
        assert counters[v["counter"]] == 1, (v["name"], counters)


def test_round_trip_of_random_readings_through_a_file(tmp_path):
    rng = random.Random(7)
    lines, want = [], []
    for seq in range(500):
        readings = {"co2_ppm": rng.randrange(0, 40001), "temperature_c": ref.fixed(rng.randrange(-4000, 12501), 2),
                    "humidity_pct": ref.fixed(rng.randrange(0, 10001), 2), "motion": rng.randrange(0, 256),
                    "battery_mv": rng.randrange(0, 10001)}
        line = '{"node":"a1b2c3d4e5f60718","epoch":3,"seq":%d,"readings":{%s}}' % (
            seq, ",".join('"%s":%s' % kv for kv in readings.items()))
        lines.append(line)
        want.append('{"node":"a1b2c3d4e5f60718","epoch":3,"seq":%d,%s}' % (
            seq, ",".join('"%s":%s' % kv for kv in readings.items())))
    src = tmp_path / "in.jsonl"
    src.write_text("\n".join(lines) + "\n")
    enc = subprocess.run([CLI, "frame", "encode", "--input", str(src)], capture_output=True, timeout=30)
    assert enc.returncode == 0, enc.stderr
    frames = tmp_path / "frames.bin"
    frames.write_bytes(enc.stdout)
    dec = run("decode", "--input", str(frames))
    assert dec.returncode == 0, dec.stderr
    assert dec.stdout.decode().splitlines() == want
    assert counters_of(dec.stderr)["frames"] == 500


@pytest.mark.parametrize("line,message", [
    ('{"node":"0011","seq":1}', "'node' must be 16 hex digits"),
    ('{"node":"00112233445566zz","seq":1}', "'node' must be 16 hex digits"),
    ('{"node":"0011223344556677"}', "'seq' is missing"),
    ('{"node":"0011223344556677","seq":70000}', "'seq' must be a whole number 0..65535"),
    ('{"node":"0011223344556677","seq":1,"epoch":-1}', "'epoch' must be a whole number"),
    ('{"node":"0011223344556677","seq":1,"readings":{"co2":5}}', "unknown reading 'co2'"),
    ('{"node":"0011223344556677","seq":1,"readings":{"temperature_c":21.535}}', "more than 2 decimals"),
    ('{"node":"0011223344556677","seq":1,"readings":{"co2_ppm":40001}}', "out of range"),
    ('{"node":"0011223344556677","seq":1,"readings":{"motion":1.5}}', "more than 0 decimals"),
    ('{"node":"0011223344556677","seq":1,"readings":{"co2_ppm":"812"}}', "must be a number"),
    ('{"node":"0011223344556677","seq":1,"readings":{"co2_ppm":1,"co2_ppm":2}}', "appears twice"),
    ('{"node":"0011223344556677","seq":1,"readings":[1]}', "'readings' must be an object"),
    ('{"node":"0011223344556677","seq":1,"type":"bye"}', "'type' must be"),
    ('{"node":"0011223344556677","seq":1,"extra":1}', "unknown field 'extra'"),
    ('[1,2]', "not a JSON object"),
    ('{"node":', "not a JSON object"),
])
def test_bad_lines_stop_with_their_line_number(line, message):
    r = run("encode", stdin=(EXAMPLE + "\n\n" + line + "\n" + EXAMPLE + "\n").encode())
    assert r.returncode == 2
    err = r.stderr.decode()
    assert "line 3: " in err and message in err, err
    assert r.stdout.hex() == VECTORS["records"][0]["wire"]  # the good line before it was written


def test_decode_from_a_pty_as_serial_device():
    master, slave = pty.openpty()
    path = os.ttyname(slave)
    p = subprocess.Popen([CLI, "frame", "decode", "--serial", path, "--baud", "9600", "--count", "2",
                          "--timeout-ms", "20000"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        time.sleep(0.3)
        rec1 = ref.build_record("0011223344556677", 1, 1, [(1, 500)])
        rec2 = ref.build_record("0011223344556677", 1, 2, [(1, 510)])
        os.write(master, b"\x55\xaa\x00" + ref.wire(rec1)[:5])  # noise, then a record in two writes
        time.sleep(0.1)
        os.write(master, ref.wire(rec1)[5:] + ref.wire(rec2))
        out, err = p.communicate(timeout=25)
    finally:
        os.close(master)
        os.close(slave)
        if p.poll() is None:
            p.kill()
    assert p.returncode == 0, err
    assert out.decode().splitlines() == ['{"node":"0011223344556677","epoch":1,"seq":1,"co2_ppm":500}',
                                         '{"node":"0011223344556677","epoch":1,"seq":2,"co2_ppm":510}']
    assert counters_of(err)["frames"] == 2


def test_serial_that_is_not_a_terminal(tmp_path):
    f = tmp_path / "plain"
    f.write_bytes(b"")
    r = run("decode", "--serial", str(f))
    assert r.returncode == 3 and b"not a terminal" in r.stderr


def free_udp_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def test_udp_datagrams_both_ways():
    port = free_udp_port()
    p = subprocess.Popen([CLI, "frame", "decode", "--udp", "127.0.0.1:%d" % port, "--count", "3",
                          "--timeout-ms", "20000"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        time.sleep(0.3)
        # A damaged datagram is counted; `encode --udp` sends the three good ones.
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.sendto(b"\x01\x01\x00garbage-garbage-garbage", ("127.0.0.1", port))
        s.close()
        lines = "".join('{"node":"0011223344556677","epoch":2,"seq":%d,"readings":{"co2_ppm":%d}}\n' % (i, 600 + i)
                        for i in range(3))
        enc = run("encode", "--udp", "127.0.0.1:%d" % port, stdin=lines.encode())
        assert enc.returncode == 0 and enc.stdout == b"", enc.stderr
        out, err = p.communicate(timeout=25)
    finally:
        if p.poll() is None:
            p.kill()
    assert p.returncode == 0, err
    assert [json.loads(x)["co2_ppm"] for x in out.decode().splitlines()] == [600, 601, 602]
    c = counters_of(err)
    assert c["frames"] == 3 and c["crc"] == 1


def test_sigterm_stops_decode_and_prints_counters():
    port = free_udp_port()
    p = subprocess.Popen([CLI, "frame", "decode", "--udp", str(port)], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE)
    time.sleep(0.3)
    p.terminate()
    out, err = p.communicate(timeout=10)
    assert p.returncode == 0, err
    assert counters_of(err)["frames"] == 0


def test_timeout_stops_an_idle_decode():
    port = free_udp_port()
    start = time.monotonic()
    r = run("decode", "--udp", "127.0.0.1:%d" % port, "--timeout-ms", "300")
    assert r.returncode == 0 and time.monotonic() - start < 10
    assert counters_of(r.stderr)["frames"] == 0


@pytest.mark.parametrize("args,message", [
    (["decode", "--format", "xml"], "--format"),
    (["decode", "--baud", "1234", "--serial", "/dev/null"], "--baud"),
    (["decode", "--count", "0"], "--count"),
    (["decode", "--nodes", "0"], "--nodes"),
    (["decode", "--input", "a", "--udp", "9000"], "one of"),
    (["decode", "--udp", "70000"], "port"),
    (["encode", "--udp", "9000"], "HOST:PORT"),
    (["encode", "--hex", "--udp", "127.0.0.1:9000"], "exclude"),
    (["encode", "stray"], "unexpected argument"),
])
def test_usage_errors(args, message):
    r = run(*args)
    assert r.returncode == 1
    assert message in r.stderr.decode()


def test_missing_input_file():
    r = run("decode", "--input", "/nonexistent/frames.bin")
    assert r.returncode == 3 and b"/nonexistent/frames.bin" in r.stderr
    r = run("encode", "--input", "/nonexistent/in.jsonl")
    assert r.returncode == 3


def test_help():
    for args in (["--help"], ["encode", "--help"], ["decode", "--help"]):
        r = run(*args)
        assert r.returncode == 0 and b"usage:" in r.stdout
