// Command sbprov-rooms is the Go integrator example of libsbprov: it receives
// sensor frames over UDP, keeps per-room ventilation and occupancy state, and
// prints room events and states; it can also derive a gateway's Azure DPS key
// from the group enrollment key.
//
//	sbprov-rooms -listen 0.0.0.0:5683 -room 4.12=0011223344556677 -room 4.13=00112233445566aa
//	sbprov-rooms -group-key-file group.key -registration-id gw-b827eb123456
//
// See README.md.
package main

import (
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	sbprov "github.com/sbprov/libsbprov/bindings/go"
)

// roomFlags collects repeated -room NAME=NODE[,NODE...] options.
type roomFlags map[string][]sbprov.NodeID

func (r roomFlags) String() string { return fmt.Sprint(map[string][]sbprov.NodeID(r)) }

func (r roomFlags) Set(v string) error {
	name, nodes, ok := strings.Cut(v, "=")
	if !ok || name == "" || nodes == "" {
		return errors.New("want NAME=NODE[,NODE...]")
	}
	for _, n := range strings.Split(nodes, ",") {
		id, err := sbprov.ParseNodeID(strings.TrimSpace(n))
		if err != nil {
			return err
		}
		r[name] = append(r[name], id)
	}
	return nil
}

func main() {
	rooms := roomFlags{}
	listen := flag.String("listen", "127.0.0.1:5683", "UDP address to receive frames on (one record per datagram)")
	count := flag.Int("count", 0, "stop after this many accepted frames (0: until SIGINT/SIGTERM)")
	nodeTime := flag.Bool("node-time", false, "use the frames' timestamps as the room clock (replays, simulators) instead of arrival time")
	groupKeyFile := flag.String("group-key-file", "", "derive the Azure DPS device key from this group enrollment key ...")
	registrationID := flag.String("registration-id", "", "... for this registration ID, print it and exit")
	flag.Var(rooms, "room", "a room and its sensor nodes: NAME=NODE[,NODE...] (repeatable)")
	flag.Parse()

	if *groupKeyFile != "" || *registrationID != "" {
		if err := printDerivedKey(*groupKeyFile, *registrationID); err != nil {
			fmt.Fprintln(os.Stderr, "sbprov-rooms:", err)
			os.Exit(2)
		}
		return
	}
	if len(rooms) == 0 {
		fmt.Fprintln(os.Stderr, "sbprov-rooms: give at least one -room NAME=NODE")
		os.Exit(1)
	}
	if err := run(*listen, rooms, *count, *nodeTime); err != nil {
		fmt.Fprintln(os.Stderr, "sbprov-rooms:", err)
		os.Exit(2)
	}
}

// printDerivedKey prints the DPS symmetric key of one device, derived from the
// group enrollment key (HMAC-SHA256 of the registration ID).
func printDerivedKey(groupKeyFile, registrationID string) error {
	if groupKeyFile == "" || registrationID == "" {
		return errors.New("-group-key-file and -registration-id go together")
	}
	groupKey, err := os.ReadFile(groupKeyFile)
	if err != nil {
		return err
	}
	key, err := sbprov.DeriveDeviceKey(strings.TrimSpace(string(groupKey)), registrationID)
	if err != nil {
		return err
	}
	fmt.Println(key)
	return nil
}

func run(listen string, rooms roomFlags, count int, nodeTime bool) error {
	building, err := sbprov.NewBuilding()
	if err != nil {
		return err
	}
	defer building.Close()
	for name, nodes := range rooms {
		if _, err := building.AddRoom(name, nil); err != nil {
			return err
		}
		for _, node := range nodes {
			if err := building.AddNode(node, name); err != nil {
				return err
			}
		}
	}
	decoder, err := sbprov.NewFrameDecoder(nil)
	if err != nil {
		return err
	}
	defer decoder.Close()

	conn, err := net.ListenPacket("udp", listen)
	if err != nil {
		return err
	}
	defer conn.Close()
	fmt.Println("listening", conn.LocalAddr())

	// SIGINT/SIGTERM close the socket, which ends the read loop.
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGINT, syscall.SIGTERM)
	go func() { <-stop; conn.Close() }()

	start := time.Now()
	buf := make([]byte, 2048)
	for accepted := 0; count == 0 || accepted < count; {
		n, _, err := conn.ReadFrom(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				break
			}
			return err
		}
		frame, outcome, err := decoder.DecodeRecord(buf[:n])
		if err != nil {
			return err
		}
		if outcome != sbprov.FrameAccepted {
			continue // counted by the decoder
		}
		accepted++
		at := time.Since(start)
		if nodeTime && frame.HasTime {
			at = time.Duration(frame.TimeMS) * time.Millisecond
		}
		if err := building.UpdateFrame(frame, at); errors.Is(err, sbprov.ErrNotFound) {
			fmt.Printf("frame from node %s, which is in no room\n", frame.Node)
		} else if err != nil {
			return err
		}
		for _, ev := range building.Events() {
			fmt.Printf("event %s\n", ev)
		}
	}

	for _, room := range building.Rooms() {
		state, err := room.JSON()
		if err != nil {
			return err
		}
		fmt.Println("room", state)
	}
	c := decoder.Counters()
	fmt.Printf("frames %d, dropped %d, gaps %d\n", c.Frames, c.Dropped(), c.Gaps)
	return nil
}
