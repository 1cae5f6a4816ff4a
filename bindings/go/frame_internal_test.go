package sbprov

import (
	"testing"

	"github.com/sbprov/libsbprov/bindings/go/internal/capi"
)

// The Go constants of frames and rooms against the C headers, and the
// layouts shared with the C helpers of sbprov.i.

func TestFrameConstantsMatchHeader(t *testing.T) {
	if FrameMax != capi.SBPROV_FRAME_MAX || FrameMin != capi.SBPROV_FRAME_MIN || FrameWireMax != capi.SBPROV_FRAME_WIRE_MAX ||
		FrameJSONMax != capi.SBPROV_FRAME_JSON_MAX {
		t.Error("a frame size differs from sbprov/frame.h")
	}
	kinds := map[ReadingKind]int{
		KindCO2PPM: capi.SBPROV_FRAME_KIND_CO2_PPM, KindTemperatureC: capi.SBPROV_FRAME_KIND_TEMPERATURE_C,
		KindHumidityPct: capi.SBPROV_FRAME_KIND_HUMIDITY_PCT, KindMotion: capi.SBPROV_FRAME_KIND_MOTION,
		KindVOCPPB: capi.SBPROV_FRAME_KIND_VOC_PPB, KindPressurePa: capi.SBPROV_FRAME_KIND_PRESSURE_PA,
		KindIlluminanceLux: capi.SBPROV_FRAME_KIND_ILLUMINANCE_LUX, KindBatteryMV: capi.SBPROV_FRAME_KIND_BATTERY_MV,
	}
	if len(kinds) != capi.SBPROV_FRAME_KIND_LAST {
		t.Errorf("%d kinds in Go, %d in C", len(kinds), capi.SBPROV_FRAME_KIND_LAST)
	}
	for g, c := range kinds {
		if int(g) != c || !g.Known() {
			t.Errorf("kind %v = %d, C says %d", g, g, c)
		}
	}
	if int(FrameTypeReadings) != capi.SBPROV_FRAME_TYPE_READINGS || int(FrameTypeHello) != capi.SBPROV_FRAME_TYPE_HELLO {
		t.Error("frame types differ")
	}
	pairs := []struct {
		name   string
		goV, c int
	}{
		{"SeqFirst", int(SeqFirst), int(capi.SBPROV_FRAME_SEQ_FIRST)},
		{"SeqNext", int(SeqNext), int(capi.SBPROV_FRAME_SEQ_NEXT)},
		{"SeqGap", int(SeqGap), int(capi.SBPROV_FRAME_SEQ_GAP)},
		{"SeqReboot", int(SeqReboot), int(capi.SBPROV_FRAME_SEQ_REBOOT)},
		{"FrameAccepted", int(FrameAccepted), int(capi.SBPROV_FRAME_ACCEPTED)},
		{"FrameDropCRC", int(FrameDropCRC), int(capi.SBPROV_FRAME_DROP_CRC)},
		{"FrameDropTooLong", int(FrameDropTooLong), int(capi.SBPROV_FRAME_DROP_TOO_LONG)},
		{"FrameDropTruncated", int(FrameDropTruncated), int(capi.SBPROV_FRAME_DROP_TRUNCATED)},
		{"FrameDropBadVersion", int(FrameDropBadVersion), int(capi.SBPROV_FRAME_DROP_BAD_VERSION)},
		{"FrameDropBadLength", int(FrameDropBadLength), int(capi.SBPROV_FRAME_DROP_BAD_LENGTH)},
		{"FrameDropUnknownType", int(FrameDropUnknownType), int(capi.SBPROV_FRAME_DROP_UNKNOWN_TYPE)},
		{"FrameDropDuplicate", int(FrameDropDuplicate), int(capi.SBPROV_FRAME_DROP_DUPLICATE)},
		{"CO2Unknown", int(CO2Unknown), int(capi.SBPROV_AIR_CO2_UNKNOWN)},
		{"CO2Fine", int(CO2Fine), int(capi.SBPROV_AIR_CO2_FINE)},
		{"CO2Ventilate", int(CO2Ventilate), int(capi.SBPROV_AIR_CO2_VENTILATE)},
		{"CO2VentilateNow", int(CO2VentilateNow), int(capi.SBPROV_AIR_CO2_VENTILATE_NOW)},
		{"RoomOccupied", int(RoomOccupied), int(capi.SBPROV_AIR_EVENT_OCCUPIED)},
		{"RoomFree", int(RoomFree), int(capi.SBPROV_AIR_EVENT_FREE)},
		{"RoomVentilationNeeded", int(RoomVentilationNeeded), int(capi.SBPROV_AIR_EVENT_VENTILATION_NEEDED)},
		{"RoomVentilationDone", int(RoomVentilationDone), int(capi.SBPROV_AIR_EVENT_VENTILATION_DONE)},
		{"ReasonNone", int(ReasonNone), int(capi.SBPROV_AIR_REASON_NONE)},
		{"ReasonMotion", int(ReasonMotion), int(capi.SBPROV_AIR_REASON_MOTION)},
		{"ReasonCO2Rising", int(ReasonCO2Rising), int(capi.SBPROV_AIR_REASON_CO2_RISING)},
		{"ReasonNoPresence", int(ReasonNoPresence), int(capi.SBPROV_AIR_REASON_NO_PRESENCE)},
		{"ReasonCO2Above", int(ReasonCO2Above), int(capi.SBPROV_AIR_REASON_CO2_ABOVE)},
		{"ReasonCO2Below", int(ReasonCO2Below), int(capi.SBPROV_AIR_REASON_CO2_BELOW)},
	}
	for _, p := range pairs {
		if p.goV != p.c {
			t.Errorf("%s = %d, C says %d", p.name, p.goV, p.c)
		}
	}
}

// The wrapped layout constants are those the C helpers were compiled with
// (they are written twice in sbprov.i: for C and for SWIG).
func TestHelperLayouts(t *testing.T) {
	if capi.Gosbprov_frame_slot_size() != int64(capi.GOSBPROV_FRAME_SLOT) ||
		capi.GOSBPROV_FRAME_SLOT != capi.GOSBPROV_FRAME_READINGS+3*capi.SBPROV_FRAME_KIND_LAST {
		t.Errorf("frame slot: C %d, Go %d", capi.Gosbprov_frame_slot_size(), capi.GOSBPROV_FRAME_SLOT)
	}
	if capi.Gosbprov_air_event_text_size() != int64(capi.GOSBPROV_EVENT_TEXT) ||
		capi.GOSBPROV_EVENT_TEXT != capi.SBPROV_AIR_NAME_SIZE+capi.SBPROV_AIR_REASON_SIZE {
		t.Errorf("event text: C %d, Go %d", capi.Gosbprov_air_event_text_size(), capi.GOSBPROV_EVENT_TEXT)
	}
	if feedBatch*FrameMax < FrameMax || eventBatch < 1 {
		t.Error("batch sizes")
	}
}

// The C helpers refuse buffers too small to hold a record, rather than lose
// one (the record a callback stops at is consumed).
func TestFeedHelperRefusesSmallBuffers(t *testing.T) {
	d, err := NewFrameDecoder(nil)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	var consumed, count int64
	if rc := capi.Gosbprov_frame_feed(&consumed, &count, d.handle, []byte{0}, make([]int64, slotSize-1), make([]byte, FrameMax)); Code(rc) != ErrInval {
		t.Errorf("short slots: %d", rc)
	}
	if rc := capi.Gosbprov_frame_feed(&consumed, &count, d.handle, []byte{0}, make([]int64, slotSize), make([]byte, FrameMax-1)); Code(rc) != ErrInval {
		t.Errorf("short buffer: %d", rc)
	}
	// One slot: a feed of three records stops after each.
	w, _ := EncodeFrame(FrameSpec{Seq: 1})
	wire := append(append(append([]byte{}, w...), w...), w...)
	rc := capi.Gosbprov_frame_feed(&consumed, &count, d.handle, wire, make([]int64, slotSize), make([]byte, FrameMax))
	if Code(rc) != ErrCanceled || consumed != int64(len(w)) || count != 1 {
		t.Errorf("one slot: rc %d, consumed %d, count %d", rc, consumed, count)
	}
	var n, enc int64
	if rc := capi.Gosbprov_frame_encode(make([]byte, FrameMax), &n, &enc, 1, 0, 0, 0, []byte{9}); rc != int(capi.SBPROV_FRAME_ENC_EINVAL) || enc != -2 {
		t.Errorf("bad operation list: %d, index %d", rc, enc)
	}
	if rc := capi.Gosbprov_frame_encode(make([]byte, FrameMax), &n, &enc, 1, 0, 0, 0, []byte{opRaw, 0x70, 5, 1}); rc != int(capi.SBPROV_FRAME_ENC_EINVAL) || enc != -2 {
		t.Errorf("short raw operation: %d, index %d", rc, enc)
	}
}
