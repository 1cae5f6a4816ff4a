package sbprov_test

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	sbprov "github.com/sbprov/libsbprov/bindings/go"
)

// Sensor frames against tests/frame/vectors.json (made by the independent
// Python reference tests/frame/reference.py), random round trips and every
// error path.

// vecReading is one reading of a record vector, in record order: a known
// kind's value, or the raw bytes of an unknown kind (skipped by decoders).
type vecReading struct {
	Kind  int     `json:"kind"`
	Value int64   `json:"value"`
	Valid bool    `json:"valid"`
	Raw   *string `json:"raw"`
}

// known returns the readings a decoder delivers.
func (rec *vecRecord) known() []vecReading {
	var out []vecReading
	for _, r := range rec.Fields.Readings {
		if r.Raw == nil {
			out = append(out, r)
		}
	}
	return out
}

type vecRecord struct {
	Name   string `json:"name"`
	Fields struct {
		Version  int          `json:"version"`
		Type     int          `json:"type"`
		Flags    int          `json:"flags"`
		Node     string       `json:"node"`
		Epoch    int          `json:"epoch"`
		Seq      int          `json:"seq"`
		TimeMS   *uint32      `json:"time_ms"`
		Readings []vecReading `json:"readings"`
	} `json:"fields"`
	UnknownKinds int    `json:"unknown_kinds"`
	OutOfRange   int    `json:"out_of_range"`
	Record       string `json:"record"`
	Wire         string `json:"wire"`
	JSON         string `json:"json"`
	SenML        string `json:"senml"`
	SenMLAt      string `json:"senml_at"`
}

type frameVectors struct {
	Kinds []struct {
		Kind   int    `json:"kind"`
		Name   string `json:"name"`
		Length int    `json:"length"`
		Signed bool   `json:"signed"`
		Min    int64  `json:"min"`
		Max    int64  `json:"max"`
	} `json:"kinds"`
	SenMLUnixTimeMS int64       `json:"senml_unix_time_ms"`
	Records         []vecRecord `json:"records"`
	Malformed       []struct {
		Name    string `json:"name"`
		Input   string `json:"input"`
		Counter string `json:"counter"`
		Record  string `json:"record"`
		Wire    string `json:"wire"`
	} `json:"malformed"`
	Streams []struct {
		Name     string            `json:"name"`
		Wire     string            `json:"wire"`
		Records  []string          `json:"records"`
		Counters map[string]uint64 `json:"counters"`
	} `json:"streams"`
	Sequences []struct {
		Name          string `json:"name"`
		NodeTableSize int    `json:"node_table_size"`
		Steps         []struct {
			Record    string `json:"record"`
			Expect    string `json:"expect"`
			SeqStatus string `json:"seq_status"`
			Missed    uint32 `json:"missed"`
		} `json:"steps"`
		Counters map[string]uint64 `json:"counters"`
	} `json:"sequences"`
}

// frameVectorsPath is $SBPROV_FRAME_VECTORS, default tests/frame/vectors.json
// of the repository this module lives in.
func frameVectorsPath() string {
	if p := os.Getenv("SBPROV_FRAME_VECTORS"); p != "" {
		return p
	}
	return filepath.Join("..", "..", "tests", "frame", "vectors.json")
}

func loadFrameVectors(t testing.TB) *frameVectors {
	t.Helper()
	path := frameVectorsPath()
	data, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		t.Skipf("frame vectors not found at %s (set SBPROV_FRAME_VECTORS to tests/frame/vectors.json)", path)
	}
	if err != nil {
		t.Fatal(err)
	}
	var v frameVectors
	if err := json.Unmarshal(data, &v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	if len(v.Kinds) != 8 || len(v.Records) == 0 || len(v.Malformed) == 0 || len(v.Streams) == 0 ||
		len(v.Sequences) == 0 || v.SenMLUnixTimeMS == 0 {
		t.Fatalf("%s: a section is empty", path)
	}
	return &v
}

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatalf("bad hex in vectors: %v", err)
	}
	return b
}

func newDecoder(t testing.TB, size int) *sbprov.FrameDecoder {
	t.Helper()
	d, err := sbprov.NewFrameDecoder(&sbprov.FrameDecoderOptions{NodeTableSize: size})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

// feedChunks feeds wire in random pieces (empty ones included) and returns
// every frame.
func feedChunks(t testing.TB, d *sbprov.FrameDecoder, wire []byte, r *rand.Rand, maxChunk int) []sbprov.Frame {
	t.Helper()
	var frames []sbprov.Frame
	for len(wire) > 0 {
		n := r.Intn(maxChunk + 1)
		if n > len(wire) {
			n = len(wire)
		}
		got, err := d.Feed(wire[:n])
		if err != nil {
			t.Fatalf("Feed: %v", err)
		}
		frames = append(frames, got...)
		wire = wire[n:]
	}
	return frames
}

// wantCounters compares every counter with want (absent names are 0).
func wantCounters(t testing.TB, what string, got sbprov.FrameCounters, want map[string]uint64) {
	t.Helper()
	m := got.Map()
	for name := range want {
		if _, ok := m[name]; !ok {
			t.Fatalf("%s: vector names counter %q, which FrameCounters does not have", what, name)
		}
	}
	for name, v := range m {
		if v != want[name] {
			t.Errorf("%s: counter %s = %d, want %d (all: %+v)", what, name, v, want[name], got)
		}
	}
}

// checkVectorFrame compares a decoded frame with the vector's fields and
// renderings.
func checkVectorFrame(t *testing.T, v *frameVectors, rec *vecRecord, how string, f sbprov.Frame) {
	t.Helper()
	what := rec.Name + " (" + how + ")"
	fl := rec.Fields
	if f.Node.String() != fl.Node || int(f.Epoch) != fl.Epoch || int(f.Seq) != fl.Seq || int(f.Type) != fl.Type ||
		int(f.Flags) != fl.Flags {
		t.Errorf("%s: header %v %d %d %v %#x, want %s %d %d %d %#x", what, f.Node, f.Epoch, f.Seq, f.Type, f.Flags,
			fl.Node, fl.Epoch, fl.Seq, fl.Type, fl.Flags)
	}
	if (fl.TimeMS != nil) != f.HasTime || (fl.TimeMS != nil && *fl.TimeMS != f.TimeMS) || (fl.TimeMS == nil && f.TimeMS != 0) {
		t.Errorf("%s: time %v %d, want %v", what, f.HasTime, f.TimeMS, fl.TimeMS)
	}
	if f.Hello() != (fl.Type == 2) {
		t.Errorf("%s: Hello() = %v", what, f.Hello())
	}
	known := rec.known()
	if len(f.Readings) != len(known) {
		t.Fatalf("%s: %d readings %v, want %d", what, len(f.Readings), f.Readings, len(known))
	}
	for i, r := range known {
		want := sbprov.Reading{Kind: sbprov.ReadingKind(r.Kind), Value: r.Value, Valid: r.Valid}
		if f.Readings[i] != want {
			t.Errorf("%s: reading %d = %+v, want %+v", what, i, f.Readings[i], want)
		}
	}
	if f.UnknownKinds != rec.UnknownKinds || f.OutOfRange != rec.OutOfRange {
		t.Errorf("%s: unknown kinds %d, out of range %d; want %d, %d", what, f.UnknownKinds, f.OutOfRange,
			rec.UnknownKinds, rec.OutOfRange)
	}
	if hex.EncodeToString(f.Record) != rec.Record {
		t.Errorf("%s: record %x, want %s", what, f.Record, rec.Record)
	}
	if len(f.Record) != cap(f.Record) {
		t.Errorf("%s: Record has spare capacity %d (appending would write into shared memory)", what, cap(f.Record))
	}
	if s, err := f.JSON(); err != nil || s != rec.JSON {
		t.Errorf("%s: JSON() = %s, %v\nwant            %s", what, s, err, rec.JSON)
	}
	if s, err := f.SenML(time.Time{}); err != nil || s != rec.SenML {
		t.Errorf("%s: SenML(zero) = %s, %v\nwant                 %s", what, s, err, rec.SenML)
	}
	at := time.UnixMilli(v.SenMLUnixTimeMS)
	if s, err := f.SenML(at); err != nil || s != rec.SenMLAt {
		t.Errorf("%s: SenML(%v) = %s, %v\nwant %s", what, at, s, err, rec.SenMLAt)
	}
	// Another location, same instant.
	if s, err := f.SenML(at.In(time.FixedZone("X", -7*3600))); err != nil || s != rec.SenMLAt {
		t.Errorf("%s: SenML in another zone = %s, %v", what, s, err)
	}
}

func TestFrameVectorKinds(t *testing.T) {
	v := loadFrameVectors(t)
	for _, k := range v.Kinds {
		kind := sbprov.ReadingKind(k.Kind)
		min, max, ok := kind.Range()
		if kind.Name() != k.Name || kind.String() != k.Name || !kind.Known() || !ok || min != k.Min || max != k.Max {
			t.Errorf("kind %d: %q %v %d..%d, vector %q %d..%d", k.Kind, kind.Name(), ok, min, max, k.Name, k.Min, k.Max)
		}
		if got, ok := sbprov.KindFromName(k.Name); !ok || got != kind {
			t.Errorf("KindFromName(%q) = %v, %v", k.Name, got, ok)
		}
		wantDec := 0
		if k.Name == "temperature_c" || k.Name == "humidity_pct" {
			wantDec = 2
		}
		if kind.Decimals() != wantDec {
			t.Errorf("%s: Decimals() = %d, want %d", k.Name, kind.Decimals(), wantDec)
		}
	}
	for _, k := range []sbprov.ReadingKind{0, 9, 0x42, 0xff} {
		if k.Known() || k.Name() != "" || k.Decimals() != 0 || !strings.HasPrefix(k.String(), "kind 0x") {
			t.Errorf("unknown kind %d: %v %q %d %q", k, k.Known(), k.Name(), k.Decimals(), k.String())
		}
	}
	for _, name := range []string{"", "co2", "CO2_PPM", "co2_ppm\x00x"} {
		if k, ok := sbprov.KindFromName(name); ok {
			t.Errorf("KindFromName(%q) = %v", name, k)
		}
	}
	want := []sbprov.ReadingKind{sbprov.KindCO2PPM, sbprov.KindTemperatureC, sbprov.KindHumidityPct, sbprov.KindMotion,
		sbprov.KindVOCPPB, sbprov.KindPressurePa, sbprov.KindIlluminanceLux, sbprov.KindBatteryMV}
	for i, k := range want {
		if k.Name() != v.Kinds[i].Name {
			t.Errorf("constant %d is %q, vector %q", k, k.Name(), v.Kinds[i].Name)
		}
	}
}

// Every record vector decodes as a stream and as a datagram to its fields
// and renderings, and parses on its own.
func TestFrameVectorRecords(t *testing.T) {
	v := loadFrameVectors(t)
	r := rand.New(rand.NewSource(testSeed(t)))
	for i := range v.Records {
		rec := &v.Records[i]
		record, wire := unhex(t, rec.Record), unhex(t, rec.Wire)
		wantC := map[string]uint64{"frames": 1, "unknown_kinds": uint64(rec.UnknownKinds), "out_of_range": uint64(rec.OutOfRange)}

		d := newDecoder(t, 0)
		frames, err := d.Feed(wire)
		if err != nil || len(frames) != 1 {
			t.Fatalf("%s: Feed(wire) = %d frames, %v", rec.Name, len(frames), err)
		}
		checkVectorFrame(t, v, rec, "stream", frames[0])
		if frames[0].SeqStatus != sbprov.SeqFirst || frames[0].Missed != 0 {
			t.Errorf("%s: %v %d", rec.Name, frames[0].SeqStatus, frames[0].Missed)
		}
		wantCounters(t, rec.Name+" stream", d.Counters(), wantC)

		// Byte by byte and in random pieces, with a leading delimiter.
		d = newDecoder(t, 0)
		frames = feedChunks(t, d, append([]byte{0}, wire...), r, 1)
		if len(frames) != 1 || !bytes.Equal(frames[0].Record, record) {
			t.Fatalf("%s: byte by byte: %d frames", rec.Name, len(frames))
		}
		d = newDecoder(t, 0)
		frames = feedChunks(t, d, wire, r, 40)
		if len(frames) != 1 {
			t.Fatalf("%s: random chunks: %d frames", rec.Name, len(frames))
		}
		checkVectorFrame(t, v, rec, "random chunks", frames[0])

		d = newDecoder(t, 0)
		f, outcome, err := d.DecodeRecord(record)
		if err != nil || outcome != sbprov.FrameAccepted || outcome.String() != "accepted" {
			t.Fatalf("%s: DecodeRecord = %v, %v", rec.Name, outcome, err)
		}
		checkVectorFrame(t, v, rec, "datagram", f)
		wantCounters(t, rec.Name+" datagram", d.Counters(), wantC)

		f, err = sbprov.ParseFrame(record)
		if err != nil {
			t.Fatalf("%s: ParseFrame: %v", rec.Name, err)
		}
		checkVectorFrame(t, v, rec, "ParseFrame", f)
		// ParseFrame copies: changing the input changes nothing.
		saved := append([]byte(nil), record...)
		record[0] ^= 0xff
		if !bytes.Equal(f.Record, saved) {
			t.Errorf("%s: ParseFrame's Record shares the caller's bytes", rec.Name)
		}
	}
}

// tlvWalk splits a record into its timestamp (if any) and its readings
// (kind, value bytes), an independent parse of the layout.
func tlvWalk(t *testing.T, rec []byte) (hasTime bool, timeMS uint32, items [][]byte) {
	t.Helper()
	pos, end := 15, len(rec)-4
	if rec[2]&1 != 0 {
		hasTime = true
		timeMS = uint32(rec[15]) | uint32(rec[16])<<8 | uint32(rec[17])<<16 | uint32(rec[18])<<24
		pos += 4
	}
	for pos < end {
		n := int(rec[pos+1])
		items = append(items, rec[pos:pos+2+n])
		pos += 2 + n
	}
	return
}

// EncodeRecord / EncodeFrame reproduce every vector record the encoder can
// write with FrameSpec, and FrameBuilder (AddRaw for unknown kinds and
// out-of-range values) every one without reserved flag bits.
func TestFrameVectorsEncode(t *testing.T) {
	v := loadFrameVectors(t)
	specs, builders := 0, 0
	for i := range v.Records {
		rec := &v.Records[i]
		record, wire := unhex(t, rec.Record), unhex(t, rec.Wire)
		if rec.Fields.Flags > 1 {
			continue // reserved flag bits: no encoder writes them
		}
		node, err := sbprov.ParseNodeID(rec.Fields.Node)
		if err != nil {
			t.Fatal(err)
		}
		epoch, seq, hello := uint16(rec.Fields.Epoch), uint16(rec.Fields.Seq), rec.Fields.Type == 2

		b := sbprov.NewFrameBuilder(node, epoch, seq, hello)
		hasTime, timeMS, items := tlvWalk(t, record)
		if hasTime {
			if err := b.AddTimestamp(timeMS); err != nil {
				t.Fatalf("%s: %v", rec.Name, err)
			}
		}
		if len(items) != len(rec.Fields.Readings) {
			t.Fatalf("%s: %d readings in the record, %d in the vector", rec.Name, len(items), len(rec.Fields.Readings))
		}
		for i, r := range rec.Fields.Readings {
			kind := sbprov.ReadingKind(r.Kind)
			switch {
			case r.Raw != nil:
				if kind.Known() || *r.Raw != hex.EncodeToString(items[i][2:]) {
					t.Fatalf("%s: raw reading %d is %x, vector %s", rec.Name, i, items[i], *r.Raw)
				}
				err = b.AddRaw(kind, unhex(t, *r.Raw))
			case r.Valid:
				err = b.AddReading(kind, r.Value)
			default: // out of its range: only as raw bytes
				err = b.AddRaw(kind, items[i][2:])
			}
			if err != nil {
				t.Fatalf("%s: %v", rec.Name, err)
			}
		}
		got, err := b.Record()
		if err != nil || !bytes.Equal(got, record) {
			t.Errorf("%s: FrameBuilder.Record() = %x, %v\nwant %s", rec.Name, got, err, rec.Record)
		}
		got, err = b.Wire()
		if err != nil || !bytes.Equal(got, wire) {
			t.Errorf("%s: FrameBuilder.Wire() = %x, %v\nwant %s", rec.Name, got, err, rec.Wire)
		}
		builders++

		if rec.UnknownKinds != 0 || rec.OutOfRange != 0 {
			continue
		}
		spec := sbprov.FrameSpec{Node: node, Epoch: epoch, Seq: seq, Hello: hello, TimeMS: rec.Fields.TimeMS}
		for _, r := range rec.Fields.Readings {
			spec.Readings = append(spec.Readings, sbprov.Reading{Kind: sbprov.ReadingKind(r.Kind), Value: r.Value})
		}
		got, err = sbprov.EncodeRecord(spec)
		if err != nil || !bytes.Equal(got, record) {
			t.Errorf("%s: EncodeRecord = %x, %v\nwant %s", rec.Name, got, err, rec.Record)
		}
		got, err = sbprov.EncodeFrame(spec)
		if err != nil || !bytes.Equal(got, wire) {
			t.Errorf("%s: EncodeFrame = %x, %v\nwant %s", rec.Name, got, err, rec.Wire)
		}
		if c := sbprov.EncodeCOBS(record); !bytes.Equal(c, wire) {
			t.Errorf("%s: EncodeCOBS = %x", rec.Name, c)
		}
		specs++
	}
	t.Logf("reproduced %d records with FrameSpec, %d with FrameBuilder, of %d", specs, builders, len(v.Records))
	if specs < 40 || builders < 55 {
		t.Errorf("only %d / %d records reproduced", specs, builders)
	}
}

// Each malformed vector raises exactly its counter, as a datagram, on a
// stream, and split at random; ParseFrame refuses it with its outcome.
func TestFrameVectorsMalformed(t *testing.T) {
	v := loadFrameVectors(t)
	r := rand.New(rand.NewSource(testSeed(t)))
	for _, m := range v.Malformed {
		want := map[string]uint64{m.Counter: 1}
		if m.Input == "record" {
			record := unhex(t, m.Record)
			d := newDecoder(t, 0)
			f, outcome, err := d.DecodeRecord(record)
			if err != nil || outcome.String() != m.Counter || f.Record != nil {
				t.Errorf("%s: DecodeRecord = %v, %v, %+v", m.Name, outcome, err, f)
			}
			wantCounters(t, m.Name+" datagram", d.Counters(), want)

			_, err = sbprov.ParseFrame(record)
			wantErr(t, err, sbprov.ErrParse, "dropped: "+m.Counter)
			var o sbprov.FrameOutcome
			if !errors.As(err, &o) || o != outcome || !errors.Is(err, outcome) || o.String() != m.Counter {
				t.Errorf("%s: ParseFrame error %v carries outcome %v", m.Name, err, o)
			}
			if errors.Is(err, sbprov.FrameAccepted) {
				t.Errorf("%s: error matches FrameAccepted", m.Name)
			}
		}
		wire := unhex(t, m.Wire)
		d := newDecoder(t, 0)
		if frames, err := d.Feed(wire); err != nil || len(frames) != 0 {
			t.Errorf("%s: Feed = %d frames, %v", m.Name, len(frames), err)
		}
		wantCounters(t, m.Name+" stream", d.Counters(), want)
		for k := 0; k < 3; k++ {
			d := newDecoder(t, 0)
			if frames := feedChunks(t, d, wire, r, 1+r.Intn(64)); len(frames) != 0 {
				t.Errorf("%s: random chunks gave %d frames", m.Name, len(frames))
			}
			wantCounters(t, m.Name+" random chunks", d.Counters(), want)
		}
	}
}

func TestFrameVectorsStreams(t *testing.T) {
	v := loadFrameVectors(t)
	r := rand.New(rand.NewSource(testSeed(t)))
	for _, s := range v.Streams {
		wire := unhex(t, s.Wire)
		for k := 0; k < 25; k++ {
			d := newDecoder(t, 0)
			var frames []sbprov.Frame
			switch k {
			case 0:
				var err error
				if frames, err = d.Feed(wire); err != nil {
					t.Fatal(err)
				}
			case 1:
				frames = feedChunks(t, d, wire, r, 1)
			default:
				frames = feedChunks(t, d, wire, r, 1+r.Intn(300))
			}
			if len(frames) != len(s.Records) {
				t.Fatalf("%s (run %d): %d frames, want %d", s.Name, k, len(frames), len(s.Records))
			}
			for i, rec := range s.Records {
				if hex.EncodeToString(frames[i].Record) != rec {
					t.Errorf("%s: record %d = %x, want %s", s.Name, i, frames[i].Record, rec)
				}
			}
			wantCounters(t, fmt.Sprintf("%s (run %d)", s.Name, k), d.Counters(), s.Counters)
		}
	}
}

func TestFrameVectorsSequences(t *testing.T) {
	v := loadFrameVectors(t)
	for _, s := range v.Sequences {
		dgram, stream := newDecoder(t, s.NodeTableSize), newDecoder(t, s.NodeTableSize)
		for i, st := range s.Steps {
			record := unhex(t, st.Record)
			f, outcome, err := dgram.DecodeRecord(record)
			if err != nil || outcome.String() != st.Expect {
				t.Fatalf("%s step %d: DecodeRecord = %v, %v; want %s", s.Name, i, outcome, err, st.Expect)
			}
			frames, err := stream.Feed(sbprov.EncodeCOBS(record))
			if err != nil {
				t.Fatal(err)
			}
			if st.Expect != "accepted" {
				if len(frames) != 0 || f.Record != nil {
					t.Errorf("%s step %d: %s record delivered", s.Name, i, st.Expect)
				}
				continue
			}
			if len(frames) != 1 {
				t.Fatalf("%s step %d: stream gave %d frames", s.Name, i, len(frames))
			}
			for _, g := range []sbprov.Frame{f, frames[0]} {
				if g.SeqStatus.String() != st.SeqStatus || g.Missed != st.Missed || !bytes.Equal(g.Record, record) {
					t.Errorf("%s step %d: %v missed %d, want %s %d", s.Name, i, g.SeqStatus, g.Missed, st.SeqStatus, st.Missed)
				}
			}
		}
		wantCounters(t, s.Name+" datagrams", dgram.Counters(), s.Counters)
		wantCounters(t, s.Name+" stream", stream.Counters(), s.Counters)
	}
}

// randomSpec returns a random valid record for node with the given
// epoch and seq.
func randomSpec(r *rand.Rand, node sbprov.NodeID, epoch, seq uint16) sbprov.FrameSpec {
	spec := sbprov.FrameSpec{Node: node, Epoch: epoch, Seq: seq, Hello: r.Intn(10) == 0}
	if r.Intn(2) == 0 {
		tm := r.Uint32()
		spec.TimeMS = &tm
	}
	for _, k := range r.Perm(8)[:r.Intn(9)] {
		kind := sbprov.ReadingKind(k + 1)
		min, max, _ := kind.Range()
		var val int64
		switch r.Intn(4) {
		case 0:
			val = min
		case 1:
			val = max
		default:
			val = min + r.Int63n(max-min+1)
		}
		spec.Readings = append(spec.Readings, sbprov.Reading{Kind: kind, Value: val, Valid: true})
	}
	return spec
}

// checkJSONIndependently decodes the JSON rendering with encoding/json and
// compares it with the spec, its numbers with Reading.Decimal.
func checkJSONIndependently(t *testing.T, f sbprov.Frame, spec sbprov.FrameSpec) {
	t.Helper()
	s, err := f.JSON()
	if err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	var m map[string]interface{}
	if err := dec.Decode(&m); err != nil {
		t.Fatalf("JSON %s: %v", s, err)
	}
	want := map[string]interface{}{
		"node":  spec.Node.String(),
		"epoch": json.Number(strconv.Itoa(int(spec.Epoch))),
		"seq":   json.Number(strconv.Itoa(int(spec.Seq))),
	}
	if spec.TimeMS != nil {
		want["time_ms"] = json.Number(strconv.FormatUint(uint64(*spec.TimeMS), 10))
	}
	if spec.Hello {
		want["type"] = "hello"
	}
	for _, r := range spec.Readings {
		want[r.Kind.Name()] = json.Number(r.Decimal())
	}
	if !reflect.DeepEqual(m, want) {
		t.Fatalf("JSON %s\ndecodes to %v\nwant       %v", s, m, want)
	}
}

// Random records, with gaps and several nodes, encoded, concatenated and fed
// in random pieces: every one comes back as it was sent.
func TestFrameRandomRoundTrip(t *testing.T) {
	r := rand.New(rand.NewSource(testSeed(t)))
	type nodeState struct {
		id         sbprov.NodeID
		epoch, seq uint16
		seen       bool
	}
	nodes := make([]*nodeState, 6)
	for i := range nodes {
		n := &nodeState{epoch: uint16(r.Intn(65536)), seq: uint16(r.Intn(65536))}
		r.Read(n.id[:])
		nodes[i] = n
	}
	var (
		wire   []byte
		specs  []sbprov.FrameSpec
		status []sbprov.SeqStatus
		missed []uint32
		gaps   uint64
	)
	for i := 0; i < 3000; i++ {
		n := nodes[r.Intn(len(nodes))]
		st, skip := sbprov.SeqNext, uint16(0)
		switch {
		case !n.seen:
			st = sbprov.SeqFirst
		case r.Intn(10) == 0:
			skip = uint16(1 + r.Intn(100))
			st = sbprov.SeqGap
		}
		n.seq += skip
		spec := randomSpec(r, n.id, n.epoch, n.seq)
		w, err := sbprov.EncodeFrame(spec)
		if err != nil {
			t.Fatalf("EncodeFrame(%+v): %v", spec, err)
		}
		wire = append(wire, w...)
		specs = append(specs, spec)
		status = append(status, st)
		missed = append(missed, uint32(skip))
		gaps += uint64(skip)
		n.seen = true
		n.seq++
	}
	for run := 0; run < 4; run++ {
		d := newDecoder(t, 0)
		var frames []sbprov.Frame
		if run == 0 {
			var err error
			if frames, err = d.Feed(wire); err != nil { // one call: many batches of the C helper
				t.Fatal(err)
			}
		} else {
			frames = feedChunks(t, d, wire, r, []int{7, 300, 5000}[run-1])
		}
		if len(frames) != len(specs) {
			t.Fatalf("run %d: %d frames, want %d", run, len(frames), len(specs))
		}
		for i, f := range frames {
			spec := specs[i]
			if f.Node != spec.Node || f.Epoch != spec.Epoch || f.Seq != spec.Seq || f.Hello() != spec.Hello ||
				f.HasTime != (spec.TimeMS != nil) || (spec.TimeMS != nil && f.TimeMS != *spec.TimeMS) ||
				f.SeqStatus != status[i] || f.Missed != missed[i] || f.UnknownKinds != 0 || f.OutOfRange != 0 {
				t.Fatalf("run %d frame %d: %+v\nwant %+v (%v, %d missed)", run, i, f, spec, status[i], missed[i])
			}
			if !reflect.DeepEqual(f.Readings, spec.Readings) {
				t.Fatalf("run %d frame %d: readings %v, want %v", run, i, f.Readings, spec.Readings)
			}
			if run == 0 && i%10 == 0 {
				rec, err := sbprov.EncodeRecord(spec)
				if err != nil || !bytes.Equal(rec, f.Record) {
					t.Fatalf("frame %d: record %x, EncodeRecord %x", i, f.Record, rec)
				}
				checkJSONIndependently(t, f, spec)
				p, err := sbprov.ParseFrame(f.Record)
				p.SeqStatus, p.Missed = f.SeqStatus, f.Missed
				if err != nil || !reflect.DeepEqual(p, f) {
					t.Fatalf("frame %d: ParseFrame = %+v, %v", i, p, err)
				}
			}
		}
		c := d.Counters()
		if c.Frames != uint64(len(specs)) || c.Gaps != gaps || c.Dropped() != 0 {
			t.Errorf("run %d: counters %+v, want %d frames %d gaps", run, c, len(specs), gaps)
		}
	}

	// The same records as datagrams, in order.
	d := newDecoder(t, 0)
	for i, spec := range specs {
		rec, err := sbprov.EncodeRecord(spec)
		if err != nil {
			t.Fatal(err)
		}
		f, o, err := d.DecodeRecord(rec)
		if err != nil || o != sbprov.FrameAccepted || f.SeqStatus != status[i] || !reflect.DeepEqual(f.Readings, spec.Readings) {
			t.Fatalf("datagram %d: %v %v %+v", i, o, err, f)
		}
	}
}

// The batches of the C helper (64 records per call) lose nothing at their
// boundaries, whatever the record size.
func TestFrameFeedBatchBoundaries(t *testing.T) {
	node := sbprov.NodeID{1, 2, 3, 4, 5, 6, 7, 8}
	for _, n := range []int{1, 63, 64, 65, 127, 128, 129, 1000} {
		for _, big := range []bool{false, true} {
			var wire []byte
			for i := 0; i < n; i++ {
				b := sbprov.NewFrameBuilder(node, 1, uint16(i), false)
				if big {
					if err := b.AddRaw(0x99, bytes.Repeat([]byte{byte(i)}, 233)); err != nil {
						t.Fatal(err)
					}
				}
				w, err := b.Wire()
				if err != nil {
					t.Fatal(err)
				}
				wire = append(wire, w...)
			}
			d := newDecoder(t, 0)
			frames, err := d.Feed(wire)
			if err != nil || len(frames) != n {
				t.Fatalf("%d records (big %v): %d frames, %v", n, big, len(frames), err)
			}
			for i, f := range frames {
				if f.Seq != uint16(i) || (big && (len(f.Record) != 254 || f.Record[20] != byte(i))) {
					t.Fatalf("%d records (big %v): frame %d is seq %d, %d bytes", n, big, i, f.Seq, len(f.Record))
				}
			}
		}
	}
}

func TestFrameDecoderOptionsAndClose(t *testing.T) {
	_, err := sbprov.NewFrameDecoder(&sbprov.FrameDecoderOptions{NodeTableSize: -1})
	wantErr(t, err, sbprov.ErrInval, "NodeTableSize", "negative")
	_, err = sbprov.NewFrameDecoder(&sbprov.FrameDecoderOptions{NodeTableSize: 65537})
	wantErr(t, err, sbprov.ErrInval, "node_table_size 65537 is not within 1..65536")
	for _, n := range []int{1, 65536} {
		d, err := sbprov.NewFrameDecoder(&sbprov.FrameDecoderOptions{NodeTableSize: n})
		if err != nil {
			t.Fatalf("NodeTableSize %d: %v", n, err)
		}
		d.Close()
	}

	d := newDecoder(t, 0)
	w, _ := sbprov.EncodeFrame(sbprov.FrameSpec{Seq: 1})
	if f, err := d.Feed(append(w, w[:5]...)); err != nil || len(f) != 1 {
		t.Fatal(f, err)
	}
	if f, err := d.Feed(nil); err != nil || f != nil {
		t.Fatalf("Feed(nil) = %v, %v", f, err)
	}
	d.DecodeRecord([]byte{1, 2, 3})
	want := d.Counters()
	if want.Frames != 1 || want.Truncated != 1 {
		t.Fatalf("counters %+v", want)
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	d.Close()
	_, err = d.Feed(w)
	wantErr(t, err, sbprov.ErrInval, "used after Close")
	_, _, err = d.DecodeRecord(w)
	wantErr(t, err, sbprov.ErrInval, "used after Close")
	if got := d.Counters(); got != want {
		t.Errorf("counters after Close %+v, want %+v", got, want)
	}

	var nilDec *sbprov.FrameDecoder
	_, err = nilDec.Feed(w)
	wantErr(t, err, sbprov.ErrInval, "nil")
	_, _, err = nilDec.DecodeRecord(w)
	wantErr(t, err, sbprov.ErrInval, "nil")
	if nilDec.Counters() != (sbprov.FrameCounters{}) || nilDec.Close() != nil {
		t.Error("nil decoder")
	}

	// A record is delivered only once its delimiter arrives, across calls.
	d = newDecoder(t, 0)
	w, _ = sbprov.EncodeFrame(sbprov.FrameSpec{Seq: 2})
	if f, _ := d.Feed(w[:len(w)-1]); len(f) != 0 {
		t.Fatal("delivered before the delimiter")
	}
	if f, _ := d.Feed(w[len(w)-1:]); len(f) != 1 || f[0].Seq != 2 {
		t.Fatal("not delivered at the delimiter")
	}
	// A datagram in between does not disturb a stream record in progress.
	w, _ = sbprov.EncodeFrame(sbprov.FrameSpec{Seq: 3})
	d.Feed(w[:10])
	rec, _ := sbprov.EncodeRecord(sbprov.FrameSpec{Node: sbprov.NodeID{9}, Seq: 7})
	if _, o, _ := d.DecodeRecord(rec); o != sbprov.FrameAccepted {
		t.Fatal(o)
	}
	if f, _ := d.Feed(w[10:]); len(f) != 1 || f[0].Seq != 3 {
		t.Fatalf("stream record lost: %v", f)
	}
}

func TestEncodeErrors(t *testing.T) {
	node := sbprov.NodeID{0, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77}
	enc := func(rs ...sbprov.Reading) error {
		_, err := sbprov.EncodeRecord(sbprov.FrameSpec{Node: node, Readings: rs})
		return err
	}
	wantErr(t, enc(sbprov.Reading{Kind: 9, Value: 1}), sbprov.ErrInval,
		"FrameSpec.Readings[0] (kind 0x09 1)", "not a known reading kind")
	wantErr(t, enc(sbprov.Reading{Kind: 0, Value: 1}), sbprov.ErrInval, "not a known reading kind")
	wantErr(t, enc(sbprov.Reading{Kind: sbprov.KindCO2PPM, Value: 812}, sbprov.Reading{Kind: sbprov.KindCO2PPM, Value: 40001}),
		sbprov.ErrInval, "FrameSpec.Readings[1] (co2_ppm 40001)", "outside co2_ppm's range 0..40000")
	wantErr(t, enc(sbprov.Reading{Kind: sbprov.KindTemperatureC, Value: -4001}), sbprov.ErrInval, "range -4000..12500")
	// A value beyond int32 is refused, not truncated into a valid one.
	wantErr(t, enc(sbprov.Reading{Kind: sbprov.KindCO2PPM, Value: 1<<32 + 812}), sbprov.ErrInval, "outside co2_ppm's range")
	wantErr(t, enc(sbprov.Reading{Kind: 200, Value: 1 << 40}), sbprov.ErrInval, "not a known reading kind")
	wantErr(t, enc(sbprov.Reading{Kind: sbprov.KindMotion, Value: 1}, sbprov.Reading{Kind: sbprov.KindCO2PPM, Value: 1},
		sbprov.Reading{Kind: sbprov.KindMotion, Value: 2}), sbprov.ErrInval, "FrameSpec.Readings[2] (motion 2)",
		"already has a motion reading")
	tm := uint32(5)
	_, err := sbprov.EncodeFrame(sbprov.FrameSpec{TimeMS: &tm, Readings: []sbprov.Reading{{Kind: 1, Value: -1}}})
	wantErr(t, err, sbprov.ErrInval, "FrameSpec.Readings[0] (co2_ppm -1)")

	b := sbprov.NewFrameBuilder(node, 1, 1, false)
	if err := b.AddReading(sbprov.KindCO2PPM, 800); err != nil {
		t.Fatal(err)
	}
	wantErr(t, b.AddTimestamp(5), sbprov.ErrInval, "AddTimestamp(5)", "timestamp must come before every reading")
	wantErr(t, b.AddReading(sbprov.KindCO2PPM, 900), sbprov.ErrInval, "AddReading(co2_ppm, 900)", "already has a co2_ppm")
	wantErr(t, b.AddRaw(sbprov.KindTemperatureC, []byte{1, 2, 3}), sbprov.ErrInval, "temperature_c values have 2 bytes, not 3")
	wantErr(t, b.AddRaw(0x77, make([]byte, 256)), sbprov.ErrInval, "at most 255")
	wantErr(t, b.AddReading(0x77, 1), sbprov.ErrInval, "not a known reading kind")
	// Refused calls left the record as it was.
	want, _ := sbprov.EncodeRecord(sbprov.FrameSpec{Node: node, Epoch: 1, Seq: 1,
		Readings: []sbprov.Reading{{Kind: sbprov.KindCO2PPM, Value: 800}}})
	if got, err := b.Record(); err != nil || !bytes.Equal(got, want) {
		t.Fatalf("record after refused calls: %x, %v; want %x", got, err, want)
	}
	// Space: 15 + 4 + 230 + 4 (CRC) = 253 bytes; a reading takes at least 2 more.
	if err := b.AddRaw(0x77, make([]byte, 228)); err != nil {
		t.Fatal(err)
	}
	if rec, _ := b.Record(); len(rec) != 253 {
		t.Fatalf("record of %d bytes", len(rec))
	}
	wantErr(t, b.AddRaw(0x78, nil), sbprov.ErrInval, "longer than 254 bytes")
	if err := b.AddRaw(0x78, nil); err == nil {
		t.Fatal("a refused call changed the builder")
	}
	b = sbprov.NewFrameBuilder(node, 1, 1, true)
	if err := b.AddTimestamp(7); err != nil {
		t.Fatal(err)
	}
	wantErr(t, b.AddTimestamp(8), sbprov.ErrInval, "only once")
	var nb *sbprov.FrameBuilder
	wantErr(t, nb.AddTimestamp(1), sbprov.ErrInval, "nil")
	if _, err := nb.Wire(); err == nil {
		t.Fatal("nil builder")
	}

	// COBS of the edge lengths.
	for _, n := range []int{0, 1, 253, 254, 255, 508, 1000} {
		in := bytes.Repeat([]byte{0xAB}, n)
		out := sbprov.EncodeCOBS(in)
		want := n + (n+253)/254 + 1
		if n == 0 {
			want = 2
		}
		if len(out) != want || out[len(out)-1] != 0 || bytes.IndexByte(out[:len(out)-1], 0) >= 0 {
			t.Errorf("EncodeCOBS(%d bytes) = %d bytes %x", n, len(out), out)
		}
	}
	if got := sbprov.EncodeCOBS([]byte{0, 0}); !bytes.Equal(got, []byte{1, 1, 1, 0}) {
		t.Errorf("EncodeCOBS(00 00) = %x", got)
	}
}

func TestRenderErrors(t *testing.T) {
	f := sbprov.Frame{Type: sbprov.FrameTypeReadings}
	for i := 0; i < 9; i++ {
		f.Readings = append(f.Readings, sbprov.Reading{Kind: sbprov.KindMotion, Valid: true})
	}
	_, err := f.JSON()
	wantErr(t, err, sbprov.ErrInval, "Frame.JSON", "9 readings")
	_, err = f.SenML(time.Time{})
	wantErr(t, err, sbprov.ErrInval, "Frame.SenML", "9 readings")
	_, err = f.Sample(0)
	wantErr(t, err, sbprov.ErrInval, "9 readings")
	f.Readings = []sbprov.Reading{{Kind: 9, Value: 1, Valid: true}}
	_, err = f.JSON()
	wantErr(t, err, sbprov.ErrInval, "unknown kind 9")
	f.Readings = []sbprov.Reading{{Kind: sbprov.KindCO2PPM, Value: 812, Valid: true}}
	_, err = f.SenML(time.Date(1975, 1, 1, 0, 0, 0, 0, time.UTC))
	wantErr(t, err, sbprov.ErrInval, "unix_time_ms", "1978..9999")
	_, err = f.SenML(time.Unix(0, 0))
	wantErr(t, err, sbprov.ErrInval, "1970-01-01T00:00:00Z", "1978..9999")
	_, err = f.SenML(time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC))
	wantErr(t, err, sbprov.ErrInval, "1978..9999")
	// The bounds themselves.
	for _, ms := range []int64{268435456000, 253402300799999} {
		if _, err := f.SenML(time.UnixMilli(ms)); err != nil {
			t.Errorf("SenML at %d ms: %v", ms, err)
		}
	}
	// A frame built by hand renders its fields.
	f = sbprov.Frame{Node: sbprov.NodeIDFromUint64(0x0011223344556677), Epoch: 1, Seq: 5, Type: sbprov.FrameTypeHello,
		HasTime: true, TimeMS: 9, Readings: []sbprov.Reading{{Kind: sbprov.KindTemperatureC, Value: -5, Valid: true},
			{Kind: sbprov.KindBatteryMV, Value: 3300, Valid: true}, {Kind: sbprov.KindCO2PPM, Value: 50000}}}
	s, err := f.JSON()
	if want := `{"node":"0011223344556677","epoch":1,"seq":5,"time_ms":9,"type":"hello","temperature_c":-0.05,"battery_mv":3300,"co2_ppm":null}`; err != nil || s != want {
		t.Errorf("JSON = %s, %v\nwant   %s", s, err, want)
	}
	s, err = f.SenML(time.Time{})
	if want := `[{"bn":"urn:dev:mac:0011223344556677:","n":"temperature","u":"Cel","v":-0.05},{"n":"battery","u":"V","v":3.3}]`; err != nil || s != want {
		t.Errorf("SenML = %s, %v\nwant    %s", s, err, want)
	}
	if r, ok := f.Reading(sbprov.KindBatteryMV); !ok || r.Value != 3300 {
		t.Errorf("Reading(battery) = %v, %v", r, ok)
	}
	if _, ok := f.Reading(sbprov.KindMotion); ok {
		t.Error("Reading(motion) found")
	}
}

func TestParseFrameErrors(t *testing.T) {
	for _, tc := range []struct {
		in      []byte
		outcome sbprov.FrameOutcome
	}{
		{nil, sbprov.FrameDropTruncated},
		{[]byte{1}, sbprov.FrameDropTruncated},
		{make([]byte, 255), sbprov.FrameDropTooLong},
		{make([]byte, 30), sbprov.FrameDropCRC},
	} {
		_, err := sbprov.ParseFrame(tc.in)
		wantErr(t, err, sbprov.ErrParse, "dropped: "+tc.outcome.String())
		if !errors.Is(err, tc.outcome) {
			t.Errorf("%d bytes: %v does not match %v", len(tc.in), err, tc.outcome)
		}
	}
}

func TestNodeID(t *testing.T) {
	id, err := sbprov.ParseNodeID("0011223344556677")
	if err != nil || id != (sbprov.NodeID{0, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77}) || id.Uint64() != 0x0011223344556677 ||
		id.String() != "0011223344556677" || sbprov.NodeIDFromUint64(0x0011223344556677) != id {
		t.Fatalf("ParseNodeID = %v, %v", id, err)
	}
	if id, err := sbprov.ParseNodeID("A1B2C3D4E5F60718"); err != nil || id.String() != "a1b2c3d4e5f60718" {
		t.Errorf("upper case: %v, %v", id, err)
	}
	for _, s := range []string{"", "00112233445566", "001122334455667788", "zz11223344556677", "00:11:22:33:44:55:66:77", "0011223344556677\x00"} {
		_, err := sbprov.ParseNodeID(s)
		wantErr(t, err, sbprov.ErrInval, "node ID")
	}
	b, _ := json.Marshal(struct{ N sbprov.NodeID }{id})
	if string(b) != `{"N":"0011223344556677"}` {
		t.Errorf("json: %s", b)
	}
	var back struct{ N sbprov.NodeID }
	if err := json.Unmarshal(b, &back); err != nil || back.N != id {
		t.Errorf("json back: %v, %v", back, err)
	}
	if err := json.Unmarshal([]byte(`{"N":"xyz"}`), &back); err == nil {
		t.Error("bad node ID in JSON accepted")
	}
	r := rand.New(rand.NewSource(testSeed(t)))
	for i := 0; i < 1000; i++ {
		n := r.Uint64()
		if sbprov.NodeIDFromUint64(n).Uint64() != n {
			t.Fatal(n)
		}
	}
}

func TestReadingDecimals(t *testing.T) {
	for _, tc := range []struct {
		kind  sbprov.ReadingKind
		in    string
		value int64
		back  string
	}{
		{sbprov.KindTemperatureC, "21.53", 2153, "21.53"},
		{sbprov.KindTemperatureC, "21.530", 2153, "21.53"},
		{sbprov.KindTemperatureC, "-0.05", -5, "-0.05"},
		{sbprov.KindTemperatureC, "-40", -4000, "-40"},
		{sbprov.KindTemperatureC, "+125.00", 12500, "125"},
		{sbprov.KindTemperatureC, "-0", 0, "0"},
		{sbprov.KindTemperatureC, "0.1", 10, "0.1"},
		{sbprov.KindHumidityPct, "45.2", 4520, "45.2"},
		{sbprov.KindHumidityPct, "100", 10000, "100"},
		{sbprov.KindCO2PPM, "812", 812, "812"},
		{sbprov.KindCO2PPM, "812.000", 812, "812"},
		{sbprov.KindCO2PPM, "00040000", 40000, "40000"},
		{sbprov.KindIlluminanceLux, "200000", 200000, "200000"},
		{sbprov.KindPressurePa, "101325", 101325, "101325"},
	} {
		r, err := sbprov.ReadingFromDecimal(tc.kind, tc.in)
		if err != nil || r != (sbprov.Reading{Kind: tc.kind, Value: tc.value, Valid: true}) || r.Decimal() != tc.back {
			t.Errorf("ReadingFromDecimal(%v, %q) = %+v (%s), %v", tc.kind, tc.in, r, r.Decimal(), err)
		}
	}
	for _, tc := range []struct {
		kind sbprov.ReadingKind
		in   string
		frag string
	}{
		{sbprov.KindTemperatureC, "21.535", "more than 2 decimals"},
		{sbprov.KindCO2PPM, "812.5", "more than 0 decimals"},
		{sbprov.KindTemperatureC, "", "not a decimal number"},
		{sbprov.KindTemperatureC, "abc", "not a decimal number"},
		{sbprov.KindTemperatureC, "1e3", "not a decimal number"},
		{sbprov.KindTemperatureC, "21.", "no digits after"},
		{sbprov.KindTemperatureC, ".5", "not a decimal number"},
		{sbprov.KindTemperatureC, " 21", "not a decimal number"},
		{sbprov.KindTemperatureC, "--1", "not a decimal number"},
		{sbprov.KindTemperatureC, "125.01", "outside temperature_c's range -40..125"},
		{sbprov.KindTemperatureC, "-40.01", "outside"},
		{sbprov.KindCO2PPM, "40001", "outside co2_ppm's range 0..40000"},
		{sbprov.KindCO2PPM, "-1", "outside"},
		{sbprov.KindCO2PPM, "99999999999999999999999999", "outside"},
		{sbprov.KindPressurePa, "29999", "range 30000..110000"},
		{9, "1", "not a known reading kind"},
	} {
		_, err := sbprov.ReadingFromDecimal(tc.kind, tc.in)
		wantErr(t, err, sbprov.ErrInval, tc.frag)
	}
	r, err := sbprov.ReadingFromFloat(sbprov.KindTemperatureC, 21.53)
	if err != nil || r.Value != 2153 {
		t.Errorf("ReadingFromFloat(21.53) = %v, %v", r, err)
	}
	a, b := 0.1, 0.2
	_, err = sbprov.ReadingFromFloat(sbprov.KindHumidityPct, a+b) // 0.30000000000000004
	wantErr(t, err, sbprov.ErrInval, "more than 2 decimals")
	_, err = sbprov.ReadingFromFloat(sbprov.KindCO2PPM, 1e300)
	wantErr(t, err, sbprov.ErrInval, "outside")
	for _, f := range []float64{nanValue(), 1 / zero, -1 / zero} {
		_, err = sbprov.ReadingFromFloat(sbprov.KindCO2PPM, f)
		wantErr(t, err, sbprov.ErrInval, "not a number")
	}
	if s := (sbprov.Reading{Kind: sbprov.KindHumidityPct, Value: 4520}).String(); s != "humidity_pct=45.2 (out of range)" {
		t.Errorf("String() = %q", s)
	}
	if f := (sbprov.Reading{Kind: sbprov.KindTemperatureC, Value: 2153}).Float(); f != 21.53 {
		t.Errorf("Float() = %v", f)
	}
	// Decimal agrees with the library's JSON for every value of the
	// fixed-point kinds (and random ones of the others).
	rnd := rand.New(rand.NewSource(testSeed(t)))
	for i := 0; i < 2000; i++ {
		kind := sbprov.ReadingKind(1 + rnd.Intn(8))
		min, max, _ := kind.Range()
		v := min + rnd.Int63n(max-min+1)
		f := sbprov.Frame{Readings: []sbprov.Reading{{Kind: kind, Value: v, Valid: true}}}
		s, err := f.JSON()
		want := `,"` + kind.Name() + `":` + f.Readings[0].Decimal() + "}"
		if err != nil || !strings.HasSuffix(s, want) {
			t.Fatalf("%v %d: JSON %s, Decimal %s", kind, v, s, f.Readings[0].Decimal())
		}
		back, err := sbprov.ReadingFromDecimal(kind, f.Readings[0].Decimal())
		if err != nil || back.Value != v {
			t.Fatalf("%v %d: back %v, %v", kind, v, back, err)
		}
	}
}

var zero float64

func nanValue() float64 { return zero / zero }

func TestFrameEnumNames(t *testing.T) {
	outcomes := []string{"accepted", "crc", "too_long", "truncated", "bad_version", "bad_length", "unknown_type", "duplicate"}
	for i, n := range outcomes {
		if o := sbprov.FrameOutcome(i); o.String() != n {
			t.Errorf("FrameOutcome(%d) = %q, want %q", i, o.String(), n)
		}
	}
	if sbprov.FrameDropBadLength.String() != "bad_length" || sbprov.FrameOutcome(8).String() != "invalid" ||
		sbprov.FrameOutcome(-1).String() != "invalid" || sbprov.FrameOutcome(1<<40).String() != "invalid" {
		t.Error("outcome names")
	}
	if sbprov.FrameDropCRC.Error() != "crc" || fmt.Sprint(sbprov.FrameDropCRC) != "crc" || fmt.Sprint(sbprov.FrameAccepted) != "accepted" {
		t.Error("outcome Error()")
	}
	for i, n := range []string{"first", "next", "gap", "reboot", "invalid"} {
		if s := sbprov.SeqStatus(i); s.String() != n {
			t.Errorf("SeqStatus(%d) = %q", i, s.String())
		}
	}
	if sbprov.SeqReboot.String() != "reboot" || sbprov.FrameTypeHello.String() != "hello" ||
		sbprov.FrameTypeReadings.String() != "readings" || sbprov.FrameType(3).String() != "type 0x03" {
		t.Error("names")
	}
}

// Damaged streams (valid records, flipped bits, cut records, noise, stray
// delimiters) give the same frames and counters however they are split, and
// every dropped record is counted once.
func TestFrameStreamSplitInvariance(t *testing.T) {
	r := rand.New(rand.NewSource(testSeed(t)))
	for round := 0; round < 30; round++ {
		var wire []byte
		var node sbprov.NodeID
		r.Read(node[:])
		for i := 0; i < 200; i++ {
			w, err := sbprov.EncodeFrame(randomSpec(r, node, 1, uint16(i)))
			if err != nil {
				t.Fatal(err)
			}
			switch r.Intn(8) {
			case 0:
				w[r.Intn(len(w)-1)] ^= byte(1 + r.Intn(255)) // may also make a 0x00 inside
			case 1:
				w = w[:r.Intn(len(w))] // cut: the next record's delimiter ends it
			case 2:
				noise := make([]byte, r.Intn(600))
				r.Read(noise)
				wire = append(wire, noise...)
			case 3:
				wire = append(wire, 0, 0)
			}
			wire = append(wire, w...)
		}
		d := newDecoder(t, 0)
		whole, err := d.Feed(wire)
		if err != nil {
			t.Fatal(err)
		}
		want := d.Counters()
		for k := 0; k < 5; k++ {
			d := newDecoder(t, 0)
			got := feedChunks(t, d, wire, r, []int{1, 3, 17, 256, 4096}[k])
			if len(got) != len(whole) {
				t.Fatalf("round %d split %d: %d frames, whole %d", round, k, len(got), len(whole))
			}
			for i := range got {
				if !reflect.DeepEqual(got[i], whole[i]) {
					t.Fatalf("round %d split %d frame %d differs", round, k, i)
				}
			}
			if c := d.Counters(); c != want {
				t.Fatalf("round %d split %d: counters %+v, whole %+v", round, k, c, want)
			}
		}
		if want.Frames != uint64(len(whole)) || want.Frames == 0 || want.Dropped() == 0 {
			t.Fatalf("round %d: counters %+v for %d frames", round, want, len(whole))
		}
	}
}
