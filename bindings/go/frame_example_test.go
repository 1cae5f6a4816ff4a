package sbprov_test

import (
	"encoding/hex"
	"errors"
	"fmt"
	"log"
	"time"

	sbprov "github.com/sbprov/libsbprov/bindings/go"
)

// The example record of docs/frame-format.md: node 0011223344556677, epoch
// 1, seq 5, CO2 812 ppm, 21.53 °C, 45.2 %RH, motion 1.
func ExampleEncodeFrame() {
	node, _ := sbprov.ParseNodeID("0011223344556677")
	temp, _ := sbprov.ReadingFromDecimal(sbprov.KindTemperatureC, "21.53") // 2153 hundredths, exactly
	wire, err := sbprov.EncodeFrame(sbprov.FrameSpec{
		Node: node, Epoch: 1, Seq: 5,
		Readings: []sbprov.Reading{
			{Kind: sbprov.KindCO2PPM, Value: 812},
			temp,
			{Kind: sbprov.KindHumidityPct, Value: 4520},
			{Kind: sbprov.KindMotion, Value: 1},
		},
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(hex.EncodeToString(wire))
	// Output: 0301010109112233445566770102051401022c03020269080302a81104010137edf63100
}

func ExampleNewFrameDecoder() {
	wire, _ := hex.DecodeString("0301010109112233445566770102051401022c03020269080302a81104010137edf63100")
	d, err := sbprov.NewFrameDecoder(nil)
	if err != nil {
		log.Fatal(err)
	}
	defer d.Close()
	// Bytes arrive in pieces of any size; a record is delivered when its
	// delimiter arrives.
	for _, chunk := range [][]byte{wire[:10], wire[10:], {0x05, 0x01, 0x02}, {0x00}} {
		frames, err := d.Feed(chunk)
		if err != nil {
			log.Fatal(err)
		}
		for _, f := range frames {
			j, _ := f.JSON()
			fmt.Println(f.SeqStatus, j)
		}
	}
	c := d.Counters()
	fmt.Printf("frames %d, dropped %d (truncated %d)\n", c.Frames, c.Dropped(), c.Truncated)
	// Output:
	// first {"node":"0011223344556677","epoch":1,"seq":5,"co2_ppm":812,"temperature_c":21.53,"humidity_pct":45.2,"motion":1}
	// frames 1, dropped 1 (truncated 1)
}

func ExampleFrameDecoder_DecodeRecord() {
	d, err := sbprov.NewFrameDecoder(nil)
	if err != nil {
		log.Fatal(err)
	}
	defer d.Close()
	node := sbprov.NodeIDFromUint64(0xa1b2c3d4e5f60718)
	for _, seq := range []uint16{7, 8, 8, 11} { // a duplicate, then two records missing
		datagram, _ := sbprov.EncodeRecord(sbprov.FrameSpec{Node: node, Epoch: 2, Seq: seq,
			Readings: []sbprov.Reading{{Kind: sbprov.KindCO2PPM, Value: 640}}})
		f, outcome, err := d.DecodeRecord(datagram)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(seq, outcome, f.SeqStatus, f.Missed)
	}
	fmt.Printf("%+v\n", d.Counters())
	// Output:
	// 7 accepted first 0
	// 8 accepted next 0
	// 8 duplicate first 0
	// 11 accepted gap 2
	// {Frames:3 CRC:0 TooLong:0 Truncated:0 BadVersion:0 BadLength:0 UnknownType:0 Duplicate:1 Gaps:2 Reboots:0 UnknownKinds:0 OutOfRange:0}
}

func ExampleFrame_SenML() {
	record, _ := hex.DecodeString("01010000112233445566770100050001022c03020269080302a81104010137edf631")
	f, err := sbprov.ParseFrame(record)
	if err != nil {
		log.Fatal(err)
	}
	s, err := f.SenML(time.Date(2026, 1, 1, 0, 0, 0, 250e6, time.UTC)) // when the gateway received it
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(s)
	// Output: [{"bn":"urn:dev:mac:0011223344556677:","bver":26,"bt":1767225600.25,"n":"co2","u":"ppm","v":812},{"n":"temperature","u":"Cel","v":21.53},{"n":"humidity","u":"%RH","v":45.2},{"n":"motion","u":"count","v":1}]
}

func ExampleParseFrame() {
	record, _ := hex.DecodeString("01010000112233445566770100050001022c03020269080302a81104010137edf631")
	f, err := sbprov.ParseFrame(record)
	fmt.Println(f.Node, f.Epoch, f.Seq, f.Readings, err)

	record[20] ^= 1 // one bit flipped in a value
	_, err = sbprov.ParseFrame(record)
	var outcome sbprov.FrameOutcome
	fmt.Println(errors.Is(err, sbprov.ErrParse), errors.Is(err, sbprov.FrameDropCRC), errors.As(err, &outcome), outcome)
	// Output:
	// 0011223344556677 1 5 [co2_ppm=812 temperature_c=21.53 humidity_pct=45.2 motion=1] <nil>
	// true true true crc
}

func ExampleReadingFromDecimal() {
	r, err := sbprov.ReadingFromDecimal(sbprov.KindTemperatureC, "-12.34")
	fmt.Println(r.Value, r.Decimal(), err)
	r, err = sbprov.ReadingFromFloat(sbprov.KindHumidityPct, 45.2)
	fmt.Println(r.Value, r.Decimal(), err)
	_, err = sbprov.ReadingFromDecimal(sbprov.KindTemperatureC, "21.535")
	fmt.Println(err)
	// Output:
	// -1234 -12.34 <nil>
	// 4520 45.2 <nil>
	// sbprov: reading temperature_c "21.535": more than 2 decimals (temperature_c is in units of 0.01) (ErrInval)
}

// Readings a version-1 decoder does not know are skipped and counted.
func ExampleNewFrameBuilder() {
	b := sbprov.NewFrameBuilder(sbprov.NodeID{0, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77}, 10, 1, false)
	_ = b.AddReading(sbprov.KindCO2PPM, 700)
	_ = b.AddRaw(0x09, []byte{1, 2, 3}) // a kind of a later format version
	_ = b.AddReading(sbprov.KindTemperatureC, 2000)
	fmt.Println(b.AddReading(sbprov.KindCO2PPM, 701))
	rec, _ := b.Record()
	f, _ := sbprov.ParseFrame(rec)
	j, _ := f.JSON()
	fmt.Println(hex.EncodeToString(rec))
	fmt.Println(j, f.UnknownKinds)
	// Output:
	// sbprov: AddReading(co2_ppm, 701): the record already has a co2_ppm reading (a kind appears once per record) (ErrInval)
	// 01010000112233445566770a0001000102bc0209030102030202d0078dba837c
	// {"node":"0011223344556677","epoch":10,"seq":1,"co2_ppm":700,"temperature_c":20} 1
}

// A meeting room: six people in 50 m3 raise the CO2 by 40 ppm/min.
func ExampleNewRoom() {
	room, err := sbprov.NewRoom("4.12", nil) // UBA steps: 1000 / 2000 ppm
	if err != nil {
		log.Fatal(err)
	}
	defer room.Close()
	for t := 0; t <= 20*60; t += 30 { // a sample every 30 s for 20 minutes
		s := sbprov.Sample{
			Time:   time.Duration(t) * time.Second, // the gateway's monotonic clock
			HasCO2: true, CO2PPM: uint32(420 + 40*t/60),
			HasMotion: true, // a PIR is there ...
		}
		if t == 0 {
			s.Motion = 1 // ... and sees people arrive
		}
		err := room.Update(s)
		if err != nil {
			log.Fatal(err)
		}
		for _, e := range room.Events() {
			fmt.Printf("%v %v\n", e.Time, e)
		}
	}
	st, _ := room.State()
	fmt.Printf("%v, trend %.0f ppm/min, %.1f min to %d ppm, occupied %v (%v)\n",
		st.CO2Class, st.TrendPPMPerMin, st.MinutesToThreshold, st.NextThresholdPPM, st.Occupied, st.OccupiedReason)
	// Output:
	// 0s 4.12: occupied (motion)
	// 14m30s 4.12: ventilation_needed (co2 1000 ppm >= 1000)
	// ventilate, trend 40 ppm/min, 19.5 min to 2000 ppm, occupied true (motion)
}

// A building: nodes are placed in rooms, and decoded frames go to the room
// of their node.
func ExampleNewBuilding() {
	b, err := sbprov.NewBuilding()
	if err != nil {
		log.Fatal(err)
	}
	defer b.Close()
	b.AddRoom("4.12", nil)
	b.AddRoom("4.13", &sbprov.RoomOptions{VentilatePPM: 800}) // a stricter policy
	co2Sensor, pir := sbprov.NodeIDFromUint64(0xA1), sbprov.NodeIDFromUint64(0xA2)
	b.AddNode(co2Sensor, "4.13")
	b.AddNode(pir, "4.13")

	d, _ := sbprov.NewFrameDecoder(nil)
	defer d.Close()
	for i, spec := range []sbprov.FrameSpec{
		{Node: pir, Seq: 1, Readings: []sbprov.Reading{{Kind: sbprov.KindMotion, Value: 3}}},
		{Node: co2Sensor, Seq: 1, Readings: []sbprov.Reading{{Kind: sbprov.KindCO2PPM, Value: 850}}},
		{Node: sbprov.NodeIDFromUint64(0xFF), Seq: 1}, // placed nowhere
	} {
		wire, _ := sbprov.EncodeFrame(spec)
		frames, _ := d.Feed(wire)
		for _, f := range frames {
			if err := b.UpdateFrame(f, time.Duration(i)*time.Second); err != nil {
				fmt.Println(f.Node, err)
			}
		}
	}
	for _, e := range b.Events() {
		fmt.Println(e)
	}
	// Output:
	// 00000000000000ff sbprov: air building: node 00000000000000ff is in no room (ErrNotFound)
	// 4.13: occupied (motion)
	// 4.13: ventilation_needed (co2 850 ppm >= 800)
}
