"""Sensor frames (libsbprov ``sbprov/frame_encode.h`` and ``sbprov/frame.h``;
the wire format is docs/frame-format.md): how a room's microcontroller sends
readings to the gateway, over a byte stream (UART, a pty: COBS records
separated by 0x00) or as UDP datagrams (one record each).

* :func:`encode` builds a record with the C encoder the microcontrollers use
  (for tests, tools and simulated nodes), from readings given in their units:
  ``{"co2_ppm": 812, "temperature_c": 21.53}``.
* :class:`Decoder` is the gateway's decoder: :meth:`Decoder.feed` takes stream
  bytes in chunks of any size, :meth:`Decoder.decode_record` one datagram;
  both check every record (COBS, length, CRC-32C, version, type, readings),
  track sequence numbers per node and count every drop by reason
  (:attr:`Decoder.counters`).
* :class:`Frame` is an accepted record: its fields, its readings in their
  units, and its renderings as the flat JSON of IoT Hub telemetry and as
  SenML, both made by the C library byte for byte.

>>> from sbprov import frame                                          # doctest: +SKIP
>>> wire = frame.encode("0011223344556677", 5, {"co2_ppm": 812, "temperature_c": 21.53},
...                     epoch=1)                                      # doctest: +SKIP
>>> with frame.Decoder() as dec:                                      # doctest: +SKIP
...     for f in dec.feed(wire):
...         print(f.node, f.seq, f.readings, f.to_json())
0011223344556677 5 {'co2_ppm': 812, 'temperature_c': 21.53} {"node":"0011223344556677",...}

Fixed-point readings are exact both ways: temperature and humidity travel as
hundredths, so :func:`encode` turns ``21.53`` into 2153 through its decimal
text (never through binary floating point) and refuses ``21.535``;
:attr:`Frame.readings` gives ``2153 / 100``, the float whose ``repr`` is
``21.53``, and :attr:`Frame.raw_readings` the integers as sent.

Errors: bad arguments raise :class:`sbprov.InvalidInputError` (a
``ValueError``) naming the argument or reading, or ``TypeError`` for a wrong
type; a record :meth:`Frame.parse` refuses raises :class:`sbprov.ParseError`
whose ``reason`` is the drop counter it would raise in a decoder ("crc",
"truncated", ...).
"""

from __future__ import annotations

import dataclasses
import decimal
import fractions
import math
import numbers
import operator
import re
import struct
import threading
import types
from collections.abc import Mapping
from typing import Dict, List, Optional, Tuple, Union

from . import _sbprov_swig as _swig
from ._errors import InvalidInputError, Result
from ._handle import _KeyedHandle

__all__ = [
    "VERSION",
    "FRAME_MAX",
    "WIRE_MAX",
    "NODE_TABLE_DEFAULT",
    "NODE_TABLE_MAX",
    "SENML_MIN_TIME_MS",
    "SENML_MAX_TIME_MS",
    "KINDS",
    "COUNTERS",
    "Kind",
    "encode",
    "cobs_encode",
    "Frame",
    "Decoder",
]

BytesLike = Union[bytes, bytearray, memoryview]
NodeLike = Union[str, bytes, bytearray, memoryview, int]
Number = Union[int, float, decimal.Decimal, fractions.Fraction]

#: Format version written in byte 0 of every record.
VERSION: int = _swig.SBPROV_FRAME_VERSION
#: Largest record in bytes, CRC included (254).
FRAME_MAX: int = _swig.SBPROV_FRAME_MAX
#: Largest record on a byte stream, COBS overhead and delimiter included (256).
WIRE_MAX: int = _swig.SBPROV_FRAME_WIRE_MAX
#: Nodes a :class:`Decoder` tracks by default.
NODE_TABLE_DEFAULT: int = _swig.SBPROV_FRAME_NODE_TABLE_DEFAULT
#: Largest node table of a :class:`Decoder`.
NODE_TABLE_MAX: int = _swig.SBPROV_FRAME_NODE_TABLE_MAX
#: Smallest receive time :meth:`Frame.to_senml` accepts (2**28 s, in ms).
SENML_MIN_TIME_MS: int = _swig.SBPROV_FRAME_SENML_MIN_TIME_MS
#: Largest receive time :meth:`Frame.to_senml` accepts (9999-12-31T23:59:59.999Z, in ms).
SENML_MAX_TIME_MS: int = _swig.SBPROV_FRAME_SENML_MAX_TIME_MS

#: The decoder's counters, in ``sbprov_frame_counters`` order: accepted
#: records (``frames``), one counter per drop reason (``crc`` .. ``duplicate``),
#: then ``gaps`` (records missing), ``reboots``, and the ``unknown_kinds``
#: and ``out_of_range`` readings of accepted records.
COUNTERS: Tuple[str, ...] = ("frames", "crc", "too_long", "truncated", "bad_version", "bad_length",
                             "unknown_type", "duplicate", "gaps", "reboots", "unknown_kinds", "out_of_range")

_INT32_MIN, _INT32_MAX = -2**31, 2**31 - 1
_UINT32_MAX = 2**32 - 1


@dataclasses.dataclass(frozen=True)
class Kind:
    """A reading kind of format version 1 (``sbprov_frame_kind_info``).

    Attributes:
        kind: the kind byte (1..8).
        name: its JSON name, e.g. ``"temperature_c"``.
        length: value length on the wire, in bytes (1, 2 or 4).
        min: smallest valid value, in the wire unit (hundredths for
            temperature and humidity).
        max: largest valid value, in the wire unit.
        decimals: decimal places of the wire unit (2 for hundredths, else 0).
    """

    kind: int
    name: str
    length: int
    min: int
    max: int
    decimals: int

    def __str__(self) -> str:
        return self.name


def _load_kinds() -> Dict[str, Kind]:
    kinds = {}
    for kind in range(1, _swig.SBPROV_FRAME_KIND_LAST + 1):
        known, length, low, high = _swig.sbprov_py_frame_kind_info(kind)
        name = _swig.sbprov_frame_kind_name(kind)
        if known and name is not None:
            kinds[name] = Kind(kind, name, length, low, high, int(_swig.sbprov_frame_kind_decimals(kind)))
    return kinds


#: The reading kinds the C library knows, by JSON name, in kind order
#: (``co2_ppm``, ``temperature_c``, ``humidity_pct``, ``motion``, ``voc_ppb``,
#: ``pressure_pa``, ``illuminance_lux``, ``battery_mv``).
KINDS: Mapping = types.MappingProxyType(_load_kinds())
_BY_KIND: Dict[int, Kind] = {k.kind: k for k in KINDS.values()}

_SEQ_STATUS = {code: _swig.sbprov_frame_seq_status_name(code)
               for code in (_swig.SBPROV_FRAME_SEQ_FIRST, _swig.SBPROV_FRAME_SEQ_NEXT, _swig.SBPROV_FRAME_SEQ_GAP,
                            _swig.SBPROV_FRAME_SEQ_REBOOT)}
_SEQ_STATUS_CODE = {name: code for code, name in _SEQ_STATUS.items()}
_OUTCOMES = {code: _swig.sbprov_frame_outcome_name(code) for code in range(0, 8)}
_ACCEPTED = _swig.SBPROV_FRAME_ACCEPTED
_TYPES = {_swig.SBPROV_FRAME_TYPE_READINGS: "readings", _swig.SBPROV_FRAME_TYPE_HELLO: "hello"}
_ENC_NAMES = {getattr(_swig, n): n[len("SBPROV_FRAME_ENC_"):] for n in dir(_swig) if n.startswith("SBPROV_FRAME_ENC_")}
_ENTRY = struct.Struct("<BBI")  # sbprov_py_frame_feed: record length, seq_status, missed
_PACKED = struct.Struct("<Bi")  # sbprov_py_frame_encode: kind, value
_HEX16 = re.compile(r"[0-9a-fA-F]{16}")


def _invalid(message: str) -> InvalidInputError:
    return InvalidInputError(Result.EINVAL, message)


# ---------------------------------------------------------------------------
# Argument conversion (shared with sbprov.air)
# ---------------------------------------------------------------------------

def _int_arg(value: object, what: str, low: Optional[int] = None, high: Optional[int] = None) -> int:
    """An int in low..high (None: unbounded); bool and float are refused (TypeError)."""
    if isinstance(value, (bool, float)):
        raise TypeError(f"{what}: expected int, not {type(value).__name__}")
    try:
        value = operator.index(value)
    except TypeError:
        raise TypeError(f"{what}: expected int, not {type(value).__name__}") from None
    if (low is not None and value < low) or (high is not None and value > high):
        raise _invalid(f"{what}: {value} is out of range ({low} to {high})")
    return value


def _node_id(node: object, what: str = "node") -> int:
    """A node ID as the 64-bit number of ``sbprov_frame.node_id``: from 16
    hex digits, 8 bytes (big-endian, in record order) or an int."""
    if isinstance(node, str):
        if _HEX16.fullmatch(node) is None:
            raise _invalid(f"{what}: {node!r} is not 16 hex digits")
        return int(node, 16)
    if isinstance(node, (bytes, bytearray, memoryview)):
        raw = bytes(node)
        if len(raw) != _swig.SBPROV_FRAME_NODE_SIZE:
            raise _invalid(f"{what}: {len(raw)} bytes, expected {_swig.SBPROV_FRAME_NODE_SIZE}")
        return int.from_bytes(raw, "big")
    if isinstance(node, bool) or not isinstance(node, numbers.Integral):
        raise TypeError(f"{what}: expected 16 hex digits (str), 8 bytes or an int, not {type(node).__name__}")
    value = operator.index(node)
    if not 0 <= value < 2**64:
        raise _invalid(f"{what}: {value} is not a 64-bit node ID (0 to 2**64 - 1)")
    return value


def _fixed_point(value: object, decimals: int, what: str) -> int:
    """``value`` in units of 10**-decimals, exactly: 21.53 with 2 decimals is
    2153 (floats through their shortest decimal text, ``repr``). A value with
    more decimals than that, NaN, infinity or a bool raises InvalidInputError;
    anything but a number TypeError."""
    if isinstance(value, bool):
        raise _invalid(f"{what}: {value!r} is a bool, not a number")
    scale = 10 ** decimals
    if isinstance(value, numbers.Integral):
        return operator.index(value) * scale
    exact = value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise _invalid(f"{what}: {value!r} is not a finite number")
        exact = decimal.Decimal(float.__repr__(float(value)))
    if isinstance(exact, decimal.Decimal):
        if not exact.is_finite():
            raise _invalid(f"{what}: {value!r} is not a finite number")
        sign, digits, exponent = exact.as_tuple()
        # Trailing zeros after the point do not count as decimals (21.50 is 2150).
        zeros = 0
        while zeros < -exponent and zeros < len(digits) - 1 and digits[-1 - zeros] == 0:
            zeros += 1
        if zeros:
            digits = digits[:-zeros]
            exponent += zeros
        if exponent < -decimals and any(digits):
            raise _too_many_decimals(value, decimals, what)
        if not any(digits):
            return 0
        if exponent + len(digits) > 20:  # far out of any range: do not build a huge int
            return -2**63 if sign else 2**63
        # Here exponent >= -decimals: the scaled value is a whole number.
        magnitude = int("".join(map(str, digits))) * 10 ** (exponent + decimals)
        return -magnitude if sign else magnitude
    if isinstance(value, numbers.Rational):
        scaled = fractions.Fraction(value.numerator, value.denominator) * scale
        if scaled.denominator != 1:
            raise _too_many_decimals(value, decimals, what)
        return scaled.numerator
    raise TypeError(f"{what}: expected a number (int, float, Decimal or Fraction), not {type(value).__name__}")


def _too_many_decimals(value: object, decimals: int, what: str) -> InvalidInputError:
    if decimals == 0:
        return _invalid(f"{what}: {value!r} is not a whole number")
    return _invalid(f"{what}: {value!r} has more than {decimals} decimals (the value is sent in units of "
                    f"{decimal.Decimal(1).scaleb(-decimals)})")


def _format_fixed(value: int, decimals: int) -> str:
    return str(value) if decimals == 0 else f"{decimal.Decimal(value).scaleb(-decimals):f}"


def _byte_view(data: object, what: str) -> memoryview:
    """A flat, contiguous memoryview of unsigned bytes of any bytes-like object."""
    if isinstance(data, str):
        raise TypeError(f"{what}: expected a bytes-like object, not str")
    try:
        view = memoryview(data)
    except TypeError:
        raise TypeError(f"{what}: expected a bytes-like object, not {type(data).__name__}") from None
    if not view.c_contiguous:
        view = memoryview(view.tobytes())
    if view.format != "B" or view.ndim != 1:
        view = view.cast("B")
    return view


# ---------------------------------------------------------------------------
# Encoder
# ---------------------------------------------------------------------------

def encode(node: NodeLike, seq: int, readings: Mapping, *, epoch: int = 0, time_ms: Optional[int] = None,
           hello: bool = False, datagram: bool = False) -> bytes:
    """Build one record with the C encoder of the microcontrollers.

    Args:
        node: the node's ID: 16 hex digits (``"0011223344556677"``), its 8
            bytes in record order, or an int (those bytes read big-endian,
            as :attr:`Frame.node_id`).
        seq: sequence number in the boot epoch, 0..65535.
        readings: a mapping of JSON reading names (see :data:`KINDS`) to
            values in their units, written in this order; e.g.
            ``{"co2_ppm": 812, "temperature_c": 21.53, "motion": 1}``.
            Temperature and humidity take up to 2 decimals, the others whole
            numbers; int, float (through its decimal text), ``Decimal`` and
            ``Fraction`` are exact.
        epoch: boot epoch, 0..65535.
        time_ms: milliseconds since the node's boot (0..2**32 - 1), or None
            for a record without a timestamp.
        hello: a hello record (sent once after boot) instead of readings.
        datagram: return the bare record (for UDP) instead of its COBS form.

    Returns:
        The COBS-encoded record followed by the 0x00 delimiter (at most
        :data:`WIRE_MAX` bytes), ready for a byte stream; or with
        ``datagram=True`` the record itself (19..254 bytes).

    Raises:
        sbprov.InvalidInputError: a bad node, seq, epoch or time, an unknown
            reading name, a value out of the kind's range, with more decimals
            than the kind has, or a bool; the message names the reading.
        TypeError: an argument of the wrong type.
    """
    node_raw = _node_id(node).to_bytes(8, "big")
    seq = _int_arg(seq, "seq", 0, 0xFFFF)
    epoch = _int_arg(epoch, "epoch", 0, 0xFFFF)
    if time_ms is not None:
        time_ms = _int_arg(time_ms, "time_ms", 0, _UINT32_MAX)
    if not isinstance(readings, Mapping):
        raise TypeError(f"readings: expected a mapping of reading names to numbers, not {type(readings).__name__}")
    kinds: List[Kind] = []
    packed = bytearray()
    for name, value in readings.items():
        if not isinstance(name, str):
            raise TypeError(f"readings: names must be str, not {type(name).__name__}")
        k = _BY_KIND.get(int(_swig.sbprov_frame_kind_from_name(name))) if "\0" not in name else None
        if k is None:
            raise _invalid(f"readings: unknown reading {name!r} (known: {', '.join(KINDS)})")
        what = f"readings[{name!r}]"
        scaled = _fixed_point(value, k.decimals, what)
        if not _INT32_MIN <= scaled <= _INT32_MAX:
            raise _out_of_range(value, k, what)
        kinds.append(k)
        packed += _PACKED.pack(k.kind, scaled)
    frame_type = _swig.SBPROV_FRAME_TYPE_HELLO if hello else _swig.SBPROV_FRAME_TYPE_READINGS
    result, failed, out = _swig.sbprov_py_frame_encode(frame_type, node_raw, epoch, seq, time_ms is not None,
                                                       time_ms or 0, bytes(packed), not datagram)
    if result == _swig.SBPROV_FRAME_ENC_OK:
        return out
    if failed >= 0:
        k = kinds[failed]
        what = f"readings[{k.name!r}]"
        if result == _swig.SBPROV_FRAME_ENC_ERANGE:
            raise _out_of_range(readings[k.name], k, what)
        raise _invalid(f"{what}: refused by the encoder ({_ENC_NAMES.get(result, result)})")
    step = {-1: "timestamp", -2: "header"}.get(failed, "node")
    raise _invalid(f"frame encoder: the {step} was refused ({_ENC_NAMES.get(result, result)})")


def _out_of_range(value: object, k: Kind, what: str) -> InvalidInputError:
    return _invalid(f"{what}: {value!r} is out of range ({_format_fixed(k.min, k.decimals)} to "
                    f"{_format_fixed(k.max, k.decimals)})")


def cobs_encode(data: BytesLike) -> bytes:
    """COBS-encode any bytes and append the 0x00 delimiter
    (``sbprov_cobs_encode``): the stream form of a record. :func:`encode`
    does this itself; this is for records built or damaged by hand."""
    with _byte_view(data, "data") as view:
        result, out = _swig.sbprov_py_cobs_encode(view)
    if result != _swig.SBPROV_FRAME_ENC_OK:
        raise MemoryError("cobs_encode: out of memory")
    return out


# ---------------------------------------------------------------------------
# Frames
# ---------------------------------------------------------------------------

class Frame:
    """An accepted record (``sbprov_frame``), immutable.

    Frames come from a :class:`Decoder` or from :meth:`Frame.parse`.

    Attributes:
        node: the node ID as 16 lower-case hex digits (as in the JSON).
        node_id: the same 8 bytes read big-endian, as an int.
        epoch: boot epoch.
        seq: sequence number.
        time_ms: milliseconds since the node's boot, or None without a timestamp.
        type: ``"readings"`` or ``"hello"``.
        readings: ``{name: value}`` of the known readings in record order:
            an int, a float for ``temperature_c`` and ``humidity_pct`` (the
            hundredths divided by 100: ``repr`` gives the exact decimal), or
            None for a value out of its range.
        raw_readings: the same as sent on the wire: ints, hundredths for
            temperature and humidity, out-of-range values included.
        unknown_kinds: readings of unknown kinds that were skipped.
        out_of_range: readings outside their range (None in ``readings``).
        seq_status: how it relates to the node's previous record:
            ``"first"``, ``"next"``, ``"gap"`` or ``"reboot"`` (always
            ``"first"`` from :meth:`parse`).
        missed: records missing before it (``"gap"``), else 0.
        record: the record bytes, CRC included.
        version, flags: the header's version (1) and flags bytes.

    Two frames are equal when their record bytes, ``seq_status`` and
    ``missed`` are; frames are hashable and can be pickled.
    """

    __slots__ = ("_record", "_info", "_seq_status", "_missed")

    def __init__(self, *args: object, **kwargs: object) -> None:
        raise TypeError("Frame objects come from Frame.parse(record) or a Decoder")

    @classmethod
    def _make(cls, record: bytes, seq_status: str, missed: int) -> "Frame":
        self = object.__new__(cls)
        self._info = _swig.sbprov_py_frame_parse(record)
        self._record = record
        self._seq_status = seq_status
        self._missed = missed
        return self

    @classmethod
    def parse(cls, record: BytesLike) -> "Frame":
        """Check and decode one record on its own, without COBS and without a
        decoder (``sbprov_frame_parse``): the decoder's checks, no sequence
        tracking (``seq_status`` is ``"first"``). For records kept to be used
        later, e.g. a telemetry queue.

        Raises:
            sbprov.ParseError: the record fails a check; its ``reason`` is the
                decoder counter it would raise (``"crc"``, ``"too_long"``,
                ``"truncated"``, ``"bad_version"``, ``"bad_length"``,
                ``"unknown_type"``).
            TypeError: ``record`` is not bytes-like.
        """
        with _byte_view(record, "record") as view:
            data = view.tobytes()
        return cls._make(data, "first", 0)

    # -- fields ---------------------------------------------------------------

    @property
    def record(self) -> bytes:
        """The record bytes, CRC included."""
        return self._record

    @property
    def version(self) -> int:
        """The format version byte (1)."""
        return self._info[0]

    @property
    def type(self) -> str:
        """``"readings"`` or ``"hello"``."""
        return _TYPES[self._info[1]]

    @property
    def flags(self) -> int:
        """The flags byte as received (bit 0: a timestamp follows the header)."""
        return self._info[2]

    @property
    def node_id(self) -> int:
        """The node ID's 8 bytes read big-endian."""
        return self._info[3]

    @property
    def node(self) -> str:
        """The node ID as 16 lower-case hex digits, in record order."""
        return f"{self._info[3]:016x}"

    @property
    def epoch(self) -> int:
        """Boot epoch."""
        return self._info[4]

    @property
    def seq(self) -> int:
        """Sequence number."""
        return self._info[5]

    @property
    def time_ms(self) -> Optional[int]:
        """Milliseconds since the node's boot, or None without a timestamp."""
        return self._info[6]

    @property
    def readings(self) -> Dict[str, Union[int, float, None]]:
        """``{name: value}`` in record order, in the readings' units (a new
        dict each time); None for a value out of range."""
        out = {}
        for kind, value, valid in self._info[7]:
            k = _BY_KIND[kind]
            out[k.name] = None if not valid else value / 10 ** k.decimals if k.decimals else value
        return out

    @property
    def raw_readings(self) -> Dict[str, int]:
        """``{name: value}`` as sent: ints in the wire unit (hundredths for
        temperature and humidity), out-of-range values included."""
        return {_BY_KIND[kind].name: value for kind, value, _ in self._info[7]}

    @property
    def unknown_kinds(self) -> int:
        """Readings of unknown kinds that were skipped."""
        return self._info[8]

    @property
    def out_of_range(self) -> int:
        """Readings outside their range."""
        return self._info[9]

    @property
    def seq_status(self) -> str:
        """``"first"``, ``"next"``, ``"gap"`` or ``"reboot"``."""
        return self._seq_status

    @property
    def missed(self) -> int:
        """Records missing before this one (``seq_status == "gap"``), else 0."""
        return self._missed

    # -- renderings -----------------------------------------------------------

    def to_json(self) -> str:
        """The record as the flat JSON object sent as IoT Hub telemetry
        (``sbprov_frame_to_json``), e.g.
        ``{"node":"0011223344556677","epoch":1,"seq":5,"co2_ppm":812,"temperature_c":21.53}``:
        ``time_ms`` only with a timestamp, ``"type":"hello"`` for hello
        records, then the readings in record order (null when out of range).
        """
        return _swig.sbprov_py_frame_to_json(self._record)

    def to_senml(self, unix_time_ms: Optional[int] = None) -> str:
        """The record as a SenML pack (RFC 8428, ``sbprov_frame_to_senml``):
        base name ``urn:dev:mac:<node>:``, one entry per reading in range.

        Args:
            unix_time_ms: when the gateway received it, in milliseconds since
                1970, written as the base time ``bt``; None (or 0) for no
                ``bt`` (SenML then means "now"). Otherwise
                :data:`SENML_MIN_TIME_MS` .. :data:`SENML_MAX_TIME_MS`.

        Raises:
            sbprov.InvalidInputError: ``unix_time_ms`` is out of that range.
            TypeError: it is not an int.
        """
        if unix_time_ms is None:
            unix_time_ms = 0
        elif isinstance(unix_time_ms, (bool, float)) or not isinstance(unix_time_ms, numbers.Integral):
            raise TypeError(f"unix_time_ms: expected int or None, not {type(unix_time_ms).__name__}")
        else:
            unix_time_ms = operator.index(unix_time_ms)
            if not -2**63 <= unix_time_ms < 2**63:
                raise _invalid(f"unix_time_ms: {unix_time_ms} is out of range ({SENML_MIN_TIME_MS} to "
                               f"{SENML_MAX_TIME_MS})")
        return _swig.sbprov_py_frame_to_senml(self._record, unix_time_ms)

    # -- value semantics ------------------------------------------------------

    def _key(self) -> Tuple[bytes, str, int]:
        return (self._record, self._seq_status, self._missed)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Frame):
            return NotImplemented
        return self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __reduce__(self) -> object:
        return (_restore_frame, self._key())

    def __repr__(self) -> str:
        parts = [f"node={self.node!r}", f"epoch={self.epoch}", f"seq={self.seq}"]
        if self.time_ms is not None:
            parts.append(f"time_ms={self.time_ms}")
        if self.type != "readings":
            parts.append(f"type={self.type!r}")
        parts.append(f"readings={self.readings!r}")
        if self.unknown_kinds:
            parts.append(f"unknown_kinds={self.unknown_kinds}")
        parts.append(f"seq_status={self._seq_status!r}")
        if self._missed:
            parts.append(f"missed={self._missed}")
        return f"<{type(self).__module__}.Frame {' '.join(parts)}>"


def _restore_frame(record: bytes, seq_status: str, missed: int) -> Frame:
    if seq_status not in _SEQ_STATUS_CODE:
        raise _invalid(f"seq_status: {seq_status!r} is not one of {', '.join(_SEQ_STATUS_CODE)}")
    return Frame._make(bytes(record), seq_status, _int_arg(missed, "missed", 0, _UINT32_MAX))


# ---------------------------------------------------------------------------
# Decoder
# ---------------------------------------------------------------------------

class Decoder(_KeyedHandle):
    """The gateway's frame decoder (``sbprov_frame_decoder``).

    Args:
        node_table_size: how many nodes' sequence numbers it tracks, 1 ..
            :data:`NODE_TABLE_MAX` (when full, the least recently seen node
            is replaced).

    One decoder holds one stream's state (a record in progress) and one node
    table; use one per serial port, and one for all UDP datagrams or one per
    socket. Calls are serialised with a lock, so a decoder may be shared
    between threads (each :meth:`feed` then must hold whole records, or the
    threads' bytes interleave). It keeps the GIL: decoding costs microseconds
    per record. ``close()`` or a context manager releases it; no copies or
    pickles.

    Raises:
        sbprov.InvalidInputError: ``node_table_size`` is out of range.
        TypeError: it is not an int.
    """

    __slots__ = ("_lock", "_last_outcome", "_node_table_size")

    def __init__(self, node_table_size: int = NODE_TABLE_DEFAULT) -> None:
        self._handle = None
        self._lock = threading.Lock()
        self._last_outcome: Optional[str] = None
        # The C library checks the range; only what a size_t cannot hold is refused here.
        size = _int_arg(node_table_size, "node_table_size")
        if not 0 <= size < 2**63:
            raise _invalid(f"node_table_size {size} is not within 1..{NODE_TABLE_MAX}")
        self._handle = _swig.sbprov_py_frame_decoder_new(size)
        self._node_table_size = size

    @property
    def node_table_size(self) -> int:
        """How many nodes the decoder tracks."""
        return self._node_table_size

    @property
    def last_outcome(self) -> Optional[str]:
        """What became of the last datagram given to :meth:`decode_record`:
        ``"accepted"``, or the counter its drop raised (``"crc"``,
        ``"too_long"``, ``"truncated"``, ``"bad_version"``, ``"bad_length"``,
        ``"unknown_type"``, ``"duplicate"``); None before the first."""
        return self._last_outcome

    def feed(self, data: BytesLike) -> List[Frame]:
        """Feed stream bytes (COBS records separated by 0x00) in chunks of any
        size; the result is the same however the stream is split. A record is
        processed when its delimiter arrives; the bytes of an unfinished one
        are kept for the next call. Dropped records are only counted
        (:attr:`counters`); after an error the decoder skips to the next 0x00.

        Args:
            data: any bytes-like object (bytes, bytearray, memoryview, ...).

        Returns:
            The records accepted, in stream order (possibly none).
        """
        frames: List[Frame] = []
        with _byte_view(data, "data") as view, self._lock:
            handle = self._live_handle()
            end = len(view)
            pos = 0
            while True:
                consumed, packed = _swig.sbprov_py_frame_feed(handle, view[pos:] if pos else view)
                if packed:
                    _unpack_records(packed, frames)
                pos += consumed
                if pos >= end:
                    break
                if consumed == 0:  # the library returns early only after a record
                    raise RuntimeError("frame decoder: no progress")
        return frames

    def decode_record(self, datagram: BytesLike) -> Optional[Frame]:
        """Decode one record without COBS (a UDP datagram), with the checks,
        counters and sequence tracking of a record from the stream; a stream
        record in progress is not disturbed.

        Returns:
            The frame if it was accepted, else None; :attr:`last_outcome`
            says what became of it either way.
        """
        with _byte_view(datagram, "datagram") as view:
            record = view.tobytes()
        with self._lock:
            outcome, status, missed = _swig.sbprov_py_frame_decode_record(self._live_handle(), record)
            self._last_outcome = _OUTCOMES.get(outcome, "invalid")
        if outcome != _ACCEPTED:
            return None
        return Frame._make(record, _SEQ_STATUS[status], missed)

    @property
    def counters(self) -> Dict[str, int]:
        """The counters since the decoder was created, a new dict with every
        name of :data:`COUNTERS`: each dropped record raises exactly one of
        ``crc`` .. ``duplicate``."""
        with self._lock:
            values = _swig.sbprov_frame_decoder_counters(self._live_handle())
        return dict(zip(COUNTERS, values))

    def close(self) -> None:
        """Release the decoder (a record in progress is lost). Idempotent; a
        call running in another thread finishes first."""
        self._handle = None

    def __repr__(self) -> str:
        state = "closed" if self._handle is None else "open"
        return f"<{type(self).__module__}.Decoder node_table_size={self._node_table_size} {state}>"


def _unpack_records(packed: bytes, frames: List[Frame]) -> None:
    """Frames from sbprov_py_frame_feed's packed records."""
    make = Frame._make
    unpack = _ENTRY.unpack_from
    header = _ENTRY.size
    status_names = _SEQ_STATUS
    off = 0
    end = len(packed)
    while off < end:
        length, status, missed = unpack(packed, off)
        off += header
        frames.append(make(packed[off:off + length], status_names[status], missed))
        off += length
