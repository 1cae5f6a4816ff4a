package sbprov

import (
	"encoding/hex"
	"math"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/sbprov/libsbprov/bindings/go/internal/capi"
)

// Sensor frames (sbprov/frame.h, sbprov/frame_encode.h; the format is
// docs/frame-format.md): the records a room's microcontroller sends to the
// gateway over a byte stream (COBS, 0x00-delimited) or as UDP datagrams.

// Limits of the frame format, as in sbprov/frame_encode.h.
const (
	FrameMax     = 254 // Largest record in bytes, CRC included (SBPROV_FRAME_MAX).
	FrameMin     = 19  // Smallest record: a header without timestamp and the CRC (SBPROV_FRAME_MIN).
	FrameWireMax = 256 // Largest record on a byte stream: COBS adds one byte, plus the 0x00 delimiter.
	FrameJSONMax = 512 // A buffer of this size holds either rendering of any record, NUL included.
)

// slotSize is the number of int64 fields of one decoded record exchanged
// with the C helpers (GOSBPROV_FRAME_SLOT in sbprov.i).
const slotSize = capi.GOSBPROV_FRAME_SLOT

// NodeID is the 8-byte ID of a sensor node (an EUI-64, or an EUI-48 MAC padded
// with FF FE in the middle), in record byte order. Its text form, in JSON and
// here, is 16 lower-case hex digits in that order.
type NodeID [8]byte

// ParseNodeID parses 16 hex digits (either case) into a NodeID; anything
// else is ErrInval.
func ParseNodeID(s string) (NodeID, error) {
	var id NodeID
	if len(s) != 2*len(id) {
		return id, invalid("node ID " + strconv.Quote(s) + ": want 16 hex digits, got " + strconv.Itoa(len(s)) + " characters")
	}
	if _, err := hex.Decode(id[:], []byte(s)); err != nil {
		return NodeID{}, invalid("node ID " + strconv.Quote(s) + ": not hex (" + err.Error() + ")")
	}
	return id, nil
}

// NodeIDFromUint64 returns the node whose 8 bytes, read big-endian, are n
// (the C API's node_id, which prints as the same 16 hex digits).
func NodeIDFromUint64(n uint64) NodeID {
	var id NodeID
	for i := range id {
		id[i] = byte(n >> (8 * (7 - i)))
	}
	return id
}

// Uint64 returns the 8 bytes read big-endian: the C API's node_id.
func (id NodeID) Uint64() uint64 {
	var n uint64
	for _, b := range id {
		n = n<<8 | uint64(b)
	}
	return n
}

// String returns the 16 lower-case hex digits, e.g. "0011223344556677".
func (id NodeID) String() string {
	return hex.EncodeToString(id[:])
}

// MarshalText implements encoding.TextMarshaler (the 16 hex digits).
func (id NodeID) MarshalText() ([]byte, error) {
	return []byte(id.String()), nil
}

// UnmarshalText implements encoding.TextUnmarshaler (ParseNodeID).
func (id *NodeID) UnmarshalText(text []byte) error {
	v, err := ParseNodeID(string(text))
	if err != nil {
		return err
	}
	*id = v
	return nil
}

// ReadingKind is the kind byte of a reading. Kinds 1 to 8 are known to
// format version 1; other values are kinds a version-1 decoder skips.
type ReadingKind uint8

// The reading kinds of format version 1 (docs/frame-format.md "Readings").
const (
	KindCO2PPM         ReadingKind = 1 // CO2, ppm, 0..40000.
	KindTemperatureC   ReadingKind = 2 // Air temperature, hundredths of a degree Celsius, -4000..12500.
	KindHumidityPct    ReadingKind = 3 // Relative humidity, hundredths of a percent, 0..10000.
	KindMotion         ReadingKind = 4 // PIR motion count since the previous record, 0..255.
	KindVOCPPB         ReadingKind = 5 // Volatile organic compounds, ppb, 0..60000.
	KindPressurePa     ReadingKind = 6 // Air pressure, Pa, 30000..110000.
	KindIlluminanceLux ReadingKind = 7 // Illuminance, lx, 0..200000.
	KindBatteryMV      ReadingKind = 8 // Battery voltage, mV, 0..10000.
)

// kindInfo is what the library says about one kind.
type kindInfo struct {
	known    bool
	name     string
	decimals int
	length   int
	min, max int64
}

var kindTable struct {
	once sync.Once
	t    [256]kindInfo
}

// kinds returns the reading table, read from the library once.
func kinds() *[256]kindInfo {
	kindTable.once.Do(func() {
		for k := 0; k < 256; k++ {
			info := &kindTable.t[k]
			var length, min, max int64
			if capi.Gosbprov_frame_kind_info(&length, &min, &max, k) == 1 {
				info.known = true
				info.length, info.min, info.max = int(length), min, max
			}
			info.name, _ = copyOut(32, func(buf []byte) int64 {
				return capi.Gosbprov_enum_name(buf, capi.GOSBPROV_NAME_KIND, k)
			})
			info.decimals = int(capi.Sbprov_frame_kind_decimals(byte(k)))
		}
	})
	return &kindTable.t
}

// Known reports whether format version 1 knows the kind (1 to 8).
func (k ReadingKind) Known() bool {
	return kinds()[k].known
}

// Name returns the kind's JSON name ("co2_ppm", "temperature_c", ...), as
// sbprov_frame_kind_name() gives it, or "" for a kind version 1 does not
// know.
func (k ReadingKind) Name() string {
	return kinds()[k].name
}

// String returns Name, or "kind 0x09" for an unknown kind.
func (k ReadingKind) String() string {
	if n := k.Name(); n != "" {
		return n
	}
	return "kind 0x" + hex.EncodeToString([]byte{byte(k)})
}

// Decimals returns the number of decimal places of the kind's fixed-point
// value: 2 for temperature_c and humidity_pct (hundredths), 0 for the others
// and for unknown kinds.
func (k ReadingKind) Decimals() int {
	return kinds()[k].decimals
}

// Range returns the smallest and largest valid value of a known kind, in its
// fixed-point unit; ok is false for an unknown kind.
func (k ReadingKind) Range() (min, max int64, ok bool) {
	info := kinds()[k]
	return info.min, info.max, info.known
}

// KindFromName returns the kind of a JSON reading name ("co2_ppm"), or
// false if no kind has that name.
func KindFromName(name string) (ReadingKind, bool) {
	if strings.IndexByte(name, 0) >= 0 {
		return 0, false
	}
	k := capi.Sbprov_frame_kind_from_name(name)
	return ReadingKind(k), k != 0
}

// Reading is one reading of a known kind, with its value as on the wire: a
// fixed-point integer in the kind's unit (hundredths of a degree for
// temperature, so 2153 is 21.53 °C). Valid is false for a received value
// outside the kind's range (rendered as null; rooms ignore it).
type Reading struct {
	Kind  ReadingKind
	Value int64
	Valid bool
}

// Decimal returns the value as an exact decimal, trailing zeros dropped, as
// the JSON rendering writes it: 2153 hundredths is "21.53", 4520 is "45.2",
// -5 is "-0.05", 2100 is "21".
func (r Reading) Decimal() string {
	return formatFixed(r.Value, r.Kind.Decimals())
}

// Float returns the value in the kind's unit (21.53 for 2153 hundredths of
// a degree), the nearest float64.
func (r Reading) Float() float64 {
	return float64(r.Value) / math.Pow10(r.Kind.Decimals())
}

// String returns "temperature_c=21.53", with " (out of range)" for an
// invalid reading.
func (r Reading) String() string {
	s := r.Kind.String() + "=" + r.Decimal()
	if !r.Valid {
		s += " (out of range)"
	}
	return s
}

// formatFixed writes v / 10^decimals exactly, trailing zeros dropped.
func formatFixed(v int64, decimals int) string {
	neg := v < 0
	u := uint64(v)
	if neg {
		u = -u
	}
	digits := strconv.FormatUint(u, 10)
	if decimals > 0 {
		if len(digits) <= decimals {
			digits = strings.Repeat("0", decimals-len(digits)+1) + digits
		}
		whole, frac := digits[:len(digits)-decimals], strings.TrimRight(digits[len(digits)-decimals:], "0")
		digits = whole
		if frac != "" {
			digits += "." + frac
		}
	}
	if neg {
		return "-" + digits
	}
	return digits
}

// ReadingFromDecimal returns a valid reading of kind from a decimal string
// in the kind's unit: "21.53" for temperature_c gives the value 2153. The
// conversion is exact: at most the kind's decimals may be non-zero ("21.535"
// is refused, "21.530" is 2153), and the value must be within the kind's
// range. An optional sign, digits, and an optional point followed by digits
// are accepted; no exponent, spaces or other characters. Errors are
// ErrInval.
func ReadingFromDecimal(kind ReadingKind, s string) (Reading, error) {
	info := kinds()[kind]
	what := "reading " + kind.String() + " " + strconv.Quote(s)
	if !info.known {
		return Reading{}, invalid(what + ": kind " + strconv.Itoa(int(kind)) + " is not a known reading kind (1..8)")
	}
	body := s
	neg := false
	if body != "" && (body[0] == '+' || body[0] == '-') {
		neg = body[0] == '-'
		body = body[1:]
	}
	whole, frac := body, ""
	if i := strings.IndexByte(body, '.'); i >= 0 {
		whole, frac = body[:i], body[i+1:]
		if frac == "" {
			return Reading{}, invalid(what + ": no digits after the decimal point")
		}
	}
	if whole == "" || !allDigits(whole) || !allDigits(frac) {
		return Reading{}, invalid(what + ": not a decimal number (digits with an optional sign and point)")
	}
	if extra := frac; len(extra) > info.decimals {
		if strings.TrimRight(extra[info.decimals:], "0") != "" {
			return Reading{}, invalid(what + ": more than " + strconv.Itoa(info.decimals) +
				" decimals (" + kind.Name() + " is in units of " + unitOf(info.decimals) + ")")
		}
		frac = frac[:info.decimals]
	}
	frac += strings.Repeat("0", info.decimals-len(frac))
	digits := strings.TrimLeft(whole+frac, "0")
	outside := invalid(what + ": outside " + kind.Name() + "'s range " + formatFixed(info.min, info.decimals) +
		".." + formatFixed(info.max, info.decimals))
	if len(digits) > 15 {
		return Reading{}, outside
	}
	v, _ := strconv.ParseInt("0"+digits, 10, 64)
	if neg {
		v = -v
	}
	if v < info.min || v > info.max {
		return Reading{}, outside
	}
	return Reading{Kind: kind, Value: v, Valid: true}, nil
}

// ReadingFromFloat is ReadingFromDecimal of the shortest decimal that reads
// back as f (strconv.FormatFloat(f, 'f', -1, 64)): 21.53 gives 2153
// hundredths exactly, although 21.53 is not exact in binary; 21.535 is
// refused (three decimals), as are NaN and infinities.
func ReadingFromFloat(kind ReadingKind, f float64) (Reading, error) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return Reading{}, invalid("reading " + kind.String() + ": " + strconv.FormatFloat(f, 'g', -1, 64) + " is not a number")
	}
	return ReadingFromDecimal(kind, strconv.FormatFloat(f, 'f', -1, 64))
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func unitOf(decimals int) string {
	if decimals == 0 {
		return "1"
	}
	return "0." + strings.Repeat("0", decimals-1) + "1"
}

// FrameType is a record's type byte.
type FrameType uint8

// Record types.
const (
	FrameTypeReadings FrameType = 1 // Readings (SBPROV_FRAME_TYPE_READINGS).
	FrameTypeHello    FrameType = 2 // Hello, sent once after boot; may carry readings (SBPROV_FRAME_TYPE_HELLO).
)

// String returns "readings", "hello", or "type 0x03" for another value.
func (t FrameType) String() string {
	switch t {
	case FrameTypeReadings:
		return "readings"
	case FrameTypeHello:
		return "hello"
	}
	return "type 0x" + hex.EncodeToString([]byte{byte(t)})
}

// SeqStatus is how an accepted record relates to its node's previous one
// (sbprov_frame_seq_status).
type SeqStatus int

// Sequence statuses.
const (
	SeqFirst  SeqStatus = 0 // The node was not tracked (new, or replaced in the node table meanwhile).
	SeqNext   SeqStatus = 1 // Same epoch, seq one after the previous.
	SeqGap    SeqStatus = 2 // Same epoch, Frame.Missed records missing before it.
	SeqReboot SeqStatus = 3 // Another epoch: the node rebooted.
)

// String returns the library's name: "first", "next", "gap", "reboot", or
// "invalid" for other values.
func (s SeqStatus) String() string {
	return enumName(capi.GOSBPROV_NAME_SEQ_STATUS, int(s))
}

// FrameOutcome is what became of one record (sbprov_frame_outcome): accepted,
// or the drop counter it raised.
//
// FrameOutcome implements error, so that the outcome of a record ParseFrame
// refuses can be tested with errors.Is(err, sbprov.FrameDropCRC) or read
// with errors.As; its Error is its String, so fmt prints the name either
// way.
type FrameOutcome int

// Outcomes.
const (
	FrameAccepted        FrameOutcome = 0 // Accepted.
	FrameDropCRC         FrameOutcome = 1 // CRC mismatch.
	FrameDropTooLong     FrameOutcome = 2 // Longer than 254 bytes.
	FrameDropTruncated   FrameOutcome = 3 // Shorter than its header and CRC, or a COBS block cut off.
	FrameDropBadVersion  FrameOutcome = 4 // Version not 1.
	FrameDropBadLength   FrameOutcome = 5 // Readings that do not fit, a wrong length, a repeated known kind.
	FrameDropUnknownType FrameOutcome = 6 // Type not 1 or 2.
	FrameDropDuplicate   FrameOutcome = 7 // A duplicate or old record (sequence check).
)

// String returns the library's name: "accepted", or the counter a drop
// raises ("crc", "too_long", "truncated", "bad_version", "bad_length",
// "unknown_type", "duplicate"); "invalid" for other values.
func (o FrameOutcome) String() string {
	return enumName(capi.GOSBPROV_NAME_OUTCOME, int(o))
}

// Error returns String ("crc").
func (o FrameOutcome) Error() string {
	return o.String()
}

// enumNames caches the library's names of enum values.
var enumNames struct {
	once   sync.Once
	tables [6][]string
}

// enumName returns the library's name of value v in table (GOSBPROV_NAME_*).
func enumName(table, v int) string {
	enumNames.once.Do(func() {
		last := [6]int{
			capi.GOSBPROV_NAME_KIND:       0,
			capi.GOSBPROV_NAME_OUTCOME:    int(capi.SBPROV_FRAME_DROP_DUPLICATE),
			capi.GOSBPROV_NAME_SEQ_STATUS: int(capi.SBPROV_FRAME_SEQ_REBOOT),
			capi.GOSBPROV_NAME_CO2_CLASS:  int(capi.SBPROV_AIR_CO2_VENTILATE_NOW),
			capi.GOSBPROV_NAME_EVENT_KIND: int(capi.SBPROV_AIR_EVENT_VENTILATION_DONE),
			capi.GOSBPROV_NAME_REASON:     int(capi.SBPROV_AIR_REASON_CO2_BELOW),
		}
		for t := range enumNames.tables {
			if t == capi.GOSBPROV_NAME_KIND {
				continue
			}
			for i := 0; i <= last[t]; i++ {
				enumNames.tables[t] = append(enumNames.tables[t], libraryName(t, i))
			}
		}
	})
	if table >= 0 && table < len(enumNames.tables) && v >= 0 && v < len(enumNames.tables[table]) {
		return enumNames.tables[table][v]
	}
	return libraryName(table, v)
}

// libraryName asks the library for the name of v in table.
func libraryName(table, v int) string {
	if int(int32(v)) != v {
		return "invalid"
	}
	s, _ := copyOut(32, func(buf []byte) int64 { return capi.Gosbprov_enum_name(buf, table, v) })
	return s
}

// Frame is an accepted record, decoded: by a FrameDecoder (with the
// sequence check) or by ParseFrame (without). It is a plain value that holds
// no C memory.
type Frame struct {
	Node     NodeID
	Epoch    uint16    // Boot epoch.
	Seq      uint16    // Sequence number in the epoch.
	Type     FrameType // FrameTypeReadings or FrameTypeHello.
	Flags    uint8     // As received (reserved bits included, which version 1 ignores).
	HasTime  bool      // The record has a timestamp (flags bit 0) ...
	TimeMS   uint32    // ... milliseconds since the node booted (0 without one).
	Readings []Reading // Readings of known kinds, in record order; nil if none.

	UnknownKinds int // Readings of unknown kinds, skipped.
	OutOfRange   int // Readings with Valid false.

	SeqStatus SeqStatus // Relation to the node's previous record (SeqFirst from ParseFrame).
	Missed    uint32    // Records missing before this one (SeqGap), else 0.

	Record []byte // The record bytes (after COBS decoding), CRC included: 19..254 bytes.
}

// Hello reports whether the record is a hello record.
func (f Frame) Hello() bool {
	return f.Type == FrameTypeHello
}

// Reading returns the reading of kind, if the record has one.
func (f Frame) Reading(kind ReadingKind) (Reading, bool) {
	for _, r := range f.Readings {
		if r.Kind == kind {
			return r, true
		}
	}
	return Reading{}, false
}

// frameFromSlot builds a Frame from slot s, its record in recs and its
// readings appended to rd (the backing store shared by a batch); it returns
// the Frame and rd.
func frameFromSlot(s []int64, recs []byte, rd []Reading) (Frame, []Reading) {
	f := Frame{
		Node:         NodeIDFromUint64(uint64(s[capi.GOSBPROV_FRAME_NODE])),
		Epoch:        uint16(s[capi.GOSBPROV_FRAME_EPOCH]),
		Seq:          uint16(s[capi.GOSBPROV_FRAME_SEQ]),
		Type:         FrameType(s[capi.GOSBPROV_FRAME_TYPE]),
		Flags:        uint8(s[capi.GOSBPROV_FRAME_FLAGS]),
		HasTime:      s[capi.GOSBPROV_FRAME_HAS_TIME] != 0,
		TimeMS:       uint32(s[capi.GOSBPROV_FRAME_TIME_MS]),
		UnknownKinds: int(s[capi.GOSBPROV_FRAME_UNKNOWN_KINDS]),
		OutOfRange:   int(s[capi.GOSBPROV_FRAME_OUT_OF_RANGE]),
		SeqStatus:    SeqStatus(s[capi.GOSBPROV_FRAME_SEQ_STATUS]),
		Missed:       uint32(s[capi.GOSBPROV_FRAME_MISSED]),
	}
	off, n := s[capi.GOSBPROV_FRAME_RECORD_OFFSET], s[capi.GOSBPROV_FRAME_RECORD_LEN]
	if off >= 0 && n >= 0 && off+n <= int64(len(recs)) {
		f.Record = recs[off : off+n : off+n]
	}
	count := int(s[capi.GOSBPROV_FRAME_READING_COUNT])
	if count > 0 {
		start := len(rd)
		for i := 0; i < count; i++ {
			base := capi.GOSBPROV_FRAME_READINGS + 3*i
			rd = append(rd, Reading{Kind: ReadingKind(s[base]), Valid: s[base+1] != 0, Value: s[base+2]})
		}
		f.Readings = rd[start:len(rd):len(rd)]
	}
	return f, rd
}

// toSlot writes f's fields into s for the C helpers; it refuses what no
// record can hold.
func (f *Frame) toSlot(what string, s *[slotSize]int64) error {
	if len(f.Readings) > capi.SBPROV_FRAME_KIND_LAST {
		return invalid(what + ": frame has " + strconv.Itoa(len(f.Readings)) + " readings; a record holds at most " +
			strconv.Itoa(capi.SBPROV_FRAME_KIND_LAST) + " (one per known kind)")
	}
	s[capi.GOSBPROV_FRAME_TYPE] = int64(f.Type)
	s[capi.GOSBPROV_FRAME_FLAGS] = int64(f.Flags)
	s[capi.GOSBPROV_FRAME_NODE] = int64(f.Node.Uint64())
	s[capi.GOSBPROV_FRAME_EPOCH] = int64(f.Epoch)
	s[capi.GOSBPROV_FRAME_SEQ] = int64(f.Seq)
	if f.HasTime {
		s[capi.GOSBPROV_FRAME_HAS_TIME] = 1
	}
	s[capi.GOSBPROV_FRAME_TIME_MS] = int64(f.TimeMS)
	s[capi.GOSBPROV_FRAME_UNKNOWN_KINDS] = int64(f.UnknownKinds)
	s[capi.GOSBPROV_FRAME_OUT_OF_RANGE] = int64(f.OutOfRange)
	s[capi.GOSBPROV_FRAME_SEQ_STATUS] = int64(f.SeqStatus)
	s[capi.GOSBPROV_FRAME_MISSED] = int64(f.Missed)
	s[capi.GOSBPROV_FRAME_READING_COUNT] = int64(len(f.Readings))
	for i, r := range f.Readings {
		base := capi.GOSBPROV_FRAME_READINGS + 3*i
		s[base] = int64(r.Kind)
		if r.Valid {
			s[base+1] = 1
		}
		s[base+2] = r.Value
	}
	return nil
}

// JSON renders the frame as the flat JSON object sent as Azure IoT Hub
// telemetry (sbprov_frame_to_json): node, epoch, seq, time_ms (with a
// timestamp), "type":"hello" (hello records), then one key per reading in
// order, null when out of range; fixed-point values exact. Example:
//
//	{"node":"0011223344556677","epoch":1,"seq":5,"co2_ppm":812,"temperature_c":21.53}
//
// It renders the fields of f (not Record), so it also works for a Frame
// built by hand; a reading of an unknown kind or more than 8 readings is
// ErrInval.
func (f Frame) JSON() (string, error) {
	return f.render("Frame.JSON", false, 0)
}

// SenML renders the frame as a SenML pack (RFC 8428,
// application/senml+json; sbprov_frame_to_senml): base name
// urn:dev:mac:<node>:, one record per reading in range, "bver":26 when the
// pack uses ppm or ppb, and "bt" from receivedAt (when the gateway received
// the record, exact to the millisecond). The zero time.Time writes no "bt"
// (SenML then means "now"); other times must be from 1978 (2^28 s) to year
// 9999 (ErrInval). A record without readings in range gives "[]".
func (f Frame) SenML(receivedAt time.Time) (string, error) {
	var ms int64
	if !receivedAt.IsZero() {
		ms = receivedAt.UnixMilli()
		if ms == 0 {
			return "", invalid("Frame.SenML: receive time " + receivedAt.UTC().Format(time.RFC3339Nano) +
				" is not within 1978..9999 (SenML reads smaller times as relative)")
		}
	}
	return f.render("Frame.SenML", true, ms)
}

func (f *Frame) render(what string, senml bool, ms int64) (string, error) {
	var s [slotSize]int64
	if err := f.toSlot(what, &s); err != nil {
		return "", err
	}
	mode := 0
	if senml {
		mode = 1
	}
	return callText(FrameJSONMax, func(buf []byte, n *int64) int32 {
		return capi.Gosbprov_frame_render(buf, n, s[:], mode, ms)
	})
}

// ParseFrame checks and decodes one record on its own (no COBS), with the
// decoder's checks in the same order but no sequence tracking or counters
// (sbprov_frame_parse): for records kept and rendered later. The Frame's
// SeqStatus is SeqFirst and its Record a copy of record.
//
// A record that fails a check is ErrParse; its outcome is in the error:
// errors.Is(err, sbprov.FrameDropCRC), or errors.As(err, &outcome) with a
// FrameOutcome variable.
func ParseFrame(record []byte) (Frame, error) {
	var s [slotSize]int64
	var outcome int64
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	if rc := capi.Gosbprov_frame_parse(&outcome, s[:], record); rc != 0 {
		err := lastError(rc)
		if e, ok := err.(*Error); ok && Code(rc) == ErrParse && outcome >= 0 {
			e.cause = FrameOutcome(outcome)
		}
		return Frame{}, err
	}
	recs := append([]byte(nil), record...)
	f, _ := frameFromSlot(s[:], recs, nil)
	return f, nil
}
