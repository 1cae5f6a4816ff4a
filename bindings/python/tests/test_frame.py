"""sbprov.frame: the vectors of tests/frame/vectors.json (made by the
independent Python reference tests/frame/reference.py) through the stream
and datagram decoders, Frame.parse and the encoder; random round trips in
random chunks with exact decimals; bad arguments; large inputs; threads."""

from __future__ import annotations

import array
import gc
import inspect
import json
import pickle
import random
import sys
import threading
import time
from decimal import Decimal
from fractions import Fraction

import pytest

import sbprov
from sbprov import frame
from sbprov.frame import COUNTERS, KINDS, Decoder, Frame

from conftest import _source_dir

BY_KIND = {k.kind: k for k in KINDS.values()}


@pytest.fixture(scope="module")
def vectors() -> dict:
    source = _source_dir()
    if source is None:
        pytest.fail("the repository is unknown: set SBPROV_SOURCE_DIR (bindings/python/test.sh does)")
    with open(source / "tests" / "frame" / "vectors.json", encoding="utf-8") as f:
        return json.load(f)


def all_counters(**nonzero: int) -> dict:
    out = {name: 0 for name in COUNTERS}
    out.update(nonzero)
    return out


def chunks(data: bytes, rng: random.Random, largest: int = 300):
    pos = 0
    while pos < len(data):
        n = rng.randint(1, largest)
        yield data[pos:pos + n]
        pos += n


def vector_readings(fields: dict) -> dict:
    """The vector's known readings as {name: value in its unit (exact) or None}."""
    out = {}
    for r in fields["readings"]:
        if "raw" in r:
            continue
        k = BY_KIND[r["kind"]]
        out[k.name] = (r["value"] / 10 ** k.decimals if k.decimals else r["value"]) if r["valid"] else None
    return out


def check_frame(f: Frame, vec: dict, senml_time: int) -> None:
    fields = vec["fields"]
    assert f.record == bytes.fromhex(vec["record"])
    assert f.version == fields["version"]
    assert f.type == {1: "readings", 2: "hello"}[fields["type"]]
    assert f.flags == fields["flags"]
    assert f.node == fields["node"]
    assert f.node_id == int(fields["node"], 16)
    assert f.epoch == fields["epoch"]
    assert f.seq == fields["seq"]
    assert f.time_ms == fields["time_ms"]
    assert f.readings == vector_readings(fields)
    assert list(f.readings) == [BY_KIND[r["kind"]].name for r in fields["readings"] if "raw" not in r]
    assert f.raw_readings == {BY_KIND[r["kind"]].name: r["value"] for r in fields["readings"] if "raw" not in r}
    assert f.unknown_kinds == vec["unknown_kinds"]
    assert f.out_of_range == vec["out_of_range"]
    assert f.to_json() == vec["json"]
    assert f.to_senml() == vec["senml"]
    assert f.to_senml(None) == vec["senml"]
    assert f.to_senml(senml_time) == vec["senml_at"]


# ---------------------------------------------------------------------------
# The reading table
# ---------------------------------------------------------------------------

def test_kinds_match_the_vectors(vectors):
    assert [(k.kind, k.name, k.length, k.min, k.max) for k in KINDS.values()] == \
        [(k["kind"], k["name"], k["length"], k["min"], k["max"]) for k in vectors["kinds"]]
    assert {k.name: k.decimals for k in KINDS.values() if k.decimals} == {"temperature_c": 2, "humidity_pct": 2}
    assert frame.FRAME_MAX == 254 and frame.WIRE_MAX == 256 and frame.VERSION == 1
    assert frame.NODE_TABLE_DEFAULT == 256 and frame.NODE_TABLE_MAX == 65536
    assert COUNTERS == ("frames", "crc", "too_long", "truncated", "bad_version", "bad_length", "unknown_type",
                        "duplicate", "gaps", "reboots", "unknown_kinds", "out_of_range")
    with pytest.raises(TypeError):
        KINDS["x"] = None  # read-only


# ---------------------------------------------------------------------------
# Valid records
# ---------------------------------------------------------------------------

def test_records_on_a_stream(vectors):
    for vec in vectors["records"]:
        with Decoder() as dec:
            frames = dec.feed(bytes.fromhex(vec["wire"]))
            assert len(frames) == 1, vec["name"]
            check_frame(frames[0], vec, vectors["senml_unix_time_ms"])
            assert frames[0].seq_status == "first" and frames[0].missed == 0
            assert dec.counters == all_counters(frames=1, unknown_kinds=vec["unknown_kinds"],
                                                out_of_range=vec["out_of_range"]), vec["name"]
            assert dec.last_outcome is None


def test_records_byte_by_byte_and_in_random_chunks(vectors):
    rng = random.Random(7)
    for vec in vectors["records"]:
        wire = bytes.fromhex(vec["wire"])
        for split in ([wire[i:i + 1] for i in range(len(wire))], list(chunks(wire, rng, 40))):
            dec = Decoder()
            frames = [f for part in split for f in dec.feed(part)]
            assert len(frames) == 1, vec["name"]
            check_frame(frames[0], vec, vectors["senml_unix_time_ms"])


def test_records_as_datagrams(vectors):
    for vec in vectors["records"]:
        dec = Decoder()
        record = bytes.fromhex(vec["record"])
        f = dec.decode_record(record)
        assert dec.last_outcome == "accepted"
        assert f is not None, vec["name"]
        check_frame(f, vec, vectors["senml_unix_time_ms"])
        assert f.seq_status == "first"
        # the same record again is a duplicate
        assert dec.decode_record(bytearray(record)) is None
        assert dec.last_outcome == "duplicate"
        assert dec.counters == all_counters(frames=1, duplicate=1, unknown_kinds=vec["unknown_kinds"],
                                            out_of_range=vec["out_of_range"])


def test_records_parsed_on_their_own(vectors):
    for vec in vectors["records"]:
        record = bytes.fromhex(vec["record"])
        for form in (record, bytearray(record), memoryview(record)):
            f = Frame.parse(form)
            check_frame(f, vec, vectors["senml_unix_time_ms"])
            assert f.seq_status == "first" and f.missed == 0
            assert isinstance(f.record, bytes)


def test_stream_of_every_record(vectors):
    """Every vector record in one stream; the node table decides which are
    duplicates, exactly as the datagram path does for the same records."""
    wire = b"".join(bytes.fromhex(v["wire"]) for v in vectors["records"])
    by_datagram = Decoder()
    expected = [by_datagram.decode_record(bytes.fromhex(v["record"])) for v in vectors["records"]]
    expected = [f for f in expected if f is not None]
    rng = random.Random(11)
    for largest in (1, 5, 64, 1000, len(wire)):
        dec = Decoder()
        got = [f for part in chunks(wire, rng, largest) for f in dec.feed(part)]
        assert got == expected
        assert dec.counters == by_datagram.counters


# ---------------------------------------------------------------------------
# Malformed input
# ---------------------------------------------------------------------------

def test_malformed_inputs_raise_exactly_their_counter(vectors):
    for vec in vectors["malformed"]:
        counter = vec["counter"]
        expected = all_counters(**{counter: 1})
        dec = Decoder()
        assert dec.feed(bytes.fromhex(vec["wire"])) == [], vec["name"]
        assert dec.counters == expected, vec["name"]
        if vec["input"] == "record":
            record = bytes.fromhex(vec["record"])
            dec = Decoder()
            assert dec.decode_record(record) is None
            assert dec.last_outcome == counter, vec["name"]
            assert dec.counters == expected, vec["name"]
            with pytest.raises(sbprov.ParseError) as info:
                Frame.parse(record)
            assert info.value.reason == counter, vec["name"]
            assert info.value.code == sbprov.EPARSE
            assert counter in info.value.message and f"{len(record)} bytes" in info.value.message
            assert isinstance(info.value, ValueError)


def test_empty_and_tiny_datagrams():
    dec = Decoder()
    assert dec.decode_record(b"") is None and dec.last_outcome == "truncated"
    assert dec.decode_record(bytearray()) is None and dec.last_outcome == "truncated"
    assert dec.counters["truncated"] == 2
    with pytest.raises(sbprov.ParseError) as info:
        Frame.parse(b"")
    assert info.value.reason == "truncated"
    assert dec.feed(b"") == [] and dec.feed(b"\x00\x00\x00") == []
    assert dec.counters == all_counters(truncated=2)


# ---------------------------------------------------------------------------
# Streams and sequences
# ---------------------------------------------------------------------------

def test_streams(vectors):
    rng = random.Random(3)
    for vec in vectors["streams"]:
        wire = bytes.fromhex(vec["wire"])
        for largest in (None, 1, 7, 64, 300):
            dec = Decoder()
            parts = [wire] if largest is None else list(chunks(wire, rng, largest))
            frames = [f for part in parts for f in dec.feed(part)]
            assert [f.record.hex() for f in frames] == vec["records"], vec["name"]
            assert dec.counters == all_counters(**vec["counters"]), vec["name"]


def test_sequences(vectors):
    for vec in vectors["sequences"]:
        for stream in (False, True):
            dec = Decoder(node_table_size=vec["node_table_size"])
            assert dec.node_table_size == vec["node_table_size"]
            for i, step in enumerate(vec["steps"]):
                record = bytes.fromhex(step["record"])
                where = (vec["name"], i, stream)
                if stream:
                    frames = dec.feed(frame.cobs_encode(record))
                    f = frames[0] if frames else None
                    assert len(frames) <= 1
                else:
                    f = dec.decode_record(record)
                    assert dec.last_outcome == step["expect"], where
                if step["expect"] == "accepted":
                    assert f is not None, where
                    assert (f.seq_status, f.missed) == (step["seq_status"], step["missed"]), where
                    assert f.record == record
                else:
                    assert f is None, where
            assert dec.counters == all_counters(**vec["counters"]), vec["name"]


# ---------------------------------------------------------------------------
# Encoder
# ---------------------------------------------------------------------------

def encodable(vec: dict) -> bool:
    fields = vec["fields"]
    return fields["flags"] in (0, 1) and all("raw" not in r and r["valid"] for r in fields["readings"])


def test_encode_reproduces_the_vector_records(vectors):
    done = 0
    for vec in vectors["records"]:
        if not encodable(vec):
            continue
        fields = vec["fields"]
        hello = fields["type"] == 2
        values = {BY_KIND[r["kind"]].name: r["value"] for r in fields["readings"]}
        # the same readings as floats, Decimals and Fractions in their units
        forms = [
            {n: (v / 10 ** KINDS[n].decimals if KINDS[n].decimals else v) for n, v in values.items()},
            {n: Decimal(v).scaleb(-KINDS[n].decimals) for n, v in values.items()},
            {n: Fraction(v, 10 ** KINDS[n].decimals) for n, v in values.items()},
        ]
        nodes = [fields["node"], fields["node"].upper(), bytes.fromhex(fields["node"]), int(fields["node"], 16)]
        for readings, node in zip(forms * 2, nodes + nodes[:2]):
            kwargs = dict(epoch=fields["epoch"], time_ms=fields["time_ms"], hello=hello)
            assert frame.encode(node, fields["seq"], readings, datagram=True, **kwargs).hex() == vec["record"], \
                vec["name"]
            assert frame.encode(node, fields["seq"], readings, **kwargs).hex() == vec["wire"], vec["name"]
        done += 1
    assert done >= 40


def test_encode_defaults_and_cobs():
    wire = frame.encode("0011223344556677", 5, {"co2_ppm": 812, "temperature_c": 21.53, "humidity_pct": 45.2,
                                                "motion": 1}, epoch=1)
    assert wire.hex() == "0301010109112233445566770102051401022c03020269080302a81104010137edf63100"
    record = frame.encode("0011223344556677", 0, {}, datagram=True)
    assert len(record) == 19 and record[:3] == b"\x01\x01\x00" and record[11:15] == b"\0\0\0\0"
    assert frame.cobs_encode(record) == frame.encode("0011223344556677", 0, {})
    assert frame.cobs_encode(b"") == b"\x01\x00"
    assert frame.cobs_encode(bytearray(b"\x00")) == b"\x01\x01\x00"
    assert frame.cobs_encode(b"\x11" * 254) == b"\xff" + b"\x11" * 254 + b"\x00"
    hello = Frame.parse(frame.encode(1, 0, {"battery_mv": 3300}, hello=True, time_ms=0, datagram=True))
    assert hello.type == "hello" and hello.time_ms == 0
    assert hello.to_json() == '{"node":"0000000000000001","epoch":0,"seq":0,"time_ms":0,"type":"hello",' \
                              '"battery_mv":3300}'
    # exact decimals: 0.1 + 0.2 is not 0.3, but 0.30 and Decimal("21.50") are fine
    f = Frame.parse(frame.encode(1, 0, {"temperature_c": Decimal("21.50"), "humidity_pct": 0.30},
                                 datagram=True))
    assert f.raw_readings == {"temperature_c": 2150, "humidity_pct": 30}
    assert f.readings == {"temperature_c": 21.5, "humidity_pct": 0.3}
    assert Frame.parse(frame.encode(1, 0, {"co2_ppm": 812.0, "motion": Decimal("1.000")},
                                    datagram=True)).raw_readings == {"co2_ppm": 812, "motion": 1}
    # every kind at its limits
    for k in KINDS.values():
        for v in (k.min, k.max):
            value = Fraction(v, 10 ** k.decimals)
            assert Frame.parse(frame.encode(1, 0, {k.name: value}, datagram=True)).raw_readings == {k.name: v}


@pytest.mark.parametrize("readings, text", [
    ({"co2": 1}, "unknown reading 'co2'"),
    ({"CO2_PPM": 1}, "unknown reading 'CO2_PPM'"),
    ({"co2_ppm\0": 1}, "unknown reading"),
    ({"temperature_c": 21.535}, "readings['temperature_c']: 21.535 has more than 2 decimals"),
    ({"temperature_c": Decimal("21.535")}, "more than 2 decimals"),
    ({"humidity_pct": Fraction(1, 3)}, "more than 2 decimals"),
    ({"humidity_pct": 0.1 + 0.2}, "more than 2 decimals"),
    ({"co2_ppm": 812.5}, "readings['co2_ppm']: 812.5 is not a whole number"),
    ({"co2_ppm": 40001}, "readings['co2_ppm']: 40001 is out of range (0 to 40000)"),
    ({"co2_ppm": -1}, "readings['co2_ppm']: -1 is out of range"),
    ({"co2_ppm": 2**40}, "out of range"),
    ({"co2_ppm": 10**30}, "out of range"),
    ({"temperature_c": 125.01}, "readings['temperature_c']: 125.01 is out of range (-40.00 to 125.00)"),
    ({"temperature_c": -40.01}, "out of range"),
    ({"temperature_c": 1e300}, "out of range"),
    ({"temperature_c": Decimal("1E+999999")}, "out of range"),
    ({"humidity_pct": 100.01}, "readings['humidity_pct']: 100.01 is out of range (0.00 to 100.00)"),
    ({"motion": 256}, "readings['motion']: 256 is out of range (0 to 255)"),
    ({"pressure_pa": 29999}, "readings['pressure_pa']: 29999 is out of range (30000 to 110000)"),
    ({"battery_mv": 10001}, "out of range"),
    ({"motion": True}, "readings['motion']: True is a bool, not a number"),
    ({"co2_ppm": False}, "is a bool"),
    ({"temperature_c": float("nan")}, "not a finite number"),
    ({"temperature_c": float("inf")}, "not a finite number"),
    ({"temperature_c": Decimal("NaN")}, "not a finite number"),
])
def test_encode_refuses_bad_readings(readings, text):
    with pytest.raises(sbprov.InvalidInputError) as info:
        frame.encode("0011223344556677", 1, readings)
    assert text in info.value.message
    assert info.value.code == sbprov.EINVAL


@pytest.mark.parametrize("node, error, text", [
    ("001122334455667", sbprov.InvalidInputError, "not 16 hex digits"),
    ("00112233445566778", sbprov.InvalidInputError, "not 16 hex digits"),
    ("0x11223344556677", sbprov.InvalidInputError, "not 16 hex digits"),
    ("zz11223344556677", sbprov.InvalidInputError, "not 16 hex digits"),
    (" 011223344556677", sbprov.InvalidInputError, "not 16 hex digits"),
    ("0011223344556677\n", sbprov.InvalidInputError, "not 16 hex digits"),
    ("00:11:22:33:44:55:66:77", sbprov.InvalidInputError, "not 16 hex digits"),
    ("0011_22334455667", sbprov.InvalidInputError, "not 16 hex digits"),
    ("", sbprov.InvalidInputError, "not 16 hex digits"),
    ("００11223344556677", sbprov.InvalidInputError, "not 16 hex digits"),
    (b"\x00" * 7, sbprov.InvalidInputError, "7 bytes, expected 8"),
    (bytearray(9), sbprov.InvalidInputError, "9 bytes, expected 8"),
    (-1, sbprov.InvalidInputError, "not a 64-bit node ID"),
    (2**64, sbprov.InvalidInputError, "not a 64-bit node ID"),
    (1.0, TypeError, "node: expected"),
    (True, TypeError, "node: expected"),
    (None, TypeError, "node: expected"),
])
def test_encode_refuses_bad_nodes(node, error, text):
    with pytest.raises(error) as info:
        frame.encode(node, 1, {})
    assert text in str(info.value)


def test_encode_refuses_bad_arguments():
    node = "0011223344556677"
    for kwargs, error, text in [
        (dict(seq=-1), sbprov.InvalidInputError, "seq: -1 is out of range (0 to 65535)"),
        (dict(seq=65536), sbprov.InvalidInputError, "seq: 65536 is out of range"),
        (dict(seq=1.0), TypeError, "seq: expected int"),
        (dict(seq=True), TypeError, "seq: expected int"),
        (dict(seq="1"), TypeError, "seq: expected int"),
        (dict(epoch=70000), sbprov.InvalidInputError, "epoch: 70000 is out of range"),
        (dict(time_ms=-1), sbprov.InvalidInputError, "time_ms: -1 is out of range"),
        (dict(time_ms=2**32), sbprov.InvalidInputError, "time_ms"),
        (dict(time_ms=1.5), TypeError, "time_ms: expected int"),
        (dict(readings=[("co2_ppm", 1)]), TypeError, "readings: expected a mapping"),
        (dict(readings={1: 5}), TypeError, "readings: names must be str"),
        (dict(readings={"co2_ppm": "812"}), TypeError, "readings['co2_ppm']: expected a number"),
        (dict(readings={"co2_ppm": None}), TypeError, "readings['co2_ppm']: expected a number"),
        (dict(readings={"co2_ppm": 1j}), TypeError, "expected a number"),
    ]:
        args = dict(seq=1, readings={}, epoch=0, time_ms=None)
        args.update(kwargs)
        with pytest.raises(error) as info:
            frame.encode(node, args.pop("seq"), args.pop("readings"), **args)
        assert text in str(info.value), kwargs
    assert frame.encode(node, 65535, {}, epoch=65535, time_ms=2**32 - 1, datagram=True)
    with pytest.raises(TypeError):
        frame.encode(node, 1, {}, 0)  # epoch is keyword-only
    with pytest.raises(TypeError):
        frame.cobs_encode("text")


# ---------------------------------------------------------------------------
# Random round trips
# ---------------------------------------------------------------------------

def random_value(rng: random.Random, k) -> object:
    v = rng.randint(k.min, k.max)
    if k.decimals:
        text = str(Decimal(v).scaleb(-k.decimals))
        return rng.choice([float(text), Decimal(text), Fraction(v, 10 ** k.decimals)])
    return rng.choice([v, float(v), Decimal(v)])


def exact(value: object) -> Decimal:
    """The exact decimal value of an int, float (its repr), Decimal or Fraction."""
    if isinstance(value, Fraction):
        return Decimal(value.numerator) / Decimal(value.denominator)
    return Decimal(repr(value)) if isinstance(value, float) else Decimal(value)


@pytest.mark.parametrize("seed", range(5))
def test_random_round_trips(seed):
    rng = random.Random(seed)
    sent = []
    wire = bytearray()
    nodes = [rng.getrandbits(64) for _ in range(5)]
    seqs = {n: rng.randint(0, 65535) for n in nodes}
    for _ in range(600):
        node = rng.choice(nodes)
        seqs[node] = (seqs[node] + 1) % 65536
        kinds = rng.sample(list(KINDS.values()), rng.randint(0, len(KINDS)))
        readings = {k.name: random_value(rng, k) for k in kinds}
        time_ms = rng.choice([None, 0, rng.randint(0, 2**32 - 1)])
        hello = rng.random() < 0.1
        node_form = rng.choice([f"{node:016x}", node.to_bytes(8, "big"), node])
        wire += frame.encode(node_form, seqs[node], readings, epoch=7, time_ms=time_ms, hello=hello)
        sent.append((node, seqs[node], readings, time_ms, hello))
    dec = Decoder()
    frames = [f for part in chunks(bytes(wire), rng, 500) for f in dec.feed(part)]
    assert len(frames) == len(sent)
    for f, (node, seq, readings, time_ms, hello) in zip(frames, sent):
        assert (f.node_id, f.node, f.seq, f.epoch, f.time_ms) == (node, f"{node:016x}", seq, 7, time_ms)
        assert f.type == ("hello" if hello else "readings")
        # exact: the float of the decimal text, and the JSON's decimal text itself
        assert f.readings == {n: (float(exact(v)) if KINDS[n].decimals else int(v)) for n, v in readings.items()}
        rendered = json.loads(f.to_json(), parse_float=Decimal)
        for name, value in readings.items():
            assert Decimal(rendered[name]) == exact(value), (name, value, f.to_json())
        assert f.seq_status in ("first", "next")
        assert Frame.parse(f.record).readings == f.readings
    assert dec.counters == all_counters(frames=len(sent))


# ---------------------------------------------------------------------------
# The Decoder and Frame objects
# ---------------------------------------------------------------------------

def test_decoder_arguments_and_lifecycle():
    record = frame.encode(1, 1, {"co2_ppm": 500}, datagram=True)
    wire = frame.cobs_encode(record)
    for node_table_size, error, text in [(0, sbprov.InvalidInputError, "node_table_size 0 is not within 1..65536"),
                                         (65537, sbprov.InvalidInputError, "65537"),
                                         (-1, sbprov.InvalidInputError, "node_table_size"),
                                         (1.5, TypeError, "node_table_size: expected int"),
                                         (True, TypeError, "node_table_size: expected int")]:
        with pytest.raises(error) as info:
            Decoder(node_table_size)
        assert text in str(info.value)
    assert Decoder(1).node_table_size == 1 and Decoder(65536).node_table_size == 65536
    dec = Decoder()
    assert "open" in repr(dec) and not dec.closed
    with pytest.raises(TypeError, match="data: expected a bytes-like object, not str"):
        dec.feed("text")
    with pytest.raises(TypeError, match="not int"):
        dec.feed(5)
    with pytest.raises(TypeError, match="datagram: expected a bytes-like object"):
        dec.decode_record("text")
    # any bytes-like object, contiguous or not
    assert len(dec.feed(memoryview(bytearray(wire)))) == 1
    dec2 = Decoder()
    assert len(dec2.feed(array.array("B", wire))) == 1
    dec3 = Decoder()
    doubled = bytes(b for c in wire for b in (c, 0xEE))
    assert len(dec3.feed(memoryview(doubled)[::2])) == 1
    padded = wire + b"\x00"  # an even length for an array of uint16
    dec4 = Decoder()
    assert len(dec4.feed(array.array("H", padded))) == 1
    with pytest.raises(TypeError):
        pickle.dumps(dec)
    dec.close()
    dec.close()
    assert dec.closed and "closed" in repr(dec)
    for call in (lambda: dec.feed(wire), lambda: dec.decode_record(record), lambda: dec.counters):
        with pytest.raises(sbprov.InvalidInputError, match="used after close"):
            call()
    with Decoder() as d:
        assert d.feed(wire)[0].readings == {"co2_ppm": 500}
    assert d.closed


def test_bytearray_can_grow_after_feed():
    buf = bytearray(frame.encode(1, 1, {"co2_ppm": 500}))
    dec = Decoder()
    dec.feed(buf)
    buf += b"more"  # the decoder released its view of the buffer
    dec.decode_record(buf)


def test_frame_value_semantics():
    record = frame.encode("0011223344556677", 9, {"temperature_c": -0.05, "co2_ppm": 812}, epoch=3,
                          time_ms=1000, datagram=True)
    f = Frame.parse(record)
    g = Frame.parse(bytearray(record))
    assert f == g and hash(f) == hash(g) and f is not g
    assert f != record and f != Frame.parse(frame.encode(1, 9, {}, datagram=True))
    dec = Decoder()
    dec.decode_record(frame.encode("0011223344556677", 7, {}, epoch=3, datagram=True))
    gap = dec.decode_record(record)
    assert gap.seq_status == "gap" and gap.missed == 1 and gap != f and gap.record == f.record
    for x in (f, gap):
        y = pickle.loads(pickle.dumps(x))
        assert y == x and y.readings == x.readings and y.missed == x.missed
    assert len({f, g, gap}) == 2
    text = repr(f)
    assert "node='0011223344556677'" in text and "seq=9" in text and "time_ms=1000" in text
    assert "'temperature_c': -0.05" in text
    with pytest.raises(AttributeError):
        f.seq = 5
    with pytest.raises(AttributeError):
        f.anything = 5
    f.readings["co2_ppm"] = 0  # a copy: the frame is unchanged
    assert f.readings["co2_ppm"] == 812
    with pytest.raises(TypeError, match="Frame.parse"):
        Frame(record)
    with pytest.raises(TypeError):
        Frame.parse("text")
    for bad, error in [(1, sbprov.InvalidInputError), (-1, sbprov.InvalidInputError),
                       (frame.SENML_MIN_TIME_MS - 1, sbprov.InvalidInputError),
                       (frame.SENML_MAX_TIME_MS + 1, sbprov.InvalidInputError),
                       (2**70, sbprov.InvalidInputError), (1.5, TypeError), (True, TypeError), ("0", TypeError)]:
        with pytest.raises(error):
            f.to_senml(bad)
    assert f.to_senml(0) == f.to_senml()
    assert '"bt":268435456,' in f.to_senml(frame.SENML_MIN_TIME_MS)
    assert '"bt":253402300799.999,' in f.to_senml(frame.SENML_MAX_TIME_MS)


def test_out_of_range_readings(vectors):
    vec = next(v for v in vectors["records"] if v["name"] == "out of range: battery 10001 and CO2 50000")
    f = Frame.parse(bytes.fromhex(vec["record"]))
    assert f.readings == {"battery_mv": None, "co2_ppm": None}
    assert f.raw_readings == {"battery_mv": 10001, "co2_ppm": 50000}
    assert f.out_of_range == 2
    assert f.to_senml() == "[]"


def test_large_input():
    """About 1.4 MB of records in one call and in chunks: no per-byte Python loop."""
    records = [frame.encode("a1b2c3d4e5f60718", i % 65536, {"co2_ppm": 400 + i % 1000, "temperature_c": 21.53,
                                                            "humidity_pct": 45.2}, epoch=1 + i // 65536,
                            time_ms=i * 1000)
               for i in range(40000)]
    wire = b"".join(records)
    assert len(wire) > 1_000_000
    dec = Decoder()
    start = time.perf_counter()
    frames = dec.feed(wire)
    elapsed = time.perf_counter() - start
    assert len(frames) == 40000 and dec.counters["frames"] == 40000
    assert [f.seq for f in frames[:3]] == [0, 1, 2] and frames[-1].readings["co2_ppm"] == 400 + 39999 % 1000
    assert elapsed < 30, elapsed  # ~0.1 s natively; generous for valgrind and slow machines
    dec = Decoder()
    n = 0
    for i in range(0, len(wire), 4096):
        n += len(dec.feed(memoryview(wire)[i:i + 4096]))
    assert n == 40000 and dec.counters == all_counters(frames=40000, reboots=0)
    # noise in between: every record is still found
    noisy = b"".join(r + b"\xff" * 300 + b"\x00" for r in records[:2000])
    dec = Decoder()
    assert len(dec.feed(noisy)) == 2000 and dec.counters["too_long"] == 2000


# ---------------------------------------------------------------------------
# Threads
# ---------------------------------------------------------------------------

@pytest.fixture
def fast_switching():
    old = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    yield
    sys.setswitchinterval(old)


def run_threads(n, target):
    barrier = threading.Barrier(n)
    failures = []

    def wrapper(t):
        try:
            barrier.wait()
            target(t)
        except BaseException as e:
            failures.append((t, repr(e)))

    threads = [threading.Thread(target=wrapper, args=(t,)) for t in range(n)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert not failures, failures[:5]


def test_shared_decoder_under_threads(fast_switching):
    threads, rounds = 8, 200
    dec = Decoder()
    got = [[] for _ in range(threads)]

    def work(t):
        for i in range(rounds):
            batch = b"".join(frame.encode(t + 1, (3 * i + j) % 65536, {"co2_ppm": i}) for j in range(3))
            if t % 2:
                got[t].extend(dec.feed(batch))
            else:
                got[t].extend(dec.decode_record(frame.encode(t + 1, (3 * i + j) % 65536, {"co2_ppm": i},
                                                             datagram=True)) for j in range(3))
            assert dec.counters["crc"] == 0

    run_threads(threads, work)
    for t in range(threads):
        assert [f.seq for f in got[t]] == list(range(3 * rounds)), t
        assert all(f.node_id == t + 1 for f in got[t])
    assert dec.counters == all_counters(frames=threads * rounds * 3)


def test_close_while_other_threads_feed(fast_switching):
    wire = b"".join(frame.encode(1, i, {"motion": 1}) for i in range(200))
    for _ in range(5):
        dec = Decoder()
        outcomes = []

        def work(t):
            if t == 0:
                time.sleep(0.001)
                dec.close()
                return
            try:
                for i in range(0, len(wire), 50):
                    dec.feed(wire[i:i + 50])
                outcomes.append("done")
            except sbprov.InvalidInputError:
                outcomes.append("closed")

        run_threads(4, work)
        assert len(outcomes) == 3 and dec.closed
    gc.collect()


def test_decoders_in_parallel(fast_switching):
    wire = b"".join(frame.encode(5, i, {"co2_ppm": i % 40000, "temperature_c": 20}) for i in range(2000))

    def work(t):
        dec = Decoder(node_table_size=1 + t)
        rng = random.Random(t)
        frames = [f for part in chunks(wire, rng, 97) for f in dec.feed(part)]
        assert len(frames) == 2000 and frames[-1].seq == 1999
        assert frames[5].to_json() == '{"node":"0000000000000005","epoch":0,"seq":5,"co2_ppm":5,"temperature_c":20}'

    run_threads(6, work)


# ---------------------------------------------------------------------------
# Package
# ---------------------------------------------------------------------------

def test_public_api_has_docstrings():
    from sbprov import air
    assert sbprov.frame is frame and "frame" in sbprov.__all__ and "air" in sbprov.__all__
    missing = []
    for module in (frame, air):
        assert module.__doc__
        for name in module.__all__:
            obj = getattr(module, name)
            if inspect.isfunction(obj) or inspect.isclass(obj):
                if not (obj.__doc__ or "").strip():
                    missing.append(f"{module.__name__}.{name}")
                if inspect.isclass(obj):
                    for attr, member in vars(obj).items():
                        if attr.startswith("_"):
                            continue
                        if (inspect.isfunction(member) or isinstance(member, (property, classmethod))) \
                                and not (getattr(member, "__doc__", None) or "").strip():
                            missing.append(f"{module.__name__}.{name}.{attr}")
    assert not missing, missing
    sig = inspect.signature(frame.encode)
    assert list(sig.parameters) == ["node", "seq", "readings", "epoch", "time_ms", "hello", "datagram"]
    assert all(sig.parameters[p].kind is inspect.Parameter.KEYWORD_ONLY
               for p in ("epoch", "time_ms", "hello", "datagram"))
