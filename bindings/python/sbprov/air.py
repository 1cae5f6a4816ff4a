"""Rooms: ventilation advice and occupancy from sensor readings (libsbprov
``sbprov/air.h``; the rules, their sources and the defaults are in
docs/air.md).

A :class:`Room` is fed samples (a time from the gateway's monotonic clock
plus optional CO2, PIR motion, temperature and humidity) and keeps a CO2
class after the German UBA / ASR A3.6 steps (``"fine"`` below 1000 ppm,
``"ventilate"``, ``"ventilate_now"`` from 2000 ppm, with hysteresis), the CO2
trend in ppm/min with the minutes until the next threshold, occupancy (PIR
motion with a hold time, reinforced by rising CO2) and a queue of
:class:`Event` objects for every change. A :class:`Building` is a set of
named rooms fed by the IDs of the sensor nodes placed in them, e.g. straight
from a :class:`sbprov.frame.Decoder`.

>>> from sbprov import air, frame                                    # doctest: +SKIP
>>> building = air.Building()                                        # doctest: +SKIP
>>> room = building.add_room("4.12", ventilate_ppm=800)              # doctest: +SKIP
>>> building.add_node("0011223344556677", "4.12")                    # doctest: +SKIP
>>> for f in decoder.feed(uart.read(4096)):                          # doctest: +SKIP
...     building.update_frame(f, time.monotonic_ns() // 1_000_000)
>>> for event in building.events():                                  # doctest: +SKIP
...     print(event.room, event.kind, event.reason_text)
4.12 ventilation_needed co2 812 ppm >= 800
>>> room.to_json()                                                   # doctest: +SKIP
'{"room":"4.12","time_ms":...,"co2_class":"ventilate",...}'

Times are milliseconds of the gateway's monotonic clock (any origin, >= 0,
never going backwards for a room: :meth:`Room.reset` starts over), not the
nodes' clocks. Temperature and humidity are given in degrees Celsius and
percent and converted exactly to the hundredths the library keeps (21.53 is
2153; 21.535 is refused), as in :func:`sbprov.frame.encode`.

Rooms and buildings serialise their calls with a lock (a building's rooms
share the building's) and keep the GIL (microseconds per sample). Failures
raise :class:`sbprov.InvalidInputError` (an option or a value out of range,
a clock that went backwards: the message names it), ``TypeError`` for a
wrong type, :class:`sbprov.NotFoundError` (a node placed in no room, an
unknown room) and :class:`sbprov.AlreadyExistsError` (a room name or a node
placed twice).
"""

from __future__ import annotations

import dataclasses
import threading
import types
from collections.abc import Mapping
from typing import Any, Dict, List, Optional, Tuple

from . import _sbprov_swig as _swig
from ._errors import InvalidInputError, NotFoundError, Result
from ._handle import _KeyedHandle
from .frame import Frame, NodeLike, _fixed_point, _int_arg, _node_id

__all__ = [
    "OPTIONS",
    "DEFAULT_OPTIONS",
    "CO2_CLASSES",
    "EVENT_KINDS",
    "REASONS",
    "TREND_CAPACITY",
    "EVENT_QUEUE_SIZE",
    "CO2_MAX",
    "RoomState",
    "Event",
    "Room",
    "Building",
]

#: Room options, the fields of ``sbprov_air_room_options`` in order.
OPTIONS: Tuple[str, ...] = ("ventilate_ppm", "ventilate_now_ppm", "hysteresis_ppm", "smoothing_s",
                            "trend_window_s", "trend_min_samples", "trend_min_span_s", "pir_hold_s",
                            "co2_rise_ppm_per_min", "co2_rise_s")
#: The library's default options (``sbprov_air_room_options_init``).
DEFAULT_OPTIONS: Mapping = types.MappingProxyType(dict(zip(OPTIONS, _swig.sbprov_py_air_room_defaults())))
#: CO2 class names, by ``sbprov_air_co2_class`` value.
CO2_CLASSES: Tuple[str, ...] = tuple(_swig.sbprov_air_co2_class_name(c) for c in range(4))
#: Event kind names, by ``sbprov_air_event_kind`` value (0, "none", is never returned).
EVENT_KINDS: Tuple[str, ...] = tuple(_swig.sbprov_air_event_kind_name(k) for k in range(5))
#: Event reason names, by ``sbprov_air_reason`` value.
REASONS: Tuple[str, ...] = tuple(_swig.sbprov_air_reason_name(r) for r in range(6))
#: CO2 readings a room's trend window holds.
TREND_CAPACITY: int = _swig.SBPROV_AIR_TREND_CAPACITY
#: Events a room queues before the oldest is dropped (counted in ``events_dropped``).
EVENT_QUEUE_SIZE: int = _swig.SBPROV_AIR_EVENT_QUEUE_SIZE
#: Largest CO2 value accepted, ppm.
CO2_MAX: int = _swig.SBPROV_AIR_CO2_MAX

_UINT32_MAX = 2**32 - 1
_INT32_MIN, _INT32_MAX = -2**31, 2**31 - 1
_SAMPLE_FIELDS = ("co2_ppm", "motion", "temperature_c", "humidity_pct")


def _name(code: int, names: Tuple[str, ...]) -> str:
    return names[code] if 0 <= code < len(names) else "invalid"


@dataclasses.dataclass(frozen=True)
class RoomState:
    """Where a room stands after its latest sample (``sbprov_air_state``).
    Values not known yet are None.

    Attributes:
        time_ms: time of the latest sample (None before any).
        samples: samples taken since the room was created or reset.
        co2_class: ``"unknown"`` (no CO2 reading yet), ``"fine"``,
            ``"ventilate"`` or ``"ventilate_now"``.
        co2_ppm: the latest CO2 reading.
        co2_smoothed_ppm: the smoothed CO2 the class is decided on.
        ms_since_co2: time since the latest CO2 reading.
        trend_ppm_per_min: least-squares CO2 trend (None until the window
            holds enough readings).
        next_threshold_ppm: the threshold above the current class (None in
            ``"ventilate_now"`` and ``"unknown"``).
        minutes_to_threshold: minutes from the latest CO2 reading until the
            smoothed CO2 reaches it at the trend (None when unknown, falling,
            flat or nothing is above).
        occupied: whether the room is occupied.
        occupied_reason: why it became occupied (``"motion"`` or
            ``"co2_rising"``), None when free.
        co2_rising: the trend has been at or above ``co2_rise_ppm_per_min``
            for ``co2_rise_s`` (counts as presence).
        ms_since_motion: time since the last motion (None if none was seen).
        temperature_c: latest temperature, degrees Celsius (hundredths / 100).
        humidity_pct: latest relative humidity, percent (hundredths / 100).
        events_pending: events waiting in the queue.
        events_dropped: events dropped because the queue was full.
    """

    time_ms: Optional[int]
    samples: int
    co2_class: str
    co2_ppm: Optional[int]
    co2_smoothed_ppm: Optional[float]
    ms_since_co2: Optional[int]
    trend_ppm_per_min: Optional[float]
    next_threshold_ppm: Optional[int]
    minutes_to_threshold: Optional[float]
    occupied: bool
    occupied_reason: Optional[str]
    co2_rising: bool
    ms_since_motion: Optional[int]
    temperature_c: Optional[float]
    humidity_pct: Optional[float]
    events_pending: int
    events_dropped: int

    @classmethod
    def _from_tuple(cls, t: tuple) -> "RoomState":
        (time_ms, samples, co2_class, has_co2, co2_ppm, smoothed, ms_since_co2, has_trend, trend, next_threshold,
         minutes, occupied, occupied_reason, co2_rising, ms_since_motion, has_temperature, temperature,
         has_humidity, humidity, pending, dropped) = t
        return cls(
            time_ms=time_ms if time_ms >= 0 else None,
            samples=samples,
            co2_class=_name(co2_class, CO2_CLASSES),
            co2_ppm=co2_ppm if has_co2 else None,
            co2_smoothed_ppm=smoothed if has_co2 else None,
            ms_since_co2=ms_since_co2 if has_co2 and ms_since_co2 >= 0 else None,
            trend_ppm_per_min=trend if has_trend else None,
            next_threshold_ppm=next_threshold or None,
            minutes_to_threshold=minutes if minutes >= 0 else None,
            occupied=bool(occupied),
            occupied_reason=_name(occupied_reason, REASONS) if occupied_reason else None,
            co2_rising=bool(co2_rising),
            ms_since_motion=ms_since_motion if ms_since_motion >= 0 else None,
            temperature_c=temperature / 100 if has_temperature else None,
            humidity_pct=humidity / 100 if has_humidity else None,
            events_pending=pending,
            events_dropped=dropped,
        )


@dataclasses.dataclass(frozen=True)
class Event:
    """A change in a room (``sbprov_air_event``).

    Attributes:
        kind: ``"occupied"``, ``"free"``, ``"ventilation_needed"`` or
            ``"ventilation_done"``.
        room: the room's name (``""`` for a room made without one).
        time_ms: time of the sample that caused it.
        reason: ``"motion"``, ``"co2_rising"`` (occupied), ``"no_presence"``
            (free), ``"co2_above"`` or ``"co2_below"`` (ventilation).
        reason_text: the reason in words, e.g. ``"co2 1012 ppm >= 1000"``.
        co2_class: the CO2 class after the event.
        previous_class: the CO2 class before it (equal for occupancy events).
        co2_ppm: the smoothed CO2 at the event, rounded down (0 if unknown).
        threshold_ppm: the threshold crossed (ventilation events), else None.
        trend_ppm_per_min: the trend at the event (0.0 without one).
        ms_since_motion: time since the last motion (None if none was seen).
    """

    kind: str
    room: str
    time_ms: int
    reason: str
    reason_text: str
    co2_class: str
    previous_class: str
    co2_ppm: int
    threshold_ppm: Optional[int]
    trend_ppm_per_min: float
    ms_since_motion: Optional[int]

    @classmethod
    def _from_tuple(cls, t: tuple) -> "Event":
        (kind, reason, time_ms, co2_class, previous_class, co2_ppm, threshold, trend, ms_since_motion, room,
         reason_text) = t
        return cls(kind=_name(kind, EVENT_KINDS), room=room, time_ms=time_ms, reason=_name(reason, REASONS),
                   reason_text=reason_text, co2_class=_name(co2_class, CO2_CLASSES),
                   previous_class=_name(previous_class, CO2_CLASSES), co2_ppm=co2_ppm,
                   threshold_ppm=threshold or None, trend_ppm_per_min=trend,
                   ms_since_motion=ms_since_motion if ms_since_motion >= 0 else None)


def _drain(next_event, handle: object) -> List[Event]:
    events = []
    while True:
        t = next_event(handle)
        if t[0] == _swig.SBPROV_AIR_EVENT_NONE:
            return events
        events.append(Event._from_tuple(t))


# ---------------------------------------------------------------------------
# Arguments
# ---------------------------------------------------------------------------

def _options(options: Dict[str, Any]) -> Tuple[Dict[str, Any], tuple]:
    """The effective options (defaults for those not given or None) and
    their flat C arguments. Ranges are checked by the library."""
    unknown = [name for name in options if name not in DEFAULT_OPTIONS]
    if unknown:
        raise TypeError(f"unknown room option {unknown[0]!r} (options: {', '.join(OPTIONS)})")
    merged = dict(DEFAULT_OPTIONS)
    for name, value in options.items():
        if value is None:
            continue
        if name == "co2_rise_ppm_per_min":
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise TypeError(f"{name}: expected a number, not {type(value).__name__}")
            merged[name] = float(value)
        else:
            value = _int_arg(value, name)
            if not 0 <= value <= _UINT32_MAX:  # beyond the C field; the library checks the real range
                raise InvalidInputError(Result.EINVAL, f"{name}: {value} is out of range (see "
                                                       f"sbprov.air.DEFAULT_OPTIONS and docs/air.md)")
            merged[name] = value
    return merged, tuple(merged[name] for name in OPTIONS)


def _sample(sample: Dict[str, Any]) -> tuple:
    """The flat sample arguments: (has, value) for CO2, motion, temperature
    (hundredths) and humidity (hundredths). Ranges are checked by the library."""
    unknown = [name for name in sample if name not in _SAMPLE_FIELDS]
    if unknown:
        raise TypeError(f"unknown sample field {unknown[0]!r} (fields: {', '.join(_SAMPLE_FIELDS)})")
    args = []
    for name, decimals, low, high in (("co2_ppm", 0, 0, _UINT32_MAX), ("motion", 0, 0, _UINT32_MAX),
                                      ("temperature_c", 2, _INT32_MIN, _INT32_MAX),
                                      ("humidity_pct", 2, 0, _UINT32_MAX)):
        value = sample.get(name)
        if value is None:
            args += [0, 0]
            continue
        scaled = _fixed_point(value, decimals, name)
        if not low <= scaled <= high:
            raise InvalidInputError(Result.EINVAL, f"{name}: {value!r} is out of range")
        args += [1, scaled]
    return tuple(args)


def _time(time_ms: object) -> int:
    # The library refuses negative times with its own message.
    return _int_arg(time_ms, "time_ms", -2**63, 2**63 - 1)


def _frame(frame: object) -> bytes:
    if not isinstance(frame, Frame):
        raise TypeError(f"frame: expected sbprov.frame.Frame, not {type(frame).__name__}")
    return frame.record


def _room_name(name: object) -> str:
    if not isinstance(name, str):
        raise TypeError(f"name: expected str, not {type(name).__name__}")
    return name


# ---------------------------------------------------------------------------
# Rooms
# ---------------------------------------------------------------------------

class Room:
    """A room (``sbprov_air_room``): its options, recent readings, state and
    event queue.

    Args:
        name: the room's name, carried by its events and its JSON; ``""``
            for none. A name follows the rules of a building's rooms (1..63
            bytes of printable ASCII).
        **options: any of :data:`OPTIONS` by their C names (``ventilate_ppm``,
            ``ventilate_now_ppm``, ``hysteresis_ppm``, ``smoothing_s``,
            ``trend_window_s``, ``trend_min_samples``, ``trend_min_span_s``,
            ``pir_hold_s``, ``co2_rise_ppm_per_min``, ``co2_rise_s``); the
            others keep :data:`DEFAULT_OPTIONS`. The library checks them.

    Rooms made by :meth:`Building.add_room` belong to their building: they
    share its lock, keep it alive, and stop working (InvalidInputError) once
    it is closed. Rooms made here have the usual lifecycle: ``close()`` or a
    context manager; no copies or pickles.

    Raises:
        sbprov.InvalidInputError: an option is out of range, or a bad name
            (the message says which).
        TypeError: an unknown option or a value of the wrong type.
    """

    __slots__ = ("_handle", "_owner", "_building", "_lock", "_name", "_options", "__weakref__")

    def __init__(self, name: str = "", **options: Any) -> None:
        self._handle = None
        self._owner = None
        self._building = None
        self._lock = threading.Lock()
        self._name = _room_name(name)
        self._options, args = _options(options)
        if name == "":
            self._handle = _swig.sbprov_py_air_room_new(*args)
        else:
            # The library names only the rooms of a building: a named room is
            # the one room of a building of its own, which it owns.
            owner = _swig.sbprov_air_building_new()
            self._handle = _swig.sbprov_py_air_building_add_room(owner, name, *args)
            self._owner = owner

    @classmethod
    def _of_building(cls, handle: object, building: "Building", name: str, options: Dict[str, Any]) -> "Room":
        self = object.__new__(cls)
        self._handle = handle
        self._owner = None
        self._building = building
        self._lock = building._lock
        self._name = name
        self._options = options
        return self

    def _call(self, fn, *args: object) -> Any:
        with self._lock:
            building = self._building
            # This local reference keeps the C building that owns the room
            # (a Building's, or a named room's own) alive during the call,
            # even if another thread closes it meanwhile.
            owner = building._handle if building is not None else self._owner
            handle = self._handle
            if handle is None:
                raise InvalidInputError(Result.EINVAL, f"{self!r}: used after close()")
            if building is not None and owner is None:
                raise InvalidInputError(Result.EINVAL, f"{self!r}: used after its building was closed")
            result = fn(handle, *args)
            del owner
            return result

    # -- properties -----------------------------------------------------------

    @property
    def name(self) -> str:
        """The room's name (``""`` for none)."""
        return self._name

    @property
    def options(self) -> Dict[str, Any]:
        """The room's options, a new dict with every name of :data:`OPTIONS`."""
        return dict(self._options)

    @property
    def building(self) -> Optional["Building"]:
        """The :class:`Building` the room belongs to, or None."""
        return self._building

    @property
    def closed(self) -> bool:
        """True once the room (or its building) has been closed."""
        if self._building is not None:
            return self._building.closed
        return self._handle is None

    # -- feeding ----------------------------------------------------------------

    def update(self, time_ms: int, *, co2_ppm: Optional[int] = None, motion: Optional[int] = None,
               temperature_c: Optional[float] = None, humidity_pct: Optional[float] = None) -> None:
        """Feed one sample (``sbprov_air_room_update``). A sample with no
        value is a clock tick: it lets the PIR hold time expire. Everything
        is checked before anything changes: a refused sample leaves the room
        as it was.

        Args:
            time_ms: the gateway's monotonic clock in milliseconds (>= 0,
                never before the previous sample's).
            co2_ppm: CO2, 0..:data:`CO2_MAX` ppm.
            motion: PIR motion events since the node's previous sample (0: none).
            temperature_c: degrees Celsius, -40..125, at most 2 decimals (reported only).
            humidity_pct: relative humidity in percent, 0..100, at most 2
                decimals (reported only).

        Raises:
            sbprov.InvalidInputError: a value out of range or with too many
                decimals, a negative time or one before the previous sample's.
        """
        args = _sample({"co2_ppm": co2_ppm, "motion": motion, "temperature_c": temperature_c,
                        "humidity_pct": humidity_pct})
        self._call(_swig.sbprov_py_air_room_update, _time(time_ms), *args)

    def update_frame(self, frame: Frame, time_ms: int) -> None:
        """Feed the readings of a decoded sensor record
        (``sbprov_air_sample_from_frame``): its CO2, motion, temperature and
        humidity readings that are in range; ``time_ms`` is the gateway's
        clock when it arrived (the node's own uptime is not used)."""
        record = _frame(frame)
        self._call(_swig.sbprov_py_air_room_update_frame, record, _time(time_ms))

    def reset(self) -> None:
        """Forget every reading, the state, queued events and the drop count
        (the options and the name stay), e.g. after the gateway's clock restarted."""
        self._call(_swig.sbprov_air_room_reset)

    # -- reading ----------------------------------------------------------------

    @property
    def state(self) -> RoomState:
        """The room's current state (a new :class:`RoomState`)."""
        return RoomState._from_tuple(self._call(_swig.sbprov_air_room_state))

    def to_json(self) -> str:
        """The state as the flat JSON object sent as IoT Hub telemetry
        (``sbprov_air_room_state_json``), fields not known yet left out, e.g.
        ``{"room":"4.12","time_ms":900000,"co2_class":"ventilate","co2_ppm":1013,...}``."""
        return self._call(_swig.sbprov_air_room_state_json)

    def events(self) -> List[Event]:
        """Take every queued event, oldest first (the queue is then empty).
        The queue holds :data:`EVENT_QUEUE_SIZE`; when full, the oldest are
        dropped and counted in ``state.events_dropped``."""
        return self._call(lambda handle: _drain(_swig.sbprov_air_room_next_event, handle))

    # -- lifecycle --------------------------------------------------------------

    def close(self) -> None:
        """Release a room made by ``Room(...)``. Idempotent. A room of a
        building is released with its building: this does nothing to it."""
        if self._building is None:
            self._handle = None
            self._owner = None

    def __enter__(self) -> "Room":
        self._call(lambda handle: None)
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __reduce__(self) -> object:
        raise TypeError(f"{type(self).__module__}.{type(self).__name__} cannot be copied or pickled")

    def __repr__(self) -> str:
        where = f" in {self._building!r}" if self._building is not None else ""
        state = " closed" if self.closed else ""
        return f"<{type(self).__module__}.Room {self._name!r}{where}{state}>"


# ---------------------------------------------------------------------------
# Buildings
# ---------------------------------------------------------------------------

class Building(_KeyedHandle):
    """A set of named rooms, each with its own options, and the sensor nodes
    placed in them (``sbprov_air_building``).

    Node IDs are given as :func:`sbprov.frame.encode` takes them: 16 hex
    digits, 8 bytes or an int (``Frame.node``, ``Frame.node_id``).

    The building owns its rooms: the :class:`Room` objects it gives out share
    its lock and keep it alive, so a room stays usable as long as it is
    referenced, even when the building is not; after :meth:`close` they
    raise InvalidInputError. ``close()`` or a context manager; no copies or
    pickles.
    """

    __slots__ = ("_lock", "_rooms", "__weakref__")

    def __init__(self) -> None:
        self._handle = None
        self._lock = threading.Lock()
        self._rooms: Dict[str, Room] = {}
        self._handle = _swig.sbprov_air_building_new()

    def _call(self, fn, *args: object) -> Any:
        with self._lock:
            return fn(self._live_handle(), *args)

    def add_room(self, name: str, **options: Any) -> Room:
        """Add a room with its own options (as :class:`Room`; a building
        holds at most 4096 rooms) and return it.

        Raises:
            sbprov.AlreadyExistsError: a room of that name exists.
            sbprov.InvalidInputError: an empty name, one over 63 bytes or
                not printable ASCII, or an option out of range.
        """
        name = _room_name(name)
        merged, args = _options(options)
        with self._lock:
            handle = _swig.sbprov_py_air_building_add_room(self._live_handle(), name, *args)
            room = Room._of_building(handle, self, name, merged)
            self._rooms[name] = room
        return room

    def add_node(self, node: NodeLike, room: "str | Room") -> None:
        """Place a sensor node in a room: its samples then go there. A room
        may have several nodes (a CO2 sensor and a PIR); a node is in one room.

        Raises:
            sbprov.NotFoundError: there is no room of that name.
            sbprov.AlreadyExistsError: the node is already placed.
        """
        if isinstance(room, Room):
            if room._building is not self:
                raise InvalidInputError(Result.EINVAL, f"room: {room!r} is not a room of this building")
            room = room.name
        self._call(_swig.sbprov_air_building_add_node, _node_id(node), _room_name(room))

    def update(self, node: NodeLike, time_ms: int, **sample: Any) -> None:
        """Feed a node's sample to its room (as :meth:`Room.update`; the
        sample fields are ``co2_ppm``, ``motion``, ``temperature_c``,
        ``humidity_pct``).

        Raises:
            sbprov.NotFoundError: the node is placed in no room (nothing changed).
        """
        args = _sample(sample)
        self._call(_swig.sbprov_py_air_building_update, _node_id(node), _time(time_ms), *args)

    def update_frame(self, frame: Frame, time_ms: int) -> None:
        """Feed a decoded sensor record to the room of its node (as
        :meth:`Room.update_frame`).

        Raises:
            sbprov.NotFoundError: the frame's node is placed in no room
                (nothing changed).
        """
        record = _frame(frame)
        self._call(_swig.sbprov_py_air_building_update_frame, record, _time(time_ms))

    def room(self, name: str) -> Room:
        """The room of that name.

        Raises:
            sbprov.NotFoundError: no room has that name (also a ``LookupError``).
        """
        name = _room_name(name)
        with self._lock:
            self._live_handle()
            room = self._rooms.get(name)
        if room is None:
            raise NotFoundError(Result.ENOTFOUND, f"air building: no room named {name!r}")
        return room

    def room_for_node(self, node: NodeLike) -> Room:
        """The room a node is placed in.

        Raises:
            sbprov.NotFoundError: the node is placed in no room.
        """
        node_id = _node_id(node)
        with self._lock:
            handle = _swig.sbprov_py_air_building_room_for_node(self._live_handle(), node_id)
            return self._rooms[_swig.sbprov_air_room_name(handle)]

    @property
    def rooms(self) -> List[Room]:
        """The rooms, in the order they were added (a new list)."""
        with self._lock:
            return list(self._rooms.values())

    def events(self) -> List[Event]:
        """Take every queued event of every room, oldest first (earliest
        time, then the room added first); ``Event.room`` names the room."""
        return self._call(lambda handle: _drain(_swig.sbprov_air_building_next_event, handle))

    def close(self) -> None:
        """Release the building and its rooms (their :class:`Room` objects
        then raise InvalidInputError). Idempotent; a call running in another
        thread finishes first."""
        self._handle = None

    def __repr__(self) -> str:
        state = "closed" if self._handle is None else f"{len(self._rooms)} rooms"
        return f"<{type(self).__module__}.Building {state}>"
