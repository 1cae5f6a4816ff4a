package sbprov

import (
	"runtime"
	"strconv"
	"sync"

	"github.com/sbprov/libsbprov/bindings/go/internal/capi"
)

// FrameDecoderOptions are the options of NewFrameDecoder; the zero value (or
// a nil pointer) gives the defaults.
type FrameDecoderOptions struct {
	// NodeTableSize is the number of nodes whose sequence numbers are
	// tracked, 1..65536; when the table is full the least recently seen node
	// is replaced. 0 means 256 (SBPROV_FRAME_NODE_TABLE_DEFAULT).
	NodeTableSize int
}

// FrameCounters are a decoder's counters since it was created
// (sbprov_frame_counters). Every dropped record raises exactly one of CRC ..
// Duplicate.
type FrameCounters struct {
	Frames       uint64 // Records accepted.
	CRC          uint64 // Dropped: CRC mismatch.
	TooLong      uint64 // Dropped: more than 254 bytes.
	Truncated    uint64 // Dropped: a COBS block cut by the delimiter, or shorter than header + CRC.
	BadVersion   uint64 // Dropped: version not 1.
	BadLength    uint64 // Dropped: readings that do not fit, a wrong length, a repeated known kind.
	UnknownType  uint64 // Dropped: type not 1 or 2.
	Duplicate    uint64 // Dropped: a duplicate or old record (sequence check).
	Gaps         uint64 // Records missing, from sequence numbers.
	Reboots      uint64 // Accepted records with a new epoch of a tracked node.
	UnknownKinds uint64 // Readings of unknown kinds skipped in accepted records.
	OutOfRange   uint64 // Readings outside their range in accepted records.
}

// Dropped returns the number of records dropped, for every reason.
func (c FrameCounters) Dropped() uint64 {
	return c.CRC + c.TooLong + c.Truncated + c.BadVersion + c.BadLength + c.UnknownType + c.Duplicate
}

// Map returns the counters by their C names ("frames", "crc", "too_long",
// "truncated", "bad_version", "bad_length", "unknown_type", "duplicate",
// "gaps", "reboots", "unknown_kinds", "out_of_range"), e.g. for metrics.
// The drop counters' names are those of FrameOutcome.String.
func (c FrameCounters) Map() map[string]uint64 {
	return map[string]uint64{
		"frames": c.Frames, "crc": c.CRC, "too_long": c.TooLong, "truncated": c.Truncated,
		"bad_version": c.BadVersion, "bad_length": c.BadLength, "unknown_type": c.UnknownType,
		"duplicate": c.Duplicate, "gaps": c.Gaps, "reboots": c.Reboots, "unknown_kinds": c.UnknownKinds,
		"out_of_range": c.OutOfRange,
	}
}

// feedBatch is the number of records one C call of Feed copies out at most.
const feedBatch = 64

// FrameDecoder is the gateway's decoder of sensor frames (a C
// sbprov_frame_decoder): it takes the bytes of a stream in chunks of any
// size (Feed) or one record per datagram (DecodeRecord), checks every record
// (COBS, length, CRC-32C, version, type, readings), tracks sequence numbers
// per node, and counts each drop by its reason (Counters).
//
// The decoder is allocated once, in C; feeding allocates nothing in C and C
// keeps no Go memory (records are copied out by a C callback of the binding
// into Go buffers during the call). A FrameDecoder is safe for concurrent
// use, but its calls are serialised (the C decoder is used by one thread at
// a time, and a stream has one order anyway): give each stream or socket its
// own decoder. Close frees it; a finalizer is only a safety net.
type FrameDecoder struct {
	mu     sync.Mutex
	handle uintptr // C sbprov_frame_decoder *, 0 once closed
	slots  []int64 // feedBatch slots of slotSize fields
	buf    []byte  // feedBatch records of FrameMax bytes
	final  FrameCounters
}

// NewFrameDecoder creates a decoder; opts may be nil for the defaults. A node
// table size outside 1..65536 is ErrInval.
func NewFrameDecoder(opts *FrameDecoderOptions) (*FrameDecoder, error) {
	var size uint64
	if opts != nil {
		if opts.NodeTableSize < 0 {
			return nil, invalid("FrameDecoderOptions.NodeTableSize: " + strconv.Itoa(opts.NodeTableSize) +
				" is negative (0 means the default, 256)")
		}
		size = uint64(opts.NodeTableSize)
	}
	var h uintptr
	if err := callStatus(func() int32 { return capi.Gosbprov_frame_decoder_new(&h, size) }); err != nil {
		return nil, err
	}
	if h == 0 {
		return nil, &Error{Code: ErrGeneric, Message: "sbprov_frame_decoder_new succeeded without a handle"}
	}
	d := &FrameDecoder{
		handle: h,
		slots:  make([]int64, feedBatch*slotSize),
		buf:    make([]byte, feedBatch*FrameMax),
	}
	runtime.SetFinalizer(d, (*FrameDecoder).Close)
	return d, nil
}

// Feed takes the next bytes of a stream (COBS records separated by 0x00)
// and returns the records accepted in them, in order; bytes of an unfinished
// record are kept for the next call, so the result is the same however the
// stream is split. Dropped records are only counted (Counters). The Frames
// and their Record bytes are new Go memory, not shared with data or the
// decoder. It returns (nil, nil) when no record was accepted; after Close,
// or on a nil decoder, ErrInval.
func (d *FrameDecoder) Feed(data []byte) ([]Frame, error) {
	if d == nil {
		return nil, invalid("FrameDecoder: nil")
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.handle == 0 {
		return nil, invalid("FrameDecoder: used after Close")
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	var frames []Frame
	for {
		var consumed, count int64
		rc := capi.Gosbprov_frame_feed(&consumed, &count, d.handle, data, d.slots, d.buf)
		if count > 0 {
			frames = d.collect(frames, int(count))
		}
		if Code(rc) == ErrCanceled && consumed > 0 && consumed <= int64(len(data)) {
			// The batch buffers were full: go on after the last record copied.
			data = data[consumed:]
			if len(data) > 0 {
				continue
			}
			rc = 0
		}
		runtime.KeepAlive(d)
		if rc != 0 {
			return frames, lastError(rc)
		}
		return frames, nil
	}
}

// collect appends the count records of the batch buffers to frames. The
// records and the readings of a batch share one allocation each.
func (d *FrameDecoder) collect(frames []Frame, count int) []Frame {
	last := d.slots[(count-1)*slotSize:]
	used := last[capi.GOSBPROV_FRAME_RECORD_OFFSET] + last[capi.GOSBPROV_FRAME_RECORD_LEN]
	readings := 0
	for i := 0; i < count; i++ {
		readings += int(d.slots[i*slotSize+capi.GOSBPROV_FRAME_READING_COUNT])
	}
	recs := make([]byte, used)
	copy(recs, d.buf[:used])
	var rd []Reading
	if readings > 0 {
		rd = make([]Reading, 0, readings)
	}
	if frames == nil {
		frames = make([]Frame, 0, count)
	}
	for i := 0; i < count; i++ {
		var f Frame
		f, rd = frameFromSlot(d.slots[i*slotSize:(i+1)*slotSize], recs, rd)
		frames = append(frames, f)
	}
	return frames
}

// DecodeRecord decodes one record without COBS (a UDP datagram), with the
// same checks, counters and sequence tracking as a record of the stream; it
// does not disturb a stream record in progress. The outcome says what
// became of it: for FrameAccepted the Frame holds it, otherwise the Frame is
// zero and the drop is counted. The error is only for a closed or nil
// decoder (ErrInval).
func (d *FrameDecoder) DecodeRecord(datagram []byte) (Frame, FrameOutcome, error) {
	if d == nil {
		return Frame{}, 0, invalid("FrameDecoder: nil")
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.handle == 0 {
		return Frame{}, 0, invalid("FrameDecoder: used after Close")
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	var outcome, count int64
	rc := capi.Gosbprov_frame_decode_record(&outcome, &count, d.handle, datagram, d.slots[:slotSize], d.buf[:FrameMax])
	runtime.KeepAlive(d)
	if rc != 0 {
		return Frame{}, 0, lastError(rc)
	}
	if count != 1 {
		return Frame{}, FrameOutcome(outcome), nil
	}
	n := d.slots[capi.GOSBPROV_FRAME_RECORD_LEN]
	recs := make([]byte, n)
	copy(recs, d.buf[:n])
	f, _ := frameFromSlot(d.slots[:slotSize], recs, nil)
	return f, FrameOutcome(outcome), nil
}

// Counters returns the decoder's counters; after Close, those it had when
// it was closed (zero for a nil decoder).
func (d *FrameDecoder) Counters() FrameCounters {
	if d == nil {
		return FrameCounters{}
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.handle == 0 {
		return d.final
	}
	c, _ := d.counters()
	return c
}

// counters reads the C counters; d.mu is held.
func (d *FrameDecoder) counters() (FrameCounters, error) {
	var v [capi.GOSBPROV_FRAME_COUNTERS]int64
	h := d.handle
	if err := callStatus(func() int32 { return capi.Gosbprov_frame_counters(v[:], h) }); err != nil {
		return FrameCounters{}, err
	}
	runtime.KeepAlive(d)
	return FrameCounters{
		Frames: uint64(v[0]), CRC: uint64(v[1]), TooLong: uint64(v[2]), Truncated: uint64(v[3]),
		BadVersion: uint64(v[4]), BadLength: uint64(v[5]), UnknownType: uint64(v[6]), Duplicate: uint64(v[7]),
		Gaps: uint64(v[8]), Reboots: uint64(v[9]), UnknownKinds: uint64(v[10]), OutOfRange: uint64(v[11]),
	}, nil
}

// Close frees the C decoder (an unfinished stream record is lost). It is
// idempotent and always returns nil; Counters keeps the final counts, the
// other methods return ErrInval.
func (d *FrameDecoder) Close() error {
	if d == nil {
		return nil
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.handle != 0 {
		d.final, _ = d.counters()
		capi.Sbprov_frame_decoder_free(d.handle)
		d.handle = 0
		d.slots, d.buf = nil, nil
		runtime.SetFinalizer(d, nil)
	}
	return nil
}
