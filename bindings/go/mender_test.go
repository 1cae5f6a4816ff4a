package sbprov_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	sbprov "github.com/sbprov/libsbprov/bindings/go"
)

// The Mender clients over real HTTPS: the Go Mender emulator
// (tests/emulators/mender) behind nginx with a test CA, started by
// tests/emulators/stack.py, which exports the SBPROV_TEST_* variables read
// here (bindings/go/test.sh runs the tests under it). The emulator's control
// API (plain HTTP, never through nginx) resets state, injects faults and
// reports what the server recorded. Without SBPROV_TEST_MENDER_URL these
// tests are skipped, so `go test` alone still works.

// emu is one test's view of the stack: a reset emulator and a logged-in
// management client.
type emu struct {
	t      *testing.T
	url    string
	opts   sbprov.HTTPOptions // CAFile set, short timeouts
	mgmt   *sbprov.MenderManagement
	client *http.Client // control API; never through a proxy
}

// stackEnv returns an SBPROV_TEST_* variable, failing the test if the stack
// did not set it.
func stackEnv(t testing.TB, name string) string {
	t.Helper()
	v := os.Getenv(name)
	if v == "" {
		t.Fatalf("%s is not set (run under tests/emulators/stack.py)", name)
	}
	return v
}

// newEmu skips the test without a stack; otherwise it resets the emulator,
// logs in, and checks at the end that the emulator recorded no violation of
// the Mender API.
func newEmu(t *testing.T) *emu {
	t.Helper()
	url := os.Getenv("SBPROV_TEST_MENDER_URL")
	if url == "" {
		t.Skip("SBPROV_TEST_MENDER_URL is not set: run under tests/emulators/stack.py (bindings/go/test.sh does)")
	}
	e := &emu{t: t, url: url, client: &http.Client{Transport: &http.Transport{Proxy: nil}, Timeout: 20 * time.Second}}
	e.ctl("POST", "/_emu/reset", nil, nil)
	e.opts = sbprov.HTTPOptions{
		CAFile:         stackEnv(t, "SBPROV_TEST_CA"),
		ConnectTimeout: 3 * time.Second,
		Timeout:        5 * time.Second,
	}
	e.mgmt = e.newMgmt()
	t.Cleanup(func() {
		var v []json.RawMessage
		e.ctl("GET", "/_emu/violations", nil, &v)
		if len(v) != 0 {
			t.Errorf("the emulator recorded API violations: %s", v)
		}
		e.ctl("DELETE", "/_emu/faults", nil, nil)
	})
	return e
}

// newMgmt returns a management client of its own, logged in.
func (e *emu) newMgmt() *sbprov.MenderManagement {
	e.t.Helper()
	m, err := sbprov.NewMenderManagement(e.url, e.opts)
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { m.Close() })
	if err := m.Login(stackEnv(e.t, "SBPROV_TEST_MENDER_USER"), stackEnv(e.t, "SBPROV_TEST_MENDER_PASSWORD")); err != nil {
		e.t.Fatal(err)
	}
	return m
}

// ctlErr calls the control API; body (if not nil) is sent as JSON, the
// answer decoded into out (if not nil). For goroutines other than the test's.
func (e *emu) ctlErr(method, path string, body, out any) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, os.Getenv("SBPROV_TEST_MENDER_CONTROL")+path, rd)
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := e.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("control %s %s: HTTP %d: %s", method, path, resp.StatusCode, data)
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			return fmt.Errorf("control %s %s: %v: %s", method, path, err, data)
		}
	}
	return nil
}

func (e *emu) ctl(method, path string, body, out any) {
	e.t.Helper()
	if err := e.ctlErr(method, path, body, out); err != nil {
		e.t.Fatal(err)
	}
}

// fault installs one fault rule of the emulator.
func (e *emu) fault(rule map[string]any) {
	e.t.Helper()
	e.ctl("POST", "/_emu/faults", []map[string]any{rule}, nil)
}

// emuDevice is what /_emu/devices reports of a device.
type emuDevice struct {
	ID        string `json:"id"`
	Status    string `json:"status"`
	Inventory []struct {
		Name  string `json:"name"`
		Value any    `json:"value"`
	} `json:"inventory"`
}

func (e *emu) device(id string) emuDevice {
	e.t.Helper()
	var state struct {
		Devices []emuDevice `json:"devices"`
	}
	e.ctl("GET", "/_emu/devices?id="+id, nil, &state)
	if len(state.Devices) != 1 {
		e.t.Fatalf("/_emu/devices?id=%s: %d devices", id, len(state.Devices))
	}
	return state.Devices[0]
}

// identity returns an identity {"mac": mac}.
func identity(t testing.TB, mac string) *sbprov.Identity {
	t.Helper()
	id, err := sbprov.ParseIdentity("mac=" + mac + "\n")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { id.Close() })
	return id
}

func newKeyPair(t testing.TB, kind sbprov.KeyType) *sbprov.Key {
	t.Helper()
	bits := 0
	if kind == sbprov.KeyRSA {
		bits = 2048
	}
	k, err := sbprov.GenerateKeyPair(kind, bits)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { k.Close() })
	return k
}

// newDevice creates a device client against url with the emulator's CA.
func (e *emu) newDevice(url string, id *sbprov.Identity, key *sbprov.Key, opts sbprov.MenderDeviceOptions) *sbprov.MenderDevice {
	e.t.Helper()
	if opts.HTTP == (sbprov.HTTPOptions{}) {
		opts.HTTP = e.opts
	}
	d, err := sbprov.NewMenderDevice(url, id, key, opts)
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { d.Close() })
	return d
}

// acceptedDevice preauthorizes a new identity and key and authenticates.
func (e *emu) acceptedDevice(mac string, opts sbprov.MenderDeviceOptions) (*sbprov.MenderDevice, string) {
	e.t.Helper()
	id := identity(e.t, mac)
	key := newKeyPair(e.t, sbprov.KeyEd25519)
	devID, _, err := e.mgmt.Preauthorize(id, key, false)
	if err != nil {
		e.t.Fatal(err)
	}
	d := e.newDevice(e.url, id, key, opts)
	if ok, err := d.Authenticate(); !ok || err != nil {
		e.t.Fatalf("Authenticate of a preauthorized device = %v, %v", ok, err)
	}
	return d, devID
}

// quick is a compressed Mender schedule for tests.
var quick = sbprov.Schedule{FirstInterval: 50 * time.Millisecond, MaxInterval: 200 * time.Millisecond}

func TestMenderPreauthorizedEveryKeyType(t *testing.T) {
	e := newEmu(t)
	for i, kind := range []sbprov.KeyType{sbprov.KeyEd25519, sbprov.KeyECDSAP256, sbprov.KeyRSA} {
		mac := fmt.Sprintf("02:00:00:00:01:%02x", i)
		id := identity(t, mac)
		key := newKeyPair(t, kind)

		devID, existed, err := e.mgmt.Preauthorize(id, key, false)
		if err != nil || existed || devID == "" {
			t.Fatalf("%s: Preauthorize = %q, %v, %v", kind, devID, existed, err)
		}
		again, existed, err := e.mgmt.Preauthorize(id, key, false)
		if err != nil || !existed || again != devID {
			t.Fatalf("%s: Preauthorize again = %q, %v, %v; want %q, true (idempotent)", kind, again, existed, err, devID)
		}

		d := e.newDevice(e.url, id, key, sbprov.MenderDeviceOptions{})
		if _, err := d.Token(); !errors.Is(err, sbprov.ErrNotFound) {
			t.Fatalf("%s: Token before authentication: %v", kind, err)
		}
		ok, err := d.Authenticate()
		if !ok || err != nil {
			t.Fatalf("%s: Authenticate = %v, %v", kind, ok, err)
		}
		if got, err := d.DeviceID(); err != nil || got != devID {
			t.Fatalf("%s: DeviceID = %q, %v; want %q", kind, got, err, devID)
		}
		tok, err := d.Token()
		if err != nil || strings.Count(tok, ".") != 2 {
			t.Fatalf("%s: Token = %q, %v", kind, tok, err)
		}
		exp, err := d.TokenExpiry()
		if err != nil || !exp.After(time.Now().Add(time.Hour)) {
			t.Fatalf("%s: TokenExpiry = %v, %v", kind, exp, err)
		}
		info, err := d.LastResponse()
		if err != nil || info.Status != 200 || info.RetryAfter != -1 || info.RequestID == "" ||
			info.ServerDate.Sub(time.Now()).Abs() > time.Minute {
			t.Fatalf("%s: LastResponse = %+v, %v", kind, info, err)
		}

		dev, err := e.mgmt.Device(devID)
		if err != nil {
			t.Fatal(err)
		}
		canon, _ := id.CanonicalJSON()
		pem, _ := key.PublicPEM()
		if dev.ID != devID || dev.Status != sbprov.MenderAccepted || dev.IdentityJSON != canon ||
			len(dev.AuthSets) != 1 || dev.AuthSets[0].Status != sbprov.MenderAccepted ||
			dev.AuthSets[0].PubKey != pem || dev.AuthSets[0].ID == "" || !json.Valid([]byte(dev.JSON)) {
			t.Fatalf("%s: Device = %+v", kind, dev)
		}
	}
}

func TestMenderPendingAcceptDecommission(t *testing.T) {
	e := newEmu(t)
	id := identity(t, "02:00:00:00:02:01")
	key := newKeyPair(t, sbprov.KeyECDSAP256)
	d := e.newDevice(e.url, id, key, sbprov.MenderDeviceOptions{})

	if ok, err := d.Authenticate(); ok || err != nil {
		t.Fatalf("Authenticate of an unknown device = %v, %v; want false (pending), nil", ok, err)
	}
	if info, _ := d.LastResponse(); info.Status != 401 {
		t.Fatalf("LastResponse after pending: %+v", info)
	}
	if _, err := d.Token(); !errors.Is(err, sbprov.ErrNotFound) {
		t.Fatalf("Token while pending: %v", err)
	}
	if n, err := e.mgmt.Count(sbprov.MenderPending); n != 1 || err != nil {
		t.Fatalf("Count(pending) = %d, %v", n, err)
	}
	dev, err := e.mgmt.FindDevice(id)
	if err != nil || dev.Status != sbprov.MenderPending || len(dev.AuthSets) != 1 {
		t.Fatalf("FindDevice = %+v, %v", dev, err)
	}
	wantErr(t, e.mgmt.SetAuthStatus(dev.ID, dev.AuthSets[0].ID, "maybe"), sbprov.ErrInval, "not accepted, rejected or pending")
	wantErr(t, e.mgmt.SetAuthStatus(dev.ID, "no-such-set", sbprov.MenderAccepted), sbprov.ErrNotFound, "404")
	wantErr(t, e.mgmt.SetAuthStatus(dev.ID, "a/b", sbprov.MenderAccepted), sbprov.ErrInval)
	if err := e.mgmt.SetAuthStatus(dev.ID, dev.AuthSets[0].ID, sbprov.MenderAccepted); err != nil {
		t.Fatal(err)
	}
	if ok, err := d.Authenticate(); !ok || err != nil {
		t.Fatalf("Authenticate after accepting = %v, %v", ok, err)
	}
	if got, _ := d.DeviceID(); got != dev.ID {
		t.Fatalf("DeviceID = %q, want %q", got, dev.ID)
	}

	if err := e.mgmt.Decommission(dev.ID); err != nil {
		t.Fatal(err)
	}
	_, err = e.mgmt.Device(dev.ID)
	wantErr(t, err, sbprov.ErrNotFound, "404")
	wantErr(t, e.mgmt.Decommission(dev.ID), sbprov.ErrNotFound)
	// The token is revoked; authenticating again is answered "pending".
	_, err = d.CheckUpdate("gw-1.0", "rpi4")
	wantErr(t, err, sbprov.ErrAuth, "not accepted")
}

func TestMenderUntilAcceptedWhileAccepting(t *testing.T) {
	e := newEmu(t)
	id := identity(t, "02:00:00:00:03:01")
	key := newKeyPair(t, sbprov.KeyEd25519)
	d := e.newDevice(e.url, id, key, sbprov.MenderDeviceOptions{})

	// Another goroutine, with a management client of its own, accepts the
	// device once it has asked.
	accepter := e.newMgmt()
	done := make(chan error, 1)
	go func() {
		for start := time.Now(); time.Since(start) < 8*time.Second; time.Sleep(50 * time.Millisecond) {
			dev, err := accepter.FindDevice(id)
			if errors.Is(err, sbprov.ErrNotFound) {
				continue
			}
			if err != nil {
				done <- err
				return
			}
			time.Sleep(200 * time.Millisecond) // a few pending answers first
			done <- accepter.SetAuthStatus(dev.ID, dev.AuthSets[0].ID, sbprov.MenderAccepted)
			return
		}
		done <- errors.New("the device never appeared")
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	start := time.Now()
	if err := d.AuthenticateUntilAccepted(ctx, quick); err != nil {
		t.Fatalf("AuthenticateUntilAccepted: %v", err)
	}
	if err := <-done; err != nil {
		t.Fatalf("accepting goroutine: %v", err)
	}
	if el := time.Since(start); el > 5*time.Second {
		t.Fatalf("accepted after %v with a 50 ms schedule", el)
	}
	var reqs []struct {
		Route  string `json:"route"`
		Status int    `json:"status"`
	}
	e.ctl("GET", "/_emu/requests", nil, &reqs)
	pending := 0
	for _, r := range reqs {
		if r.Route == "auth_requests" && r.Status == 401 {
			pending++
		}
	}
	if pending < 2 {
		t.Fatalf("%d pending answers before acceptance; the schedule did not retry", pending)
	}
	if _, err := d.Token(); err != nil {
		t.Fatal(err)
	}
}

func TestMenderUntilAcceptedCancel(t *testing.T) {
	e := newEmu(t)
	id := identity(t, "02:00:00:00:04:01")
	key := newKeyPair(t, sbprov.KeyEd25519)
	d := e.newDevice(e.url, id, key, sbprov.MenderDeviceOptions{})

	// The context is cancelled from another goroutine while the device waits.
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var cancelled time.Time
	go func() {
		time.Sleep(300 * time.Millisecond)
		cancelled = time.Now()
		cancel()
	}()
	err := d.AuthenticateUntilAccepted(ctx, quick)
	late := time.Since(cancelled)
	wantErr(t, err, sbprov.ErrCanceled, "cancelled")
	if !errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("error %v does not wrap context.Canceled", err)
	}
	if late > time.Second {
		t.Fatalf("stopped %v after the context was cancelled", late)
	}

	// A cancelled context cancels a transfer in progress, not just a wait:
	// the server delays its answer by 5 s.
	e.fault(map[string]any{"route": "auth_requests", "delay_ms": 5000, "count": 1})
	ctx, cancel = context.WithTimeout(context.Background(), time.Minute)
	time.AfterFunc(300*time.Millisecond, cancel)
	start := time.Now()
	err = d.AuthenticateUntilAccepted(ctx, quick)
	wantErr(t, err, sbprov.ErrCanceled)
	if el := time.Since(start); el > 2*time.Second {
		t.Fatalf("a cancelled transfer took %v", el)
	}

	// The client works afterwards: the cancellations were consumed.
	if ok, err := d.Authenticate(); ok || err != nil {
		t.Fatalf("Authenticate after the cancellations = %v, %v", ok, err)
	}

	// Cancel from another goroutine, without a context.
	ctx, cancel = context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	time.AfterFunc(300*time.Millisecond, d.Cancel)
	start = time.Now()
	err = d.AuthenticateUntilAccepted(ctx, quick)
	wantErr(t, err, sbprov.ErrCanceled)
	if errors.Is(err, context.Canceled) || time.Since(start) > 2*time.Second {
		t.Fatalf("Cancel: %v after %v", err, time.Since(start))
	}

	// Close from another goroutine cancels the wait too, and waits for it.
	ctx, cancel = context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	time.AfterFunc(300*time.Millisecond, func() { d.Close() })
	start = time.Now()
	err = d.AuthenticateUntilAccepted(ctx, quick)
	wantErr(t, err, sbprov.ErrCanceled)
	if time.Since(start) > 2*time.Second {
		t.Fatalf("Close stopped the wait after %v", time.Since(start))
	}
	time.Sleep(50 * time.Millisecond)
	_, err = d.Authenticate()
	wantErr(t, err, sbprov.ErrInval, "after Close")
}

func TestMenderUntilAcceptedDeadline(t *testing.T) {
	e := newEmu(t)
	id := identity(t, "02:00:00:00:05:01")
	key := newKeyPair(t, sbprov.KeyEd25519)
	d := e.newDevice(e.url, id, key, sbprov.MenderDeviceOptions{})

	ctx, cancel := context.WithTimeout(context.Background(), 600*time.Millisecond)
	defer cancel()
	start := time.Now()
	err := d.AuthenticateUntilAccepted(ctx, quick)
	wantErr(t, err, sbprov.ErrTimeout, "pending")
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("%v does not wrap context.DeadlineExceeded", err)
	}
	// The library makes a last attempt before the deadline rather than one
	// after it, so this may end somewhat before it.
	if el := time.Since(start); el < 200*time.Millisecond || el > 3*time.Second {
		t.Fatalf("a 600 ms deadline ended after %v", el)
	}

	// A deadline reached during a slow transfer is ErrTimeout as well.
	e.fault(map[string]any{"route": "auth_requests", "delay_ms": 3000, "count": 1})
	ctx, cancel = context.WithTimeout(context.Background(), 400*time.Millisecond)
	defer cancel()
	err = d.AuthenticateUntilAccepted(ctx, quick)
	wantErr(t, err, sbprov.ErrTimeout)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("%v does not wrap context.DeadlineExceeded", err)
	}

	// A context that has already ended sends nothing.
	var before []json.RawMessage
	e.ctl("GET", "/_emu/requests", nil, &before)
	err = d.AuthenticateUntilAccepted(ctx, quick)
	wantErr(t, err, sbprov.ErrTimeout, "deadline")
	cctx, ccancel := context.WithTimeout(context.Background(), time.Minute)
	ccancel()
	err = d.AuthenticateUntilAccepted(cctx, quick)
	wantErr(t, err, sbprov.ErrCanceled, "cancelled")
	var after []json.RawMessage
	e.ctl("GET", "/_emu/requests", nil, &after)
	if len(after) != len(before) {
		t.Fatalf("%d requests sent for ended contexts", len(after)-len(before))
	}

	// A context without a deadline is refused (the wait needs a limit).
	wantErr(t, d.AuthenticateUntilAccepted(context.Background(), quick), sbprov.ErrInval, "no deadline")
	bad := []sbprov.Schedule{{FirstInterval: -1}, {MaxInterval: math.MaxInt64}, {TriesPerInterval: -1}}
	for _, s := range bad {
		wantErr(t, d.AuthenticateUntilAccepted(ctx, s), sbprov.ErrInval)
	}
	far, farCancel := context.WithTimeout(context.Background(), 60*24*time.Hour)
	defer farCancel()
	wantErr(t, d.AuthenticateUntilAccepted(far, quick), sbprov.ErrInval, "2^32-1 ms")

	// A request the server calls malformed ends the wait at once.
	e.fault(map[string]any{"route": "auth_requests", "status": 400})
	ctx, cancel = context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	start = time.Now()
	wantErr(t, d.AuthenticateUntilAccepted(ctx, quick), sbprov.ErrHTTP, "400")
	if time.Since(start) > 2*time.Second {
		t.Fatalf("a 400 answer was retried for %v", time.Since(start))
	}
}

func TestMenderUntilAccepted429(t *testing.T) {
	e := newEmu(t)
	id := identity(t, "02:00:00:00:06:01")
	key := newKeyPair(t, sbprov.KeyEd25519)
	if _, _, err := e.mgmt.Preauthorize(id, key, false); err != nil {
		t.Fatal(err)
	}
	d := e.newDevice(e.url, id, key, sbprov.MenderDeviceOptions{})
	e.fault(map[string]any{"route": "auth_requests", "status": 429, "retry_after": "1", "count": 1})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	start := time.Now()
	if err := d.AuthenticateUntilAccepted(ctx, quick); err != nil {
		t.Fatal(err)
	}
	if el := time.Since(start); el < 950*time.Millisecond {
		t.Fatalf("Retry-After: 1 was not honoured (accepted after %v)", el)
	}
}

func TestMenderInventory(t *testing.T) {
	e := newEmu(t)
	d, devID := e.acceptedDevice("02:00:00:00:07:01", sbprov.MenderDeviceOptions{})

	type rooms int
	attrs := []sbprov.InventoryAttribute{
		{Name: "artifact_name", Value: "gw-1.4.2"},
		{Name: "network_interfaces", Value: []string{"eth0", "wlan0"}},
		{Name: "rooms", Value: []float64{21.5, 3}},
		{Name: "floors", Value: rooms(4)},
		{Name: "cpu_temp", Value: float32(48.5)},
		{Name: "sensors", Value: []int{1, 2, 3}},
		{Name: "uptime", Value: uint64(1 << 40)},
		{Name: "empty", Value: ""},
	}
	if err := d.UpdateInventory(attrs, true); err != nil {
		t.Fatal(err)
	}
	got := map[string]any{}
	for _, a := range e.device(devID).Inventory {
		got[a.Name] = a.Value
	}
	want := map[string]any{
		"artifact_name": "gw-1.4.2", "network_interfaces": []any{"eth0", "wlan0"}, "rooms": []any{21.5, 3.0},
		"floors": 4.0, "cpu_temp": 48.5, "sensors": []any{1.0, 2.0, 3.0}, "uptime": float64(1 << 40), "empty": "",
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("inventory on the server:\n%v\nwant\n%v", got, want)
	}

	// Merge (PATCH) adds and overwrites; replace (PUT) replaces.
	if err := d.UpdateInventory(sbprov.InventoryFromMap(map[string]any{"rooms": 7, "zone": "B"}), false); err != nil {
		t.Fatal(err)
	}
	inv := e.device(devID).Inventory
	if len(inv) != len(attrs)+1 {
		t.Fatalf("after merge: %d attributes: %+v", len(inv), inv)
	}
	if err := d.UpdateInventory([]sbprov.InventoryAttribute{{Name: "only", Value: 1}}, true); err != nil {
		t.Fatal(err)
	}
	if inv := e.device(devID).Inventory; len(inv) != 1 || inv[0].Name != "only" {
		t.Fatalf("after replace: %+v", inv)
	}

	// Refused before anything is sent.
	var before []json.RawMessage
	e.ctl("GET", "/_emu/requests", nil, &before)
	cases := []struct {
		attrs    []sbprov.InventoryAttribute
		code     sbprov.Code
		fragment string
	}{
		{nil, sbprov.ErrInval, "no attributes"},
		{[]sbprov.InventoryAttribute{{Name: "x", Value: true}}, sbprov.ErrInval, "unsupported value type bool"},
		{[]sbprov.InventoryAttribute{{Name: "x", Value: []byte("ab")}}, sbprov.ErrInval, "unsupported value type []uint8"},
		{[]sbprov.InventoryAttribute{{Name: "x", Value: nil}}, sbprov.ErrInval, "nil"},
		{[]sbprov.InventoryAttribute{{Name: "x", Value: []string{}}}, sbprov.ErrInval, "empty list"},
		{[]sbprov.InventoryAttribute{{Name: "x", Value: []any{"a"}}}, sbprov.ErrInval, "unsupported"},
		{[]sbprov.InventoryAttribute{{Name: "x", Value: int64(1) << 60}}, sbprov.ErrInval, "2^53"},
		{[]sbprov.InventoryAttribute{{Name: "x", Value: math.NaN()}}, sbprov.ErrInval, "finite"},
		{[]sbprov.InventoryAttribute{{Name: "x", Value: "a\x00b"}}, sbprov.ErrInval, "NUL"},
		{[]sbprov.InventoryAttribute{{Name: "x\x00", Value: "a"}}, sbprov.ErrInval, "NUL"},
		{[]sbprov.InventoryAttribute{{Name: "", Value: "a"}}, sbprov.ErrID, "1 to 1024"},
		{[]sbprov.InventoryAttribute{{Name: "bad\nname", Value: "a"}}, sbprov.ErrID, "printable"},
		{[]sbprov.InventoryAttribute{{Name: "x", Value: "a"}, {Name: "x", Value: 1}}, sbprov.ErrExists, "already"},
		{make([]sbprov.InventoryAttribute, 101), sbprov.ErrInval, "at most 100"},
	}
	for _, c := range cases {
		wantErr(t, d.UpdateInventory(c.attrs, true), c.code, c.fragment)
	}
	var after []json.RawMessage
	e.ctl("GET", "/_emu/requests", nil, &after)
	if len(after) != len(before) {
		t.Fatalf("refused inventories sent %d requests", len(after)-len(before))
	}

	// InventoryMax attributes are fine; merging more into them passes the
	// server's limit (400).
	many := make([]sbprov.InventoryAttribute, sbprov.InventoryMax)
	for i := range many {
		many[i] = sbprov.InventoryAttribute{Name: fmt.Sprintf("a%d", i), Value: i}
	}
	if err := d.UpdateInventory(many, true); err != nil {
		t.Fatal(err)
	}
	wantErr(t, d.UpdateInventory([]sbprov.InventoryAttribute{{Name: "b1", Value: 1}}, false), sbprov.ErrHTTP, "limit")
}

func TestMenderCheckUpdate(t *testing.T) {
	e := newEmu(t)
	d, devID := e.acceptedDevice("02:00:00:00:08:01", sbprov.MenderDeviceOptions{})

	u, err := d.CheckUpdate("gw-1.0", "raspberrypi4")
	if u != nil || err != nil {
		t.Fatalf("CheckUpdate without a deployment = %+v, %v; want nil, nil", u, err)
	}
	e.ctl("POST", "/_emu/deployments", map[string]any{
		"device_id": devID, "id": "dep-1", "artifact_name": "gw-1.1",
		"uri": "https://s3.example/gw-1.1.mender", "device_types_compatible": []string{"raspberrypi4"},
	}, nil)
	for _, v2 := range []bool{false, true} {
		e.ctl("POST", "/_emu/v2next", map[string]any{"enabled": v2}, nil)
		u, err = d.CheckUpdate("gw-1.0", "raspberrypi4")
		if err != nil || u == nil || u.ID != "dep-1" || u.ArtifactName != "gw-1.1" ||
			u.URI != "https://s3.example/gw-1.1.mender" || !strings.Contains(u.JSON, "device_types_compatible") {
			t.Fatalf("CheckUpdate (v2 %v) = %+v, %v", v2, u, err)
		}
	}
	// Already installed: none.
	if u, err := d.CheckUpdate("gw-1.1", "raspberrypi4"); u != nil || err != nil {
		t.Fatalf("CheckUpdate of the installed artifact = %+v, %v", u, err)
	}
	_, err = d.CheckUpdate("", "raspberrypi4")
	wantErr(t, err, sbprov.ErrInval, "1 to 4096")
	_, err = d.CheckUpdate("gw\x00", "raspberrypi4")
	wantErr(t, err, sbprov.ErrInval, "NUL")
}

func TestMenderTokenRenewal(t *testing.T) {
	e := newEmu(t)
	d, devID := e.acceptedDevice("02:00:00:00:09:01", sbprov.MenderDeviceOptions{})
	t1, _ := d.Token()
	e.ctl("POST", "/_emu/expire-token", map[string]any{"device_id": devID, "now": true}, nil)
	if _, err := d.CheckUpdate("gw-1.0", "rpi4"); err != nil {
		t.Fatalf("CheckUpdate with an expired token: %v", err)
	}
	if t2, _ := d.Token(); t2 == t1 || t2 == "" {
		t.Fatal("the expired token was not renewed")
	}
}

func TestMenderTLSFailures(t *testing.T) {
	e := newEmu(t)
	id := identity(t, "02:00:00:00:0a:01")
	key := newKeyPair(t, sbprov.KeyEd25519)

	// The right server, the wrong CA.
	other := e.opts
	other.CAFile = stackEnv(t, "SBPROV_TEST_OTHER_CA")
	d := e.newDevice(e.url, id, key, sbprov.MenderDeviceOptions{HTTP: other})
	_, err := d.Authenticate()
	wantErr(t, err, sbprov.ErrCert, "not trusted")
	if info, _ := d.LastResponse(); info.Status != 0 {
		t.Fatalf("LastResponse after a TLS failure: %+v", info)
	}

	for _, c := range []struct{ env, fragment string }{
		{"SBPROV_TEST_MENDER_UNTRUSTED_URL", "not trusted"},
		{"SBPROV_TEST_MENDER_WRONGHOST_URL", "host"},
		{"SBPROV_TEST_MENDER_EXPIRED_URL", "expired"},
	} {
		d := e.newDevice(stackEnv(t, c.env), id, key, sbprov.MenderDeviceOptions{})
		_, err := d.Authenticate()
		wantErr(t, err, sbprov.ErrCert, c.fragment)
	}

	// Mutual TLS: refused without a client certificate, fine with one. The
	// client key may be closed once the client exists.
	mtls := stackEnv(t, "SBPROV_TEST_MENDER_MTLS_URL")
	d = e.newDevice(mtls, id, key, sbprov.MenderDeviceOptions{})
	_, err = d.Authenticate()
	wantErr(t, err, sbprov.ErrTLS, "client certificate")
	for _, kind := range []string{"RSA", "EC"} {
		ck, err := sbprov.LoadKey(stackEnv(t, "SBPROV_TEST_CLIENT_KEY_"+kind), sbprov.LoadOptions{})
		if err != nil {
			t.Fatal(err)
		}
		h := e.opts
		h.ClientCert = stackEnv(t, "SBPROV_TEST_CLIENT_CERT_"+kind)
		h.ClientKey = ck
		d := e.newDevice(mtls, id, key, sbprov.MenderDeviceOptions{HTTP: h})
		ck.Close()
		runtime.GC()
		if ok, err := d.Authenticate(); ok || err != nil {
			t.Fatalf("mTLS with a %s client key: %v, %v; want pending", kind, ok, err)
		}
	}

	// Plain http only when allowed.
	plain := stackEnv(t, "SBPROV_TEST_MENDER_PLAIN_URL")
	_, err = sbprov.NewMenderDevice(plain, id, key, sbprov.MenderDeviceOptions{})
	wantErr(t, err, sbprov.ErrInval, "https")
	d = e.newDevice(plain, id, key, sbprov.MenderDeviceOptions{HTTP: sbprov.HTTPOptions{AllowHTTP: true}})
	if ok, err := d.Authenticate(); ok || err != nil {
		t.Fatalf("plain http allowed: %v, %v", ok, err)
	}
}

func TestMenderFaults(t *testing.T) {
	e := newEmu(t)
	id := identity(t, "02:00:00:00:0b:01")
	key := newKeyPair(t, sbprov.KeyECDSAP256)
	d := e.newDevice(e.url, id, key, sbprov.MenderDeviceOptions{})

	e.fault(map[string]any{"route": "auth_requests", "status": 503, "count": 1})
	_, err := d.Authenticate()
	wantErr(t, err, sbprov.ErrServer, "503")

	e.fault(map[string]any{"route": "auth_requests", "status": 429, "retry_after": "7", "count": 1})
	_, err = d.Authenticate()
	wantErr(t, err, sbprov.ErrRateLimit, "retry after 7 s")
	info, err := d.LastResponse()
	if err != nil || info.Status != 429 || info.RetryAfter != 7*time.Second || info.ServerDate.IsZero() || info.RequestID == "" {
		t.Fatalf("LastResponse after 429 = %+v, %v", info, err)
	}

	e.fault(map[string]any{"route": "auth_requests", "status": 200, "count": 1,
		"content_type": "application/jwt", "body": "not-a-jwt"})
	_, err = d.Authenticate()
	wantErr(t, err, sbprov.ErrResponse, "not a JWT")

	// A per-request timeout.
	quickHTTP := e.opts
	quickHTTP.Timeout = 700 * time.Millisecond
	dq := e.newDevice(e.url, id, key, sbprov.MenderDeviceOptions{HTTP: quickHTTP})
	e.fault(map[string]any{"route": "auth_requests", "delay_ms": 3000, "count": 1})
	_, err = dq.Authenticate()
	wantErr(t, err, sbprov.ErrTimeout, "timed out")

	e.fault(map[string]any{"route": "/api/management/v2/devauth/devices/count", "status": 200, "garbage": true, "count": 1})
	_, err = e.mgmt.Count("")
	wantErr(t, err, sbprov.ErrResponse, "JSON")

	// A response over the cap.
	small := e.opts
	small.MaxResponseSize = 1000
	ds := e.newDevice(e.url, id, key, sbprov.MenderDeviceOptions{HTTP: small})
	e.fault(map[string]any{"route": "auth_requests", "status": 200, "oversize_bytes": 5000, "count": 1})
	_, err = ds.Authenticate()
	wantErr(t, err, sbprov.ErrResponse, "larger than 1000")

	// After the faults the same client works.
	if ok, err := d.Authenticate(); ok || err != nil {
		t.Fatalf("Authenticate after the faults = %v, %v", ok, err)
	}
}

func TestMenderTokenStore(t *testing.T) {
	e := newEmu(t)
	store, err := sbprov.OpenStore(filepath.Join(t.TempDir(), "store"), sbprov.StoreOptions{Plaintext: true, Create: true})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	d, devID := e.acceptedDevice("02:00:00:00:0c:01", sbprov.MenderDeviceOptions{TokenStore: store, TokenEntry: "jwt"})
	t1, _ := d.Token()
	if v, err := store.Get("jwt"); err != nil || string(v) != t1 {
		t.Fatalf("token store entry = %q, %v", v, err)
	}
	id := identity(t, "02:00:00:00:0c:01")
	key := newKeyPair(t, sbprov.KeyEd25519) // another key: the token alone must do
	d.Close()

	// A restarted device takes the token from the store: no authentication
	// (which now fails) is needed.
	e.fault(map[string]any{"route": "auth_requests", "status": 500})
	d2 := e.newDevice(e.url, id, key, sbprov.MenderDeviceOptions{TokenStore: store, TokenEntry: "jwt"})
	if t2, err := d2.Token(); err != nil || t2 != t1 {
		t.Fatalf("Token from the store = %q, %v", t2, err)
	}
	if got, _ := d2.DeviceID(); got != devID {
		t.Fatalf("DeviceID from the stored token = %q, want %q", got, devID)
	}
	if _, err := d2.CheckUpdate("gw-1.0", "rpi4"); err != nil {
		t.Fatalf("CheckUpdate with the stored token: %v", err)
	}

	// Closing the Store first leaves it open for the device until the device
	// is closed.
	store.Close()
	if _, err := store.Get("jwt"); !errors.Is(err, sbprov.ErrInval) {
		t.Fatalf("Store.Get after Close: %v", err)
	}
	if _, err := d2.CheckUpdate("gw-1.0", "rpi4"); err != nil {
		t.Fatalf("CheckUpdate after Store.Close: %v", err)
	}
	_, err = sbprov.NewMenderDevice(e.url, id, key, sbprov.MenderDeviceOptions{TokenStore: store})
	wantErr(t, err, sbprov.ErrInval, "after Close")
	d2.Close() // releases the store (TestMenderStoreRetained checks it is freed)
}

func TestMenderManagement(t *testing.T) {
	e := newEmu(t)
	m, err := sbprov.NewMenderManagement(e.url, e.opts)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	_, err = m.Count("")
	wantErr(t, err, sbprov.ErrAuth, "not logged in")
	wantErr(t, m.Login(stackEnv(t, "SBPROV_TEST_MENDER_USER"), "wrong"), sbprov.ErrAuth, "401")
	wantErr(t, m.Login("a:b", "x"), sbprov.ErrInval, "':'")
	wantErr(t, m.Login("a\x00b", "x"), sbprov.ErrInval, "NUL")
	wantErr(t, m.Login("admin", "x\x00y"), sbprov.ErrInval, "NUL")
	if err := m.SetToken(stackEnv(t, "SBPROV_TEST_MENDER_PAT")); err != nil {
		t.Fatal(err)
	}
	if n, err := m.Count(""); n != 0 || err != nil {
		t.Fatalf("Count with a PAT = %d, %v", n, err)
	}
	wantErr(t, m.SetToken("has space"), sbprov.ErrInval, "printable")
	if err := m.SetToken("not-the-pat"); err != nil {
		t.Fatal(err)
	}
	_, err = m.Count("")
	wantErr(t, err, sbprov.ErrAuth, "401")

	key := newKeyPair(t, sbprov.KeyEd25519)
	var last string
	for i := 0; i < 7; i++ {
		id := identity(t, fmt.Sprintf("02:00:00:00:0d:%02x", i))
		if last, _, err = e.mgmt.Preauthorize(id, key, false); err != nil {
			t.Fatal(err)
		}
		if i == 6 {
			again, existed, err := e.mgmt.Preauthorize(id, key, true)
			if err != nil || again != last || existed {
				t.Fatalf("Preauthorize(force) = %q, %v, %v; want %q, false", again, existed, err, last)
			}
		}
	}
	if n, err := e.mgmt.Count(sbprov.MenderPreauthorized); n != 7 || err != nil {
		t.Fatalf("Count(preauthorized) = %d, %v", n, err)
	}
	page, next, err := e.mgmt.Devices(sbprov.MenderPreauthorized, 1, 3)
	if err != nil || len(page) != 3 || !next || page[0].Status != sbprov.MenderPreauthorized || len(page[0].AuthSets) != 1 {
		t.Fatalf("Devices page 1 = %d devices, next %v, %v", len(page), next, err)
	}
	page, next, err = e.mgmt.Devices("", 3, 3)
	if err != nil || len(page) != 1 || next || page[0].ID != last {
		t.Fatalf("Devices page 3 = %+v, next %v, %v", page, next, err)
	}
	page, next, err = e.mgmt.Devices(sbprov.MenderRejected, 1, 10)
	if err != nil || page == nil || len(page) != 0 || next {
		t.Fatalf("Devices(rejected) = %v, %v, %v", page, next, err)
	}
	_, _, err = e.mgmt.Devices("weird", 1, 3)
	wantErr(t, err, sbprov.ErrInval, "status")
	_, _, err = e.mgmt.Devices("", 1, sbprov.MenderDevicesMaxPerPage+1)
	wantErr(t, err, sbprov.ErrInval, "per_page")
	_, _, err = e.mgmt.Devices("", -1, 3)
	wantErr(t, err, sbprov.ErrInval, "out of range")
	_, err = e.mgmt.Count("weird")
	wantErr(t, err, sbprov.ErrInval, "status")
	_, err = e.mgmt.Device("a/b")
	wantErr(t, err, sbprov.ErrInval)
	_, err = e.mgmt.FindDevice(identity(t, "02:00:00:00:0d:ff"))
	wantErr(t, err, sbprov.ErrNotFound)
	if info, err := e.mgmt.LastResponse(); err != nil || info.Status != 200 {
		t.Fatalf("LastResponse = %+v, %v", info, err)
	}
	empty, _ := sbprov.NewIdentity()
	defer empty.Close()
	_, _, err = e.mgmt.Preauthorize(empty, key, false)
	wantErr(t, err, sbprov.ErrInval, "no attributes")
}

func TestMenderProxy(t *testing.T) {
	e := newEmu(t)
	logPath := stackEnv(t, "SBPROV_TEST_PROXY_LOG")
	tunnels := func() int {
		data, _ := os.ReadFile(logPath)
		return strings.Count(string(data), "CONNECT ")
	}
	before := tunnels()
	h := e.opts
	h.Proxy = stackEnv(t, "SBPROV_TEST_PROXY_URL")
	h.UserAgent = "sbprov-go-test/1"
	m, err := sbprov.NewMenderManagement(e.url, h)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if err := m.SetToken(stackEnv(t, "SBPROV_TEST_MENDER_PAT")); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Count(""); err != nil {
		t.Fatal(err)
	}
	if tunnels() != before+1 {
		t.Fatalf("%d tunnels through the proxy, want 1", tunnels()-before)
	}

	// An unreachable proxy in the environment: NoProxy bypasses it, the
	// default ("") uses it.
	t.Setenv("https_proxy", "http://127.0.0.1:9")
	t.Setenv("no_proxy", "")
	t.Setenv("NO_PROXY", "")
	for _, proxy := range []string{sbprov.NoProxy, ""} {
		h.Proxy = proxy
		m, err := sbprov.NewMenderManagement(e.url, h)
		if err != nil {
			t.Fatal(err)
		}
		defer m.Close()
		if err := m.SetToken(stackEnv(t, "SBPROV_TEST_MENDER_PAT")); err != nil {
			t.Fatal(err)
		}
		_, err = m.Count("")
		if proxy == sbprov.NoProxy && err != nil {
			t.Fatalf("NoProxy: %v", err)
		}
		if proxy == "" {
			wantErr(t, err, sbprov.ErrNetwork)
		}
	}
}

// One device and one management client shared by many goroutines: calls
// are serialised, every result is right, and the race detector is quiet.
func TestMenderConcurrentUse(t *testing.T) {
	e := newEmu(t)
	d, devID := e.acceptedDevice("02:00:00:00:0e:01", sbprov.MenderDeviceOptions{})
	e.ctl("POST", "/_emu/deployments", map[string]any{"device_id": devID, "id": "dep-c", "artifact_name": "gw-2"}, nil)
	const workers, rounds = 8, 6
	var wg sync.WaitGroup
	errs := make(chan error, workers*rounds*4)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for r := 0; r < rounds; r++ {
				switch (w + r) % 4 {
				case 0:
					u, err := d.CheckUpdate("gw-1", "rpi4")
					if err != nil || u == nil || u.ID != "dep-c" {
						errs <- fmt.Errorf("CheckUpdate = %+v, %v", u, err)
					}
				case 1:
					err := d.UpdateInventory([]sbprov.InventoryAttribute{{Name: fmt.Sprintf("w%d", w), Value: r}}, false)
					if err != nil {
						errs <- fmt.Errorf("UpdateInventory: %v", err)
					}
				case 2:
					if id, err := d.DeviceID(); err != nil || id != devID {
						errs <- fmt.Errorf("DeviceID = %q, %v", id, err)
					}
					if _, err := d.LastResponse(); err != nil {
						errs <- fmt.Errorf("LastResponse: %v", err)
					}
				case 3:
					dev, err := e.mgmt.Device(devID)
					if err != nil || dev.ID != devID {
						errs <- fmt.Errorf("Device = %+v, %v", dev, err)
					}
					if n, err := e.mgmt.Count(""); err != nil || n != 1 {
						errs <- fmt.Errorf("Count = %d, %v", n, err)
					}
				}
			}
		}(w)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if inv := e.device(devID).Inventory; len(inv) != workers {
		t.Fatalf("inventory after concurrent merges of w0..w%d: %+v", workers-1, inv)
	}
}

// Close racing with calls on other goroutines: every call returns (a
// result, ErrCanceled or ErrInval), nothing crashes.
func TestMenderCloseRacesWithCalls(t *testing.T) {
	e := newEmu(t)
	for i := 0; i < 5; i++ {
		d, _ := e.acceptedDevice(fmt.Sprintf("02:00:00:00:0f:%02x", i), sbprov.MenderDeviceOptions{})
		var wg sync.WaitGroup
		for w := 0; w < 4; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for r := 0; r < 5; r++ {
					_, err := d.CheckUpdate("gw-1", "rpi4")
					if err != nil && !errors.Is(err, sbprov.ErrCanceled) && !errors.Is(err, sbprov.ErrInval) {
						t.Errorf("CheckUpdate racing with Close: %v", err)
					}
				}
			}()
		}
		time.Sleep(time.Duration(i*15) * time.Millisecond)
		d.Close()
		wg.Wait()
		d.Cancel() // after Close: a no-op
		if _, err := d.Token(); !errors.Is(err, sbprov.ErrInval) {
			t.Fatalf("Token after Close: %v", err)
		}
	}
}

// A server that requires a tenant token; the tier field: "standard" by
// default, none with NoTier, or the one given.
func TestMenderTenantTokenAndTier(t *testing.T) {
	e := newEmu(t)
	e.ctl("POST", "/_emu/config", map[string]any{"tenant_token": "tenant-abc"}, nil)
	defer e.ctl("POST", "/_emu/config", map[string]any{"tenant_token": ""}, nil)
	id := identity(t, "02:00:00:00:10:01")
	key := newKeyPair(t, sbprov.KeyECDSAP256)
	if _, _, err := e.mgmt.Preauthorize(id, key, false); err != nil {
		t.Fatal(err)
	}
	lastAuthBody := func() map[string]any {
		t.Helper()
		var reqs []struct {
			Route string `json:"route"`
			Body  string `json:"body"`
		}
		e.ctl("GET", "/_emu/requests", nil, &reqs)
		for i := len(reqs) - 1; i >= 0; i-- {
			if reqs[i].Route == "auth_requests" {
				var body map[string]any
				if err := json.Unmarshal([]byte(reqs[i].Body), &body); err != nil {
					t.Fatalf("auth request body %q: %v", reqs[i].Body, err)
				}
				return body
			}
		}
		t.Fatal("no auth request logged")
		return nil
	}

	d := e.newDevice(e.url, id, key, sbprov.MenderDeviceOptions{})
	if ok, err := d.Authenticate(); ok || err != nil {
		t.Fatalf("without the tenant token: %v, %v; want pending", ok, err)
	}
	if b := lastAuthBody(); b["tier"] != "standard" || b["tenant_token"] != nil {
		t.Fatalf("default auth body: %v", b)
	}
	for _, tier := range []string{sbprov.NoTier, "micro"} {
		d := e.newDevice(e.url, id, key, sbprov.MenderDeviceOptions{TenantToken: "tenant-abc", Tier: tier, HTTP: e.opts})
		if ok, err := d.Authenticate(); !ok || err != nil {
			t.Fatalf("tier %q with the tenant token: %v, %v; want accepted", tier, ok, err)
		}
		b := lastAuthBody()
		tierSent, has := b["tier"]
		if b["tenant_token"] != "tenant-abc" || (tier == sbprov.NoTier && has) || (tier == "micro" && tierSent != "micro") {
			t.Fatalf("tier %q: auth body %v", tier, b)
		}
	}
}

// How fast a cancelled context stops a wait and a transfer (reported, with
// loose bounds checked by TestMenderUntilAcceptedCancel).
func TestMenderCancelLatency(t *testing.T) {
	e := newEmu(t)
	d := e.newDevice(e.url, identity(t, "02:00:00:00:11:01"), newKeyPair(t, sbprov.KeyEd25519), sbprov.MenderDeviceOptions{})
	measure := func(what string) time.Duration {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		var at time.Time
		time.AfterFunc(300*time.Millisecond, func() { at = time.Now(); cancel() })
		err := d.AuthenticateUntilAccepted(ctx, sbprov.Schedule{FirstInterval: 10 * time.Second})
		late := time.Since(at)
		wantErr(t, err, sbprov.ErrCanceled)
		t.Logf("%s stopped %v after the cancellation", what, late.Round(time.Millisecond))
		return late
	}
	if late := measure("a wait"); late > 500*time.Millisecond {
		t.Errorf("a wait stopped %v after the cancellation", late)
	}
	e.fault(map[string]any{"route": "auth_requests", "delay_ms": 5000, "count": 1})
	if late := measure("a transfer"); late > 2*time.Second {
		t.Errorf("a transfer stopped %v after the cancellation", late)
	}
}
