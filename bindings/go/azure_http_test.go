package sbprov_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"regexp"
	"runtime"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	sbprov "github.com/sbprov/libsbprov/bindings/go"
)

// The Azure clients over real HTTPS: the Go Azure emulator
// (tests/emulators/azure: DPS and IoT Hub, SAS tokens verified with Go's
// crypto, enrollment groups checked by their group key) behind nginx with a
// test CA, started by tests/emulators/stack.py --azure, which exports the
// SBPROV_TEST_AZURE_* variables read here (bindings/go/test.sh runs the
// tests under it). Without SBPROV_TEST_AZURE_URL these tests are skipped.

// azEmu is one test's view of the Azure emulator, reset at its start.
type azEmu struct {
	t        *testing.T
	opts     sbprov.HTTPOptions // CAFile set, short timeouts
	client   *http.Client       // control API; never through a proxy
	expected map[string]bool    // violation kinds the test provokes on purpose
}

// newAzEmu skips the test without a stack; otherwise it resets the
// emulator and checks at the end that it recorded no violation of the
// Azure APIs other than the kinds the test expects.
func newAzEmu(t *testing.T) *azEmu {
	t.Helper()
	if os.Getenv("SBPROV_TEST_AZURE_URL") == "" {
		t.Skip("SBPROV_TEST_AZURE_URL is not set: run under tests/emulators/stack.py --azure (bindings/go/test.sh does)")
	}
	e := &azEmu{t: t, client: &http.Client{Transport: &http.Transport{Proxy: nil}, Timeout: 20 * time.Second},
		expected: map[string]bool{}}
	e.ctl("POST", "/_emu/reset", nil, nil)
	e.opts = sbprov.HTTPOptions{
		CAFile:         stackEnv(t, "SBPROV_TEST_CA"),
		ConnectTimeout: 3 * time.Second,
		Timeout:        5 * time.Second,
	}
	t.Cleanup(func() {
		var v []struct {
			Kind    string `json:"kind"`
			Path    string `json:"path"`
			Message string `json:"message"`
		}
		e.ctl("GET", "/_emu/violations", nil, &v)
		for _, x := range v {
			if !e.expected[x.Kind] {
				t.Errorf("the emulator recorded an unexpected API violation: %s %s: %s", x.Kind, x.Path, x.Message)
			}
		}
		e.ctl("DELETE", "/_emu/faults", nil, nil)
	})
	return e
}

// expect tolerates violations of these kinds (a wrong key is a "signature"
// violation by design of the emulator).
func (e *azEmu) expect(kinds ...string) {
	for _, k := range kinds {
		e.expected[k] = true
	}
}

func (e *azEmu) ctlErr(method, path string, body, out any) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, os.Getenv("SBPROV_TEST_AZURE_CONTROL")+path, rd)
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

// ctl calls the control API: body (if not nil) as JSON, the answer decoded
// into out (if not nil).
func (e *azEmu) ctl(method, path string, body, out any) {
	e.t.Helper()
	if err := e.ctlErr(method, path, body, out); err != nil {
		e.t.Fatal(err)
	}
}

// faults installs fault rules.
func (e *azEmu) faults(rules ...map[string]any) {
	e.t.Helper()
	e.ctl("POST", "/_emu/faults", rules, nil)
}

// config changes emulator settings (reset by the next test's reset).
func (e *azEmu) config(settings map[string]any) {
	e.t.Helper()
	e.ctl("POST", "/_emu/config", settings, nil)
}

// immediate makes DPS answer the register request with the result (no
// polls), which the spec allows: for tests about something else.
func (e *azEmu) immediate() {
	e.t.Helper()
	e.config(map[string]any{"immediate_assign": true})
}

// derivedKey is the device key of registrationID in the stack's enrollment
// group, derived with this package.
func (e *azEmu) derivedKey(registrationID string) string {
	e.t.Helper()
	k, err := sbprov.DeriveDeviceKey(stackEnv(e.t, "SBPROV_TEST_AZURE_GROUP_KEY"), registrationID)
	if err != nil {
		e.t.Fatal(err)
	}
	return k
}

// provisioning creates a DPS client on the DPS endpoint (or opts.Endpoint).
func (e *azEmu) provisioning(registrationID, key string, opts sbprov.ProvisioningOptions) *sbprov.Provisioning {
	e.t.Helper()
	if opts.Endpoint == "" {
		opts.Endpoint = stackEnv(e.t, "SBPROV_TEST_AZURE_DPS_URL")
	}
	if opts.HTTP == (sbprov.HTTPOptions{}) {
		opts.HTTP = e.opts
	}
	p, err := sbprov.NewProvisioning(stackEnv(e.t, "SBPROV_TEST_AZURE_ID_SCOPE"), registrationID, key, opts)
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { p.Close() })
	return p
}

// hubOpts are HubOptions for the stack's hub endpoint.
func (e *azEmu) hubOpts() sbprov.HubOptions {
	return sbprov.HubOptions{Endpoint: stackEnv(e.t, "SBPROV_TEST_AZURE_HUB_URL"), HTTP: e.opts, RetryTimeout: 8 * time.Second}
}

// hub creates a hub client for a device connection string.
func (e *azEmu) hub(connStr string, opts sbprov.HubOptions) *sbprov.Hub {
	e.t.Helper()
	h, err := sbprov.NewHub(connStr, opts)
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { h.Close() })
	return h
}

// deviceConnStr is the connection string of deviceID with key at the
// stack's hub host name.
func (e *azEmu) deviceConnStr(deviceID, key string) string {
	return "HostName=" + stackEnv(e.t, "SBPROV_TEST_AZURE_HUB_HOST") + ";DeviceId=" + deviceID + ";SharedAccessKey=" + key
}

// hubDevice creates a hub device through the control API (as DPS would)
// and returns a hub client for it.
func (e *azEmu) hubDevice(deviceID string) *sbprov.Hub {
	e.t.Helper()
	key := e.derivedKey(deviceID)
	e.ctl("POST", "/_emu/devices", map[string]any{"device_id": deviceID, "primary_key": key}, nil)
	return e.hub(e.deviceConnStr(deviceID, key), e.hubOpts())
}

func (e *azEmu) registry(connStr string) *sbprov.Registry {
	e.t.Helper()
	r, err := sbprov.NewRegistry(connStr, e.hubOpts())
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { r.Close() })
	return r
}

// emuMessage is what /_emu/telemetry reports of a message.
type emuMessage struct {
	DeviceID        string            `json:"device_id"`
	MessageID       string            `json:"message_id"`
	CorrelationID   string            `json:"correlation_id"`
	ContentType     string            `json:"content_type"`
	ContentEncoding string            `json:"content_encoding"`
	HTTPContentType string            `json:"http_content_type"`
	CreationTimeUTC string            `json:"creation_time_utc"`
	Properties      map[string]string `json:"properties"`
	Body            string            `json:"body"`
	BodyB64         string            `json:"body_base64"`
}

func (e *azEmu) telemetry(deviceID string) []emuMessage {
	e.t.Helper()
	var msgs []emuMessage
	e.ctl("GET", "/_emu/telemetry?device_id="+deviceID, nil, &msgs)
	return msgs
}

// requestCount is the number of requests the emulator has logged.
func (e *azEmu) requestCount() int {
	e.t.Helper()
	var reqs []json.RawMessage
	e.ctl("GET", "/_emu/requests", nil, &reqs)
	return len(reqs)
}

// ctxFor is a context with a timeout, cancelled when the test ends.
func ctxFor(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// The whole flow: derive the key from the group key, register (with a
// payload), get assigned, send telemetry with properties and see it
// recorded; register again.
func TestAzureRegisterAndSend(t *testing.T) {
	e := newAzEmu(t)
	const regID = "gw-go-berlin-0001"
	key := e.derivedKey(regID)
	p := e.provisioning(regID, key, sbprov.ProvisioningOptions{})

	r, err := p.Register(ctxFor(t, 20*time.Second), map[string]any{"site": "berlin", "floor": 4})
	if err != nil {
		t.Fatal(err)
	}
	if r.Status != sbprov.RegistrationAssigned || r.AssignedHub != stackEnv(t, "SBPROV_TEST_AZURE_HUB_HOST") ||
		r.DeviceID != regID || r.Substatus != "initialAssignment" || r.ErrorCode != 0 || r.ErrorMessage != "" {
		t.Fatalf("Register = %+v", r)
	}
	var doc struct {
		Status            string `json:"status"`
		RegistrationState struct {
			DeviceID string `json:"deviceId"`
		} `json:"registrationState"`
	}
	if err := json.Unmarshal([]byte(r.JSON), &doc); err != nil || doc.Status != "assigned" ||
		doc.RegistrationState.DeviceID != regID {
		t.Fatalf("Registration.JSON %s: %v", r.JSON, err)
	}
	var regs struct {
		Registrations []struct {
			RegistrationID string          `json:"registration_id"`
			RequestPayload json.RawMessage `json:"request_payload"`
			KeyUsed        string          `json:"key_used"`
		} `json:"registrations"`
	}
	e.ctl("GET", "/_emu/registrations", nil, &regs)
	if len(regs.Registrations) != 1 || string(regs.Registrations[0].RequestPayload) != `{"floor":4,"site":"berlin"}` ||
		regs.Registrations[0].KeyUsed != "primary" {
		t.Fatalf("the emulator's registrations: %+v", regs)
	}
	if info, err := p.LastResponse(); err != nil || info.Status != 200 || info.RequestID == "" || info.ServerDate.IsZero() {
		t.Fatalf("LastResponse = %+v, %v", info, err)
	}

	// Telemetry with the device connection string the registration gives.
	cs, err := r.ConnectionString(key)
	if err != nil {
		t.Fatal(err)
	}
	hub := e.hub(cs, e.hubOpts())
	props := map[string]string{"room": "4.12", "kind": "air", "Zone-ID": "b"}
	created := time.Date(2027, 1, 15, 8, 0, 0, 0, time.UTC)
	msgs := []sbprov.Message{
		{Body: []byte(`{"co2_ppm":812}`), Properties: props},
		{Body: []byte(`{"co2_ppm":1240}`), MessageID: "msg-2", CorrelationID: "corr-9", Properties: props},
		{Body: []byte(`{"temperature_c":21.53}`), CreationTime: created},
		{Body: []byte("t=21.5"), ContentType: "text/plain", ContentEncoding: "us-ascii"},
		{Body: []byte{0xff, 0x00, 0x01}, ContentType: "application/octet-stream"},
		{},
	}
	n, err := hub.Send(ctxFor(t, 20*time.Second), msgs...)
	if err != nil || n != len(msgs) {
		t.Fatalf("Send = %d, %v", n, err)
	}
	got := e.telemetry(regID)
	if len(got) != len(msgs) {
		t.Fatalf("%d messages recorded, want %d: %+v", len(got), len(msgs), got)
	}
	for i, m := range got {
		if m.DeviceID != regID {
			t.Errorf("message %d: device %q", i, m.DeviceID)
		}
		if i < 2 && (len(m.Properties) != 3 || m.Properties["room"] != "4.12" || m.Properties["kind"] != "air" ||
			m.Properties["zone-id"] != "b") {
			t.Errorf("message %d: properties %v", i, m.Properties)
		}
		if i != 1 && len(m.MessageID) != 36 {
			t.Errorf("message %d: generated message ID %q is not a UUID", i, m.MessageID)
		}
		if i != 2 {
			ct, err := time.Parse(time.RFC3339, m.CreationTimeUTC)
			if err != nil || time.Since(ct) > time.Minute || time.Until(ct) > time.Minute {
				t.Errorf("message %d: creation time %q is not now", i, m.CreationTimeUTC)
			}
		}
	}
	if got[0].Body != `{"co2_ppm":812}` || got[0].ContentType != "application/json" ||
		got[0].HTTPContentType != "application/json" || got[0].ContentEncoding != "utf-8" {
		t.Errorf("message 0: %+v", got[0])
	}
	if got[1].MessageID != "msg-2" || got[1].CorrelationID != "corr-9" || got[1].Body != `{"co2_ppm":1240}` {
		t.Errorf("message 1: %+v", got[1])
	}
	if got[2].CreationTimeUTC != "2027-01-15T08:00:00Z" || len(got[2].Properties) != 0 {
		t.Errorf("message 2: %+v", got[2])
	}
	if got[3].ContentType != "text/plain" || got[3].HTTPContentType != "text/plain" || got[3].ContentEncoding != "us-ascii" ||
		got[3].Body != "t=21.5" {
		t.Errorf("message 3: %+v", got[3])
	}
	if b, err := base64.StdEncoding.DecodeString(got[4].BodyB64); err != nil || !bytes.Equal(b, []byte{0xff, 0x00, 0x01}) {
		t.Errorf("message 4: body %+v", got[4])
	}
	if got[5].Body != "" || got[5].BodyB64 != "" {
		t.Errorf("message 5 (empty): %+v", got[5])
	}
	if info, err := hub.LastResponse(); err != nil || info.Status != 204 || info.RequestID == "" {
		t.Fatalf("hub LastResponse = %+v, %v", info, err)
	}
	if n, err := hub.Send(ctxFor(t, time.Second)); n != 0 || err != nil {
		t.Fatalf("Send of no messages = %d, %v", n, err)
	}

	// Registering again (JSON text as the payload): the same assignment.
	r, err = p.Register(ctxFor(t, 20*time.Second), json.RawMessage(`{"again": [1, 2]}`))
	if err != nil || r.Status != sbprov.RegistrationAssigned || r.DeviceID != regID ||
		r.Substatus != "reprovisionedToInitialAssignment" {
		t.Fatalf("Register again = %+v, %v", r, err)
	}
}

// Refusals: a wrong key (ErrAuth for DPS and the hub), a failed and a
// disabled enrollment (results, not errors).
func TestAzureRefusals(t *testing.T) {
	e := newAzEmu(t)
	e.immediate()
	e.expect("signature") // a valid key of another device
	p := e.provisioning("gw-go-1", e.derivedKey("gw-go-2"), sbprov.ProvisioningOptions{})
	r, err := p.Register(ctxFor(t, 10*time.Second), nil)
	wantErr(t, err, sbprov.ErrAuth, "401")
	if r != nil {
		t.Fatalf("a result with the error: %+v", r)
	}
	if info, err := p.LastResponse(); err != nil || info.Status != 401 {
		t.Fatalf("LastResponse after a 401 = %+v, %v", info, err)
	}

	// The group key itself is not the device key.
	hub := e.hub(e.deviceConnStr("gw-go-1", stackEnv(t, "SBPROV_TEST_AZURE_GROUP_KEY")), e.hubOpts())
	e.ctl("POST", "/_emu/devices", map[string]any{"device_id": "gw-go-1", "primary_key": e.derivedKey("gw-go-1")}, nil)
	n, err := hub.Send(ctxFor(t, 10*time.Second), sbprov.Message{Body: []byte("{}")}, sbprov.Message{Body: []byte("{}")})
	wantErr(t, err, sbprov.ErrAuth, "401")
	if n != 0 {
		t.Fatalf("accepted %d with a wrong key", n)
	}

	// A failing enrollment (custom allocation failed) and a disabled one.
	var stored []struct {
		RegistrationID string `json:"registration_id"`
		PrimaryKey     string `json:"primary_key"`
	}
	e.ctl("POST", "/_emu/enrollments", []map[string]any{
		{"type": "individual", "registration_id": "gw-go-failing",
			"failure": map[string]any{"error_code": 400207, "error_message": "Custom allocation failed with status code: 400"}},
		{"type": "individual", "registration_id": "gw-go-disabled", "provisioning_status": "disabled"},
	}, &stored)
	if len(stored) != 2 {
		t.Fatalf("enrollments: %+v", stored)
	}
	for _, en := range stored {
		p := e.provisioning(en.RegistrationID, en.PrimaryKey, sbprov.ProvisioningOptions{})
		r, err := p.Register(ctxFor(t, 10*time.Second), nil)
		if err != nil {
			t.Fatal(err)
		}
		switch en.RegistrationID {
		case "gw-go-failing":
			if r.Status != sbprov.RegistrationFailed || r.ErrorCode != 400207 ||
				!strings.Contains(r.ErrorMessage, "Custom allocation") || r.AssignedHub != "" || r.DeviceID != "" {
				t.Fatalf("failed registration: %+v", r)
			}
		default:
			if r.Status != sbprov.RegistrationDisabled || r.AssignedHub != "" {
				t.Fatalf("disabled registration: %+v", r)
			}
		}
		_, err = r.ConnectionString(en.PrimaryKey)
		wantErr(t, err, sbprov.ErrInval, "not assigned")
	}
}

// The gateway's clock 3 h behind the server's: ErrClock naming the offset
// instead of a bare 401, for DPS and the hub; nothing more is sent once
// the offset is known. Two minutes off is within Azure's tolerance.
func TestAzureClockSkew(t *testing.T) {
	e := newAzEmu(t)
	e.immediate()
	key := e.derivedKey("gw-go-clock")
	hub := e.hubDevice("gw-go-clock")
	e.config(map[string]any{"clock_offset": "3h"})
	p := e.provisioning("gw-go-clock", key, sbprov.ProvisioningOptions{})
	_, err := p.Register(ctxFor(t, 10*time.Second), nil)
	wantErr(t, err, sbprov.ErrClock, "behind the server's")
	// The offset comes from the HTTP Date header (whole seconds) against
	// the local clock, so a slow run (-race) can see 10799 to 10801 s.
	if !regexp.MustCompile(`\b10(799|80[01]) s\b`).MatchString(err.Error()) {
		t.Fatalf("offset not about 10800 s: %v", err)
	}
	before := e.requestCount()
	_, err = p.Register(ctxFor(t, 10*time.Second), nil)
	wantErr(t, err, sbprov.ErrClock, "already expired")
	if after := e.requestCount(); after != before {
		t.Fatalf("%d requests sent once the offset was known", after-before)
	}
	n, err := hub.Send(ctxFor(t, 10*time.Second), sbprov.Message{Body: []byte("{}")})
	wantErr(t, err, sbprov.ErrClock, "behind")
	if n != 0 {
		t.Fatalf("accepted %d", n)
	}

	// Two minutes off: within the 5 minutes Azure tolerates, it works.
	e.config(map[string]any{"clock_offset": "2m"})
	p = e.provisioning("gw-go-clock", key, sbprov.ProvisioningOptions{})
	if r, err := p.Register(ctxFor(t, 10*time.Second), nil); err != nil || r.Status != sbprov.RegistrationAssigned {
		t.Fatalf("2 minutes off: %+v, %v", r, err)
	}
}

// 429 with Retry-After is honoured and then succeeds; a hub that stays
// throttled longer than the retry budget gives ErrRateLimit with the exact
// number of messages accepted.
func TestAzureRateLimit(t *testing.T) {
	e := newAzEmu(t)
	e.immediate()
	key := e.derivedKey("gw-go-429")
	p := e.provisioning("gw-go-429", key, sbprov.ProvisioningOptions{})
	e.faults(map[string]any{"route": "dps_register", "method": "PUT", "status": 429, "retry_after": "1", "count": 1})
	start := time.Now()
	if r, err := p.Register(ctxFor(t, 20*time.Second), nil); err != nil || r.Status != sbprov.RegistrationAssigned {
		t.Fatalf("Register after a 429 = %+v, %v", r, err)
	}
	if el := time.Since(start); el < 950*time.Millisecond {
		t.Fatalf("Retry-After: 1 was not honoured (done after %v)", el)
	}

	hub := e.hubDevice("gw-go-429")
	msgs := make([]sbprov.Message, 4)
	for i := range msgs {
		msgs[i] = sbprov.Message{Body: []byte(fmt.Sprintf(`{"n":%d}`, i)), MessageID: fmt.Sprintf("m-%d", i)}
	}
	e.faults(map[string]any{"route": "hub_telemetry", "status": 429, "retry_after": "1", "count": 1, "skip": 1})
	start = time.Now()
	if n, err := hub.Send(ctxFor(t, 20*time.Second), msgs...); n != 4 || err != nil {
		t.Fatalf("Send through a 429 = %d, %v", n, err)
	}
	if el := time.Since(start); el < 950*time.Millisecond {
		t.Fatalf("Retry-After: 1 was not honoured (done after %v)", el)
	}
	if got := e.telemetry("gw-go-429"); len(got) != 4 {
		t.Fatalf("%d messages recorded, want 4 (nothing lost, nothing twice)", len(got))
	}

	// Throttled for longer than RetryTimeout (8 s): Retry-After 20 s is
	// beyond it, so the call ends at once with the count.
	e.ctl("DELETE", "/_emu/faults", nil, nil)
	e.ctl("DELETE", "/_emu/telemetry", nil, nil)
	e.faults(map[string]any{"route": "hub_telemetry", "status": 429, "retry_after": "20", "skip": 2})
	n, err := hub.Send(ctxFor(t, 20*time.Second), msgs...)
	wantErr(t, err, sbprov.ErrRateLimit, "429")
	if n != 2 {
		t.Fatalf("accepted %d, want 2", n)
	}
	info, err := hub.LastResponse()
	if err != nil || info.Status != 429 || info.RetryAfter != 20*time.Second {
		t.Fatalf("LastResponse = %+v, %v", info, err)
	}
	got := e.telemetry("gw-go-429")
	if len(got) != 2 || got[0].MessageID != "m-0" || got[1].MessageID != "m-1" {
		t.Fatalf("recorded: %+v", got)
	}
	// The rest goes through once the hub is willing again.
	e.ctl("DELETE", "/_emu/faults", nil, nil)
	if n, err := hub.Send(ctxFor(t, 20*time.Second), msgs[n:]...); n != 2 || err != nil {
		t.Fatalf("Send of the rest = %d, %v", n, err)
	}

	// DPS throttled beyond the call's deadline: ErrRateLimit with the
	// server's Retry-After.
	e.faults(map[string]any{"route": "dps", "status": 429, "retry_after": "30"})
	_, err = p.Register(ctxFor(t, 2500*time.Millisecond), nil)
	wantErr(t, err, sbprov.ErrRateLimit, "429")
	if info, err := p.LastResponse(); err != nil || info.RetryAfter != 30*time.Second {
		t.Fatalf("LastResponse = %+v, %v", info, err)
	}
}

// The identity registry: create with generated keys, 409, read, rotate
// with the etag, a stale etag (ErrConflict), delete, then ErrNotFound.
func TestAzureRegistry(t *testing.T) {
	e := newAzEmu(t)
	reg := e.registry(stackEnv(t, "SBPROV_TEST_AZURE_SERVICE_CONNSTR"))
	ctx := ctxFor(t, time.Minute)

	d, err := reg.CreateDevice(ctx, "gw-go-reg-1", nil)
	if err != nil {
		t.Fatal(err)
	}
	if d.ID != "gw-go-reg-1" || d.Status != "enabled" || len(d.PrimaryKey) != 44 || len(d.SecondaryKey) != 44 ||
		d.PrimaryKey == d.SecondaryKey || d.ETag == "" {
		t.Fatalf("CreateDevice = %+v", d)
	}
	_, err = reg.CreateDevice(ctx, "gw-go-reg-1", nil)
	wantErr(t, err, sbprov.ErrExists, "409")
	got, err := reg.GetDevice(ctx, "gw-go-reg-1")
	if err != nil || *got != *d {
		t.Fatalf("GetDevice = %+v, %v; want %+v", got, err, d)
	}

	// No keys given: both kept.
	kept, err := reg.UpdateDevice(ctx, "gw-go-reg-1", nil, d.ETag)
	if err != nil || kept.PrimaryKey != d.PrimaryKey || kept.SecondaryKey != d.SecondaryKey {
		t.Fatalf("UpdateDevice(nil keys) = %+v, %v; want the keys of %+v", kept, err, d)
	}
	// Rotate: a new primary key, the old primary as secondary.
	fresh, err := sbprov.GenerateKey(32)
	if err != nil {
		t.Fatal(err)
	}
	rotated, err := reg.UpdateDevice(ctx, "gw-go-reg-1", &sbprov.SymmetricKeys{Primary: fresh, Secondary: d.PrimaryKey},
		kept.ETag)
	if err != nil {
		t.Fatal(err)
	}
	if rotated.PrimaryKey == d.PrimaryKey || rotated.SecondaryKey != d.PrimaryKey || rotated.ETag == d.ETag {
		t.Fatalf("UpdateDevice = %+v (before %+v)", rotated, d)
	}
	_, err = reg.UpdateDevice(ctx, "gw-go-reg-1", nil, d.ETag)
	wantErr(t, err, sbprov.ErrConflict, "etag")
	wantErr(t, reg.DeleteDevice(ctx, "gw-go-reg-1", d.ETag), sbprov.ErrConflict, "etag")

	// The device sends with its (now secondary) key.
	hub := e.hub(e.deviceConnStr("gw-go-reg-1", d.PrimaryKey), e.hubOpts())
	if n, err := hub.Send(ctx, sbprov.Message{Body: []byte("{}")}); n != 1 || err != nil {
		t.Fatalf("Send with the secondary key = %d, %v", n, err)
	}

	// Given keys, and "*" as the etag.
	k1, k2, err := sbprov.GenerateKeys(0)
	if err != nil {
		t.Fatal(err)
	}
	set, err := reg.UpdateDevice(ctx, "gw-go-reg-1", &sbprov.SymmetricKeys{Primary: k1, Secondary: k2}, "*")
	if err != nil || set.PrimaryKey != k1 || set.SecondaryKey != k2 {
		t.Fatalf("UpdateDevice with keys and *: %+v, %v", set, err)
	}

	// Delete with the current etag; then it is gone.
	if err := reg.DeleteDevice(ctx, "gw-go-reg-1", set.ETag); err != nil {
		t.Fatal(err)
	}
	_, err = reg.GetDevice(ctx, "gw-go-reg-1")
	wantErr(t, err, sbprov.ErrNotFound, "404")
	wantErr(t, reg.DeleteDevice(ctx, "gw-go-reg-1", ""), sbprov.ErrNotFound, "404")
	_, err = hub.Send(ctx, sbprov.Message{Body: []byte("{}")})
	wantErr(t, err, sbprov.ErrAuth)

	// Created with given keys; deleted whatever its etag.
	d, err = reg.CreateDevice(ctx, "gw-go-reg-2", &sbprov.SymmetricKeys{Primary: k1})
	if err != nil || d.PrimaryKey != k1 || len(d.SecondaryKey) != 44 {
		t.Fatalf("CreateDevice with a primary key: %+v, %v", d, err)
	}
	if err := reg.DeleteDevice(ctx, "gw-go-reg-2", ""); err != nil {
		t.Fatal(err)
	}
	// Keys are checked before anything is sent.
	_, err = reg.CreateDevice(ctx, "gw-go-reg-3", &sbprov.SymmetricKeys{Primary: "not-base64"})
	wantErr(t, err, sbprov.ErrBase64)

	// A policy without RegistryWrite; a device connection string.
	devicePolicy := "HostName=" + stackEnv(t, "SBPROV_TEST_AZURE_HUB_HOST") + ";SharedAccessKeyName=device;SharedAccessKey=" +
		stackEnv(t, "SBPROV_TEST_AZURE_DEVICE_POLICY_KEY")
	_, err = e.registry(devicePolicy).CreateDevice(ctx, "gw-go-reg-4", nil)
	wantErr(t, err, sbprov.ErrAuth)
	_, err = sbprov.NewRegistry(e.deviceConnStr("x", k1), e.hubOpts())
	wantErr(t, err, sbprov.ErrConnStr, "service connection string")
}

// A registration that takes long (DPS answers "assigning" for 5 s): a
// cancelled context stops it at once, a deadline ends it with ErrTimeout,
// Cancel and Close from other goroutines stop it; the client works after.
func TestAzureRegisterCancel(t *testing.T) {
	e := newAzEmu(t)
	key := e.derivedKey("gw-go-slow")
	p := e.provisioning("gw-go-slow", key, sbprov.ProvisioningOptions{})
	e.config(map[string]any{"assign_polls": 5})

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var cancelled time.Time
	time.AfterFunc(700*time.Millisecond, func() { cancelled = time.Now(); cancel() })
	_, err := p.Register(ctx, nil)
	late := time.Since(cancelled)
	wantErr(t, err, sbprov.ErrCanceled, "cancelled")
	if !errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("%v does not wrap context.Canceled", err)
	}
	if late > 500*time.Millisecond {
		t.Fatalf("stopped %v after the context was cancelled", late)
	}
	t.Logf("a poll wait stopped %v after the cancellation", late.Round(time.Millisecond))

	// The deadline: ErrTimeout, also context.DeadlineExceeded. The library
	// ends the call when DPS's next poll would come after it.
	start := time.Now()
	_, err = p.Register(ctxFor(t, 1500*time.Millisecond), nil)
	wantErr(t, err, sbprov.ErrTimeout)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("%v does not wrap context.DeadlineExceeded", err)
	}
	if el := time.Since(start); el > 2500*time.Millisecond {
		t.Fatalf("a 1.5 s deadline ended after %v", el)
	}

	// Cancel from another goroutine (no context error).
	time.AfterFunc(300*time.Millisecond, p.Cancel)
	start = time.Now()
	_, err = p.Register(ctxFor(t, time.Minute), nil)
	wantErr(t, err, sbprov.ErrCanceled)
	if errors.Is(err, context.Canceled) || time.Since(start) > 2*time.Second {
		t.Fatalf("Cancel: %v after %v", err, time.Since(start))
	}

	// A slow transfer (the server holds its answer 5 s) is cancelled too.
	e.faults(map[string]any{"route": "dps_register", "delay_ms": 5000, "count": 1})
	ctx, cancel = context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	time.AfterFunc(300*time.Millisecond, cancel)
	start = time.Now()
	_, err = p.Register(ctx, nil)
	wantErr(t, err, sbprov.ErrCanceled)
	if el := time.Since(start); el > 2*time.Second {
		t.Fatalf("a cancelled transfer took %v", el)
	}

	// A request timing out (HTTPOptions.Timeout) long before the deadline
	// is ErrTimeout, but not the context's.
	short := e.opts
	short.Timeout = time.Second
	ps := e.provisioning("gw-go-slow", key, sbprov.ProvisioningOptions{HTTP: short})
	e.faults(map[string]any{"route": "dps_register", "delay_ms": 3000, "count": 1})
	_, err = ps.Register(ctxFor(t, time.Minute), nil)
	wantErr(t, err, sbprov.ErrTimeout, "timed out")
	if errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("a request timeout wraps context.DeadlineExceeded: %v", err)
	}

	// Contexts that have ended send nothing; no deadline is refused.
	before := e.requestCount()
	ended, endedCancel := context.WithTimeout(context.Background(), time.Minute)
	endedCancel()
	_, err = p.Register(ended, nil)
	wantErr(t, err, sbprov.ErrCanceled)
	_, err = p.Register(context.Background(), nil)
	wantErr(t, err, sbprov.ErrInval, "no deadline")
	if after := e.requestCount(); after != before {
		t.Fatalf("%d requests sent for ended contexts", after-before)
	}

	// The client works afterwards: no cancellation was left behind.
	e.config(map[string]any{"assign_polls": 1})
	if r, err := p.Register(ctxFor(t, 20*time.Second), nil); err != nil || r.Status != sbprov.RegistrationAssigned {
		t.Fatalf("Register after the cancellations = %+v, %v", r, err)
	}

	// Close from another goroutine stops the call and waits for it.
	e.config(map[string]any{"assign_polls": 5})
	time.AfterFunc(300*time.Millisecond, func() { p.Close() })
	start = time.Now()
	_, err = p.Register(ctxFor(t, time.Minute), nil)
	wantErr(t, err, sbprov.ErrCanceled)
	if time.Since(start) > 2*time.Second {
		t.Fatalf("Close stopped the call after %v", time.Since(start))
	}
	time.Sleep(50 * time.Millisecond)
	_, err = p.Register(ctxFor(t, time.Minute), nil)
	wantErr(t, err, sbprov.ErrInval, "after Close")
}

// Sends cancelled by their context while the hub holds its answer; the
// messages before are counted.
func TestAzureSendCancel(t *testing.T) {
	e := newAzEmu(t)
	hub := e.hubDevice("gw-go-send-cancel")
	e.faults(map[string]any{"route": "hub_telemetry", "delay_ms": 5000, "skip": 1, "count": 1})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	time.AfterFunc(500*time.Millisecond, cancel)
	start := time.Now()
	msg := sbprov.Message{Body: []byte("{}")}
	n, err := hub.Send(ctx, msg, msg, msg)
	wantErr(t, err, sbprov.ErrCanceled)
	if !errors.Is(err, context.Canceled) || n != 1 || time.Since(start) > 2*time.Second {
		t.Fatalf("Send cancelled: %d, %v after %v", n, err, time.Since(start))
	}
	// A deadline: ErrTimeout.
	e.faults(map[string]any{"route": "hub_telemetry", "delay_ms": 5000, "count": 1})
	n, err = hub.Send(ctxFor(t, 400*time.Millisecond), msg)
	wantErr(t, err, sbprov.ErrTimeout)
	if !errors.Is(err, context.DeadlineExceeded) || n != 0 {
		t.Fatalf("Send past its deadline: %d, %v", n, err)
	}
	if n, err := hub.Send(ctxFor(t, 10*time.Second), msg); n != 1 || err != nil {
		t.Fatalf("Send after the cancellations = %d, %v", n, err)
	}
}

// Transport: an untrusted server certificate, mutual TLS with a client key
// (closed once the client exists), a plain-http endpoint.
func TestAzureTransport(t *testing.T) {
	e := newAzEmu(t)
	e.immediate()
	key := e.derivedKey("gw-go-tls")
	p := e.provisioning("gw-go-tls", key, sbprov.ProvisioningOptions{Endpoint: stackEnv(t, "SBPROV_TEST_AZURE_UNTRUSTED_URL")})
	_, err := p.Register(ctxFor(t, 10*time.Second), nil)
	wantErr(t, err, sbprov.ErrCert)

	ck, err := sbprov.LoadKey(stackEnv(t, "SBPROV_TEST_CLIENT_KEY"), sbprov.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	mtls := e.opts
	mtls.ClientCert = stackEnv(t, "SBPROV_TEST_CLIENT_CERT")
	mtls.ClientKey = ck
	p = e.provisioning("gw-go-tls", key, sbprov.ProvisioningOptions{Endpoint: stackEnv(t, "SBPROV_TEST_AZURE_MTLS_URL"), HTTP: mtls})
	cs, err := sbprov.BuildConnectionString(sbprov.ConnectionString{HostName: stackEnv(t, "SBPROV_TEST_AZURE_HUB_HOST"),
		DeviceID: "gw-go-tls", SharedAccessKey: key})
	if err != nil {
		t.Fatal(err)
	}
	hub := e.hub(cs, sbprov.HubOptions{Endpoint: stackEnv(t, "SBPROV_TEST_AZURE_MTLS_URL"), HTTP: mtls})
	ck.Close() // the clients keep their own references
	runtime.GC()
	r, err := p.Register(ctxFor(t, 10*time.Second), nil)
	if err != nil || r.Status != sbprov.RegistrationAssigned {
		t.Fatalf("Register over mutual TLS = %+v, %v", r, err)
	}
	if n, err := hub.Send(ctxFor(t, 10*time.Second), sbprov.Message{Body: []byte("{}")}); n != 1 || err != nil {
		t.Fatalf("Send over mutual TLS = %d, %v", n, err)
	}
	// Without the client certificate, the mTLS endpoint refuses.
	p = e.provisioning("gw-go-tls", key, sbprov.ProvisioningOptions{Endpoint: stackEnv(t, "SBPROV_TEST_AZURE_MTLS_URL")})
	_, err = p.Register(ctxFor(t, 10*time.Second), nil)
	wantErr(t, err, sbprov.ErrTLS, "client certificate")

	// Plain http needs AllowHTTP.
	plain := stackEnv(t, "SBPROV_TEST_AZURE_PLAIN_URL")
	_, err = sbprov.NewProvisioning(stackEnv(t, "SBPROV_TEST_AZURE_ID_SCOPE"), "gw-go-tls", key,
		sbprov.ProvisioningOptions{Endpoint: plain})
	wantErr(t, err, sbprov.ErrInval)
	p = e.provisioning("gw-go-tls", key, sbprov.ProvisioningOptions{Endpoint: plain, HTTP: sbprov.HTTPOptions{AllowHTTP: true, Proxy: sbprov.NoProxy}})
	if r, err := p.Register(ctxFor(t, 10*time.Second), nil); err != nil || r.Status != sbprov.RegistrationAssigned {
		t.Fatalf("Register over plain http = %+v, %v", r, err)
	}
}

// One Hub, one Registry and one Provisioning shared by many goroutines:
// calls are serialised, every result is right, nothing is lost, and the
// race detector is quiet.
func TestAzureConcurrentUse(t *testing.T) {
	e := newAzEmu(t)
	e.immediate()
	hub := e.hubDevice("gw-go-conc")
	reg := e.registry(stackEnv(t, "SBPROV_TEST_AZURE_SERVICE_CONNSTR"))
	p := e.provisioning("gw-go-conc", e.derivedKey("gw-go-conc"), sbprov.ProvisioningOptions{})
	const workers, rounds = 8, 5
	var wg sync.WaitGroup
	errs := make(chan error, workers*rounds*2)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			for r := 0; r < rounds; r++ {
				id := fmt.Sprintf("w%d-r%d", w, r)
				n, err := hub.Send(ctx, sbprov.Message{Body: []byte(`{"id":"` + id + `"}`), MessageID: id,
					Properties: map[string]string{"worker": fmt.Sprint(w)}})
				if n != 1 || err != nil {
					errs <- fmt.Errorf("Send %s = %d, %v", id, n, err)
				}
				switch r {
				case 0:
					d, err := reg.CreateDevice(ctx, "gw-go-conc-"+id, nil)
					if err != nil || d.ID != "gw-go-conc-"+id {
						errs <- fmt.Errorf("CreateDevice %s = %+v, %v", id, d, err)
						continue
					}
					if got, err := reg.GetDevice(ctx, d.ID); err != nil || *got != *d {
						errs <- fmt.Errorf("GetDevice %s = %+v, %v", id, got, err)
					}
				case 1:
					if w%4 == 0 {
						res, err := p.Register(ctx, map[string]int{"worker": w})
						if err != nil || res.Status != sbprov.RegistrationAssigned {
							errs <- fmt.Errorf("Register = %+v, %v", res, err)
						}
					} else if _, err := hub.LastResponse(); err != nil {
						errs <- fmt.Errorf("LastResponse: %v", err)
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
	got := e.telemetry("gw-go-conc")
	ids := make([]string, 0, len(got))
	for _, m := range got {
		ids = append(ids, m.MessageID)
	}
	sort.Strings(ids)
	if len(ids) != workers*rounds {
		t.Fatalf("%d messages recorded, want %d: %v", len(ids), workers*rounds, ids)
	}
	for i := 1; i < len(ids); i++ {
		if ids[i] == ids[i-1] {
			t.Fatalf("message %s recorded twice", ids[i])
		}
	}
}

// Close racing with calls on other goroutines: every call returns (a
// result, ErrCanceled or ErrInval), nothing crashes.
func TestAzureCloseRacesWithCalls(t *testing.T) {
	e := newAzEmu(t)
	for i := 0; i < 5; i++ {
		hub := e.hubDevice(fmt.Sprintf("gw-go-close-%d", i))
		var wg sync.WaitGroup
		for w := 0; w < 4; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for r := 0; r < 5; r++ {
					_, err := hub.Send(context.Background(), sbprov.Message{Body: []byte("{}")})
					if err != nil && !errors.Is(err, sbprov.ErrCanceled) && !errors.Is(err, sbprov.ErrInval) {
						t.Errorf("Send racing with Close: %v", err)
					}
				}
			}()
		}
		time.Sleep(time.Duration(i*15) * time.Millisecond)
		hub.Close()
		wg.Wait()
		hub.Cancel() // after Close: a no-op
		_, err := hub.Send(context.Background(), sbprov.Message{})
		wantErr(t, err, sbprov.ErrInval, "after Close")
	}
}
