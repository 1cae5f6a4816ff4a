package sbprov

import (
	"math"
	"strconv"

	"github.com/sbprov/libsbprov/bindings/go/internal/capi"
)

// The encoder side (sbprov/frame_encode.h, the code that runs on the
// microcontrollers), for gateway tests, simulators and tools. Every record
// is built by the C encoder, so what it refuses is refused here.

// The operations of gosbprov_frame_encode (GOSBPROV_ENC_* in sbprov.i).
const (
	opTime    = byte(capi.GOSBPROV_ENC_TIME)
	opReading = byte(capi.GOSBPROV_ENC_READING)
	opRaw     = byte(capi.GOSBPROV_ENC_RAW)
)

// FrameSpec describes a record to encode with EncodeRecord or EncodeFrame.
type FrameSpec struct {
	Node   NodeID
	Epoch  uint16  // Boot epoch.
	Seq    uint16  // Sequence number in the epoch.
	TimeMS *uint32 // Milliseconds since boot, or nil for a record without a timestamp.
	Hello  bool    // A hello record (type 2) instead of readings (type 1).

	// Readings of known kinds in the order to send, each once, with values
	// within the kind's range (Valid is not looked at). Kinds unknown to
	// version 1 and out-of-range values can be sent with a FrameBuilder.
	Readings []Reading
}

// EncodeRecord builds the record of f: what a node sends as one UDP
// datagram (no COBS), 19..254 bytes, CRC-32C included. A reading of an
// unknown kind, a value outside its kind's range or a kind given twice is
// ErrInval, with a message naming the reading.
func EncodeRecord(f FrameSpec) ([]byte, error) {
	b := NewFrameBuilder(f.Node, f.Epoch, f.Seq, f.Hello)
	if f.TimeMS != nil {
		b.ops = appendTimeOp(b.ops, *f.TimeMS)
		b.labels = append(b.labels, "FrameSpec.TimeMS")
	}
	for i, r := range f.Readings {
		label := "FrameSpec.Readings[" + strconv.Itoa(i) + "] (" + r.Kind.String() + " " + strconv.FormatInt(r.Value, 10) + ")"
		if err := checkReadingValue(label, r.Kind, r.Value); err != nil {
			return nil, err
		}
		b.ops = appendReadingOp(b.ops, r.Kind, r.Value)
		b.labels = append(b.labels, label)
	}
	return b.Record()
}

// EncodeFrame is EncodeRecord followed by EncodeCOBS: the bytes a node
// writes to a byte stream (UART), ending with the 0x00 delimiter.
func EncodeFrame(f FrameSpec) ([]byte, error) {
	rec, err := EncodeRecord(f)
	if err != nil {
		return nil, err
	}
	return EncodeCOBS(rec), nil
}

// EncodeCOBS returns the COBS encoding of data followed by the 0x00
// delimiter (sbprov_cobs_encode), in the canonical form: a 254-byte record
// gives 256 bytes. Any length is accepted.
func EncodeCOBS(data []byte) []byte {
	n := len(data)
	size := n + (n+253)/254 + 1
	if n == 0 {
		size++
	}
	for attempt := 0; ; attempt++ {
		out := make([]byte, size)
		var used int64
		rc := capi.Gosbprov_cobs_encode(out, &used, data)
		if rc == int(capi.SBPROV_FRAME_ENC_OK) && used >= 0 && used <= int64(len(out)) {
			return out[:used:used]
		}
		if rc != int(capi.SBPROV_FRAME_ENC_ESPACE) || attempt > 0 || used <= int64(size) {
			// Not reached: the size above is the library's SBPROV_COBS_ENCODED_SIZE.
			panic("sbprov: sbprov_cobs_encode failed with " + strconv.Itoa(rc) + " for " + strconv.Itoa(n) + " bytes")
		}
		size = int(used)
	}
}

// FrameBuilder builds one record reading by reading with the C encoder,
// including what FrameSpec cannot express: readings of kinds unknown to
// format version 1 (which decoders skip and count) and raw values, e.g. out
// of their kind's range (which decoders report as invalid). Each Add call is
// checked at once and a refused one leaves the record as it was, as in C.
//
// A FrameBuilder is a plain Go value holding no C memory; it is not safe for
// concurrent use. Record and Wire may be called any number of times.
type FrameBuilder struct {
	typ   byte
	node  NodeID
	epoch uint16
	seq   uint16

	ops    []byte   // GOSBPROV_ENC_* operations so far
	labels []string // what each operation was, for messages
}

// NewFrameBuilder starts a record of node with the given epoch and sequence
// number; hello makes it a hello record.
func NewFrameBuilder(node NodeID, epoch, seq uint16, hello bool) *FrameBuilder {
	typ := byte(FrameTypeReadings)
	if hello {
		typ = byte(FrameTypeHello)
	}
	return &FrameBuilder{typ: typ, node: node, epoch: epoch, seq: seq}
}

// AddTimestamp adds the timestamp (milliseconds since boot). It must come
// before any reading, and only once (else ErrInval).
func (b *FrameBuilder) AddTimestamp(timeMS uint32) error {
	if b == nil {
		return invalid("FrameBuilder: nil")
	}
	return b.try(appendTimeOp(b.ops, timeMS), "AddTimestamp("+strconv.FormatUint(uint64(timeMS), 10)+")")
}

// AddReading adds a reading of a known kind with its fixed-point value
// (2153 for 21.53 °C). An unknown kind, a value outside the kind's range, a
// kind already in the record, or no room left is ErrInval.
func (b *FrameBuilder) AddReading(kind ReadingKind, value int64) error {
	if b == nil {
		return invalid("FrameBuilder: nil")
	}
	label := "AddReading(" + kind.String() + ", " + strconv.FormatInt(value, 10) + ")"
	if err := checkReadingValue(label, kind, value); err != nil {
		return err
	}
	return b.try(appendReadingOp(b.ops, kind, value), label)
}

// AddRaw adds a reading as raw value bytes, sent as they are (0 to 255
// bytes): for kinds unknown to version 1, or a known kind's value outside
// its range. A known kind must still have its own length and appear once,
// so that the record stays well-formed (else ErrInval).
func (b *FrameBuilder) AddRaw(kind ReadingKind, value []byte) error {
	if b == nil {
		return invalid("FrameBuilder: nil")
	}
	label := "AddRaw(" + kind.String() + ", " + strconv.Itoa(len(value)) + " bytes)"
	if len(value) > 255 {
		return invalid(label + ": a value has at most 255 bytes")
	}
	ops := append(b.ops, opRaw, byte(kind), byte(len(value)))
	return b.try(append(ops, value...), label)
}

// Record finishes a copy of the record (the builder stays open) and returns
// its bytes, CRC-32C included: a datagram.
func (b *FrameBuilder) Record() ([]byte, error) {
	if b == nil {
		return nil, invalid("FrameBuilder: nil")
	}
	rec, err := b.encode(b.ops, "")
	if err != nil {
		return nil, err
	}
	return rec, nil
}

// Wire is Record followed by EncodeCOBS: the bytes for a byte stream,
// ending with 0x00.
func (b *FrameBuilder) Wire() ([]byte, error) {
	rec, err := b.Record()
	if err != nil {
		return nil, err
	}
	return EncodeCOBS(rec), nil
}

// try keeps ops (the current operations plus one) if the encoder accepts
// them.
func (b *FrameBuilder) try(ops []byte, label string) error {
	if _, err := b.encode(ops, label); err != nil {
		return err
	}
	b.ops = ops
	b.labels = append(b.labels, label)
	return nil
}

// encode runs the C encoder over ops; label names the newest operation
// (when it is not yet in b.labels).
func (b *FrameBuilder) encode(ops []byte, label string) ([]byte, error) {
	buf := make([]byte, FrameMax)
	var n, index int64
	rc := capi.Gosbprov_frame_encode(buf, &n, &index, b.typ, b.node.Uint64(), b.epoch, b.seq, ops)
	if rc == int(capi.SBPROV_FRAME_ENC_OK) {
		if n < int64(FrameMin) || n > int64(len(buf)) {
			return nil, &Error{Code: ErrGeneric, Message: "frame encoder: record length " + strconv.FormatInt(n, 10)}
		}
		return buf[:n:n], nil
	}
	what := "frame"
	switch {
	case index >= 0 && index < int64(len(b.labels)):
		what = b.labels[index]
	case index >= 0 && label != "":
		what = label
	}
	return nil, encodeError(what, rc, ops, index)
}

// encodeError turns an encoder result into an ErrInval *Error naming what
// was refused and why.
func encodeError(what string, rc int, ops []byte, index int64) error {
	kind, raw := opKind(ops, index)
	var why string
	switch capi.Enum_SS_sbprov_frame_enc_result(rc) {
	case capi.SBPROV_FRAME_ENC_EKIND:
		if raw < 0 {
			why = "kind " + strconv.Itoa(int(kind)) + " is not a known reading kind (1..8; FrameBuilder.AddRaw sends others)"
		} else {
			info := kinds()[kind]
			why = kind.String() + " values have " + strconv.Itoa(info.length) + " bytes, not " + strconv.Itoa(raw)
		}
	case capi.SBPROV_FRAME_ENC_ERANGE:
		min, max, _ := kind.Range()
		why = "value outside " + kind.String() + "'s range " + strconv.FormatInt(min, 10) + ".." + strconv.FormatInt(max, 10) +
			" (FrameBuilder.AddRaw sends such values)"
	case capi.SBPROV_FRAME_ENC_EDUP:
		why = "the record already has a " + kind.String() + " reading (a kind appears once per record)"
	case capi.SBPROV_FRAME_ENC_ESPACE:
		why = "the record would be longer than " + strconv.Itoa(FrameMax) + " bytes"
	case capi.SBPROV_FRAME_ENC_EORDER:
		why = "a timestamp must come before every reading, and only once"
	default:
		why = "refused by the encoder (result " + strconv.Itoa(rc) + ")"
	}
	return invalid(what + ": " + why)
}

// opKind returns the kind of operation index in ops, and the value length
// of a raw operation (-1 for others).
func opKind(ops []byte, index int64) (ReadingKind, int) {
	for i, p := int64(0), 0; p < len(ops); i++ {
		op := ops[p]
		var kind ReadingKind
		raw, size := -1, 0
		switch op {
		case opTime:
			size = 5
		case opReading:
			if p+1 < len(ops) {
				kind = ReadingKind(ops[p+1])
			}
			size = 6
		case opRaw:
			if p+2 < len(ops) {
				kind, raw = ReadingKind(ops[p+1]), int(ops[p+2])
			}
			size = 3 + raw
		default:
			return 0, -1
		}
		if i == index {
			return kind, raw
		}
		p += size
	}
	return 0, -1
}

// checkReadingValue refuses a value C's int32 would truncate into another
// (valid) value; the message is the encoder's for a value out of range.
func checkReadingValue(label string, kind ReadingKind, value int64) error {
	if value >= math.MinInt32 && value <= math.MaxInt32 {
		return nil
	}
	if min, max, ok := kind.Range(); ok {
		return invalid(label + ": value outside " + kind.String() + "'s range " + strconv.FormatInt(min, 10) + ".." +
			strconv.FormatInt(max, 10) + " (FrameBuilder.AddRaw sends such values)")
	}
	return invalid(label + ": kind " + strconv.Itoa(int(kind)) + " is not a known reading kind (1..8; FrameBuilder.AddRaw sends others)")
}

func appendTimeOp(ops []byte, t uint32) []byte {
	return append(ops, opTime, byte(t), byte(t>>8), byte(t>>16), byte(t>>24))
}

func appendReadingOp(ops []byte, kind ReadingKind, value int64) []byte {
	v := uint32(int32(value))
	return append(ops, opReading, byte(kind), byte(v), byte(v>>8), byte(v>>16), byte(v>>24))
}
