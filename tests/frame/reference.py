#!/usr/bin/env python3
"""Independent Python reference of the sensor frame format, version 1
(docs/frame-format.md): COBS, CRC-32C, building and parsing records, and a
stream/datagram decoder with the drop counters and per-node sequence tracking.

Standard library only. It shares no code with the C implementation and is
written from the specification alone; tests/frame/make_vectors.py uses it to
make tests/frame/vectors.json, and tests/frame/roundtrip.py compares it with the
C encoder and decoder on random records.

    python3 reference.py --self-test
"""

from collections import OrderedDict
import struct
import sys

VERSION = 1
MAX = 254                 # largest record, CRC included
HEADER = 15               # without the timestamp
TIME = 4
CRC = 4
MIN = HEADER + CRC        # 19
FLAG_TIME = 0x01
TYPE_READINGS = 0x01
TYPE_HELLO = 0x02
TYPES = (TYPE_READINGS, TYPE_HELLO)

# kind -> (JSON name, value length, signed, min, max)
KINDS = {
    0x01: ("co2_ppm", 2, False, 0, 40000),
    0x02: ("temperature_c", 2, True, -4000, 12500),
    0x03: ("humidity_pct", 2, False, 0, 10000),
    0x04: ("motion", 1, False, 0, 255),
    0x05: ("voc_ppb", 2, False, 0, 60000),
    0x06: ("pressure_pa", 4, False, 30000, 110000),
    0x07: ("illuminance_lux", 4, False, 0, 200000),
    0x08: ("battery_mv", 2, False, 0, 10000),
}

COUNTERS = ("frames", "crc", "too_long", "truncated", "bad_version", "bad_length", "unknown_type",
            "duplicate", "gaps", "reboots", "unknown_kinds", "out_of_range")
DROPS = ("crc", "too_long", "truncated", "bad_version", "bad_length", "unknown_type", "duplicate")


# --- CRC-32C (Castagnoli), bit by bit from the reflected polynomial ----------------

def crc32c(data, crc=0):
    """CRC-32C of `data`; pass a previous result as `crc` to continue it."""
    crc ^= 0xFFFFFFFF
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 if crc & 1 else 0)
    return crc ^ 0xFFFFFFFF


# --- COBS ---------------------------------------------------------------------------

def cobs_encode(data):
    """COBS of `data` without the delimiter. A final block of 254 non-zero bytes
    is not followed by an extra 0x01 code (n <= 254 bytes give n + 1)."""
    out = bytearray([0])
    code_at = 0
    run = 0
    for i, byte in enumerate(data):
        if byte == 0:
            out[code_at] = run + 1
            code_at = len(out)
            out.append(0)
            run = 0
            continue
        out.append(byte)
        run += 1
        if run == 254:
            out[code_at] = 0xFF
            run = 0
            if i + 1 < len(data):
                code_at = len(out)
                out.append(0)
            else:
                code_at = None
    if code_at is not None:
        out[code_at] = run + 1
    return bytes(out)


class CobsTruncated(Exception):
    """A COBS block runs past the end; `partial` holds what was decoded."""

    def __init__(self, partial):
        super().__init__("COBS block runs past the delimiter")
        self.partial = partial


def cobs_decode(enc):
    """Decode one COBS-encoded record (no delimiter, no 0x00 inside). Accepts
    the form with an extra 0x01 after a final full block. Raises CobsTruncated."""
    if 0 in enc:
        raise ValueError("0x00 inside a COBS-encoded record")
    out = bytearray()
    i = 0
    while i < len(enc):
        code = enc[i]
        i += 1
        block = enc[i:i + code - 1]
        out += block
        if len(block) < code - 1:
            raise CobsTruncated(bytes(out))
        i += code - 1
        if code != 0xFF and i < len(enc):
            out.append(0)
    return bytes(out)


def wire(record):
    """The record as sent on a byte stream: COBS and the 0x00 delimiter."""
    return cobs_encode(record) + b"\x00"


# --- building records ---------------------------------------------------------------

def encode_value(kind, value):
    """A known kind's value in its table encoding (any value the width holds,
    in range or not)."""
    _, length, signed, _, _ = KINDS[kind]
    fmt = {(1, False): "<B", (2, False): "<H", (2, True): "<h", (4, False): "<I"}[(length, signed)]
    return struct.pack(fmt, value)


def build_record(node, epoch, seq, readings=(), rtype=TYPE_READINGS, time_ms=None, flags=None,
                 version=VERSION, crc=None):
    """A record. `readings`: (kind, value) for a known kind (encoded with the
    table's length; the value may be out of range), or (kind, bytes) for raw
    bytes of any kind and length. `flags` defaults to bit 0 set iff time_ms is
    given. `crc` overrides the computed CRC (for malformed vectors)."""
    node = bytes.fromhex(node) if isinstance(node, str) else bytes(node)
    assert len(node) == 8
    if flags is None:
        flags = FLAG_TIME if time_ms is not None else 0
    rec = bytearray([version, rtype, flags]) + node + struct.pack("<HH", epoch, seq)
    if time_ms is not None:
        rec += struct.pack("<I", time_ms)
    for kind, value in readings:
        if isinstance(value, (bytes, bytearray)):
            body = bytes(value)
        else:
            body = encode_value(kind, value)
        rec += bytes([kind, len(body)]) + body
    rec += struct.pack("<I", crc32c(rec) if crc is None else crc)
    return bytes(rec)


# --- parsing records ----------------------------------------------------------------

def parse_record(rec):
    """Check and parse one record in the order the specification gives.
    Returns (drop, None) with drop in DROPS (never "duplicate"), or
    (None, fields) with fields a dict:
      version, type, flags, node (hex), epoch, seq, time_ms (None without the
      flag), readings: [{"kind", "value", "valid"}] (known kinds, in order),
      unknown: [{"kind", "raw"}], unknown_kinds, out_of_range."""
    if len(rec) > MAX:
        return "too_long", None
    if len(rec) < MIN:
        return "truncated", None
    if crc32c(rec[:-CRC]) != struct.unpack("<I", rec[-CRC:])[0]:
        return "crc", None
    if rec[0] != VERSION:
        return "bad_version", None
    if rec[1] not in TYPES:
        return "unknown_type", None
    flags = rec[2]
    pos = HEADER
    time_ms = None
    if flags & FLAG_TIME:
        if len(rec) < HEADER + TIME + CRC:
            return "truncated", None
        time_ms = struct.unpack_from("<I", rec, HEADER)[0]
        pos += TIME
    end = len(rec) - CRC
    readings, unknown, seen = [], [], set()
    out_of_range = 0
    while pos < end:
        if end - pos < 2:
            return "bad_length", None
        kind, length = rec[pos], rec[pos + 1]
        pos += 2
        if length > end - pos:
            return "bad_length", None
        body = rec[pos:pos + length]
        pos += length
        if kind not in KINDS:
            unknown.append({"kind": kind, "raw": body.hex()})
            continue
        _, want, signed, lo, hi = KINDS[kind]
        if length != want or kind in seen:
            return "bad_length", None
        seen.add(kind)
        value = int.from_bytes(body, "little", signed=signed)
        valid = lo <= value <= hi
        out_of_range += 0 if valid else 1
        readings.append({"kind": kind, "value": value, "valid": valid})
    epoch, seq = struct.unpack_from("<HH", rec, 11)
    return None, {
        "version": rec[0], "type": rec[1], "flags": flags, "node": rec[3:11].hex(),
        "epoch": epoch, "seq": seq, "time_ms": time_ms, "readings": readings,
        "unknown": unknown, "unknown_kinds": len(unknown), "out_of_range": out_of_range,
    }


# --- rendering (docs/frame-format.md, "JSON and SenML") ----------------------------

# kind -> decimals of the fixed-point value in the flat JSON
JSON_DECIMALS = {0x02: 2, 0x03: 2}
# kind -> (SenML name, unit, decimals of the SenML value, secondary unit (RFC 8798))
SENML = {
    0x01: ("co2", "ppm", 0, True),
    0x02: ("temperature", "Cel", 2, False),
    0x03: ("humidity", "%RH", 2, False),
    0x04: ("motion", "count", 0, False),
    0x05: ("voc", "ppb", 0, True),
    0x06: ("pressure", "Pa", 0, False),
    0x07: ("illuminance", "lx", 0, False),
    0x08: ("battery", "V", 3, False),
}
SENML_BVER_SECONDARY = 26          # RFC 9100: 10 + feature 4 (secondary units)
SENML_MIN_UNIX_MS = (1 << 28) * 1000  # below 2**28 s SenML reads a time as relative
SENML_MAX_UNIX_MS = 253402300799999   # 9999-12-31T23:59:59.999Z


def fixed(value, decimals):
    """Exact decimal text of value / 10**decimals, trailing fractional zeros dropped."""
    sign = "-" if value < 0 else ""
    mag = abs(value)
    whole, frac = divmod(mag, 10 ** decimals)
    digits = str(frac).rjust(decimals, "0").rstrip("0") if decimals else ""
    return sign + str(whole) + ("." + digits if digits else "")


def to_json(f):
    """The flat telemetry object: node, epoch, seq, time_ms (if any), type
    "hello" for hello records, then the readings in record order (null when
    out of range)."""
    parts = ['"node":"%s"' % f["node"], '"epoch":%d' % f["epoch"], '"seq":%d' % f["seq"]]
    if f["time_ms"] is not None:
        parts.append('"time_ms":%d' % f["time_ms"])
    if f["type"] == TYPE_HELLO:
        parts.append('"type":"hello"')
    for r in f["readings"]:
        value = fixed(r["value"], JSON_DECIMALS.get(r["kind"], 0)) if r["valid"] else "null"
        parts.append('"%s":%s' % (KINDS[r["kind"]][0], value))
    return "{" + ",".join(parts) + "}"


def to_senml(f, unix_time_ms=None):
    """A SenML pack (RFC 8428, JSON): base name urn:dev:mac:<node>:, bver 26
    when a secondary unit (RFC 8798) is used, bt (seconds) when the gateway's
    receive time is given; one record per valid reading; [] if none."""
    records = []
    for r in f["readings"]:
        if r["valid"]:
            records.append(SENML[r["kind"]] + (r["value"],))
    if not records:
        return "[]"
    base = ['"bn":"urn:dev:mac:%s:"' % f["node"]]
    if any(secondary for _, _, _, secondary, _ in records):
        base.append('"bver":%d' % SENML_BVER_SECONDARY)
    if unix_time_ms is not None:
        if not SENML_MIN_UNIX_MS <= unix_time_ms <= SENML_MAX_UNIX_MS:
            raise ValueError("unix_time_ms out of range")
        base.append('"bt":%s' % fixed(unix_time_ms, 3))
    out = []
    for i, (name, unit, decimals, _, value) in enumerate(records):
        fields = (base if i == 0 else []) + ['"n":"%s"' % name, '"u":"%s"' % unit,
                                              '"v":%s' % fixed(value, decimals)]
        out.append("{" + ",".join(fields) + "}")
    return "[" + ",".join(out) + "]"


# --- the decoder: counters and sequence tracking -----------------------------------

class Decoder:
    """Stream and datagram decoder as the specification describes it.

    feed(bytes) and record(bytes) return the list of accepted records: the
    fields of parse_record() plus "record" (hex), "seq_status" ("first",
    "next", "gap", "reboot") and "missed" (records missing before it)."""

    def __init__(self, node_table_size=256):
        self.counters = dict.fromkeys(COUNTERS, 0)
        self.nodes = OrderedDict()   # node hex -> (epoch, seq); last = most recently seen
        self.table_size = node_table_size
        self.pending = bytearray()   # bytes since the last delimiter
        self.overflowed = False      # too_long already counted for `pending`
        self.outcomes = []           # one per non-empty record: "accepted" or a drop reason

    def _count(self, name, n=1):
        self.counters[name] += n

    def _sequence(self, f):
        node = f["node"]
        last = self.nodes.get(node)
        if last is None:
            if len(self.nodes) >= self.table_size:
                self.nodes.popitem(last=False)
            status, missed = "first", 0
        else:
            self.nodes.move_to_end(node)
            if last[0] != f["epoch"]:
                status, missed = "reboot", 0
            else:
                n = (f["seq"] - last[1]) % 65536
                if n == 0 or n >= 32768:
                    return None, 0
                status, missed = ("next", 0) if n == 1 else ("gap", n - 1)
        self.nodes[node] = (f["epoch"], f["seq"])
        return status, missed

    def record(self, rec):
        """One record without COBS (a datagram)."""
        rec = bytes(rec)
        drop, f = parse_record(rec)
        if drop is None:
            status, missed = self._sequence(f)
            if status is None:
                drop = "duplicate"
        if drop is not None:
            self._count(drop)
            self.outcomes.append(drop)
            return []
        self.outcomes.append("accepted")
        self._count("frames")
        self._count("gaps", missed)
        self._count("reboots", 1 if status == "reboot" else 0)
        self._count("unknown_kinds", f["unknown_kinds"])
        self._count("out_of_range", f["out_of_range"])
        f = dict(f, record=rec.hex(), seq_status=status, missed=missed)
        return [f]

    def _segment_length(self, seg):
        try:
            return len(cobs_decode(seg)), False
        except CobsTruncated as e:
            return len(e.partial), True

    def feed(self, data):
        out = []
        for byte in bytes(data):
            if byte != 0:
                if not self.overflowed:
                    self.pending.append(byte)
                    # decoded bytes <= encoded bytes - 1, so only long segments can overflow
                    if len(self.pending) > MAX + 1 and self._segment_length(bytes(self.pending))[0] > MAX:
                        self._count("too_long")
                        self.outcomes.append("too_long")
                        self.overflowed = True
                        self.pending.clear()
                continue
            seg, overflowed = bytes(self.pending), self.overflowed
            self.pending.clear()
            self.overflowed = False
            if overflowed or not seg:
                continue
            try:
                rec = cobs_decode(seg)
            except CobsTruncated:
                self._count("truncated")
                self.outcomes.append("truncated")
                continue
            out += self.record(rec)
        return out


# --- self-test ----------------------------------------------------------------------

def self_test():
    assert crc32c(b"123456789") == 0xE3069283
    assert crc32c(b"6789", crc32c(b"12345")) == 0xE3069283
    for data, enc in [(b"", b"\x01"), (b"\x00", b"\x01\x01"), (b"\x00\x00", b"\x01\x01\x01"),
                      (b"\x11\x22\x00\x33", b"\x03\x11\x22\x02\x33"), (b"\x11\x00\x00\x00", b"\x02\x11\x01\x01\x01"),
                      (bytes(range(1, 255)), b"\xff" + bytes(range(1, 255))),
                      (bytes(range(0, 255)), b"\x01\xff" + bytes(range(1, 255))),
                      (bytes(range(1, 256)), b"\xff" + bytes(range(1, 255)) + b"\x02\xff"),
                      (bytes(range(2, 256)) + b"\x00", b"\xff" + bytes(range(2, 256)) + b"\x01\x01")]:
        assert cobs_encode(data) == enc, (data.hex(), cobs_encode(data).hex())
        assert cobs_decode(enc) == data
    assert cobs_decode(b"\xff" + bytes(range(1, 255)) + b"\x01") == bytes(range(1, 255))
    rec = build_record("0011223344556677", 1, 5, [(1, 812), (2, 2153), (3, 4520), (4, 1)])
    drop, f = parse_record(rec)
    assert drop is None and f["readings"][1]["value"] == 2153 and len(rec) == 34
    d = Decoder()
    got = d.feed(b"\x00" + wire(rec) + wire(rec))
    assert len(got) == 1 and d.counters["duplicate"] == 1
    assert to_json(f) == '{"node":"0011223344556677","epoch":1,"seq":5,"co2_ppm":812,"temperature_c":21.53,' \
        '"humidity_pct":45.2,"motion":1}', to_json(f)
    assert fixed(-5, 2) == "-0.05" and fixed(2100, 2) == "21" and fixed(3300, 3) == "3.3"
    assert to_senml(f, 1700000000123).startswith(
        '[{"bn":"urn:dev:mac:0011223344556677:","bver":26,"bt":1700000000.123,"n":"co2","u":"ppm","v":812},')
    print("reference.py: self-test passed; example record", rec.hex())


if __name__ == "__main__":
    if sys.argv[1:] == ["--self-test"]:
        self_test()
    else:
        print(__doc__.strip())
