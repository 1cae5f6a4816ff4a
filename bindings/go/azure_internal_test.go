package sbprov

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/sbprov/libsbprov/bindings/go/internal/capi"
)

// The Azure constants against sbprov/azure_http.h.
func TestAzureConstantsMatchHeader(t *testing.T) {
	if DefaultDPSEndpoint != capi.SBPROV_AZURE_DPS_ENDPOINT || DPSAPIVersion != capi.SBPROV_AZURE_DPS_API_VERSION ||
		HubAPIVersion != capi.SBPROV_AZURE_HUB_API_VERSION {
		t.Error("an Azure constant differs from the header")
	}
	if capi.GOSBPROV_MSG_FIELDS != 3 {
		t.Errorf("GOSBPROV_MSG_FIELDS = %d; flattenMessages writes 3 numbers per message", capi.GOSBPROV_MSG_FIELDS)
	}
}

// The flat layout of messages: bodies concatenated, four strings then the
// properties sorted by name, NUL after each; three numbers per message.
func TestAzureFlattenMessages(t *testing.T) {
	created := time.Date(2030, 2, 3, 4, 5, 6, 7, time.FixedZone("x", 3600))
	f, err := flattenMessages([]Message{
		{Body: []byte("ab"), MessageID: "id", Properties: map[string]string{"z": "1", "a": "2", "M": "3"}},
		{CorrelationID: "c", ContentType: "t", ContentEncoding: "e", CreationTime: created},
		{Body: []byte{0, 1}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if string(f.bodies) != "ab\x00\x01" {
		t.Errorf("bodies %q", f.bodies)
	}
	if want := "id\x00\x00\x00\x00M\x003\x00a\x002\x00z\x001\x00" + "\x00c\x00t\x00e\x00" + "\x00\x00\x00\x00"; f.joined != want {
		t.Errorf("joined %q, want %q", f.joined, want)
	}
	want := []int64{2, 0, 3, 0, created.Unix(), 0, 2, 0, 0}
	if len(f.fields) != len(want) {
		t.Fatalf("fields %v, want %v", f.fields, want)
	}
	for i := range want {
		if f.fields[i] != want[i] {
			t.Fatalf("fields %v, want %v", f.fields, want)
		}
	}
	// One message: its body in place, not a copy.
	body := []byte("xyz")
	f, err = flattenMessages([]Message{{Body: body}})
	if err != nil || &f.bodies[0] != &body[0] {
		t.Fatalf("one message: %v, body copied", err)
	}
}

// The C helper refuses flat input that does not add up, before sending
// anything (the hub's endpoint refuses connections: a send would give
// ErrNetwork).
func TestAzureHubSendHelperChecks(t *testing.T) {
	h, err := NewHub("HostName=h.azure-devices.net;DeviceId=d;SharedAccessKey=MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=",
		HubOptions{Endpoint: "https://127.0.0.1:1", HTTP: HTTPOptions{Proxy: NoProxy}})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	send := func(bodies []byte, joined string, fields []int64, count int64) error {
		var n int64
		return h.c.do(nil, "test", func(hh uintptr) error {
			return callStatus(func() int32 { return capi.Gosbprov_azure_hub_send(&n, hh, bodies, joined, fields, count) })
		})
	}
	four := "\x00\x00\x00\x00"
	for i, c := range []struct {
		bodies []byte
		joined string
		fields []int64
		count  int64
	}{
		{nil, "", nil, 0},
		{nil, four, []int64{0, 0, 0}, 2},
		{nil, four, []int64{0, 0}, 1},
		{[]byte("a"), four, []int64{0, 0, 0}, 1},
		{[]byte("a"), four, []int64{2, 0, 0}, 1},
		{nil, four, []int64{-1, 0, 0}, 1},
		{nil, four, []int64{0, 0, -1}, 1},
		{nil, four, []int64{0, 0, 1}, 1},
		{nil, four + "n\x00", []int64{0, 0, 1}, 1},
		{nil, four + "n\x00v", []int64{0, 0, 1}, 1},
		{nil, four + "x", []int64{0, 0, 0}, 1},
		{nil, four + "\x00", []int64{0, 0, 0}, 1},
		{nil, "\x00\x00\x00", []int64{0, 0, 0}, 1},
		{nil, four, []int64{0, 0, 1 << 40}, 1},
	} {
		if err := send(c.bodies, c.joined, c.fields, c.count); !errors.Is(err, ErrInval) {
			t.Errorf("case %d: %v, want ErrInval", i, err)
		}
	}
	if err := send([]byte("ab"), four+"n\x00v\x00"+four, []int64{1, 0, 1, 1, 0, 0}, 2); !errors.Is(err, ErrNetwork) {
		t.Errorf("well-formed input: %v, want ErrNetwork", err)
	}
}

// A stale context cancellation is absorbed by the next call of an Azure
// client too (the library checks the flag before sending anything).
func TestAzureStaleCancelRetried(t *testing.T) {
	p, err := NewProvisioning("0ne00C0FFEE", "gw-1", "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=",
		ProvisioningOptions{Endpoint: "https://127.0.0.1:1", HTTP: HTTPOptions{Proxy: NoProxy}})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	leaveStaleCancel(p.c)
	if _, err := p.Register(ctx, nil); !errors.Is(err, ErrNetwork) {
		t.Fatalf("Register after a stale context cancel: %v", err)
	}
	if p.c.stale {
		t.Fatal("stale still set after the flag was consumed")
	}
	leaveStaleCancel(p.c)
	p.Cancel()
	if _, err := p.Register(ctx, nil); !errors.Is(err, ErrCanceled) {
		t.Fatalf("Register after Cancel: %v", err)
	}
	if _, err := p.Register(ctx, nil); !errors.Is(err, ErrNetwork) {
		t.Fatalf("Register after that: %v", err)
	}
}
