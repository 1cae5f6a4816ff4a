"""sbprov.air: rooms fed by a modelled meeting room (CO2 rising 40 ppm/min),
occupancy, exact temperature and humidity, options and samples checked by
the library, the event queue, buildings (routing by node, frames from a
decoder, event order), the lifetime of rooms and buildings, threads."""

from __future__ import annotations

import gc
import json
import pickle
import random
import sys
import threading
import weakref
from decimal import Decimal

import pytest

import sbprov
from sbprov import air, frame
from sbprov.air import Building, Event, Room, RoomState

from conftest import _source_dir

MIN = 60_000  # ms


def meeting(room_update, minutes=30, rate=40.0, motion_every=4, seed=1, step_s=30, start=0):
    """Feed a room whose CO2 rises `rate` ppm/min from 420 ppm at time 0
    (+-10 ppm noise), a sample every `step_s` seconds from minute `start`
    to `minutes`, with motion on every `motion_every`-th sample (None: no PIR)."""
    rng = random.Random(seed)
    for i in range(int(start * 60 / step_s), int(minutes * 60 / step_s) + 1):
        t = i * step_s * 1000
        co2 = round(420 + rate * t / MIN + rng.uniform(-10, 10))
        kwargs = {"co2_ppm": co2}
        if motion_every is not None:
            kwargs["motion"] = 1 if i % motion_every == 0 else 0
        room_update(t, **kwargs)


# ---------------------------------------------------------------------------
# A room
# ---------------------------------------------------------------------------

def test_defaults_and_names():
    assert dict(air.DEFAULT_OPTIONS) == {
        "ventilate_ppm": 1000, "ventilate_now_ppm": 2000, "hysteresis_ppm": 50, "smoothing_s": 60,
        "trend_window_s": 600, "trend_min_samples": 5, "trend_min_span_s": 300, "pir_hold_s": 600,
        "co2_rise_ppm_per_min": 10.0, "co2_rise_s": 180}
    assert air.OPTIONS == tuple(air.DEFAULT_OPTIONS)
    assert air.CO2_CLASSES == ("unknown", "fine", "ventilate", "ventilate_now")
    assert air.EVENT_KINDS[1:] == ("occupied", "free", "ventilation_needed", "ventilation_done")
    assert air.REASONS[1:] == ("motion", "co2_rising", "no_presence", "co2_above", "co2_below")
    assert (air.TREND_CAPACITY, air.EVENT_QUEUE_SIZE, air.CO2_MAX) == (128, 16, 40000)
    with pytest.raises(TypeError):
        air.DEFAULT_OPTIONS["ventilate_ppm"] = 1


def test_new_room_state():
    room = Room()
    st = room.state
    assert st == RoomState(time_ms=None, samples=0, co2_class="unknown", co2_ppm=None, co2_smoothed_ppm=None,
                           ms_since_co2=None, trend_ppm_per_min=None, next_threshold_ppm=None,
                           minutes_to_threshold=None, occupied=False, occupied_reason=None, co2_rising=False,
                           ms_since_motion=None, temperature_c=None, humidity_pct=None, events_pending=0,
                           events_dropped=0)
    assert room.events() == []
    assert room.to_json() == '{"co2_class":"unknown","occupied":false,"events_dropped":0}'
    assert room.name == "" and room.building is None and room.options == dict(air.DEFAULT_OPTIONS)


def test_meeting_room_becomes_occupied_and_needs_ventilation():
    room = Room()
    meeting(room.update, minutes=20)
    events = room.events()
    assert [e.kind for e in events] == ["occupied", "ventilation_needed"], events
    occupied, ventilate = events
    assert (occupied.reason, occupied.reason_text, occupied.time_ms, occupied.room) == ("motion", "motion", 0, "")
    assert occupied.threshold_ppm is None and occupied.ms_since_motion == 0
    assert ventilate.reason == "co2_above" and ventilate.threshold_ppm == 1000
    assert (ventilate.previous_class, ventilate.co2_class) == ("fine", "ventilate")
    assert ventilate.reason_text == f"co2 {ventilate.co2_ppm} ppm >= 1000" and ventilate.co2_ppm >= 1000
    # the modelled air crosses 1000 ppm after 14.5 min; the smoothed level follows without lag
    assert 13 * MIN <= ventilate.time_ms <= 16 * MIN, ventilate.time_ms
    assert 35 <= ventilate.trend_ppm_per_min <= 45
    st = room.state
    assert st.occupied and st.occupied_reason == "motion" and st.co2_rising
    assert st.co2_class == "ventilate" and st.next_threshold_ppm == 2000
    assert 35 <= st.trend_ppm_per_min <= 45
    assert 10 <= st.minutes_to_threshold <= 20  # 2000 ppm at about 39.5 min
    assert st.samples == 41 and st.time_ms == 20 * MIN and st.ms_since_co2 == 0
    assert st.events_pending == 0 and st.events_dropped == 0
    doc = json.loads(room.to_json())
    assert doc["co2_class"] == "ventilate" and doc["occupied"] is True and "room" not in doc
    assert room.events() == []  # drained
    # and on to 2000 ppm
    meeting(room.update, start=20.5, minutes=45)
    later = room.events()
    assert [e.kind for e in later] == ["ventilation_needed"]
    assert later[0].co2_class == "ventilate_now" and later[0].threshold_ppm == 2000
    assert room.state.next_threshold_ppm is None and room.state.minutes_to_threshold is None


def test_occupied_from_rising_co2_alone_then_free():
    room = Room()
    meeting(room.update, minutes=12, motion_every=None)
    events = room.events()
    assert events[0].kind == "occupied" and events[0].reason == "co2_rising", events
    assert events[0].reason_text.startswith("co2 rising ") and events[0].reason_text.endswith(" ppm/min")
    assert 3 * MIN <= events[0].time_ms <= 10 * MIN
    assert events[0].ms_since_motion is None
    assert room.state.occupied_reason == "co2_rising"
    # the air stays at 900 ppm, flat: free once the hold has passed
    t = 12 * MIN
    for _ in range(60):
        t += 30_000
        room.update(t, co2_ppm=900)
    free = [e for e in room.events() if e.kind == "free"]
    assert len(free) == 1 and free[0].reason == "no_presence"
    assert free[0].reason_text.startswith("no motion seen")
    assert not room.state.occupied and room.state.occupied_reason is None


def test_free_after_the_pir_hold():
    room = Room()
    room.update(0, co2_ppm=500, motion=2)
    for i in range(1, 30):
        room.update(i * 30_000)  # clock ticks
    events = room.events()
    assert [e.kind for e in events] == ["occupied", "free"]
    assert 10 * MIN <= events[1].time_ms <= 10 * MIN + 30_000
    assert events[1].reason_text.startswith("no motion for 10 min")
    assert room.state.ms_since_motion == 29 * 30_000


def test_temperature_and_humidity_are_exact():
    room = Room()
    room.update(0, temperature_c=21.53, humidity_pct=45.2)
    st = room.state
    assert (st.temperature_c, st.humidity_pct) == (21.53, 45.2)
    assert room.to_json().endswith('"temperature_c":21.53,"humidity_pct":45.2,"events_dropped":0}')
    room.update(1, temperature_c=Decimal("-0.05"), humidity_pct=100)
    assert '"temperature_c":-0.05,"humidity_pct":100,' in room.to_json()
    assert (room.state.temperature_c, room.state.humidity_pct) == (-0.05, 100.0)
    for kwargs, text in [({"temperature_c": 21.535}, "temperature_c: 21.535 has more than 2 decimals"),
                         ({"humidity_pct": 0.1 + 0.2}, "more than 2 decimals"),
                         ({"temperature_c": 125.01}, "temperature_centi_c 12501 is out of range"),
                         ({"temperature_c": -40.01}, "out of range"),
                         ({"humidity_pct": 100.01}, "humidity_centi_pct 10001 is out of range"),
                         ({"humidity_pct": -1}, "humidity_pct: -1 is out of range"),
                         ({"temperature_c": 1e300}, "out of range"),
                         ({"co2_ppm": 40001}, "co2_ppm 40001 is out of range (0..40000)"),
                         ({"co2_ppm": 2**40}, "co2_ppm: 1099511627776 is out of range"),
                         ({"co2_ppm": 812.5}, "co2_ppm: 812.5 is not a whole number"),
                         ({"motion": True}, "motion: True is a bool"),
                         ({"co2_ppm": float("nan")}, "not a finite number")]:
        with pytest.raises(sbprov.InvalidInputError) as info:
            room.update(2, **kwargs)
        assert text in info.value.message, kwargs
    for kwargs in ({"co2_ppm": "812"}, {"motion": [1]}):
        with pytest.raises(TypeError):
            room.update(2, **kwargs)
    assert room.state.samples == 2  # every refused sample left the room as it was
    room.update(2, co2_ppm=812.0, motion=Decimal(3))
    assert room.state.co2_ppm == 812


def test_time_checks_and_reset():
    room = Room()
    room.update(5000, co2_ppm=600)
    room.update(5000, co2_ppm=610)  # the same time twice is fine
    with pytest.raises(sbprov.InvalidInputError) as info:
        room.update(4999, co2_ppm=600)
    assert "the clock went backwards" in info.value.message
    with pytest.raises(sbprov.InvalidInputError, match="negative"):
        room.update(-1)
    for bad in (1.5, True, "5", None):
        with pytest.raises(TypeError):
            room.update(bad)
    with pytest.raises(TypeError):
        room.update(6000, 500)  # the sample is keyword-only
    with pytest.raises(TypeError):
        room.update(6000, co2=500)
    assert room.state.samples == 2 and room.state.co2_ppm == 610
    room.reset()
    assert room.state.samples == 0 and room.state.time_ms is None
    room.update(0, co2_ppm=400)
    assert room.state.samples == 1


def test_options_are_checked_by_the_library():
    room = Room(ventilate_ppm=800, co2_rise_ppm_per_min=5, smoothing_s=None)
    assert room.options["ventilate_ppm"] == 800 and room.options["co2_rise_ppm_per_min"] == 5.0
    assert room.options["smoothing_s"] == 60
    room.update(0, co2_ppm=820)
    assert [(e.kind, e.threshold_ppm) for e in room.events()] == [("ventilation_needed", 800)]
    for options, text in [({"ventilate_ppm": 0}, "ventilate_ppm 0 is out of range (1..40000)"),
                          ({"ventilate_now_ppm": 900}, "ventilate_now_ppm 900 must be above ventilate_ppm (1000)"),
                          ({"hysteresis_ppm": 1000}, "hysteresis_ppm"),
                          ({"smoothing_s": 3601}, "smoothing_s 3601 is out of range"),
                          ({"trend_window_s": 9}, "trend_window_s"),
                          ({"trend_min_samples": 2}, "trend_min_samples 2 is out of range (3..128)"),
                          ({"trend_min_span_s": 601}, "trend_min_span_s 601 is longer"),
                          ({"pir_hold_s": 0}, "pir_hold_s"),
                          ({"co2_rise_ppm_per_min": float("nan")}, "co2_rise_ppm_per_min is out of range"),
                          ({"co2_rise_ppm_per_min": -1}, "co2_rise_ppm_per_min is out of range"),
                          ({"co2_rise_s": 86401}, "co2_rise_s"),
                          ({"ventilate_ppm": -1}, "ventilate_ppm: -1 is out of range"),
                          ({"ventilate_ppm": 2**32}, "ventilate_ppm")]:
        with pytest.raises(sbprov.InvalidInputError) as info:
            Room(**options)
        assert text in info.value.message, options
        with pytest.raises(sbprov.InvalidInputError):
            Building().add_room("r", **options)
    for options in ({"ventilate_ppm": 1000.0}, {"ventilate_ppm": True}, {"co2_rise_ppm_per_min": "5"},
                    {"co2_rise_ppm_per_min": True}, {"ventilation_ppm": 800}):
        with pytest.raises(TypeError):
            Room(**options)


def test_hysteresis_and_raw_readings():
    room = Room(smoothing_s=0)
    for i, co2 in enumerate([990, 1000, 960, 951, 1000, 949, 1001]):
        room.update(i * 1000, co2_ppm=co2)
    assert [(e.kind, e.time_ms, e.reason) for e in room.events()] == [
        ("ventilation_needed", 1000, "co2_above"), ("ventilation_done", 5000, "co2_below"),
        ("ventilation_needed", 6000, "co2_above")]


def test_event_queue_overflow():
    room = Room(smoothing_s=0, hysteresis_ppm=0)
    for i in range(40):
        room.update(i * 1000, co2_ppm=1500 if i % 2 == 0 else 500)
    st = room.state
    assert st.events_pending == air.EVENT_QUEUE_SIZE and st.events_dropped == 40 - air.EVENT_QUEUE_SIZE
    events = room.events()
    assert len(events) == air.EVENT_QUEUE_SIZE
    assert [e.time_ms for e in events] == [i * 1000 for i in range(40 - air.EVENT_QUEUE_SIZE, 40)]  # newest kept
    assert room.state.events_pending == 0 and '"events_dropped":24' in room.to_json()


def test_named_room_of_its_own():
    room = Room("4.12", ventilate_ppm=800)
    assert room.name == "4.12" and room.building is None
    room.update(0, co2_ppm=900)
    assert room.events()[0].room == "4.12"
    assert room.to_json().startswith('{"room":"4.12","time_ms":0,')
    for name, text in [("x" * 64, "too long"), ("Küche", "printable ASCII"), ("a\tb", "printable ASCII"),
                       ("a\0b", "NUL")]:
        with pytest.raises(sbprov.InvalidInputError) as info:
            Room(name)
        assert text in info.value.message
    with pytest.raises(TypeError):
        Room(b"4.12")
    assert Room("x" * 63).name == "x" * 63


def test_room_update_frame(vectors_records):
    room = Room()
    f = frame.Frame.parse(frame.encode(7, 1, {"co2_ppm": 1200, "motion": 1, "temperature_c": 21.53,
                                              "humidity_pct": 45.2, "voc_ppb": 300}, time_ms=5, datagram=True))
    room.update_frame(f, 1000)
    st = room.state
    assert (st.time_ms, st.co2_ppm, st.occupied, st.temperature_c, st.humidity_pct) == (1000, 1200, True, 21.53, 45.2)
    # out-of-range readings are a failed sensor, not the room's air: left out
    bad = frame.Frame.parse(bytes.fromhex(vectors_records["out of range: battery 10001 and CO2 50000"]["record"]))
    room.update_frame(bad, 2000)
    assert room.state.samples == 2 and room.state.co2_ppm == 1200 and room.state.time_ms == 2000
    with pytest.raises(TypeError, match="sbprov.frame.Frame"):
        room.update_frame(f.record, 3000)
    with pytest.raises(sbprov.InvalidInputError, match="negative"):
        room.update_frame(f, -1)


@pytest.fixture(scope="module")
def vectors_records() -> dict:
    source = _source_dir()
    if source is None:
        pytest.fail("the repository is unknown: set SBPROV_SOURCE_DIR (bindings/python/test.sh does)")
    with open(source / "tests" / "frame" / "vectors.json", encoding="utf-8") as f:
        return {v["name"]: v for v in json.load(f)["records"]}


def test_room_lifecycle():
    room = Room()
    with pytest.raises(TypeError):
        pickle.dumps(room)
    with pytest.raises(TypeError):
        pickle.dumps(Building())
    assert repr(room) == "<sbprov.air.Room ''>"
    room.close()
    room.close()
    assert room.closed and "closed" in repr(room)
    for call in (lambda: room.update(0), lambda: room.state, lambda: room.events(), lambda: room.to_json(),
                 room.reset):
        with pytest.raises(sbprov.InvalidInputError, match="used after close"):
            call()
    with Room("ctx") as r:
        r.update(0, co2_ppm=400)
    assert r.closed
    # many rooms made and dropped, named (a building of their own) or not
    for i in range(2000):
        Room(f"r{i % 50}" if i % 2 else "").update(0, co2_ppm=400 + i % 100)
    gc.collect()


# ---------------------------------------------------------------------------
# Buildings
# ---------------------------------------------------------------------------

def test_building_routes_samples_by_node():
    b = Building()
    r412 = b.add_room("4.12", ventilate_ppm=800)
    r413 = b.add_room("4.13")
    assert r412.building is b and r412.name == "4.12" and r412.options["ventilate_ppm"] == 800
    b.add_node("0011223344556677", "4.12")   # a CO2 sensor
    b.add_node(bytes.fromhex("0011223344556678"), r412)  # and a PIR, in the same room
    b.add_node(0x00112233445566AA, "4.13")
    assert b.rooms == [r412, r413] and b.room("4.12") is r412 and b.room("4.13") is r413
    assert b.room_for_node(0x0011223344556677) is r412 and b.room_for_node("0011223344556678") is r412
    assert b.room_for_node(b"\x00\x11\x22\x33\x44\x55\x66\xaa") is r413
    b.update("0011223344556677", 1000, co2_ppm=900)
    b.update(0x0011223344556678, 1000, motion=1)
    b.update("00112233445566aa", 1000, co2_ppm=900, temperature_c=20.5)
    assert (r412.state.co2_class, r412.state.occupied, r412.state.samples) == ("ventilate", True, 2)
    assert (r413.state.co2_class, r413.state.occupied, r413.state.temperature_c) == ("fine", False, 20.5)
    events = b.events()
    assert [(e.room, e.kind) for e in events] == [("4.12", "ventilation_needed"), ("4.12", "occupied")]
    assert b.events() == [] and r412.events() == []
    assert json.loads(r412.to_json())["room"] == "4.12"
    assert "2 rooms" in repr(b) and "'4.12' in" in repr(r412)


def test_building_errors():
    b = Building()
    b.add_room("a")
    b.add_node(1, "a")
    with pytest.raises(sbprov.NotFoundError) as info:
        b.update(2, 1000, co2_ppm=900)
    assert info.value.message == "air building: node 0000000000000002 is in no room"
    assert isinstance(info.value, LookupError)
    with pytest.raises(sbprov.NotFoundError):
        b.update_frame(frame.Frame.parse(frame.encode(2, 0, {"co2_ppm": 900}, datagram=True)), 1000)
    with pytest.raises(sbprov.NotFoundError):
        b.room_for_node(2)
    with pytest.raises(sbprov.NotFoundError, match="no room named 'b'"):
        b.room("b")
    with pytest.raises(sbprov.NotFoundError, match='no room named "b"'):
        b.add_node(3, "b")
    with pytest.raises(sbprov.AlreadyExistsError, match='a room named "a" exists'):
        b.add_room("a")
    with pytest.raises(sbprov.AlreadyExistsError, match='node 0000000000000001 is already in room "a"'):
        b.add_node("0000000000000001", "a")
    with pytest.raises(sbprov.InvalidInputError, match="empty room name"):
        b.add_room("")
    with pytest.raises(sbprov.InvalidInputError, match="not a room of this building"):
        b.add_node(4, Building().add_room("a"))
    with pytest.raises(sbprov.InvalidInputError, match="not 16 hex digits"):
        b.update("1", 0)
    with pytest.raises(TypeError, match="unknown sample field 'co2'"):
        b.update(1, 0, co2=5)
    with pytest.raises(TypeError):
        b.add_node(1.0, "a")
    assert b.room("a").state.samples == 0  # nothing changed
    b.update(1, 1000)  # a clock tick for the room
    assert b.room("a").state.samples == 1


def test_building_fed_from_a_decoder():
    b = Building()
    rooms = [b.add_room(f"room-{i}") for i in range(3)]
    for i in range(3):
        b.add_node(0xA0 + i, f"room-{i}")
    wire = b"".join(frame.encode(0xA0 + i % 3, i // 3, {"co2_ppm": 500 + 100 * (i % 3), "motion": i % 2})
                    for i in range(30))
    wire += frame.encode(0xFF, 0, {"co2_ppm": 500})  # an unplaced node
    dec = frame.Decoder()
    unplaced = []
    for t, f in enumerate(dec.feed(wire)):
        try:
            b.update_frame(f, t * 1000)
        except sbprov.NotFoundError:
            unplaced.append(f.node)
    assert unplaced == ["00000000000000ff"]
    assert [r.state.samples for r in rooms] == [10, 10, 10]
    assert [r.state.co2_ppm for r in rooms] == [500, 600, 700]
    assert all(r.state.occupied for r in rooms)


def test_building_event_order():
    b = Building()
    a, c = b.add_room("a"), b.add_room("c")
    c.update(1000, co2_ppm=1500)
    a.update(1000, co2_ppm=1500)
    a.update(2000, motion=1)
    c.update(500 + 1000, motion=1)
    assert [(e.room, e.time_ms, e.kind) for e in b.events()] == [
        ("a", 1000, "ventilation_needed"), ("c", 1000, "ventilation_needed"), ("c", 1500, "occupied"),
        ("a", 2000, "occupied")]
    assert all(isinstance(e, Event) for e in a.events() + c.events())


def test_rooms_outlive_their_building_reference():
    b = Building()
    room = b.add_room("kept")
    b.add_node(1, "kept")
    ref = weakref.ref(b)
    del b
    gc.collect()
    assert ref() is not None  # the room keeps its building alive
    room.update(1000, co2_ppm=1200)
    assert room.state.co2_class == "ventilate" and room.building is ref()
    ref().update(1, 2000, co2_ppm=1300)
    assert room.state.co2_ppm == 1300
    # once the last room is gone too, the building is freed (the cycle is collected)
    del room
    gc.collect()
    assert ref() is None


def test_closed_building_disables_its_rooms():
    b = Building()
    room = b.add_room("x")
    room.update(0, co2_ppm=500)
    room.close()  # a room of a building: does nothing
    assert not room.closed
    room.update(1, co2_ppm=500)
    b.close()
    b.close()
    assert b.closed and room.closed and "closed" in repr(b)
    for call in (lambda: room.update(2), lambda: room.state, room.events, room.to_json, room.reset,
                 lambda: room.update_frame(frame.Frame.parse(frame.encode(1, 0, {}, datagram=True)), 3)):
        with pytest.raises(sbprov.InvalidInputError, match="its building was closed"):
            call()
    for call in (lambda: b.add_room("y"), lambda: b.add_node(1, "x"), lambda: b.update(1, 0), b.events,
                 lambda: b.room("x"), lambda: b.room_for_node(1)):
        with pytest.raises(sbprov.InvalidInputError, match="used after close"):
            call()
    with Building() as b2:
        b2.add_room("r")
    assert b2.closed


def test_rooms_and_buildings_under_threads():
    old = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        b = Building()
        threads = 6
        for t in range(threads):
            b.add_room(f"r{t}", smoothing_s=0)
            b.add_node(t + 1, f"r{t}")
        own = [Room() for _ in range(threads)]
        seen = []
        failures = []
        barrier = threading.Barrier(threads + 1)

        def feed(t):
            try:
                barrier.wait()
                for i in range(300):
                    b.update(t + 1, i * 1000, co2_ppm=1500 if i % 10 < 5 else 500, motion=int(i % 7 == 0))
                    own[t].update(i * 1000, co2_ppm=600 + i, temperature_c=20.25)
                    if i % 50 == 0:
                        b.room(f"r{t}").to_json()
            except BaseException as e:
                failures.append(repr(e))

        def drain():
            try:
                barrier.wait()
                for _ in range(300):
                    seen.extend(b.events())
                    for r in b.rooms:
                        r.state
            except BaseException as e:
                failures.append(repr(e))

        workers = [threading.Thread(target=feed, args=(t,)) for t in range(threads)]
        workers.append(threading.Thread(target=drain))
        for w in workers:
            w.start()
        for w in workers:
            w.join()
        assert not failures, failures[:3]
        seen.extend(b.events())
        for t in range(threads):
            st = b.room(f"r{t}").state
            assert st.samples == 300 and st.time_ms == 299_000
            assert own[t].state.samples == 300 and own[t].state.temperature_c == 20.25
            dropped = st.events_dropped
            assert len([e for e in seen if e.room == f"r{t}"]) + dropped >= 60  # 60 class changes at least
    finally:
        sys.setswitchinterval(old)
