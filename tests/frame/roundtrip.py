#!/usr/bin/env python3
"""Compare the C encoder and decoder with the Python reference on random records.

    roundtrip.py FRAME_TOOL [--count N] [--seed S]

1. Encoding: random fields -> `frame_tool encode` -> record and wire bytes must
   equal reference.build_record() and reference.wire().
2. Stream decoding: the wire bytes of those records, from a small pool of nodes
   (so duplicates, gaps and reboots happen) with random damage (bit flips,
   cut records, noise, stray delimiters), -> `frame_tool decode` in odd-sized
   chunks -> the accepted records (every field, seq_status, missed, the JSON
   and SenML renderings byte for byte) and the
   counters must equal reference.Decoder.feed().
3. Datagrams: the same records, damaged differently, one a line ->
   `frame_tool decode --datagrams` -> as reference.Decoder.record().
Exit 0 when everything matches.
"""

import argparse
import json
import os
import random
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import reference as ref  # noqa: E402


def random_fields(rng, nodes, state):
    node = rng.choice(nodes)
    epoch, seq = state.setdefault(node, [rng.randrange(65536), rng.randrange(65536)])
    r = rng.random()
    if r < 0.03:
        state[node][0] = epoch = (epoch + 1) % 65536           # reboot
        state[node][1] = seq = 0
    elif r < 0.06:
        seq = (seq - rng.randrange(0, 4)) % 65536              # duplicate or old
    elif r < 0.10:
        seq = (seq + rng.randrange(2, 50)) % 65536             # gap
    else:
        seq = (seq + 1) % 65536
    if (seq - state[node][1]) % 65536 < 32768:
        state[node][1] = seq
    time_ms = rng.choice([None, rng.randrange(1 << 32), 0, 0xFFFFFFFF])
    flags = 1 if time_ms is not None else 0
    if rng.random() < 0.05:
        flags |= rng.randrange(256) & 0xFE                     # reserved bits: ignored
    readings = []
    kinds = list(ref.KINDS)
    rng.shuffle(kinds)
    room = ref.MAX - ref.MIN - (4 if time_ms is not None else 0)
    for kind in kinds[:rng.randrange(len(kinds) + 1)]:
        if rng.random() < 0.2:
            raw = bytes(rng.randrange(256) for _ in range(rng.choice([0, 1, 3, rng.randrange(120)])))
            unknown = rng.choice([0] + list(range(max(ref.KINDS) + 1, 256)))
            if 2 + len(raw) <= room:
                readings.append({"kind": unknown, "raw": raw.hex()})
                room -= 2 + len(raw)
        _, length, signed, lo, hi = ref.KINDS[kind]
        if rng.random() < 0.15 and kind != 0x04:              # out of range (the tool sends it raw)
            full = 1 << (8 * length)
            while True:
                value = rng.randrange(full)
                if signed and value >= full // 2:
                    value -= full
                if not lo <= value <= hi:
                    break
        else:
            value = rng.choice([lo, hi, rng.randint(lo, hi)])
        if 2 + length <= room:
            readings.append({"kind": kind, "value": value})
            room -= 2 + length
    return {"type": rng.choice([1, 1, 1, 2]), "flags": flags, "node": node, "epoch": epoch, "seq": seq,
            "time_ms": time_ms, "readings": readings}


def build(fields):
    items = [(r["kind"], bytes.fromhex(r["raw"]) if "raw" in r else r["value"]) for r in fields["readings"]]
    return ref.build_record(fields["node"], fields["epoch"], fields["seq"], items, rtype=fields["type"],
                            time_ms=fields["time_ms"], flags=fields["flags"])


def damage(rng, data):
    """Randomly damaged copy of one record's bytes (or the bytes unchanged)."""
    r = rng.random()
    if r < 0.80:
        return data
    data = bytearray(data)
    if r < 0.88:
        i = rng.randrange(len(data))
        data[i] ^= 1 << rng.randrange(8)
    elif r < 0.93:
        del data[rng.randrange(len(data)):]
    elif r < 0.96:
        data[rng.randrange(len(data) + 1):0] = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 40)))
    else:
        data[rng.randrange(len(data) + 1):0] = b"\x00"
    return bytes(data)


# The SenML receive time frame_tool renders with (RENDER_UNIX_TIME_MS there).
RENDER_UNIX_TIME_MS = 1767225600250


def run(tool, args, stdin):
    p = subprocess.run([tool] + args, input=stdin, capture_output=True, check=False)
    if p.returncode != 0:
        raise SystemExit(f"roundtrip: frame_tool {' '.join(args)} exited {p.returncode}: {p.stderr.decode()}")
    return p.stdout.decode().splitlines()


def compare_decoded(what, c_lines, py_records, py_counters):
    *records, last = c_lines
    counters = json.loads(last)["counters"]
    if counters != py_counters:
        diff = {k: (counters[k], py_counters[k]) for k in counters if counters[k] != py_counters[k]}
        raise SystemExit(f"roundtrip: {what}: counters differ (C, Python): {diff}")
    if len(records) != len(py_records):
        raise SystemExit(f"roundtrip: {what}: C accepted {len(records)} records, Python {len(py_records)}")
    for i, (line, py) in enumerate(zip(records, py_records)):
        c = json.loads(line)
        py = dict(py, json=ref.to_json(py), senml_at=ref.to_senml(py, RENDER_UNIX_TIME_MS))
        want = {k: py[k] for k in c}
        if c != want:
            raise SystemExit(f"roundtrip: {what}: record {i} differs:\n  C:      {c}\n  Python: {want}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("tool")
    ap.add_argument("--count", type=int, default=5000)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    rng = random.Random(a.seed)
    nodes = ["%016x" % rng.randrange(1 << 64) for _ in range(24)] + ["0011223344556677", "0000000000000000"]

    # 1. encoding
    state = {}
    fields = [random_fields(rng, nodes, state) for _ in range(a.count)]
    out = run(a.tool, ["encode"], "".join(json.dumps(f) + "\n" for f in fields).encode())
    records = []
    for i, (f, line) in enumerate(zip(fields, out)):
        rec = build(f)
        records.append(rec)
        want = rec.hex() + " " + ref.wire(rec).hex()
        if line != want:
            raise SystemExit(f"roundtrip: encoding record {i} differs:\n  fields: {f}\n  C:      {line}\n"
                             f"  Python: {want}")
    if len(out) != len(fields):
        raise SystemExit(f"roundtrip: frame_tool encode gave {len(out)} lines for {len(fields)} records")

    # 2. a damaged stream, small node table so that nodes are replaced
    stream = bytearray(b"\x00")
    for rec in records:
        stream += damage(rng, ref.wire(rec))
        if rng.random() < 0.01:
            stream += bytes(rng.randrange(1, 256) for _ in range(rng.randrange(200, 700)))
    d = ref.Decoder(node_table_size=16)
    py = d.feed(bytes(stream))
    for chunk in ("1", "7", "255", "4096"):
        compare_decoded(f"stream in chunks of {chunk}", run(a.tool, ["decode", "--nodes", "16", "--chunk", chunk],
                                                            bytes(stream)), py, d.counters)

    # 3. damaged datagrams
    grams = [damage(rng, rec) for rec in records]
    dd = ref.Decoder()
    py = [r for g in grams for r in dd.record(g)]
    compare_decoded("datagrams", run(a.tool, ["decode", "--datagrams"], "".join(g.hex() + "\n" for g in grams).encode()),
                    py, dd.counters)
    kinds = sum(len(f["readings"]) for f in fields)
    print(f"ok: {a.count} random records ({kinds} readings) encoded identically by C and Python; "
          f"a damaged stream of {len(stream)} bytes and {a.count} damaged datagrams decoded identically "
          f"(stream counters {dict((k, v) for k, v in d.counters.items() if v)})")


if __name__ == "__main__":
    main()
