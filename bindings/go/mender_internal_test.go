package sbprov

import (
	"errors"
	"testing"
	"time"

	"github.com/sbprov/libsbprov/bindings/go/internal/capi"
)

// The Mender and HTTP constants against sbprov/http.h and sbprov/mender.h.
func TestMenderConstantsMatchHeader(t *testing.T) {
	if DefaultConnectTimeout != time.Duration(capi.SBPROV_HTTP_CONNECT_TIMEOUT_MS)*time.Millisecond ||
		DefaultHTTPTimeout != time.Duration(capi.SBPROV_HTTP_TIMEOUT_MS)*time.Millisecond ||
		DefaultMaxResponseSize != int(capi.SBPROV_HTTP_MAX_RESPONSE) ||
		InventoryMax != capi.SBPROV_INVENTORY_MAX || InventoryNameMax != capi.SBPROV_INVENTORY_NAME_MAX ||
		cInventoryReplace != int(capi.SBPROV_INVENTORY_REPLACE) || cInventoryMerge != int(capi.SBPROV_INVENTORY_MERGE) ||
		cPreauthForce != int(capi.SBPROV_MENDER_PREAUTH_FORCE) {
		t.Error("a Mender or HTTP constant differs from the header")
	}
}

func offlineClient(t *testing.T) *MenderDevice {
	t.Helper()
	id, err := ParseIdentity("mac=02:00:00:00:00:09\n")
	if err != nil {
		t.Fatal(err)
	}
	defer id.Close()
	key, err := GenerateKeyPair(KeyEd25519, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer key.Close()
	d, err := NewMenderDevice("https://127.0.0.1:1", id, key, MenderDeviceOptions{HTTP: HTTPOptions{Proxy: NoProxy}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

// leaveStaleCancel makes the state a context leaves when it ends just after
// its call returned: the library's cancel flag set, and the client knowing.
func leaveStaleCancel(c *client) {
	c.sem <- struct{}{}
	c.cancelNow()
	c.stale, c.staleAt = true, c.cancels.Load()
	<-c.sem
}

// A stale context cancellation is absorbed: the next call runs once more
// and reaches the network; an explicit Cancel is never absorbed.
func TestMenderStaleCancelRetried(t *testing.T) {
	d := offlineClient(t)
	leaveStaleCancel(d.c)
	if _, err := d.Authenticate(); !errors.Is(err, ErrNetwork) {
		t.Fatalf("Authenticate after a stale context cancel: %v", err)
	}
	if d.c.stale {
		t.Fatal("stale still set after the flag was consumed")
	}
	if _, err := d.Authenticate(); !errors.Is(err, ErrNetwork) {
		t.Fatalf("second Authenticate: %v", err)
	}
	// Calls that do not reach the transport leave it pending.
	leaveStaleCancel(d.c)
	if _, err := d.Token(); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Token: %v", err)
	}
	if !d.c.stale {
		t.Fatal("stale cleared by a call that sends nothing")
	}
	if _, err := d.CheckUpdate("a", "b"); !errors.Is(err, ErrNetwork) {
		t.Fatalf("CheckUpdate after a stale context cancel: %v", err)
	}
	// A Cancel after the stale one is what the next call gets.
	leaveStaleCancel(d.c)
	d.Cancel()
	if _, err := d.Authenticate(); !errors.Is(err, ErrCanceled) {
		t.Fatalf("Authenticate after Cancel: %v", err)
	}
	if _, err := d.Authenticate(); !errors.Is(err, ErrNetwork) {
		t.Fatalf("Authenticate after that: %v", err)
	}
}

// A Store used as a token store is freed by the last of Store.Close and
// MenderDevice.Close.
func TestMenderStoreRetained(t *testing.T) {
	for _, storeFirst := range []bool{true, false} {
		s, err := OpenStore(t.TempDir()+"/s", StoreOptions{Plaintext: true, Create: true})
		if err != nil {
			t.Fatal(err)
		}
		id, _ := ParseIdentity("mac=02:00:00:00:00:0a\n")
		key, _ := GenerateKeyPair(KeyEd25519, 0)
		d, err := NewMenderDevice("https://127.0.0.1:1", id, key, MenderDeviceOptions{TokenStore: s})
		id.Close()
		key.Close()
		if err != nil {
			t.Fatal(err)
		}
		if s.users != 1 {
			t.Fatalf("users = %d", s.users)
		}
		if storeFirst {
			s.Close()
			if s.handle == 0 {
				t.Fatal("store freed while a device uses it")
			}
			if _, err := s.Get("x"); !errors.Is(err, ErrInval) {
				t.Fatalf("Get on a closed store: %v", err)
			}
			d.Close()
		} else {
			d.Close()
			if s.handle == 0 || s.users != 0 {
				t.Fatal("device Close freed an open store")
			}
			s.Close()
		}
		if s.handle != 0 || s.users != 0 {
			t.Fatalf("storeFirst %v: handle %#x, users %d after both closed", storeFirst, s.handle, s.users)
		}
	}
	// A failed NewMenderDevice releases the store at once.
	s, _ := OpenStore(t.TempDir()+"/s", StoreOptions{Plaintext: true, Create: true})
	defer s.Close()
	id, _ := ParseIdentity("mac=02:00:00:00:00:0b\n")
	defer id.Close()
	key, _ := GenerateKeyPair(KeyEd25519, 0)
	defer key.Close()
	if _, err := NewMenderDevice("not a url", id, key, MenderDeviceOptions{TokenStore: s}); err == nil || s.users != 0 {
		t.Fatalf("failed New: %v, users %d", err, s.users)
	}
}
