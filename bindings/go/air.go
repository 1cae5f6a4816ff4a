package sbprov

import (
	"math"
	"runtime"
	"strconv"
	"sync"
	"time"

	"github.com/sbprov/libsbprov/bindings/go/internal/capi"
)

// Rooms (sbprov/air.h; the rules, sources and defaults are in docs/air.md):
// ventilation advice after the German UBA / ASR A3.6 CO2 steps, a trend with
// a prediction, and occupancy from PIR motion reinforced by rising CO2, fed
// with samples or decoded sensor frames.

// Off turns off a RoomOptions feature whose zero value means "the default":
// HysteresisPPM, Smoothing, TrendMinSpan, CO2RisePerMin and CO2RiseTime.
const Off = -1

// RoomOptions are the options of a room. The zero value of each field means
// the library's default, as everywhere in this package; Off sets the fields
// whose 0 has a meaning of its own to 0. Durations are rounded up to whole
// seconds. Out-of-range values are ErrInval naming the option (the ranges
// are in docs/air.md).
type RoomOptions struct {
	VentilatePPM    int           // Class VENTILATE at or above this; 0: 1000 (800 for stricter policies). 1..40000.
	VentilateNowPPM int           // Class VENTILATE_NOW at or above this; 0: 2000. Above VentilatePPM.
	HysteresisPPM   int           // A class is left only this far below its threshold; 0: 50, Off: none.
	Smoothing       time.Duration // Time constant of the smoothed CO2; 0: 60 s, Off: the raw readings. At most 1 h.
	TrendWindow     time.Duration // The trend is fitted over the readings of this window; 0: 10 min. 10 s..24 h.
	TrendMinSamples int           // Readings a trend needs; 0: 5. 3..128.
	TrendMinSpan    time.Duration // ... and the time they must span; 0: 5 min, Off: any. At most TrendWindow.
	PIRHold         time.Duration // Occupied this long after the last motion (or CO2 rise); 0: 10 min. 1 s..24 h.
	CO2RisePerMin   float64       // A trend (ppm/min) at or above this counts as presence; 0: 10, Off: CO2 not used.
	CO2RiseTime     time.Duration // ... once it has lasted this long; 0: 3 min, Off: at once. At most 24 h.
}

// flat returns the options as gosbprov_air_room_new() takes them.
func (o *RoomOptions) flat() (vals []int64, rate float64, rateSet int, err error) {
	vals = make([]int64, capi.GOSBPROV_ROOM_OPTIONS)
	for i := range vals {
		vals[i] = -1
	}
	if o == nil {
		return vals, 0, 0, nil
	}
	ints := []struct {
		name  string
		index int
		v     int
		off   bool
	}{
		{"VentilatePPM", capi.GOSBPROV_ROOM_VENTILATE_PPM, o.VentilatePPM, false},
		{"VentilateNowPPM", capi.GOSBPROV_ROOM_VENTILATE_NOW_PPM, o.VentilateNowPPM, false},
		{"HysteresisPPM", capi.GOSBPROV_ROOM_HYSTERESIS_PPM, o.HysteresisPPM, true},
		{"TrendMinSamples", capi.GOSBPROV_ROOM_TREND_MIN_SAMPLES, o.TrendMinSamples, false},
	}
	for _, f := range ints {
		switch {
		case f.v == 0:
		case f.v == Off && f.off:
			vals[f.index] = 0
		case f.v < 0 || int64(f.v) > math.MaxUint32:
			return nil, 0, 0, invalid("RoomOptions." + f.name + ": " + strconv.Itoa(f.v) + " is out of range" + offHint(f.off))
		default:
			vals[f.index] = int64(f.v)
		}
	}
	durations := []struct {
		name  string
		index int
		v     time.Duration
		off   bool
	}{
		{"Smoothing", capi.GOSBPROV_ROOM_SMOOTHING_S, o.Smoothing, true},
		{"TrendWindow", capi.GOSBPROV_ROOM_TREND_WINDOW_S, o.TrendWindow, false},
		{"TrendMinSpan", capi.GOSBPROV_ROOM_TREND_MIN_SPAN_S, o.TrendMinSpan, true},
		{"PIRHold", capi.GOSBPROV_ROOM_PIR_HOLD_S, o.PIRHold, false},
		{"CO2RiseTime", capi.GOSBPROV_ROOM_CO2_RISE_S, o.CO2RiseTime, true},
	}
	for _, f := range durations {
		switch {
		case f.v == 0:
		case f.v == Off && f.off:
			vals[f.index] = 0
		case f.v < 0 || ceilSeconds(f.v) > math.MaxUint32:
			return nil, 0, 0, invalid("RoomOptions." + f.name + ": " + f.v.String() + " is out of range" + offHint(f.off))
		default:
			vals[f.index] = ceilSeconds(f.v)
		}
	}
	switch r := o.CO2RisePerMin; {
	case r == 0:
	case r == Off:
		rate, rateSet = 0, 1
	case math.IsNaN(r) || math.IsInf(r, 0) || r < 0:
		return nil, 0, 0, invalid("RoomOptions.CO2RisePerMin: " + strconv.FormatFloat(r, 'g', -1, 64) +
			" is out of range (0..1000 ppm/min; Off: CO2 not used for occupancy)")
	default:
		rate, rateSet = r, 1
	}
	return vals, rate, rateSet, nil
}

// ceilSeconds returns d (>= 0) in whole seconds, rounded up.
func ceilSeconds(d time.Duration) int64 {
	s := int64(d / time.Second)
	if d%time.Second != 0 {
		s++
	}
	return s
}

func offHint(off bool) string {
	if off {
		return " (0: the default; Off: none)"
	}
	return " (0: the default)"
}

// Sample is one sample of a room's sensors: a time on the gateway's
// monotonic clock and the fields present. A sample with no field present is
// a clock tick (it lets the PIR hold time expire when the nodes are silent).
type Sample struct {
	// Time on the gateway's monotonic clock, any origin (e.g.
	// time.Since(start)), at least 0, never before the room's previous
	// sample; used in whole milliseconds (rounded down).
	Time time.Duration

	HasCO2            bool
	CO2PPM            uint32 // 0..40000.
	HasMotion         bool
	Motion            uint32 // PIR motion events since the node's previous sample; 0 = none.
	HasTemperature    bool
	TemperatureCentiC int32 // Hundredths of a degree Celsius, -4000..12500 (reported only).
	HasHumidity       bool
	HumidityCentiPct  uint32 // Hundredths of a percent, 0..10000 (reported only).
}

// millis converts a monotonic time to whole milliseconds, rounded down (so
// a negative time stays negative and is refused by the library).
func millis(d time.Duration) int64 {
	ms := int64(d / time.Millisecond)
	if d < 0 && d%time.Millisecond != 0 {
		ms--
	}
	return ms
}

func (s *Sample) flat() []int64 {
	v := make([]int64, capi.GOSBPROV_SAMPLE_FIELDS)
	v[capi.GOSBPROV_SAMPLE_TIME_MS] = millis(s.Time)
	v[capi.GOSBPROV_SAMPLE_HAS_CO2] = b2i(s.HasCO2)
	v[capi.GOSBPROV_SAMPLE_CO2_PPM] = int64(s.CO2PPM)
	v[capi.GOSBPROV_SAMPLE_HAS_MOTION] = b2i(s.HasMotion)
	v[capi.GOSBPROV_SAMPLE_MOTION] = int64(s.Motion)
	v[capi.GOSBPROV_SAMPLE_HAS_TEMPERATURE] = b2i(s.HasTemperature)
	v[capi.GOSBPROV_SAMPLE_TEMPERATURE] = int64(s.TemperatureCentiC)
	v[capi.GOSBPROV_SAMPLE_HAS_HUMIDITY] = b2i(s.HasHumidity)
	v[capi.GOSBPROV_SAMPLE_HUMIDITY] = int64(s.HumidityCentiPct)
	return v
}

func b2i(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

// Sample turns the frame into a room sample at time at (the gateway's
// monotonic clock when the record arrived; the node's own timestamp is not
// used): its CO2, motion, temperature and humidity readings that are in
// range (sbprov_air_sample_from_frame). VOC, pressure, light and battery are
// not used by rooms.
func (f Frame) Sample(at time.Duration) (Sample, error) {
	var s [slotSize]int64
	if err := f.toSlot("Frame.Sample", &s); err != nil {
		return Sample{}, err
	}
	out := make([]int64, capi.GOSBPROV_SAMPLE_FIELDS)
	if err := callStatus(func() int32 { return capi.Gosbprov_air_sample_from_frame(out, s[:], millis(at)) }); err != nil {
		return Sample{}, err
	}
	return Sample{
		Time:              time.Duration(out[capi.GOSBPROV_SAMPLE_TIME_MS]) * time.Millisecond,
		HasCO2:            out[capi.GOSBPROV_SAMPLE_HAS_CO2] != 0,
		CO2PPM:            uint32(out[capi.GOSBPROV_SAMPLE_CO2_PPM]),
		HasMotion:         out[capi.GOSBPROV_SAMPLE_HAS_MOTION] != 0,
		Motion:            uint32(out[capi.GOSBPROV_SAMPLE_MOTION]),
		HasTemperature:    out[capi.GOSBPROV_SAMPLE_HAS_TEMPERATURE] != 0,
		TemperatureCentiC: int32(out[capi.GOSBPROV_SAMPLE_TEMPERATURE]),
		HasHumidity:       out[capi.GOSBPROV_SAMPLE_HAS_HUMIDITY] != 0,
		HumidityCentiPct:  uint32(out[capi.GOSBPROV_SAMPLE_HUMIDITY]),
	}, nil
}

// CO2Class is a room's CO2 class (sbprov_air_co2_class).
type CO2Class int

// CO2 classes.
const (
	CO2Unknown      CO2Class = 0 // No CO2 reading yet.
	CO2Fine         CO2Class = 1 // Below the ventilate threshold (1000 ppm).
	CO2Ventilate    CO2Class = 2 // At or above the ventilate threshold: ventilate.
	CO2VentilateNow CO2Class = 3 // At or above the ventilate-now threshold (2000 ppm).
)

// String returns the library's name: "unknown", "fine", "ventilate",
// "ventilate_now", or "invalid".
func (c CO2Class) String() string {
	return enumName(capi.GOSBPROV_NAME_CO2_CLASS, int(c))
}

// RoomEventKind is what a room event reports (sbprov_air_event_kind).
type RoomEventKind int

// Event kinds.
const (
	RoomOccupied          RoomEventKind = 1 // The room became occupied.
	RoomFree              RoomEventKind = 2 // The room became free.
	RoomVentilationNeeded RoomEventKind = 3 // The class rose to VENTILATE or VENTILATE_NOW, or fell from VENTILATE_NOW to VENTILATE.
	RoomVentilationDone   RoomEventKind = 4 // The class fell to FINE.
)

// String returns the library's name: "occupied", "free",
// "ventilation_needed", "ventilation_done" ("none" for 0, "invalid" for
// other values).
func (k RoomEventKind) String() string {
	return enumName(capi.GOSBPROV_NAME_EVENT_KIND, int(k))
}

// RoomEventReason is why a room event happened (sbprov_air_reason).
type RoomEventReason int

// Event reasons.
const (
	ReasonNone       RoomEventReason = 0 // No reason (RoomState.OccupiedReason of a free room).
	ReasonMotion     RoomEventReason = 1 // Occupied: the PIR saw motion.
	ReasonCO2Rising  RoomEventReason = 2 // Occupied: CO2 rising fast enough for long enough.
	ReasonNoPresence RoomEventReason = 3 // Free: no motion for the hold time and CO2 not rising.
	ReasonCO2Above   RoomEventReason = 4 // Ventilation needed: the smoothed CO2 reached a threshold.
	ReasonCO2Below   RoomEventReason = 5 // Ventilation done, or down from VENTILATE_NOW: fell below a threshold minus the hysteresis.
)

// String returns the library's name: "none", "motion", "co2_rising",
// "no_presence", "co2_above", "co2_below", or "invalid".
func (r RoomEventReason) String() string {
	return enumName(capi.GOSBPROV_NAME_REASON, int(r))
}

// RoomState is where a room stands after its latest sample
// (sbprov_air_state).
type RoomState struct {
	Time    time.Duration // Time of the latest sample (0 before any: Samples is 0 then).
	Samples uint64        // Samples taken since the room was created or reset.

	CO2Class           CO2Class      // CO2Unknown before the first CO2 reading.
	HasCO2             bool          // A CO2 reading arrived; the CO2 fields need it.
	CO2PPM             uint32        // The latest CO2 reading.
	CO2SmoothedPPM     float64       // The smoothed CO2 the class is decided on.
	SinceCO2           time.Duration // Time since the latest CO2 reading.
	HasTrend           bool          // The window holds enough readings for a trend.
	TrendPPMPerMin     float64       // Least-squares slope of the readings in the window (0 without a trend).
	NextThresholdPPM   uint32        // The threshold above the current class (0 in VENTILATE_NOW or UNKNOWN).
	MinutesToThreshold float64       // Minutes until the smoothed CO2 reaches NextThresholdPPM at the trend; -1 when unknown, falling, flat or none.

	Occupied       bool            // The room is occupied.
	OccupiedReason RoomEventReason // Why it became occupied (ReasonMotion or ReasonCO2Rising); ReasonNone when free.
	CO2Rising      bool            // The CO2 has risen fast enough for long enough (counts as presence).
	MotionSeen     bool            // Motion was seen since the room was created or reset ...
	SinceMotion    time.Duration   // ... this long ago.

	HasTemperature    bool
	TemperatureCentiC int32 // Latest temperature, hundredths of a degree Celsius.
	HasHumidity       bool
	HumidityCentiPct  uint32 // Latest relative humidity, hundredths of a percent.

	EventsPending int    // Events waiting in the queue (Events takes them).
	EventsDropped uint64 // Events dropped because the queue (16) was full, oldest first.
}

// RoomEvent is a change in a room (sbprov_air_event).
type RoomEvent struct {
	Kind           RoomEventKind
	Reason         RoomEventReason
	Time           time.Duration // Time of the sample that caused it.
	CO2Class       CO2Class      // The class after the event ...
	PreviousClass  CO2Class      // ... and before it (equal for occupancy events).
	CO2PPM         uint32        // Smoothed CO2 at the event, rounded down (0 if unknown).
	ThresholdPPM   uint32        // The threshold crossed (ventilation events), else 0.
	TrendPPMPerMin float64       // The trend at the event (0 without one).
	MotionSeen     bool          // Motion was seen before the event ...
	SinceMotion    time.Duration // ... this long before it.
	Room           string        // The room's name ("" for an unnamed room).
	Text           string        // The reason as text, e.g. "co2 1012 ppm >= 1000".
}

// String returns e.g. "4.12: ventilation_needed (co2 1012 ppm >= 1000)"
// (without the name and colon for an unnamed room).
func (e RoomEvent) String() string {
	s := e.Kind.String() + " (" + e.Text + ")"
	if e.Room != "" {
		s = e.Room + ": " + s
	}
	return s
}

// airHandle owns a C building or a C room of its own; its finalizer frees
// it. A Building and all its Rooms point to the same airHandle (and it
// points to nothing), so the C building lives as long as any of them is
// reachable, and no finalizer sits in a reference cycle.
type airHandle struct {
	mu       sync.Mutex
	building uintptr // C sbprov_air_building *, or 0
	room     uintptr // C sbprov_air_room * of a room of its own, or 0
}

func (h *airHandle) open() bool {
	return h.building != 0 || h.room != 0
}

// free releases the C object; idempotent.
func (h *airHandle) free() {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.building != 0 {
		capi.Sbprov_air_building_free(h.building)
	} else if h.room != 0 {
		capi.Sbprov_air_room_free(h.room)
	}
	h.building, h.room = 0, 0
	runtime.SetFinalizer(h, nil)
}

func newAirHandle(building, room uintptr) *airHandle {
	h := &airHandle{building: building, room: room}
	runtime.SetFinalizer(h, (*airHandle).free)
	return h
}

// Room is a room fed with samples or frames (a C sbprov_air_room): it keeps
// a CO2 class with hysteresis, the smoothed CO2, a trend with the minutes to
// the next threshold, occupancy, and a queue of 16 events for every change.
//
// A Room from NewRoom is its own; Close frees it (a finalizer is only a
// safety net). A Room from Building.AddRoom belongs to the building: its
// Close does nothing, it keeps the building's C memory alive while it is
// referenced, and after Building.Close its methods return ErrInval. A Room
// is safe for concurrent use; its calls are serialised (with those of its
// building).
type Room struct {
	h     *airHandle
	room  uintptr // the C room: h.room, or owned by h.building
	name  string
	owned bool // a room of its own (NewRoom): Close frees it
}

// NewRoom creates a room of its own with no readings (class unknown, not
// occupied); opts may be nil for the defaults. A non-empty name (1 to 63
// bytes of printable ASCII, else ErrInval) is written into the room's JSON
// and events, as for the rooms of a Building; "" leaves it unnamed.
func NewRoom(name string, opts *RoomOptions) (*Room, error) {
	vals, rate, rateSet, err := opts.flat()
	if err != nil {
		return nil, err
	}
	if err := checkString("room name", name); err != nil {
		return nil, err
	}
	if name == "" {
		var h uintptr
		if err := callStatus(func() int32 { return capi.Gosbprov_air_room_new(&h, vals, rate, rateSet) }); err != nil {
			return nil, err
		}
		if h == 0 {
			return nil, &Error{Code: ErrGeneric, Message: "sbprov_air_room_new succeeded without a handle"}
		}
		return &Room{h: newAirHandle(0, h), room: h, owned: true}, nil
	}
	// The C API names only the rooms of a building: a named room of its own
	// is the one room of a building of its own.
	var b, r uintptr
	if err := callStatus(func() int32 { return capi.Sbprov_air_building_new(&b) }); err != nil {
		return nil, err
	}
	h := newAirHandle(b, 0)
	if err := callStatus(func() int32 {
		return capi.Gosbprov_air_building_add_room(&r, b, name, vals, rate, rateSet)
	}); err != nil {
		h.free()
		return nil, err
	}
	return &Room{h: h, room: r, name: name, owned: true}, nil
}

// acquire locks the room's handle and returns the C room, or an error
// (unlocked) if it is closed.
func (r *Room) acquire() (uintptr, error) {
	if r == nil || r.h == nil {
		return 0, invalid("Room: nil")
	}
	r.h.mu.Lock()
	if !r.h.open() {
		r.h.mu.Unlock()
		if r.owned {
			return 0, invalid("Room: used after Close")
		}
		return 0, invalid("Room " + strconv.Quote(r.name) + ": its Building was closed")
	}
	return r.room, nil
}

func (r *Room) release() {
	r.h.mu.Unlock()
	runtime.KeepAlive(r.h)
}

// Name returns the room's name ("" for an unnamed room).
func (r *Room) Name() string {
	if r == nil {
		return ""
	}
	return r.name
}

// Update feeds one sample. Everything is checked before anything changes: a
// time before the previous sample's (a clock that went backwards: Reset
// starts over), a negative time or a value out of range is ErrInval naming
// it, and leaves the room as it was.
func (r *Room) Update(s Sample) error {
	vals := s.flat()
	h, err := r.acquire()
	if err != nil {
		return err
	}
	defer r.release()
	return callStatus(func() int32 { return capi.Gosbprov_air_update(h, 0, 0, vals) })
}

// UpdateFrame feeds a decoded frame received at time at (the gateway's
// monotonic clock, see Sample): Update(f.Sample(at)) in one call. The
// frame's node is not looked at.
func (r *Room) UpdateFrame(f Frame, at time.Duration) error {
	var s [slotSize]int64
	if err := f.toSlot("Room.UpdateFrame", &s); err != nil {
		return err
	}
	h, err := r.acquire()
	if err != nil {
		return err
	}
	defer r.release()
	return callStatus(func() int32 { return capi.Gosbprov_air_update_frame(h, 0, s[:], millis(at)) })
}

// State returns the room's current state.
func (r *Room) State() (RoomState, error) {
	h, err := r.acquire()
	if err != nil {
		return RoomState{}, err
	}
	defer r.release()
	v := make([]int64, capi.GOSBPROV_STATE_FIELDS)
	d := make([]float64, capi.GOSBPROV_STATE_DOUBLES)
	if err := callStatus(func() int32 { return capi.Gosbprov_air_room_state(v, d, h) }); err != nil {
		return RoomState{}, err
	}
	st := RoomState{
		Samples:            uint64(v[capi.GOSBPROV_STATE_SAMPLES]),
		CO2Class:           CO2Class(v[capi.GOSBPROV_STATE_CO2_CLASS]),
		HasCO2:             v[capi.GOSBPROV_STATE_HAS_CO2] != 0,
		CO2PPM:             uint32(v[capi.GOSBPROV_STATE_CO2_PPM]),
		CO2SmoothedPPM:     d[capi.GOSBPROV_STATE_CO2_SMOOTHED],
		HasTrend:           v[capi.GOSBPROV_STATE_HAS_TREND] != 0,
		TrendPPMPerMin:     d[capi.GOSBPROV_STATE_TREND],
		NextThresholdPPM:   uint32(v[capi.GOSBPROV_STATE_NEXT_THRESHOLD]),
		MinutesToThreshold: d[capi.GOSBPROV_STATE_MINUTES],
		Occupied:           v[capi.GOSBPROV_STATE_OCCUPIED] != 0,
		OccupiedReason:     RoomEventReason(v[capi.GOSBPROV_STATE_OCCUPIED_REASON]),
		CO2Rising:          v[capi.GOSBPROV_STATE_CO2_RISING] != 0,
		HasTemperature:     v[capi.GOSBPROV_STATE_HAS_TEMPERATURE] != 0,
		TemperatureCentiC:  int32(v[capi.GOSBPROV_STATE_TEMPERATURE]),
		HasHumidity:        v[capi.GOSBPROV_STATE_HAS_HUMIDITY] != 0,
		HumidityCentiPct:   uint32(v[capi.GOSBPROV_STATE_HUMIDITY]),
		EventsPending:      int(v[capi.GOSBPROV_STATE_EVENTS_PENDING]),
		EventsDropped:      uint64(v[capi.GOSBPROV_STATE_EVENTS_DROPPED]),
	}
	if t := v[capi.GOSBPROV_STATE_TIME_MS]; t >= 0 {
		st.Time = time.Duration(t) * time.Millisecond
	}
	if t := v[capi.GOSBPROV_STATE_MS_SINCE_CO2]; t >= 0 {
		st.SinceCO2 = time.Duration(t) * time.Millisecond
	}
	if t := v[capi.GOSBPROV_STATE_MS_SINCE_MOTION]; t >= 0 {
		st.MotionSeen, st.SinceMotion = true, time.Duration(t)*time.Millisecond
	}
	return st, nil
}

// JSON renders the state as one flat JSON object for IoT Hub telemetry
// (sbprov_air_room_state_json), fields not known yet left out:
//
//	{"room":"4.12","time_ms":900000,"co2_class":"ventilate","co2_ppm":1013,...,"events_dropped":0}
func (r *Room) JSON() (string, error) {
	h, err := r.acquire()
	if err != nil {
		return "", err
	}
	defer r.release()
	return callText(FrameJSONMax, func(buf []byte, n *int64) int32 {
		return capi.Sbprov_air_room_state_json(buf, n, h)
	})
}

// Events takes the room's queued events, oldest first (nil if there are
// none, or after Close). The queue holds 16; when it overflows the oldest
// are dropped and counted in RoomState.EventsDropped.
func (r *Room) Events() []RoomEvent {
	h, err := r.acquire()
	if err != nil {
		return nil
	}
	defer r.release()
	return drainEvents(func(n *int64, v []int64, d []float64, text []byte) int32 {
		return capi.Gosbprov_air_room_events(n, h, v, d, text)
	})
}

// Reset forgets every reading, the state, the queued events and the drop
// count (the options and the name stay), e.g. after the gateway's clock
// restarted. It does nothing on a closed or nil room.
func (r *Room) Reset() {
	h, err := r.acquire()
	if err != nil {
		return
	}
	defer r.release()
	capi.Sbprov_air_room_reset(h)
}

// Close frees a room of its own (NewRoom); for a room of a building it does
// nothing (the building frees it). Idempotent; always nil.
func (r *Room) Close() error {
	if r == nil || r.h == nil || !r.owned {
		return nil
	}
	r.h.free()
	return nil
}

// eventBatch is the number of events one C call copies out at most.
const eventBatch = 16

// drainEvents calls take until it returns fewer events than fit.
func drainEvents(take func(n *int64, v []int64, d []float64, text []byte) int32) []RoomEvent {
	var events []RoomEvent
	v := make([]int64, eventBatch*capi.GOSBPROV_EVENT_FIELDS)
	d := make([]float64, eventBatch)
	text := make([]byte, eventBatch*capi.GOSBPROV_EVENT_TEXT)
	for {
		var n int64
		if err := callStatus(func() int32 { return take(&n, v, d, text) }); err != nil || n <= 0 {
			return events
		}
		for i := 0; i < int(n); i++ {
			s := v[i*capi.GOSBPROV_EVENT_FIELDS:]
			t := text[i*capi.GOSBPROV_EVENT_TEXT : (i+1)*capi.GOSBPROV_EVENT_TEXT]
			e := RoomEvent{
				Kind:           RoomEventKind(s[capi.GOSBPROV_EVENT_KIND]),
				Reason:         RoomEventReason(s[capi.GOSBPROV_EVENT_REASON]),
				Time:           time.Duration(s[capi.GOSBPROV_EVENT_TIME_MS]) * time.Millisecond,
				CO2Class:       CO2Class(s[capi.GOSBPROV_EVENT_CO2_CLASS]),
				PreviousClass:  CO2Class(s[capi.GOSBPROV_EVENT_PREVIOUS_CLASS]),
				CO2PPM:         uint32(s[capi.GOSBPROV_EVENT_CO2_PPM]),
				ThresholdPPM:   uint32(s[capi.GOSBPROV_EVENT_THRESHOLD]),
				TrendPPMPerMin: d[i],
				Room:           cString(t[:capi.SBPROV_AIR_NAME_SIZE]),
				Text:           cString(t[capi.SBPROV_AIR_NAME_SIZE:]),
			}
			if ms := s[capi.GOSBPROV_EVENT_MS_SINCE_MOTION]; ms >= 0 {
				e.MotionSeen, e.SinceMotion = true, time.Duration(ms)*time.Millisecond
			}
			events = append(events, e)
		}
		if n < eventBatch {
			return events
		}
	}
}

// cString returns b up to its first NUL.
func cString(b []byte) string {
	for i, c := range b {
		if c == 0 {
			return string(b[:i])
		}
	}
	return string(b)
}

// Building is a set of named rooms, each with its own options, and the
// sensor nodes placed in them (a C sbprov_air_building): samples and frames
// of a node go to its room.
//
// A Building is safe for concurrent use; its calls (and those of its rooms)
// are serialised. Close frees it and its rooms; a finalizer frees it once
// neither the Building nor any of its Rooms is reachable.
type Building struct {
	h        *airHandle
	rooms    []*Room           // in the order added; guarded by h.mu
	byHandle map[uintptr]*Room // guarded by h.mu
}

// NewBuilding creates an empty building.
func NewBuilding() (*Building, error) {
	var b uintptr
	if err := callStatus(func() int32 { return capi.Sbprov_air_building_new(&b) }); err != nil {
		return nil, err
	}
	if b == 0 {
		return nil, &Error{Code: ErrGeneric, Message: "sbprov_air_building_new succeeded without a handle"}
	}
	return &Building{h: newAirHandle(b, 0), byHandle: map[uintptr]*Room{}}, nil
}

// acquire locks the building and returns its C handle, or an error
// (unlocked) if it is closed.
func (b *Building) acquire() (uintptr, error) {
	if b == nil || b.h == nil {
		return 0, invalid("Building: nil")
	}
	b.h.mu.Lock()
	if b.h.building == 0 {
		b.h.mu.Unlock()
		return 0, invalid("Building: used after Close")
	}
	return b.h.building, nil
}

func (b *Building) release() {
	b.h.mu.Unlock()
	runtime.KeepAlive(b.h)
}

// AddRoom adds a room named name (1 to 63 bytes of printable ASCII, unique
// in the building; at most 4096 rooms) with its options (nil: the
// defaults). An existing name is ErrExists; a bad name or option ErrInval.
// The Room belongs to the building.
func (b *Building) AddRoom(name string, opts *RoomOptions) (*Room, error) {
	vals, rate, rateSet, err := opts.flat()
	if err != nil {
		return nil, err
	}
	if err := checkString("room name", name); err != nil {
		return nil, err
	}
	h, err := b.acquire()
	if err != nil {
		return nil, err
	}
	defer b.release()
	var r uintptr
	if err := callStatus(func() int32 {
		return capi.Gosbprov_air_building_add_room(&r, h, name, vals, rate, rateSet)
	}); err != nil {
		return nil, err
	}
	room := &Room{h: b.h, room: r, name: name}
	b.rooms = append(b.rooms, room)
	b.byHandle[r] = room
	return room, nil
}

// AddNode places a sensor node in the room named room: its samples and
// frames then go there. A room may have several nodes (a CO2 sensor and a
// PIR); a node is in one room (ErrExists if it is placed already). No such
// room is ErrNotFound.
func (b *Building) AddNode(node NodeID, room string) error {
	if err := checkString("room name", room); err != nil {
		return err
	}
	h, err := b.acquire()
	if err != nil {
		return err
	}
	defer b.release()
	return callStatus(func() int32 { return capi.Sbprov_air_building_add_node(h, node.Uint64(), room) })
}

// Update feeds a sample of node to its room (Room.Update). A node placed in
// no room is ErrNotFound; nothing changes then.
func (b *Building) Update(node NodeID, s Sample) error {
	vals := s.flat()
	h, err := b.acquire()
	if err != nil {
		return err
	}
	defer b.release()
	return callStatus(func() int32 { return capi.Gosbprov_air_update(0, h, node.Uint64(), vals) })
}

// UpdateFrame feeds a decoded frame, received at time at (the gateway's
// monotonic clock), to the room of its node (sbprov_air_building_update_frame).
// A node placed in no room is ErrNotFound; nothing changes then.
func (b *Building) UpdateFrame(f Frame, at time.Duration) error {
	var s [slotSize]int64
	if err := f.toSlot("Building.UpdateFrame", &s); err != nil {
		return err
	}
	h, err := b.acquire()
	if err != nil {
		return err
	}
	defer b.release()
	return callStatus(func() int32 { return capi.Gosbprov_air_update_frame(0, h, s[:], millis(at)) })
}

// Room returns the room named name, or ErrNotFound.
func (b *Building) Room(name string) (*Room, error) {
	if err := checkString("room name", name); err != nil {
		return nil, err
	}
	h, err := b.acquire()
	if err != nil {
		return nil, err
	}
	defer b.release()
	var r uintptr
	if err := callStatus(func() int32 { return capi.Sbprov_air_building_room(&r, h, name) }); err != nil {
		return nil, err
	}
	return b.lookup(r)
}

// RoomForNode returns the room node is placed in, or ErrNotFound.
func (b *Building) RoomForNode(node NodeID) (*Room, error) {
	h, err := b.acquire()
	if err != nil {
		return nil, err
	}
	defer b.release()
	var r uintptr
	if err := callStatus(func() int32 { return capi.Sbprov_air_building_room_for_node(&r, h, node.Uint64()) }); err != nil {
		return nil, err
	}
	return b.lookup(r)
}

// lookup returns the Room of a C room; b.h.mu is held.
func (b *Building) lookup(r uintptr) (*Room, error) {
	if room, ok := b.byHandle[r]; ok {
		return room, nil
	}
	return nil, &Error{Code: ErrGeneric, Message: "Building: the library returned a room this binding did not add"}
}

// Rooms returns the rooms in the order they were added (nil after Close).
func (b *Building) Rooms() []*Room {
	if _, err := b.acquire(); err != nil {
		return nil
	}
	defer b.release()
	return append([]*Room(nil), b.rooms...)
}

// Events takes the queued events of every room, oldest first (by time, then
// by the order the rooms were added); RoomEvent.Room names the room. Nil if
// there are none, or after Close.
func (b *Building) Events() []RoomEvent {
	h, err := b.acquire()
	if err != nil {
		return nil
	}
	defer b.release()
	return drainEvents(func(n *int64, v []int64, d []float64, text []byte) int32 {
		return capi.Gosbprov_air_building_events(n, h, v, d, text)
	})
}

// Close frees the building and its rooms; later calls on them return
// ErrInval. Idempotent; always nil.
func (b *Building) Close() error {
	if b == nil || b.h == nil {
		return nil
	}
	b.h.free()
	return nil
}
