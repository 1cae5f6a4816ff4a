#!/usr/bin/env python3
"""Write tests/frame/vectors.json from the Python reference (reference.py).

    python3 make_vectors.py            write vectors.json next to this script and
                                       the fuzz seeds in ../fuzz/corpus/frame
    python3 make_vectors.py --check    fail if either differs from what this
                                       script makes (run by ctest)

The output is deterministic (no clock, a seeded generator, fixed key order).
Before writing, the reference's CRC-32C is checked against the shared
catalogue check values (../shared/vectors/crc-check-values.json, or the file
named by SBPROV_CRC_CHECK_VALUES).

Layout of vectors.json:
  kinds      the reading table of docs/frame-format.md
  crc32c     check inputs and values
  records    valid records: fields (version, type, flags, node, epoch, seq,
             time_ms or null, readings in record order: {kind, value, valid}
             for known kinds and {kind, raw} for unknown ones), unknown_kinds
             and out_of_range (what decoding it adds to those counters),
             record (hex) and wire (hex: COBS + 0x00), and the renderings:
             json (flat telemetry object), senml (SenML pack without time) and
             senml_at (with bt for the receive time in "senml_unix_time_ms")
  malformed  inputs that must be dropped, each raising exactly `counter` by
             one and nothing else: "record" inputs (also given as "wire") are
             checked as datagrams and on a stream; "wire"-only inputs on a
             stream
  streams    byte streams with the records they deliver (hex) and the
             counters they leave (all others 0)
  sequences  records fed in order to one decoder (node table size given):
             per record "accepted" with seq_status and missed, or "duplicate";
             and the final counters
"""

import json
import os
import random
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import reference as ref  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "vectors.json")
CORPUS = os.path.join(HERE, "..", "fuzz", "corpus", "frame")
CRC_CHECK = os.environ.get("SBPROV_CRC_CHECK_VALUES",
                           os.path.join(HERE, "..", "..", "..", "shared", "vectors", "crc-check-values.json"))

NODE = "0011223344556677"
NODE_B = "a1b2c3d4e5f60718"
NODE_EUI48 = "b827ebfffe123456"   # an EUI-48 MAC padded with FF FE
T1234 = 0x04030201                # a timestamp without 0x00 bytes (sets flag bit 0)


def fields_of(rec):
    drop, f = ref.parse_record(rec)
    assert drop is None, (drop, rec.hex())
    readings = []
    # Record order of known and unknown readings, as the record has them.
    pos = ref.HEADER + (ref.TIME if f["flags"] & ref.FLAG_TIME else 0)
    known = iter(f["readings"])
    while pos < len(rec) - ref.CRC:
        kind, length = rec[pos], rec[pos + 1]
        if kind in ref.KINDS:
            readings.append(next(known))
        else:
            readings.append({"kind": kind, "raw": rec[pos + 2:pos + 2 + length].hex()})
        pos += 2 + length
    return {
        "version": f["version"], "type": f["type"], "flags": f["flags"], "node": f["node"],
        "epoch": f["epoch"], "seq": f["seq"], "time_ms": f["time_ms"], "readings": readings,
    }, f["unknown_kinds"], f["out_of_range"]


# The gateway receive time every record's SenML "senml_at" rendering uses.
SENML_UNIX_TIME_MS = 1767225600250   # 2026-01-01T00:00:00.250Z


def record_entry(name, rec):
    fields, unknown, oor = fields_of(rec)
    parsed = ref.parse_record(rec)[1]
    return {"name": name, "fields": fields, "unknown_kinds": unknown, "out_of_range": oor,
            "record": rec.hex(), "wire": ref.wire(rec).hex(), "json": ref.to_json(parsed),
            "senml": ref.to_senml(parsed), "senml_at": ref.to_senml(parsed, SENML_UNIX_TIME_MS)}


def find_seq(make, predicate, start=0):
    """The first seq (from `start`) whose record satisfies predicate(record)."""
    for seq in range(start, 65536):
        rec = make(seq)
        if predicate(rec):
            return rec
    raise AssertionError("no seq found")


def valid_records():
    out = []
    add = lambda name, rec: out.append(record_entry(name, rec))  # noqa: E731
    b = ref.build_record

    add("example from the specification", b(NODE, 1, 5, [(1, 812), (2, 2153), (3, 4520), (4, 1)]))
    for kind, (name, _, _, lo, hi) in sorted(ref.KINDS.items()):
        add(f"{name} minimum {lo}", b(NODE, 2, 100 + kind, [(kind, lo)]))
        add(f"{name} maximum {hi}", b(NODE, 2, 200 + kind, [(kind, hi)]))
    add("negative temperature -0.05", b(NODE, 3, 1, [(2, -5)]))
    add("negative temperature -0.01", b(NODE, 3, 2, [(2, -1)]))
    add("negative temperature -12.34 with humidity", b(NODE, 3, 3, [(2, -1234), (3, 9999)]))
    add("timestamp 0", b(NODE, 4, 1, [(1, 400)], time_ms=0))
    add("timestamp 123456 ms", b(NODE, 4, 2, [(1, 401)], time_ms=123456))
    add("timestamp 0xffffffff", b(NODE, 4, 3, [(1, 402)], time_ms=0xFFFFFFFF))
    add("timestamp, no readings", b(NODE, 4, 4, [], time_ms=77))
    add("readings type without readings", b(NODE, 5, 0))
    add("hello without readings", b(NODE, 6, 0, rtype=ref.TYPE_HELLO))
    add("hello with readings and timestamp", b(NODE, 6, 1, [(8, 3300), (1, 420)], rtype=ref.TYPE_HELLO,
                                               time_ms=1500))
    every = [(1, 812), (2, 2153), (3, 4520), (4, 3), (5, 120), (6, 101325), (7, 350), (8, 3000)]
    add("every kind with timestamp", b(NODE_B, 7, 9, every, time_ms=60000))
    add("every kind in reverse order", b(NODE_B, 7, 10, list(reversed(every))))
    add("EUI-48 node padded with fffe", b(NODE_EUI48, 8, 1, [(1, 900)]))
    add("epoch and seq 65535", b(NODE, 65535, 65535, [(4, 255)]))
    add("reserved flag bits set, no timestamp", b(NODE, 9, 1, [(1, 500)], flags=0xFE))
    add("reserved flag bits set, with timestamp", b(NODE, 9, 2, [(1, 501)], time_ms=42, flags=0xFF))

    # Unknown kinds are skipped (and counted).
    add("unknown kind 0x09 of 3 bytes between known ones",
        b(NODE, 10, 1, [(1, 700), (0x09, b"\x01\x02\x03"), (2, 2000)]))
    add("unknown kinds 0x00 (empty) and 0xff (2 bytes)",
        b(NODE, 10, 2, [(0x00, b""), (0xFF, b"\xaa\xbb"), (3, 5000)]))
    add("unknown kind repeated", b(NODE, 10, 3, [(0x42, b"\x00"), (0x42, b"\x00\x00"), (4, 0)]))
    add("only an unknown kind", b(NODE, 10, 4, [(0x80, bytes(range(1, 21)))]))

    # Out-of-range values: accepted, reported invalid, counted.
    add("out of range: CO2 40001", b(NODE, 11, 1, [(1, 40001)]))
    add("out of range: CO2 65535", b(NODE, 11, 2, [(1, 65535)]))
    add("out of range: temperature -4001 and 12501 in two records (1)", b(NODE, 11, 3, [(2, -4001)]))
    add("out of range: temperature -4001 and 12501 in two records (2)", b(NODE, 11, 4, [(2, 12501)]))
    add("out of range: temperature -32768", b(NODE, 11, 5, [(2, -32768)]))
    add("out of range: humidity 10001", b(NODE, 11, 6, [(3, 10001)]))
    add("out of range: VOC 60001", b(NODE, 11, 7, [(5, 60001)]))
    add("out of range: pressure 29999 with valid CO2", b(NODE, 11, 8, [(6, 29999), (1, 800)]))
    add("out of range: pressure 110001", b(NODE, 11, 9, [(6, 110001)]))
    add("out of range: pressure 0xffffffff", b(NODE, 11, 10, [(6, 0xFFFFFFFF)]))
    add("out of range: illuminance 200001", b(NODE, 11, 11, [(7, 200001)]))
    add("out of range: battery 10001 and CO2 50000", b(NODE, 11, 12, [(8, 10001), (1, 50000)]))

    # 0x00 bytes at various places (COBS must restore them).
    add("zero node, epoch 0, seq 0", b("0000000000000000", 0, 0, [(1, 0)]))
    add("zeros in node, epoch and seq (256 = 00 01)", b("0011002200330044", 0x0100, 0x0100, [(4, 0)]))
    add("zero values in every reading", b(NODE, 12, 0, [(1, 0), (3, 0), (4, 0), (5, 0), (7, 0), (8, 0)]))
    add("zero timestamp and zero in the last reading byte", b(NODE, 12, 1, [(1, 256)], time_ms=0))
    for i in range(4):
        mk = lambda seq, i=i: b(NODE_B, 0x1313, seq, [(1, 1000)], time_ms=T1234)  # noqa: E731
        add(f"zero in CRC byte {i}", find_seq(mk, lambda r, i=i: r[-4 + i] == 0 and r.count(0) == 1))
    mk = lambda seq: b(NODE_B, 0x1414, seq, [(1, 1000)], time_ms=T1234)  # noqa: E731
    add("last byte 0x00 and no other zero", find_seq(mk, lambda r: r[-1] == 0 and r.count(0) == 1))

    # The largest record: 254 bytes, with and without 0x00 bytes.
    def filler(base, extra_items, time_ms):
        head = len(b(NODE_B, 15, 0, base, time_ms=time_ms))
        room = ref.MAX - head - 2 * extra_items
        return room

    base = [(1, 812), (2, 2153), (3, 4520), (4, 1), (5, 111), (6, 99999), (7, 12345), (8, 3100)]
    room = filler(base, 1, 60000)
    pad = bytes((i % 255) + 1 for i in range(room))   # no zero in the pad
    rec = b(NODE_B, 15, 1, base + [(0x77, pad)], time_ms=60000)
    assert len(rec) == ref.MAX
    add("maximum record (254 bytes) with every kind and an unknown kind", rec)
    room = filler([], 2, T1234)
    pad1 = bytes(range(1, 201))
    pad2 = bytes(((i * 7) % 255) + 1 for i in range(room - len(pad1)))
    mk = lambda seq: b(NODE_B, 0x1616, seq, [(0x30, pad1), (0x31, pad2)], time_ms=T1234)  # noqa: E731
    rec = find_seq(mk, lambda r: 0 not in r, start=1)
    assert len(rec) == ref.MAX and ref.wire(rec)[0] == 0xFF and len(ref.wire(rec)) == 256
    add("maximum record without any 0x00 byte (one full COBS block)", rec)
    mk = lambda seq: b(NODE_B, 0x1717, seq, [(0x30, pad1), (0x31, pad2)], time_ms=T1234)  # noqa: E731
    rec = find_seq(mk, lambda r: r[-1] == 0 and r.count(0) == 1)
    add("maximum record whose only 0x00 is its last byte", rec)
    room = filler([], 2, None)
    rec = b("0100000000000001", 0, 0, [(0x30, bytes(200)), (0x31, bytes(room - 200))])
    assert len(rec) == ref.MAX
    add("maximum record, mostly 0x00", rec)
    rec = b(NODE_B, 18, 3, [(0x30, bytes(range(1, ref.MAX - 1 - ref.MIN - 2 + 1)))])
    assert len(rec) == ref.MAX - 1
    add("253 bytes", rec)
    return out


def malformed():
    b = ref.build_record
    out = []

    def rec(name, counter, record):
        drop, _ = ref.parse_record(record)
        assert drop == counter, (name, drop)
        out.append({"name": name, "input": "record", "counter": counter, "record": record.hex(),
                    "wire": ref.wire(record).hex()})

    def wire(name, counter, data):
        d = ref.Decoder()
        assert d.feed(data) == [], name
        assert [k for k, v in d.counters.items() if v] == [counter] and d.counters[counter] == 1, (name, d.counters)
        out.append({"name": name, "input": "wire", "counter": counter, "wire": data.hex()})

    good = b(NODE, 20, 1, [(1, 812), (2, 2153)])
    crc_at = len(good) - 4
    flip = lambda r, i, m=0x01: r[:i] + bytes([r[i] ^ m]) + r[i + 1:]  # noqa: E731

    # crc
    rec("crc: one bit flipped in a value", "crc", flip(good, 16, 0x10))
    rec("crc: one bit flipped in the node", "crc", flip(good, 5, 0x80))
    rec("crc: one bit flipped in the CRC", "crc", flip(good, crc_at + 3, 0x01))
    rec("crc: CRC stored big-endian", "crc", good[:crc_at] + good[crc_at:][::-1])
    rec("crc: CRC all zero", "crc", good[:crc_at] + bytes(4))
    rec("crc: version 2 with a bad CRC counts as crc (CRC is checked first)", "crc",
        flip(b(NODE, 20, 1, [(1, 812)], version=2), 12, 0x04))
    rec("crc: last byte cut off", "crc", good[:-1])
    # too_long
    big = b(NODE_B, 21, 1, [(0x77, bytes(range(1, 255 - 19 - 2 + 1)))])
    assert len(big) == 255
    rec("too_long: 255-byte record with a valid CRC", "too_long", big)
    rec("too_long: 298-byte record", "too_long", b(NODE_B, 21, 2, [(0x77, bytes(255)), (0x78, bytes(20))]))
    wire("too_long: 1000 bytes of 0xff without a delimiter", "too_long", b"\xff" * 1000 + b"\x00")
    wire("too_long: 600 bytes of 0x01 (600 decoded 0x00)", "too_long", b"\x01" * 600 + b"\x00")
    wire("too_long: a full block then a truncated one (too_long is seen first)", "too_long",
         b"\xff" + bytes(range(1, 255)) + b"\x05\x01\x02\x00")
    # truncated
    short = bytes([1, 1, 0]) + bytes.fromhex(NODE) + b"\x16\x00"   # 13 bytes + CRC = 17
    short += ref.crc32c(short).to_bytes(4, "little")
    rec("truncated: 17 bytes (header cut) with a valid CRC", "truncated", short)
    eighteen = bytes([1, 1, 0]) + bytes.fromhex(NODE) + b"\x16\x00\x01"
    eighteen += ref.crc32c(eighteen).to_bytes(4, "little")
    rec("truncated: 18 bytes with a valid CRC", "truncated", eighteen)
    rec("truncated: timestamp flag with 19 bytes", "truncated", b(NODE, 22, 2, flags=1))
    t22 = b(NODE, 22, 3, [(4, 1)], flags=1)
    assert len(t22) == 22
    rec("truncated: timestamp flag with 22 bytes", "truncated", t22)
    rec("truncated: a single byte", "truncated", b"\x01")
    wire("truncated: COBS-encoded empty record (01)", "truncated", b"\x01\x00")
    w = ref.wire(good)
    wire("truncated: COBS block runs past the delimiter", "truncated", b"\x05\x01\x02\x00")
    wire("truncated: a record's wire bytes cut inside a block", "truncated", w[:10] + b"\x00")
    wire("truncated: first code byte 0xff and 3 bytes", "truncated", b"\xff\x01\x02\x03\x00")
    # bad_version
    rec("bad_version: version 0", "bad_version", b(NODE, 23, 1, [(1, 812)], version=0))
    rec("bad_version: version 2", "bad_version", b(NODE, 23, 2, [(1, 812)], version=2))
    rec("bad_version: version 0xff", "bad_version", b(NODE, 23, 3, [(1, 812)], version=0xFF))
    rec("bad_version: version 2 with unknown type (version is checked first)", "bad_version",
        b(NODE, 23, 4, [], version=2, rtype=9))
    # unknown_type
    rec("unknown_type: type 0", "unknown_type", b(NODE, 24, 1, [(1, 812)], rtype=0))
    rec("unknown_type: type 3", "unknown_type", b(NODE, 24, 2, [(1, 812)], rtype=3))
    rec("unknown_type: type 0xff", "unknown_type", b(NODE, 24, 3, [(1, 812)], rtype=0xFF))
    rec("unknown_type: type 3 with a bad reading length (type is checked first)", "unknown_type",
        b(NODE, 24, 4, [(1, b"\x01")], rtype=3))
    # bad_length
    rec("bad_length: CO2 with 1 byte", "bad_length", b(NODE, 25, 1, [(1, b"\x2c")]))
    rec("bad_length: CO2 with 4 bytes", "bad_length", b(NODE, 25, 2, [(1, b"\x2c\x03\x00\x00")]))
    rec("bad_length: temperature with 3 bytes", "bad_length", b(NODE, 25, 3, [(2, b"\x69\x08\x00")]))
    rec("bad_length: motion with 0 bytes", "bad_length", b(NODE, 25, 4, [(4, b"")]))
    rec("bad_length: pressure with 2 bytes", "bad_length", b(NODE, 25, 5, [(6, b"\x01\x02")]))
    rec("bad_length: CO2 twice", "bad_length", b(NODE, 25, 6, [(1, 812), (1, 813)]))
    rec("bad_length: motion twice around another kind", "bad_length", b(NODE, 25, 7, [(4, 1), (1, 812), (4, 2)]))
    body = b(NODE, 25, 8, [(1, 812)])[:-4] + bytes([2, 5, 0x69, 0x08])   # length 5, only 2 bytes left
    rec("bad_length: reading length runs into the CRC", "bad_length", body + ref.crc32c(body).to_bytes(4, "little"))
    body = b(NODE, 25, 9, [(1, 812)])[:-4] + bytes([0x09])                # kind without a length
    rec("bad_length: a kind byte without a length byte", "bad_length", body + ref.crc32c(body).to_bytes(4, "little"))
    body = b(NODE, 25, 10, [])[:-4] + bytes([0x50, 0x10, 1, 2, 3])       # unknown kind running past
    rec("bad_length: unknown kind whose length runs into the CRC", "bad_length",
        body + ref.crc32c(body).to_bytes(4, "little"))
    body = b(NODE, 25, 11, [], time_ms=5)[:-4] + bytes([0x01])
    rec("bad_length: a lone byte after the timestamp", "bad_length", body + ref.crc32c(body).to_bytes(4, "little"))
    return out


def streams():
    b = ref.build_record
    r1 = b(NODE, 30, 1, [(1, 600)])
    r2 = b(NODE, 30, 2, [(1, 610)], time_ms=1000)
    r3 = b(NODE_B, 30, 7, [(2, -250)])
    out = []

    def stream(name, data, node_table_size=256):
        d = ref.Decoder(node_table_size)
        recs = d.feed(data)
        out.append({"name": name, "wire": data.hex(), "records": [r["record"] for r in recs],
                    "counters": {k: v for k, v in d.counters.items() if v}})

    stream("leading and repeated delimiters are ignored",
           b"\x00\x00" + ref.wire(r1) + b"\x00\x00\x00" + ref.wire(r2) + b"\x00" + ref.wire(r3))
    mk = lambda seq: b(NODE_B, 0x3131, seq, [(0x30, bytes(range(1, 201))), (0x31, bytes(range(1, 28)))], time_ms=T1234)  # noqa: E731
    full = find_seq(mk, lambda r: 0 not in r, start=1)
    assert len(full) == 254
    alt = ref.wire(full)[:-1] + b"\x01\x00"
    stream("a full final block followed by a 01 code (another COBS encoder's form) is accepted", alt + ref.wire(r1))
    stream("start in the middle of a record: its tail is dropped, the next record is accepted",
           ref.wire(r3)[9:] + ref.wire(r1) + ref.wire(r2))
    stream("noise without delimiter then records", bytes([0xA5]) * 700 + b"\x00" + ref.wire(r1) + ref.wire(r2))
    stream("a record whose bytes are interrupted by a 0x00 (two drops) then records",
           ref.wire(r2)[:12] + b"\x00" + ref.wire(r2)[12:] + ref.wire(r1) + ref.wire(r3))
    stream("records without a final delimiter: the last one is not delivered yet",
           ref.wire(r1) + ref.wire(r2)[:-1])
    stream("every error, each followed by a good record",
           bytes.fromhex("05010200") + ref.wire(r1) + b"\xff" * 300 + b"\x00" + ref.wire(r2)
           + ref.wire(b(NODE, 30, 3, [(1, 1)], version=7)) + ref.wire(r3)
           + ref.wire(b(NODE_B, 30, 8, [], rtype=5)) + ref.wire(b(NODE_B, 30, 9, [(1, 5)]))
           + ref.wire(b(NODE_B, 30, 10, [(1, b"\x01")])) + ref.wire(b(NODE_B, 30, 11, [(1, 6)]))
           + ref.wire(r3) + ref.wire(b(NODE_B, 30, 12, [(1, 7)]))
           + ref.wire(b(NODE, 30, 3, [(1, 1)])[:-1] + b"\x01") + ref.wire(b(NODE, 30, 4, [(1, 8)])))
    return out


def sequences():
    b = ref.build_record
    out = []

    def scenario(name, records, node_table_size=256):
        d = ref.Decoder(node_table_size)
        steps = []
        for rec in records:
            n = len(d.outcomes)
            got = d.record(rec)
            assert len(d.outcomes) == n + 1
            if got:
                steps.append({"record": rec.hex(), "expect": "accepted", "seq_status": got[0]["seq_status"],
                              "missed": got[0]["missed"]})
            else:
                steps.append({"record": rec.hex(), "expect": d.outcomes[-1]})
        out.append({"name": name, "node_table_size": node_table_size, "steps": steps,
                    "counters": {k: v for k, v in d.counters.items() if v}})

    r = lambda node, epoch, seq: b(node, epoch, seq, [(1, 500 + seq % 1000)])  # noqa: E731
    scenario("in order", [r(NODE, 1, s) for s in range(0, 5)])
    scenario("duplicate", [r(NODE, 1, 5), r(NODE, 1, 5), r(NODE, 1, 6)])
    scenario("old record", [r(NODE, 1, 10), r(NODE, 1, 9), r(NODE, 1, 3), r(NODE, 1, 11)])
    scenario("gap of 2", [r(NODE, 1, 5), r(NODE, 1, 8), r(NODE, 1, 9)])
    scenario("wrap 65535 -> 0", [r(NODE, 1, 65534), r(NODE, 1, 65535), r(NODE, 1, 0), r(NODE, 1, 1)])
    scenario("wrap with a gap 65534 -> 1", [r(NODE, 1, 65534), r(NODE, 1, 1)])
    scenario("0 after 65535 is next, 65535 after 0 is old", [r(NODE, 1, 65535), r(NODE, 1, 0), r(NODE, 1, 65535)])
    scenario("32767 ahead is a gap, 32768 ahead is old",
             [r(NODE, 1, 100), r(NODE, 1, 100 + 32768), r(NODE, 1, 100 + 32767), r(NODE, 1, (100 + 32767 + 32768) % 65536)])
    scenario("reboot: another epoch restarts tracking",
             [r(NODE, 1, 100), r(NODE, 2, 0), r(NODE, 2, 1), r(NODE, 2, 0), r(NODE, 1, 101)])
    scenario("reboot with a hello record first",
             [r(NODE, 7, 40), b(NODE, 8, 0, [(8, 3300)], rtype=ref.TYPE_HELLO), r(NODE, 8, 1)])
    scenario("two nodes are tracked separately",
             [r(NODE, 1, 1), r(NODE_B, 1, 1), r(NODE, 1, 2), r(NODE_B, 1, 3), r(NODE_B, 1, 3), r(NODE, 1, 2)])
    nodes = ["%016x" % (0x1000 + i) for i in range(4)]
    scenario("full table: the least recently seen node is replaced",
             [r(nodes[0], 1, 10), r(nodes[1], 1, 10), r(nodes[0], 1, 11), r(nodes[2], 1, 10),
              r(nodes[0], 1, 11), r(nodes[1], 1, 5), r(nodes[2], 1, 11)], node_table_size=2)
    scenario("a duplicate also counts as seen for replacement",
             [r(nodes[0], 1, 10), r(nodes[1], 1, 10), r(nodes[0], 1, 10), r(nodes[2], 1, 1),
              r(nodes[0], 1, 10), r(nodes[1], 1, 1)], node_table_size=2)
    scenario("table of one node", [r(nodes[0], 1, 10), r(nodes[1], 1, 10), r(nodes[0], 1, 10), r(nodes[0], 1, 10)],
             node_table_size=1)
    scenario("a dropped record does not touch tracking",
             [r(NODE, 1, 1), b(NODE, 1, 2, [(1, 1), (1, 2)]), r(NODE, 1, 2)])
    return out


def check_crc():
    if not os.path.exists(CRC_CHECK):
        print(f"make_vectors: {CRC_CHECK} not found: catalogue check skipped (the self-test has the value)")
        return False
    with open(CRC_CHECK) as f:
        want = json.load(f)["CRC-32C"]
    got = "0x%08X" % ref.crc32c(b"123456789")
    if got != want.upper().replace("0X", "0x"):
        raise SystemExit(f"make_vectors: reference CRC-32C of '123456789' is {got}, catalogue says {want}")
    return True


def make():
    rng = random.Random(20240607)
    crc_inputs = ["", "00", "313233343536373839", "ff" * 32, "00" * 32]
    crc_inputs += [bytes(rng.randrange(256) for _ in range(n)).hex() for n in (1, 3, 7, 8, 9, 15, 16, 17, 63, 254, 300)]
    doc = OrderedDictLike()
    doc["about"] = ("Sensor frame format version 1 (docs/frame-format.md). Made by tests/frame/make_vectors.py "
                    "from the Python reference tests/frame/reference.py; do not edit by hand.")
    doc["kinds"] = [{"kind": k, "name": v[0], "length": v[1], "signed": v[2], "min": v[3], "max": v[4]}
                    for k, v in sorted(ref.KINDS.items())]
    doc["crc32c"] = [{"input": h, "crc": "%08x" % ref.crc32c(bytes.fromhex(h))} for h in crc_inputs]
    doc["senml_unix_time_ms"] = SENML_UNIX_TIME_MS
    doc["records"] = valid_records()
    doc["malformed"] = malformed()
    doc["streams"] = streams()
    doc["sequences"] = sequences()
    names = [e["name"] for e in doc["records"]] + [e["name"] for e in doc["malformed"]]
    assert len(names) == len(set(names)), "duplicate vector names"
    return json.dumps(doc, indent=1) + "\n"


class OrderedDictLike(dict):
    """dict keeps insertion order; named for the reader."""


def corpus(doc):
    """Seed files for tests/fuzz/fuzz_frame_parse.c: byte 0 configuration
    (node table size - 1 in bits 0-2, bit 7: also as one datagram), byte 1 the
    number of chunk sizes, the chunk sizes, then the bytes."""
    seeds = {}
    for i, e in enumerate(doc["records"]):
        seeds["record-%02d-wire" % i] = bytes([0x03, 0]) + bytes.fromhex(e["wire"])
        seeds["record-%02d-datagram" % i] = bytes([0x83, 0]) + bytes.fromhex(e["record"])
    for i, e in enumerate(doc["malformed"]):
        seeds["malformed-%02d-wire" % i] = bytes([0x03, 2, 0, 6]) + bytes.fromhex(e["wire"])
        if "record" in e:
            seeds["malformed-%02d-datagram" % i] = bytes([0x83, 0]) + bytes.fromhex(e["record"])
    for i, e in enumerate(doc["streams"]):
        seeds["stream-%02d" % i] = bytes([0x01, 3, 0, 6, 39]) + bytes.fromhex(e["wire"])
    for i, e in enumerate(doc["sequences"]):
        wires = b"".join(ref.wire(bytes.fromhex(s["record"])) for s in e["steps"])
        seeds["sequence-%02d" % i] = bytes([e["node_table_size"] - 1 if e["node_table_size"] <= 8 else 7, 1, 10]) + wires
    seeds["all-valid-records"] = bytes([0x07, 4, 0, 1, 254, 99]) + b"".join(
        bytes.fromhex(e["wire"]) for e in doc["records"])
    return seeds


def main():
    catalogue = check_crc()
    text = make()
    seeds = corpus(json.loads(text))
    if sys.argv[1:] == ["--check"]:
        with open(OUT) as f:
            if f.read() != text:
                raise SystemExit("make_vectors: tests/frame/vectors.json is not what make_vectors.py makes; "
                                 "run python3 tests/frame/make_vectors.py")
        for name, data in seeds.items():
            path = os.path.join(CORPUS, name)
            if not os.path.exists(path) or open(path, "rb").read() != data:
                raise SystemExit(f"make_vectors: {path} is missing or stale; run python3 tests/frame/make_vectors.py")
        extra = set(os.listdir(CORPUS)) - set(seeds)
        if extra:
            raise SystemExit(f"make_vectors: unexpected seeds in {CORPUS}: {sorted(extra)}")
        print(f"ok: vectors.json and {len(seeds)} fuzz seeds are up to date"
              + ("; reference CRC-32C matches the catalogue check value" if catalogue else ""))
        return
    if sys.argv[1:]:
        raise SystemExit(__doc__)
    with open(OUT, "w") as f:
        f.write(text)
    os.makedirs(CORPUS, exist_ok=True)
    for name in os.listdir(CORPUS):
        if name not in seeds:
            os.remove(os.path.join(CORPUS, name))
    for name, data in seeds.items():
        with open(os.path.join(CORPUS, name), "wb") as f:
            f.write(data)
    print(f"make_vectors: wrote {OUT} and {len(seeds)} seeds in {CORPUS}")


if __name__ == "__main__":
    main()
