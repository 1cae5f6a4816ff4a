package sbprov_test

import (
	"math"
	"math/rand"
	"reflect"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	sbprov "github.com/sbprov/libsbprov/bindings/go"
)

// Rooms and buildings (sbprov/air.h) through the Go API.

// risingCO2 is a meeting: CO2 from 420 ppm rising 40 ppm/min (6 people in
// 50 m3), seeded +-10 ppm noise, a sample every 30 s, motion at arrival and
// every 5 minutes.
func risingCO2(r *rand.Rand, minutes int) []sbprov.Sample {
	var out []sbprov.Sample
	for t := 0; t <= minutes*60; t += 30 {
		co2 := 420 + 40*float64(t)/60 + float64(r.Intn(21)-10)
		s := sbprov.Sample{Time: time.Duration(t) * time.Second, HasCO2: true, CO2PPM: uint32(co2 + 0.5),
			HasMotion: true, HasTemperature: true, TemperatureCentiC: 2153, HasHumidity: true, HumidityCentiPct: 4520}
		if t%300 == 0 {
			s.Motion = 1
		}
		out = append(out, s)
	}
	return out
}

func TestRoomCO2RisingWithMotion(t *testing.T) {
	r := rand.New(rand.NewSource(testSeed(t)))
	samples := risingCO2(r, 45)
	room, err := sbprov.NewRoom("4.12", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer room.Close()
	var events []sbprov.RoomEvent
	for _, s := range samples {
		if err := room.Update(s); err != nil {
			t.Fatalf("Update(%+v): %v", s, err)
		}
		events = append(events, room.Events()...)
		if s.Time == 10*time.Minute {
			st, err := room.State()
			if err != nil {
				t.Fatal(err)
			}
			if !st.HasTrend || math.Abs(st.TrendPPMPerMin-40) > 4 || st.CO2Class != sbprov.CO2Fine ||
				st.NextThresholdPPM != 1000 || !st.Occupied || st.OccupiedReason != sbprov.ReasonMotion {
				t.Errorf("state at 10 min: %+v", st)
			}
			// (1000 - level) / trend, the level being about 820 ppm.
			if want := (1000 - st.CO2SmoothedPPM) / st.TrendPPMPerMin; math.Abs(st.MinutesToThreshold-want) > 0.5 ||
				st.MinutesToThreshold < 3.5 || st.MinutesToThreshold > 6 {
				t.Errorf("minutes to 1000 ppm at 10 min: %.2f (level %.1f, trend %.1f)", st.MinutesToThreshold,
					st.CO2SmoothedPPM, st.TrendPPMPerMin)
			}
		}
	}
	if len(events) != 3 {
		t.Fatalf("events %v, want occupied and two ventilation_needed", events)
	}
	occ, v1, v2 := events[0], events[1], events[2]
	if occ.Kind != sbprov.RoomOccupied || occ.Reason != sbprov.ReasonMotion || occ.Time != 0 || occ.Room != "4.12" ||
		occ.Text != "motion" || !occ.MotionSeen || occ.SinceMotion != 0 || occ.String() != "4.12: occupied (motion)" {
		t.Errorf("first event %+v", occ)
	}
	// The air crosses 1000 ppm at 14.5 min and 2000 ppm at 39.5 min.
	for i, e := range []sbprov.RoomEvent{v1, v2} {
		threshold := uint32(1000 * (i + 1))
		cross := time.Duration((float64(threshold)-420)/40*60) * time.Second
		if e.Kind != sbprov.RoomVentilationNeeded || e.Reason != sbprov.ReasonCO2Above || e.ThresholdPPM != threshold ||
			e.CO2PPM < threshold || e.CO2Class != sbprov.CO2Class(2+i) || e.PreviousClass != sbprov.CO2Class(1+i) ||
			e.Time < cross-90*time.Second || e.Time > cross+90*time.Second || math.Abs(e.TrendPPMPerMin-40) > 4 ||
			!strings.HasPrefix(e.Text, "co2 ") || !strings.HasSuffix(e.Text, " ppm >= "+strconv.Itoa(int(threshold))) {
			t.Errorf("ventilation event %d: %+v (air crossed at %v)", i, e, cross)
		}
	}
	st, err := room.State()
	if err != nil {
		t.Fatal(err)
	}
	if st.CO2Class != sbprov.CO2VentilateNow || st.CO2Class.String() != "ventilate_now" || !st.Occupied ||
		st.Samples != uint64(len(samples)) || st.Time != 45*time.Minute || !st.HasTemperature ||
		st.TemperatureCentiC != 2153 || st.HumidityCentiPct != 4520 || st.MinutesToThreshold != -1 ||
		st.NextThresholdPPM != 0 || st.EventsPending != 0 || st.EventsDropped != 0 || !st.MotionSeen ||
		st.SinceMotion != 0 || st.SinceCO2 != 0 {
		t.Errorf("final state %+v", st)
	}
	j, err := room.JSON()
	if err != nil || !strings.HasPrefix(j, `{"room":"4.12","time_ms":2700000,"co2_class":"ventilate_now",`) ||
		!strings.Contains(j, `"occupied":true,"occupied_reason":"motion","seconds_since_motion":0,"temperature_c":21.53,"humidity_pct":45.2,"events_dropped":0}`) {
		t.Errorf("JSON = %s, %v", j, err)
	}

	// The same meeting as sensor frames, decoded and fed with UpdateFrame,
	// gives the same events and state.
	node := sbprov.NodeID{0xa1, 0xb2, 0xc3, 0xd4, 0xe5, 0xf6, 0x07, 0x18}
	var wire []byte
	for i, s := range samples {
		spec := sbprov.FrameSpec{Node: node, Epoch: 3, Seq: uint16(i), Readings: []sbprov.Reading{
			{Kind: sbprov.KindCO2PPM, Value: int64(s.CO2PPM)}, {Kind: sbprov.KindMotion, Value: int64(s.Motion)},
			{Kind: sbprov.KindTemperatureC, Value: 2153}, {Kind: sbprov.KindHumidityPct, Value: 4520},
			{Kind: sbprov.KindBatteryMV, Value: 3300}}}
		w, err := sbprov.EncodeFrame(spec)
		if err != nil {
			t.Fatal(err)
		}
		wire = append(wire, w...)
	}
	d := newDecoder(t, 0)
	frames, err := d.Feed(wire)
	if err != nil || len(frames) != len(samples) {
		t.Fatalf("%d frames, %v", len(frames), err)
	}
	room2, err := sbprov.NewRoom("4.12", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer room2.Close()
	var events2 []sbprov.RoomEvent
	for i, f := range frames {
		s, err := f.Sample(samples[i].Time)
		if err != nil || !reflect.DeepEqual(s, samples[i]) {
			t.Fatalf("Frame.Sample = %+v, %v\nwant %+v", s, err, samples[i])
		}
		if err := room2.UpdateFrame(f, samples[i].Time); err != nil {
			t.Fatal(err)
		}
		events2 = append(events2, room2.Events()...)
	}
	if !reflect.DeepEqual(events, events2) {
		t.Errorf("events from frames differ:\n%v\n%v", events, events2)
	}
	st2, _ := room2.State()
	if !reflect.DeepEqual(st, st2) {
		t.Errorf("state from frames differs:\n%+v\n%+v", st, st2)
	}
}

// People sitting still: occupancy from CO2 alone, then free after the hold
// time once they left (options in Go units).
func TestRoomOccupancyFromCO2(t *testing.T) {
	room, err := sbprov.NewRoom("", &sbprov.RoomOptions{PIRHold: 2 * time.Minute, CO2RiseTime: 90 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer room.Close()
	var events []sbprov.RoomEvent
	co2 := 420.0
	for t0 := 0; t0 <= 40*60; t0 += 30 {
		if t0 < 20*60 {
			co2 += 10 // 20 ppm/min
		} else {
			co2 -= 8
		}
		if err := room.Update(sbprov.Sample{Time: time.Duration(t0) * time.Second, HasCO2: true, CO2PPM: uint32(co2)}); err != nil {
			t.Fatal(err)
		}
		events = append(events, room.Events()...)
	}
	if len(events) < 2 || events[0].Kind != sbprov.RoomOccupied || events[0].Reason != sbprov.ReasonCO2Rising ||
		events[0].Room != "" || events[0].MotionSeen || !strings.HasPrefix(events[0].Text, "co2 rising ") ||
		events[0].String() != "occupied ("+events[0].Text+")" {
		t.Fatalf("events %+v", events)
	}
	last := events[len(events)-1]
	if last.Kind != sbprov.RoomFree || last.Reason != sbprov.ReasonNoPresence || last.Time <= 20*time.Minute ||
		last.Kind.String() != "free" || last.Reason.String() != "no_presence" {
		t.Errorf("last event %+v", last)
	}
	if room.Name() != "" {
		t.Error("unnamed room has a name")
	}
	if j, _ := room.JSON(); strings.Contains(j, `"room"`) {
		t.Errorf("unnamed room's JSON names a room: %s", j)
	}
}

// Off sets an option to 0; 0 keeps the default.
func TestRoomOptionsOff(t *testing.T) {
	drop := func(opts *sbprov.RoomOptions) []sbprov.RoomEvent {
		room, err := sbprov.NewRoom("", opts)
		if err != nil {
			t.Fatal(err)
		}
		defer room.Close()
		for i, v := range []uint32{1000, 990} {
			if err := room.Update(sbprov.Sample{Time: time.Duration(i) * time.Minute, HasCO2: true, CO2PPM: v}); err != nil {
				t.Fatal(err)
			}
		}
		return room.Events()
	}
	// Raw readings, no hysteresis: 990 ppm ends VENTILATE at once.
	ev := drop(&sbprov.RoomOptions{Smoothing: sbprov.Off, HysteresisPPM: sbprov.Off})
	if len(ev) != 2 || ev[1].Kind != sbprov.RoomVentilationDone || ev[1].Reason != sbprov.ReasonCO2Below {
		t.Errorf("without hysteresis: %v", ev)
	}
	// Raw readings, default hysteresis (50 ppm): 990 stays VENTILATE.
	ev = drop(&sbprov.RoomOptions{Smoothing: sbprov.Off})
	if len(ev) != 1 || ev[0].Kind != sbprov.RoomVentilationNeeded {
		t.Errorf("default hysteresis: %v", ev)
	}
	// An 800 ppm policy.
	room, err := sbprov.NewRoom("", &sbprov.RoomOptions{VentilatePPM: 800, TrendMinSpan: sbprov.Off, CO2RisePerMin: sbprov.Off,
		CO2RiseTime: sbprov.Off, TrendWindow: 20 * time.Minute, TrendMinSamples: 3, Smoothing: 1500 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer room.Close()
	if err := room.Update(sbprov.Sample{HasCO2: true, CO2PPM: 850}); err != nil {
		t.Fatal(err)
	}
	if ev := room.Events(); len(ev) != 1 || ev[0].ThresholdPPM != 800 || ev[0].Text != "co2 850 ppm >= 800" {
		t.Errorf("800 ppm policy: %+v", ev)
	}
}

func TestRoomErrors(t *testing.T) {
	for _, tc := range []struct {
		opts sbprov.RoomOptions
		frag string
	}{
		{sbprov.RoomOptions{VentilatePPM: -5}, "RoomOptions.VentilatePPM: -5 is out of range"},
		{sbprov.RoomOptions{VentilatePPM: sbprov.Off}, "RoomOptions.VentilatePPM"},
		{sbprov.RoomOptions{VentilatePPM: 50000}, "ventilate_ppm 50000 is out of range (1..40000)"},
		{sbprov.RoomOptions{VentilatePPM: 1 << 40}, "RoomOptions.VentilatePPM"},
		{sbprov.RoomOptions{VentilateNowPPM: 900}, "ventilate_now_ppm 900 must be above ventilate_ppm (1000)"},
		{sbprov.RoomOptions{HysteresisPPM: -2}, "RoomOptions.HysteresisPPM: -2 is out of range (0: the default; Off: none)"},
		{sbprov.RoomOptions{TrendWindow: 5 * time.Second}, "trend_window_s 5 is out of range (10..86400)"},
		{sbprov.RoomOptions{TrendWindow: sbprov.Off}, "RoomOptions.TrendWindow"},
		{sbprov.RoomOptions{TrendWindow: -time.Hour}, "RoomOptions.TrendWindow: -1h0m0s is out of range"},
		{sbprov.RoomOptions{PIRHold: 48 * time.Hour}, "pir_hold_s 172800 is out of range (1..86400)"},
		{sbprov.RoomOptions{PIRHold: time.Duration(math.MaxInt64)}, "RoomOptions.PIRHold"},
		{sbprov.RoomOptions{TrendMinSamples: 2}, "trend_min_samples 2"},
		{sbprov.RoomOptions{CO2RisePerMin: math.NaN()}, "RoomOptions.CO2RisePerMin: NaN"},
		{sbprov.RoomOptions{CO2RisePerMin: -3}, "RoomOptions.CO2RisePerMin: -3"},
		{sbprov.RoomOptions{CO2RisePerMin: 1001}, "co2_rise_ppm_per_min"},
	} {
		_, err := sbprov.NewRoom("", &tc.opts)
		wantErr(t, err, sbprov.ErrInval, tc.frag)
		_, err = sbprov.NewRoom("named", &tc.opts)
		wantErr(t, err, sbprov.ErrInval, tc.frag)
	}
	for _, name := range []string{"a\x00b", "tab\there", strings.Repeat("x", 64), "ümlaut"} {
		_, err := sbprov.NewRoom(name, nil)
		wantErr(t, err, sbprov.ErrInval, "name")
	}
	if r, err := sbprov.NewRoom(strings.Repeat("x", 63), nil); err != nil || r.Name() != strings.Repeat("x", 63) {
		t.Errorf("63-byte name: %v", err)
	} else {
		r.Close()
	}

	room, err := sbprov.NewRoom("r", nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := room.Update(sbprov.Sample{Time: time.Minute, HasCO2: true, CO2PPM: 600}); err != nil {
		t.Fatal(err)
	}
	wantErr(t, room.Update(sbprov.Sample{Time: time.Second}), sbprov.ErrInval, "backwards")
	wantErr(t, room.Update(sbprov.Sample{Time: -time.Microsecond}), sbprov.ErrInval, "negative")
	wantErr(t, room.Update(sbprov.Sample{Time: time.Hour, HasCO2: true, CO2PPM: 40001}), sbprov.ErrInval,
		"co2_ppm 40001 is out of range (0..40000)")
	wantErr(t, room.Update(sbprov.Sample{Time: time.Hour, HasTemperature: true, TemperatureCentiC: -4001}), sbprov.ErrInval,
		"temperature_centi_c -4001")
	wantErr(t, room.UpdateFrame(sbprov.Frame{}, -time.Millisecond), sbprov.ErrInval, "negative")
	// Refused samples changed nothing; values not flagged present are not looked at.
	if err := room.Update(sbprov.Sample{Time: time.Hour, CO2PPM: 99999}); err != nil {
		t.Fatal(err)
	}
	st, _ := room.State()
	if st.Samples != 2 || st.CO2PPM != 600 || st.Time != time.Hour || st.SinceCO2 != 59*time.Minute {
		t.Errorf("state %+v", st)
	}
	room.Reset()
	st, _ = room.State()
	if st.Samples != 0 || st.CO2Class != sbprov.CO2Unknown || st.HasCO2 || st.Time != 0 || st.CO2Class.String() != "unknown" {
		t.Errorf("after Reset %+v", st)
	}
	if err := room.Update(sbprov.Sample{Time: time.Second}); err != nil { // the clock may start over
		t.Fatal(err)
	}
	room.Close()
	room.Close()
	wantErr(t, room.Update(sbprov.Sample{}), sbprov.ErrInval, "used after Close")
	_, err = room.State()
	wantErr(t, err, sbprov.ErrInval, "used after Close")
	_, err = room.JSON()
	wantErr(t, err, sbprov.ErrInval, "used after Close")
	if room.Events() != nil {
		t.Error("events after Close")
	}
	room.Reset()
	var nilRoom *sbprov.Room
	wantErr(t, nilRoom.Update(sbprov.Sample{}), sbprov.ErrInval, "nil")
	if nilRoom.Close() != nil || nilRoom.Events() != nil || nilRoom.Name() != "" {
		t.Error("nil room")
	}
	nilRoom.Reset()
}

func TestRoomEventQueueOverflow(t *testing.T) {
	room, err := sbprov.NewRoom("q", &sbprov.RoomOptions{Smoothing: sbprov.Off, HysteresisPPM: sbprov.Off})
	if err != nil {
		t.Fatal(err)
	}
	defer room.Close()
	for i := 0; i < 40; i++ {
		co2 := uint32(900)
		if i%2 == 0 {
			co2 = 1100
		}
		if err := room.Update(sbprov.Sample{Time: time.Duration(i) * time.Second, HasCO2: true, CO2PPM: co2}); err != nil {
			t.Fatal(err)
		}
	}
	st, _ := room.State()
	if st.EventsPending != 16 || st.EventsDropped != 24 {
		t.Errorf("pending %d dropped %d", st.EventsPending, st.EventsDropped)
	}
	ev := room.Events()
	if len(ev) != 16 || ev[0].Time != 24*time.Second || ev[15].Time != 39*time.Second {
		t.Fatalf("%d events, first at %v", len(ev), ev[0].Time)
	}
	if room.Events() != nil {
		t.Error("Events did not drain")
	}
}

func TestBuildingRouting(t *testing.T) {
	b, err := sbprov.NewBuilding()
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	r412, err := b.AddRoom("4.12", nil)
	if err != nil {
		t.Fatal(err)
	}
	r413, err := b.AddRoom("4.13", &sbprov.RoomOptions{VentilatePPM: 800})
	if err != nil {
		t.Fatal(err)
	}
	_, err = b.AddRoom("4.12", nil)
	wantErr(t, err, sbprov.ErrExists, "4.12")
	for _, name := range []string{"", "a\x00", strings.Repeat("y", 64)} {
		_, err = b.AddRoom(name, nil)
		wantErr(t, err, sbprov.ErrInval, "name")
	}
	co2A, pirC := sbprov.NodeIDFromUint64(0xA), sbprov.NodeIDFromUint64(0xC)
	co2B, stray := sbprov.NodeIDFromUint64(0xB), sbprov.NodeIDFromUint64(0xDEAD)
	for _, p := range []struct {
		node sbprov.NodeID
		room string
	}{{co2A, "4.12"}, {pirC, "4.12"}, {co2B, "4.13"}} {
		if err := b.AddNode(p.node, p.room); err != nil {
			t.Fatal(err)
		}
	}
	wantErr(t, b.AddNode(stray, "5.01"), sbprov.ErrNotFound)
	wantErr(t, b.AddNode(co2A, "4.13"), sbprov.ErrExists)
	wantErr(t, b.AddNode(stray, "4.13\x00"), sbprov.ErrInval, "NUL")

	if got := b.Rooms(); len(got) != 2 || got[0] != r412 || got[1] != r413 {
		t.Fatalf("Rooms() = %v", got)
	}
	if got, err := b.Room("4.13"); err != nil || got != r413 || got.Name() != "4.13" {
		t.Errorf("Room(4.13) = %v, %v", got, err)
	}
	_, err = b.Room("nope")
	wantErr(t, err, sbprov.ErrNotFound)
	if got, err := b.RoomForNode(pirC); err != nil || got != r412 {
		t.Errorf("RoomForNode(C) = %v, %v", got, err)
	}
	_, err = b.RoomForNode(stray)
	wantErr(t, err, sbprov.ErrNotFound)

	// Samples go to the node's room.
	if err := b.Update(co2A, sbprov.Sample{Time: time.Minute, HasCO2: true, CO2PPM: 900}); err != nil {
		t.Fatal(err)
	}
	if err := b.Update(pirC, sbprov.Sample{Time: time.Minute, HasMotion: true, Motion: 2}); err != nil {
		t.Fatal(err)
	}
	wantErr(t, b.Update(stray, sbprov.Sample{Time: time.Minute, HasCO2: true, CO2PPM: 900}), sbprov.ErrNotFound)
	f, err := frameFor(co2B, 1, sbprov.Reading{Kind: sbprov.KindCO2PPM, Value: 900})
	if err != nil {
		t.Fatal(err)
	}
	if err := b.UpdateFrame(f, 2*time.Minute); err != nil {
		t.Fatal(err)
	}
	fs, _ := frameFor(stray, 1, sbprov.Reading{Kind: sbprov.KindCO2PPM, Value: 900})
	wantErr(t, b.UpdateFrame(fs, 2*time.Minute), sbprov.ErrNotFound)

	s412, _ := r412.State()
	s413, _ := r413.State()
	if s412.CO2Class != sbprov.CO2Fine || !s412.Occupied || s412.Samples != 2 || s413.CO2Class != sbprov.CO2Ventilate ||
		s413.Occupied || s413.Samples != 1 {
		t.Errorf("4.12 %+v\n4.13 %+v", s412, s413)
	}
	ev := b.Events()
	if len(ev) != 2 || ev[0].Room != "4.12" || ev[0].Kind != sbprov.RoomOccupied || ev[1].Room != "4.13" ||
		ev[1].Kind != sbprov.RoomVentilationNeeded || ev[1].ThresholdPPM != 800 {
		t.Errorf("building events %v", ev)
	}
	if b.Events() != nil || r412.Events() != nil {
		t.Error("events not drained")
	}
	if j, err := r413.JSON(); err != nil || !strings.HasPrefix(j, `{"room":"4.13","time_ms":120000,"co2_class":"ventilate"`) {
		t.Errorf("4.13 JSON %s, %v", j, err)
	}
	// A building room's Close does nothing.
	if err := r412.Close(); err != nil {
		t.Fatal(err)
	}
	if err := r412.Update(sbprov.Sample{Time: 3 * time.Minute}); err != nil {
		t.Fatalf("building room unusable after its Close: %v", err)
	}

	b.Close()
	b.Close()
	wantErr(t, r412.Update(sbprov.Sample{Time: time.Hour}), sbprov.ErrInval, `Room "4.12": its Building was closed`)
	wantErr(t, b.Update(co2A, sbprov.Sample{}), sbprov.ErrInval, "used after Close")
	wantErr(t, b.AddNode(co2A, "4.12"), sbprov.ErrInval, "used after Close")
	_, err = b.AddRoom("x", nil)
	wantErr(t, err, sbprov.ErrInval, "used after Close")
	_, err = b.Room("4.12")
	wantErr(t, err, sbprov.ErrInval, "used after Close")
	if b.Rooms() != nil || b.Events() != nil {
		t.Error("closed building lists rooms or events")
	}
	var nb *sbprov.Building
	wantErr(t, nb.AddNode(co2A, "x"), sbprov.ErrInval, "nil")
	if nb.Close() != nil {
		t.Error("nil building")
	}
}

func frameFor(node sbprov.NodeID, seq uint16, rs ...sbprov.Reading) (sbprov.Frame, error) {
	rec, err := sbprov.EncodeRecord(sbprov.FrameSpec{Node: node, Seq: seq, Readings: rs})
	if err != nil {
		return sbprov.Frame{}, err
	}
	return sbprov.ParseFrame(rec)
}

// A Room keeps its building's C memory alive: only the room is kept here.
func TestBuildingKeptAliveByRoom(t *testing.T) {
	room := func() *sbprov.Room {
		b, err := sbprov.NewBuilding()
		if err != nil {
			t.Fatal(err)
		}
		r, err := b.AddRoom("kept", nil)
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i < 10; i++ { // rooms that nothing references
			if _, err := b.AddRoom("other"+strconv.Itoa(i), nil); err != nil {
				t.Fatal(err)
			}
		}
		return r
	}()
	for i := 0; i < 5; i++ {
		runtime.GC()
		time.Sleep(time.Millisecond)
	}
	for i := 0; i < 50; i++ {
		if err := room.Update(sbprov.Sample{Time: time.Duration(i) * time.Second, HasCO2: true, CO2PPM: 700}); err != nil {
			t.Fatal(err)
		}
	}
	if j, err := room.JSON(); err != nil || !strings.HasPrefix(j, `{"room":"kept"`) {
		t.Fatalf("%s, %v", j, err)
	}
	// Unreferenced buildings and rooms are freed by their finalizers (run
	// under the race detector and cgocheck, this catches a double free).
	for i := 0; i < 200; i++ {
		b, _ := sbprov.NewBuilding()
		b.AddRoom("r", nil)
		r, _ := sbprov.NewRoom("", nil)
		r.Update(sbprov.Sample{})
		nr, _ := sbprov.NewRoom("named", nil)
		nr.Update(sbprov.Sample{})
	}
	runtime.GC()
	runtime.GC()
}

func TestRoomEnumNames(t *testing.T) {
	for i, n := range []string{"unknown", "fine", "ventilate", "ventilate_now", "invalid"} {
		if s := sbprov.CO2Class(i).String(); s != n {
			t.Errorf("CO2Class(%d) = %q", i, s)
		}
	}
	for i, n := range []string{"none", "occupied", "free", "ventilation_needed", "ventilation_done", "invalid"} {
		if s := sbprov.RoomEventKind(i).String(); s != n {
			t.Errorf("RoomEventKind(%d) = %q", i, s)
		}
	}
	for i, n := range []string{"none", "motion", "co2_rising", "no_presence", "co2_above", "co2_below", "invalid"} {
		if s := sbprov.RoomEventReason(i).String(); s != n {
			t.Errorf("RoomEventReason(%d) = %q", i, s)
		}
	}
	if sbprov.RoomVentilationDone.String() != "ventilation_done" || sbprov.ReasonCO2Below.String() != "co2_below" ||
		sbprov.CO2VentilateNow.String() != "ventilate_now" || sbprov.CO2Class(-1).String() != "invalid" {
		t.Error("constant names")
	}
}
