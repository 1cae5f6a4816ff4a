package sbprov_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	sbprov "github.com/sbprov/libsbprov/bindings/go"
)

// The Azure clients without a server: argument checks, handle life cycle
// and cancellation, against a loopback port where nothing listens. These
// run everywhere, stack or not.

const (
	testScope = "0ne00C0FFEE"
	// testKey is a valid 32-byte key; testDeviceCS a device connection
	// string with it.
	testKey      = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="
	testDeviceCS = "HostName=h.azure-devices.net;DeviceId=gw-1;SharedAccessKey=" + testKey
	testServCS   = "HostName=h.azure-devices.net;SharedAccessKeyName=iothubowner;SharedAccessKey=" + testKey
)

func offlineProvisioning(t *testing.T) *sbprov.Provisioning {
	t.Helper()
	p, err := sbprov.NewProvisioning(testScope, "gw-1", testKey, sbprov.ProvisioningOptions{Endpoint: refused, HTTP: direct})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

func offlineHub(t *testing.T) *sbprov.Hub {
	t.Helper()
	h, err := sbprov.NewHub(testDeviceCS, sbprov.HubOptions{Endpoint: refused, HTTP: direct})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	return h
}

func offlineRegistry(t *testing.T) *sbprov.Registry {
	t.Helper()
	r, err := sbprov.NewRegistry(testServCS, sbprov.HubOptions{Endpoint: refused, HTTP: direct})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

func TestAzureProvisioningArguments(t *testing.T) {
	closedKey := newKeyPair(t, sbprov.KeyEd25519)
	closedKey.Close()
	o := sbprov.ProvisioningOptions{Endpoint: refused, HTTP: direct}
	with := func(f func(*sbprov.ProvisioningOptions)) sbprov.ProvisioningOptions {
		c := o
		f(&c)
		return c
	}
	cases := []struct {
		scope, regID, key string
		opts              sbprov.ProvisioningOptions
		code              sbprov.Code
		fragment          string
	}{
		{"0ne-bad", "gw-1", testKey, o, sbprov.ErrID, "scope"},
		{"", "gw-1", testKey, o, sbprov.ErrID, ""},
		{testScope, "GW-1", testKey, o, sbprov.ErrID, "upper-case"},
		{testScope, "gw-1", "not base64", o, sbprov.ErrBase64, ""},
		{testScope, "gw-1", "AAAA", o, sbprov.ErrKeySize, ""},
		{testScope, "gw-1", testKey + "\x00", o, sbprov.ErrInval, "NUL"},
		{testScope, "gw\x001", testKey, o, sbprov.ErrInval, "NUL"},
		{testScope, "gw-1", testKey, with(func(o *sbprov.ProvisioningOptions) { o.Endpoint = "ftp://x" }), sbprov.ErrInval, ""},
		{testScope, "gw-1", testKey, with(func(o *sbprov.ProvisioningOptions) { o.Endpoint = "https://h/path" }), sbprov.ErrInval, ""},
		{testScope, "gw-1", testKey, with(func(o *sbprov.ProvisioningOptions) { o.Endpoint = "http://127.0.0.1:1" }), sbprov.ErrInval, ""},
		{testScope, "gw-1", testKey, with(func(o *sbprov.ProvisioningOptions) { o.Endpoint = "https://h\x00" }), sbprov.ErrInval, "Endpoint"},
		{testScope, "gw-1", testKey, with(func(o *sbprov.ProvisioningOptions) { o.TokenTTL = -time.Second }), sbprov.ErrInval, "TokenTTL"},
		{testScope, "gw-1", testKey, with(func(o *sbprov.ProvisioningOptions) { o.MaxClockSkew = math.MaxInt64 }), sbprov.ErrInval, "2^32-1 s"},
		{testScope, "gw-1", testKey, with(func(o *sbprov.ProvisioningOptions) { o.HTTP.Timeout = -1 }), sbprov.ErrInval, "Timeout"},
		{testScope, "gw-1", testKey, with(func(o *sbprov.ProvisioningOptions) { o.HTTP.ClientKey = closedKey }), sbprov.ErrInval, "after Close"},
	}
	for i, c := range cases {
		p, err := sbprov.NewProvisioning(c.scope, c.regID, c.key, c.opts)
		if err == nil {
			p.Close()
			t.Fatalf("case %d: no error", i)
		}
		t.Run(fmt.Sprint(i), func(t *testing.T) { wantErr(t, err, c.code, c.fragment) })
	}
	// A key is never in a message.
	_, err := sbprov.NewProvisioning(testScope, "gw-1", "c2VjcmV0LXNlY3JldC1zZWNyZXQ-", o)
	if err == nil || strings.Contains(err.Error(), "c2VjcmV0") {
		t.Fatalf("error %v", err)
	}

	p := offlineProvisioning(t)
	ctx := ctxFor(t, 5*time.Second)
	_, err = p.Register(nil, nil) //nolint:staticcheck // a nil context is refused
	wantErr(t, err, sbprov.ErrInval, "nil context")
	_, err = p.Register(context.Background(), nil)
	wantErr(t, err, sbprov.ErrInval, "no deadline")
	_, err = p.Register(ctxFor(t, 60*24*time.Hour), nil)
	wantErr(t, err, sbprov.ErrInval, "2^32-1 ms")
	_, err = p.Register(ctx, []byte(`{"a":1}`))
	wantErr(t, err, sbprov.ErrInval, "json.RawMessage")
	_, err = p.Register(ctx, json.RawMessage(`{"a":`))
	wantErr(t, err, sbprov.ErrParse, "not valid JSON")
	_, err = p.Register(ctx, make(chan int))
	wantErr(t, err, sbprov.ErrInval, "payload")
	_, err = p.Register(ctx, math.Inf(1))
	wantErr(t, err, sbprov.ErrInval, "payload")
	// Payloads that are fine reach the network.
	for _, payload := range []any{nil, json.RawMessage(nil), json.RawMessage(`[1,"x"]`), "text", 42,
		map[string]any{"a": []int{1}}, struct{ A string }{"b"}} {
		_, err = p.Register(ctx, payload)
		wantErr(t, err, sbprov.ErrNetwork)
	}
}

func TestAzureHubArguments(t *testing.T) {
	for _, c := range []struct {
		cs       string
		code     sbprov.Code
		fragment string
	}{
		{testServCS, sbprov.ErrConnStr, "device connection string"},
		{testDeviceCS + ";ModuleId=m", sbprov.ErrConnStr, ""},
		{"HostName=h.azure-devices.net;DeviceId=gw-1;x509=true", sbprov.ErrConnStr, ""},
		{"HostName=h.azure-devices.net;DeviceId=gw-1;SharedAccessKey=AAAA", sbprov.ErrKeySize, ""},
		{"nonsense", sbprov.ErrConnStr, ""},
		{testDeviceCS + "\x00", sbprov.ErrInval, "NUL"},
	} {
		_, err := sbprov.NewHub(c.cs, sbprov.HubOptions{HTTP: direct})
		wantErr(t, err, c.code, c.fragment)
	}
	_, err := sbprov.NewHub(testDeviceCS, sbprov.HubOptions{RetryTimeout: -1})
	wantErr(t, err, sbprov.ErrInval, "RetryTimeout")
	_, err = sbprov.NewHub(testDeviceCS, sbprov.HubOptions{Endpoint: "localhost:8443"})
	wantErr(t, err, sbprov.ErrInval)

	h := offlineHub(t)
	ctx := ctxFor(t, 10*time.Second)
	_, err = h.Send(nil, sbprov.Message{}) //nolint:staticcheck // a nil context is refused
	wantErr(t, err, sbprov.ErrInval, "nil context")
	body := make([]byte, sbprov.MessageMaxSize+1)
	many := map[string]string{}
	for i := 0; i <= sbprov.MessageMaxProperties; i++ {
		many[fmt.Sprintf("p%02d", i)] = "v"
	}
	ok := sbprov.Message{Body: []byte("{}")}
	for i, c := range []struct {
		m        sbprov.Message
		code     sbprov.Code
		fragment string
	}{
		{sbprov.Message{Body: body}, sbprov.ErrInval, "bytes"},
		{sbprov.Message{Properties: many}, sbprov.ErrInval, "properties"},
		{sbprov.Message{Properties: map[string]string{"bad name": "v"}}, sbprov.ErrInval, "property"},
		{sbprov.Message{Properties: map[string]string{"": "v"}}, sbprov.ErrInval, "property"},
		{sbprov.Message{Properties: map[string]string{"n": "caf\u00e9"}}, sbprov.ErrInval, "property"},
		{sbprov.Message{Properties: map[string]string{"n": " v"}}, sbprov.ErrInval, "property"},
		{sbprov.Message{Properties: map[string]string{"n": "v\x00"}}, sbprov.ErrInval, "NUL"},
		{sbprov.Message{Properties: map[string]string{"n\x00": "v"}}, sbprov.ErrInval, "NUL"},
		{sbprov.Message{MessageID: "a\nb"}, sbprov.ErrInval, "printable"},
		{sbprov.Message{MessageID: strings.Repeat("x", 257)}, sbprov.ErrInval, "256"},
		{sbprov.Message{CorrelationID: "\x00"}, sbprov.ErrInval, "CorrelationID"},
		{sbprov.Message{ContentType: "a\tb"}, sbprov.ErrInval, ""},
		{sbprov.Message{ContentEncoding: "\x7f"}, sbprov.ErrInval, ""},
		{sbprov.Message{CreationTime: time.Unix(0, 0)}, sbprov.ErrInval, "CreationTime"},
		{sbprov.Message{CreationTime: time.Date(1960, 1, 1, 0, 0, 0, 0, time.UTC)}, sbprov.ErrInval, "1970"},
	} {
		// Every message is checked before the first is sent: a bad last
		// message means nothing reaches the network.
		n, err := h.Send(ctx, ok, c.m)
		if n != 0 {
			t.Fatalf("case %d: accepted %d", i, n)
		}
		t.Run(fmt.Sprint(i), func(t *testing.T) { wantErr(t, err, c.code, c.fragment) })
	}
	if info, err := h.LastResponse(); err != nil || info.Status != 0 {
		t.Fatalf("LastResponse before any request = %+v, %v", info, err)
	}
	// At the limits, the messages are acceptable (and the network fails).
	limit := make(map[string]string, sbprov.MessageMaxProperties)
	for i := 0; i < sbprov.MessageMaxProperties; i++ {
		limit[fmt.Sprintf("p%02d", i)] = strings.Repeat("v", 256)
	}
	n, err := h.Send(ctx, sbprov.Message{Body: body[:sbprov.MessageMaxSize], Properties: limit,
		MessageID: strings.Repeat("i", 256), CreationTime: time.Unix(1, 0)}, ok)
	wantErr(t, err, sbprov.ErrNetwork)
	if n != 0 {
		t.Fatalf("accepted %d", n)
	}
	if n, err := h.Send(ctx); n != 0 || err != nil {
		t.Fatalf("Send() = %d, %v", n, err)
	}
}

func TestAzureRegistryArguments(t *testing.T) {
	for _, cs := range []string{testDeviceCS, "HostName=h.azure-devices.net;SharedAccessKeyName=p", "x"} {
		_, err := sbprov.NewRegistry(cs, sbprov.HubOptions{HTTP: direct})
		wantErr(t, err, sbprov.ErrConnStr)
	}
	r := offlineRegistry(t)
	ctx := ctxFor(t, 10*time.Second)
	_, err := r.UpdateDevice(ctx, "gw-1", nil, "")
	wantErr(t, err, sbprov.ErrInval, "etag")
	_, err = r.UpdateDevice(ctx, "gw-1", nil, "a b")
	wantErr(t, err, sbprov.ErrInval, "etag")
	wantErr(t, r.DeleteDevice(ctx, "gw-1", "e\x00"), sbprov.ErrInval, "NUL")
	_, err = r.CreateDevice(ctx, "gw/1", nil)
	wantErr(t, err, sbprov.ErrID)
	_, err = r.GetDevice(ctx, "")
	wantErr(t, err, sbprov.ErrID)
	_, err = r.CreateDevice(ctx, "gw-1", &sbprov.SymmetricKeys{Secondary: "AAAA"})
	wantErr(t, err, sbprov.ErrKeySize)
	_, err = r.CreateDevice(nil, "gw-1", nil) //nolint:staticcheck // a nil context is refused
	wantErr(t, err, sbprov.ErrInval, "nil context")
	_, err = r.CreateDevice(ctx, "gw-1", &sbprov.SymmetricKeys{Primary: testKey, Secondary: testKey})
	wantErr(t, err, sbprov.ErrNetwork)
	_, err = r.GetDevice(ctx, "gw-1")
	wantErr(t, err, sbprov.ErrNetwork)
	wantErr(t, r.DeleteDevice(ctx, "gw-1", ""), sbprov.ErrNetwork)
}

// Methods on nil and closed clients fail cleanly; Close is idempotent.
func TestAzureClosedAndNil(t *testing.T) {
	ctx := ctxFor(t, 5*time.Second)
	p := offlineProvisioning(t)
	p.Close()
	p.Close()
	for _, c := range []*sbprov.Provisioning{nil, p} {
		_, err := c.Register(ctx, nil)
		wantErr(t, err, sbprov.ErrInval)
		_, err = c.LastResponse()
		wantErr(t, err, sbprov.ErrInval)
		c.Cancel()
		if err := c.Close(); err != nil {
			t.Fatal(err)
		}
	}
	h := offlineHub(t)
	h.Close()
	for _, c := range []*sbprov.Hub{nil, h} {
		_, err := c.Send(ctx, sbprov.Message{})
		wantErr(t, err, sbprov.ErrInval)
		_, err = c.Send(ctx)
		wantErr(t, err, sbprov.ErrInval)
		_, err = c.LastResponse()
		wantErr(t, err, sbprov.ErrInval)
		c.Cancel()
		if err := c.Close(); err != nil {
			t.Fatal(err)
		}
	}
	r := offlineRegistry(t)
	r.Close()
	for _, c := range []*sbprov.Registry{nil, r} {
		_, err := c.CreateDevice(ctx, "gw-1", nil)
		wantErr(t, err, sbprov.ErrInval)
		_, err = c.UpdateDevice(ctx, "gw-1", nil, "*")
		wantErr(t, err, sbprov.ErrInval)
		_, err = c.GetDevice(ctx, "gw-1")
		wantErr(t, err, sbprov.ErrInval)
		wantErr(t, c.DeleteDevice(ctx, "gw-1", ""), sbprov.ErrInval)
		c.Cancel()
		if err := c.Close(); err != nil {
			t.Fatal(err)
		}
	}
	var reg *sbprov.Registration
	_, err := reg.ConnectionString(testKey)
	wantErr(t, err, sbprov.ErrInval)
}

// Cancel with no call in progress cancels the next call (and only that
// one), as the library does.
func TestAzureCancelBeforeCall(t *testing.T) {
	ctx := ctxFor(t, 10*time.Second)
	p := offlineProvisioning(t)
	p.Cancel()
	_, err := p.Register(ctx, nil)
	wantErr(t, err, sbprov.ErrCanceled, "cancelled")
	if errors.Is(err, context.Canceled) {
		t.Fatal("Cancel's error wraps context.Canceled")
	}
	_, err = p.Register(ctx, nil)
	wantErr(t, err, sbprov.ErrNetwork)

	h := offlineHub(t)
	h.Cancel()
	n, err := h.Send(ctx, sbprov.Message{}, sbprov.Message{})
	wantErr(t, err, sbprov.ErrCanceled)
	if n != 0 {
		t.Fatalf("accepted %d", n)
	}
	_, err = h.Send(ctx, sbprov.Message{})
	wantErr(t, err, sbprov.ErrNetwork)
	// A call refused before anything is sent leaves a Cancel pending.
	h.Cancel()
	_, err = h.Send(ctx, sbprov.Message{MessageID: "\n"})
	wantErr(t, err, sbprov.ErrInval)
	_, err = h.Send(ctx, sbprov.Message{})
	wantErr(t, err, sbprov.ErrCanceled)

	r := offlineRegistry(t)
	r.Cancel()
	_, err = r.GetDevice(ctx, "gw-1")
	wantErr(t, err, sbprov.ErrCanceled)
	_, err = r.GetDevice(ctx, "gw-1")
	wantErr(t, err, sbprov.ErrNetwork)
}

// Contexts cancelled at random moments around the end of a call never
// leave a cancellation behind for the next call.
func TestAzureContextCancelRaces(t *testing.T) {
	p := offlineProvisioning(t)
	h := offlineHub(t)
	counts := map[string]int{}
	for i := 0; i < 300; i++ {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		time.AfterFunc(time.Duration(i%25)*4*time.Microsecond, cancel)
		var err error
		if i%2 == 0 {
			_, err = p.Register(ctx, nil)
		} else {
			_, err = h.Send(ctx, sbprov.Message{})
		}
		cancel()
		counts[fmt.Sprint(codeOf(t, err))]++
		if !errors.Is(err, sbprov.ErrNetwork) && !errors.Is(err, sbprov.ErrCanceled) {
			t.Fatalf("round %d: %v", i, err)
		}
		// The next call is never cancelled by the previous context.
		if _, err := p.Register(ctxFor(t, 10*time.Second), nil); !errors.Is(err, sbprov.ErrNetwork) {
			t.Fatalf("round %d: Register after a cancelled context: %v", i, err)
		}
		if _, err := h.Send(context.Background(), sbprov.Message{}); !errors.Is(err, sbprov.ErrNetwork) {
			t.Fatalf("round %d: Send after a cancelled context: %v", i, err)
		}
	}
	t.Logf("outcomes: %v", counts)
}
