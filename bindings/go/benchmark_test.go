package sbprov_test

import (
	"strconv"
	"sync"
	"testing"
	"time"

	sbprov "github.com/sbprov/libsbprov/bindings/go"
)

// Benchmarks (go test -run NONE -bench .): the cost of the binding around
// the C calls, for comparison with the C benchmarks under bench/.

func BenchmarkDeriveDeviceKey(b *testing.B) {
	for i := 0; i < b.N; i++ {
		if _, err := sbprov.DeriveDeviceKey(key64, "sn-007-888-abc-mac-a1-b2-c3-d4-e5-f6"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDeriverDerive(b *testing.B) {
	d, err := sbprov.NewDeriver(key64)
	if err != nil {
		b.Fatal(err)
	}
	defer d.Close()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := d.Derive("sn-007-888-abc-mac-a1-b2-c3-d4-e5-f6"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDeriveDeviceKeys1000(b *testing.B) {
	ids := make([]string, 1000)
	for i := range ids {
		ids[i] = "gateway-" + strconv.Itoa(i)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := sbprov.DeriveDeviceKeys(key64, ids); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSASTokenAt(b *testing.B) {
	for i := 0; i < b.N; i++ {
		if _, err := sbprov.SASTokenAt("MyExampleHub.azure-devices.net/devices/my-symkey-device", key64, 4102444800, "", 0); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDeriveDeviceKeyError(b *testing.B) {
	for i := 0; i < b.N; i++ {
		if _, err := sbprov.DeriveDeviceKey(key64, "Bad-ID"); err == nil {
			b.Fatal("no error")
		}
	}
}

// frameStream is one node's records with every sequence number 0..65535 (so
// that feeding it again continues the sequence: 65535 is followed by 0),
// CO2, temperature, humidity and motion each, 36 bytes on the wire.
var frameStream struct {
	once sync.Once
	wire []byte
	err  error
}

func benchFrameStream(b *testing.B) []byte {
	frameStream.once.Do(func() {
		node := sbprov.NodeID{0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77}
		for seq := 0; seq < 65536; seq++ {
			w, err := sbprov.EncodeFrame(sbprov.FrameSpec{Node: node, Epoch: 1, Seq: uint16(seq), Readings: []sbprov.Reading{
				{Kind: sbprov.KindCO2PPM, Value: int64(400 + seq%1600)}, {Kind: sbprov.KindTemperatureC, Value: 2153},
				{Kind: sbprov.KindHumidityPct, Value: 4520}, {Kind: sbprov.KindMotion, Value: int64(seq % 3)}}})
			if err != nil {
				frameStream.err = err
				return
			}
			frameStream.wire = append(frameStream.wire, w...)
		}
	})
	if frameStream.err != nil {
		b.Fatal(frameStream.err)
	}
	return frameStream.wire
}

// BenchmarkFrameDecoderFeed feeds a stream in 4 KiB reads, as from a UART
// or pty: one op is one Feed call; frames/s is the decoding rate through
// the binding (records copied out of C, Frames built).
func BenchmarkFrameDecoderFeed(b *testing.B) {
	wire := benchFrameStream(b)
	d, err := sbprov.NewFrameDecoder(nil)
	if err != nil {
		b.Fatal(err)
	}
	defer d.Close()
	const chunk = 4096
	frames, pos := 0, 0
	b.ReportAllocs()
	b.SetBytes(chunk)
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		end := pos + chunk
		if end > len(wire) {
			end = len(wire)
		}
		got, err := d.Feed(wire[pos:end])
		if err != nil {
			b.Fatal(err)
		}
		frames += len(got)
		if pos = end; pos == len(wire) {
			pos = 0
		}
	}
	elapsed := time.Since(start)
	b.StopTimer()
	if c := d.Counters(); c.Dropped() != 0 {
		b.Fatalf("dropped records: %+v", c)
	}
	b.ReportMetric(float64(frames)/elapsed.Seconds(), "frames/s")
	if frames > 0 {
		b.ReportMetric(float64(elapsed.Nanoseconds())/float64(frames), "ns/frame")
	}
}

// BenchmarkFrameDecodeRecord decodes one datagram per op.
func BenchmarkFrameDecodeRecord(b *testing.B) {
	node := sbprov.NodeID{1}
	recs := make([][]byte, 65536)
	for seq := range recs {
		rec, err := sbprov.EncodeRecord(sbprov.FrameSpec{Node: node, Seq: uint16(seq),
			Readings: []sbprov.Reading{{Kind: sbprov.KindCO2PPM, Value: 812}, {Kind: sbprov.KindMotion, Value: 1}}})
		if err != nil {
			b.Fatal(err)
		}
		recs[seq] = rec
	}
	d, err := sbprov.NewFrameDecoder(nil)
	if err != nil {
		b.Fatal(err)
	}
	defer d.Close()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, o, err := d.DecodeRecord(recs[i%len(recs)]); err != nil || o != sbprov.FrameAccepted {
			b.Fatal(o, err)
		}
	}
}

// BenchmarkFrameJSON renders one decoded frame as JSON per op.
func BenchmarkFrameJSON(b *testing.B) {
	rec, _ := sbprov.EncodeRecord(sbprov.FrameSpec{Seq: 1, Readings: []sbprov.Reading{{Kind: sbprov.KindCO2PPM, Value: 812},
		{Kind: sbprov.KindTemperatureC, Value: 2153}, {Kind: sbprov.KindHumidityPct, Value: 4520}}})
	f, err := sbprov.ParseFrame(rec)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := f.JSON(); err != nil {
			b.Fatal(err)
		}
	}
}
