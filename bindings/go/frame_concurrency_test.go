package sbprov_test

import (
	"bytes"
	"fmt"
	"math/rand"
	"reflect"
	"runtime"
	"sync"
	"testing"
	"time"

	sbprov "github.com/sbprov/libsbprov/bindings/go"
)

// Frames and rooms from many goroutines (run under -race and cgocheck2 by
// test.sh).

// Each goroutine has its own decoder and room: results right, and every
// error carries the message of its own failure.
func TestConcurrentFrameDecoders(t *testing.T) {
	runWorkers(t, func(w int, r *rand.Rand) error {
		d, err := sbprov.NewFrameDecoder(nil)
		if err != nil {
			return err
		}
		defer d.Close()
		room, err := sbprov.NewRoom(fmt.Sprintf("w%d", w), nil)
		if err != nil {
			return err
		}
		defer room.Close()
		var node sbprov.NodeID
		r.Read(node[:])
		var wire []byte
		var specs []sbprov.FrameSpec
		for i := 0; i < iterations; i++ {
			spec := randomSpec(r, node, uint16(w), uint16(i))
			wb, err := sbprov.EncodeFrame(spec)
			if err != nil {
				return err
			}
			wire = append(wire, wb...)
			specs = append(specs, spec)
		}
		var frames []sbprov.Frame
		for len(wire) > 0 {
			n := r.Intn(500)
			if n > len(wire) {
				n = len(wire)
			}
			got, err := d.Feed(wire[:n])
			if err != nil {
				return err
			}
			frames = append(frames, got...)
			wire = wire[n:]
		}
		if len(frames) != len(specs) {
			return fmt.Errorf("worker %d: %d frames, want %d", w, len(frames), len(specs))
		}
		for i, f := range frames {
			if f.Node != node || f.Seq != uint16(i) || !reflect.DeepEqual(f.Readings, specs[i].Readings) {
				return fmt.Errorf("worker %d frame %d: %+v, want %+v", w, i, f, specs[i])
			}
			if err := room.UpdateFrame(f, time.Duration(i)*time.Second); err != nil {
				return fmt.Errorf("worker %d: UpdateFrame: %v", w, err)
			}
			if i%25 == 0 {
				// Errors made by C, unique to this goroutine and call.
				size := 65537 + w*1000 + i
				_, err := sbprov.NewFrameDecoder(&sbprov.FrameDecoderOptions{NodeTableSize: size})
				if err := checkOwnError("NewFrameDecoder", err, sbprov.ErrInval, fmt.Sprintf("node_table_size %d is not", size)); err != nil {
					return err
				}
				err = room.Update(sbprov.Sample{Time: time.Duration(i) * time.Second, HasCO2: true, CO2PPM: uint32(40001 + w*1000 + i)})
				if err := checkOwnError("Room.Update", err, sbprov.ErrInval, fmt.Sprintf("co2_ppm %d is out of range", 40001+w*1000+i)); err != nil {
					return err
				}
				ms := int64(1000 + w*100 + i)
				_, err = f.SenML(time.UnixMilli(ms))
				if err := checkOwnError("SenML", err, sbprov.ErrInval, fmt.Sprintf("unix_time_ms %d is not", ms)); err != nil {
					return err
				}
				runtime.Gosched()
			}
		}
		if c := d.Counters(); c.Frames != uint64(len(specs)) || c.Dropped() != 0 {
			return fmt.Errorf("worker %d: counters %+v", w, c)
		}
		st, err := room.State()
		if err != nil || st.Samples != uint64(len(specs)) {
			return fmt.Errorf("worker %d: room state %+v, %v", w, st, err)
		}
		return nil
	})
}

// One decoder and one building shared by every goroutine: calls are
// serialised, each goroutine's records come back, the counters add up.
func TestConcurrentSharedDecoderAndBuilding(t *testing.T) {
	d := newDecoder(t, 1024)
	b, err := sbprov.NewBuilding()
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	const perWorker = 200
	rooms := make([]*sbprov.Room, workers)
	for w := range rooms {
		if rooms[w], err = b.AddRoom(fmt.Sprintf("room-%d", w), nil); err != nil {
			t.Fatal(err)
		}
		if err := b.AddNode(sbprov.NodeIDFromUint64(uint64(w+1)), fmt.Sprintf("room-%d", w)); err != nil {
			t.Fatal(err)
		}
	}
	runWorkers(t, func(w int, r *rand.Rand) error {
		node := sbprov.NodeIDFromUint64(uint64(w + 1))
		for i := 0; i < perWorker; i++ {
			spec := randomSpec(r, node, 7, uint16(i))
			rec, err := sbprov.EncodeRecord(spec)
			if err != nil {
				return err
			}
			f, o, err := d.DecodeRecord(rec)
			if err != nil || o != sbprov.FrameAccepted || f.Node != node || !bytes.Equal(f.Record, rec) {
				return fmt.Errorf("worker %d record %d: %v %v %+v", w, i, o, err, f)
			}
			want := sbprov.SeqNext
			if i == 0 {
				want = sbprov.SeqFirst
			}
			if f.SeqStatus != want {
				return fmt.Errorf("worker %d record %d: %v", w, i, f.SeqStatus)
			}
			if err := b.UpdateFrame(f, time.Duration(i)*time.Second); err != nil {
				return fmt.Errorf("worker %d: %v", w, err)
			}
			if i%20 == 0 {
				b.Events()
				if _, err := rooms[w].State(); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if c := d.Counters(); c.Frames != workers*perWorker || c.Dropped() != 0 || c.Gaps != 0 {
		t.Errorf("shared counters %+v", c)
	}
	for w, room := range rooms {
		if st, err := room.State(); err != nil || st.Samples != perWorker {
			t.Errorf("room %d: %+v, %v", w, st, err)
		}
	}
}

// Close racing with Feed: each call works or fails cleanly with ErrInval.
func TestConcurrentFrameDecoderClose(t *testing.T) {
	w, err := sbprov.EncodeFrame(sbprov.FrameSpec{Readings: []sbprov.Reading{{Kind: sbprov.KindCO2PPM, Value: 500}}})
	if err != nil {
		t.Fatal(err)
	}
	for round := 0; round < 20; round++ {
		d, err := sbprov.NewFrameDecoder(nil)
		if err != nil {
			t.Fatal(err)
		}
		room, err := sbprov.NewRoom("", nil)
		if err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		errs := make(chan error, 8)
		for g := 0; g < 8; g++ {
			wg.Add(1)
			go func(g int) {
				defer wg.Done()
				for i := 0; i < 50; i++ {
					if g == 0 && i == 10 {
						d.Close()
						room.Close()
					}
					if _, err := d.Feed(w); err != nil {
						if e := checkOwnError("Feed after Close", err, sbprov.ErrInval, "used after Close"); e != nil {
							errs <- e
							return
						}
					}
					if err := room.Update(sbprov.Sample{Time: time.Hour}); err != nil {
						if e := checkOwnError("Update after Close", err, sbprov.ErrInval, "used after Close"); e != nil {
							errs <- e
							return
						}
					}
				}
			}(g)
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
	}
}
