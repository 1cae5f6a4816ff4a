package sbprov_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"testing"
	"time"

	sbprov "github.com/sbprov/libsbprov/bindings/go"
)

// Mender clients without a server: argument checks, handle life cycle and
// cancellation, against a loopback port where nothing listens (connection
// refused at once). These run everywhere, stack or not.

// refused is a server URL where nothing listens.
const refused = "https://127.0.0.1:1"

// direct are transport options that ignore any proxy the environment names,
// so that "connection refused" is what the tests see.
var direct = sbprov.HTTPOptions{Proxy: sbprov.NoProxy, ConnectTimeout: 2 * time.Second, Timeout: 3 * time.Second}

func offlineDevice(t *testing.T) *sbprov.MenderDevice {
	t.Helper()
	d, err := sbprov.NewMenderDevice(refused, identity(t, "02:00:00:00:00:01"), newKeyPair(t, sbprov.KeyEd25519),
		sbprov.MenderDeviceOptions{HTTP: direct})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

func TestMenderDeviceArguments(t *testing.T) {
	id := identity(t, "02:00:00:00:00:02")
	key := newKeyPair(t, sbprov.KeyECDSAP256)
	pemText, _ := key.PublicPEM()
	pub, err := sbprov.KeyFromPublicPEM(pemText)
	if err != nil {
		t.Fatal(err)
	}
	defer pub.Close()
	empty, _ := sbprov.NewIdentity()
	defer empty.Close()
	closedKey := newKeyPair(t, sbprov.KeyEd25519)
	closedKey.Close()
	closedID := identity(t, "02:00:00:00:00:03")
	closedID.Close()
	closedStore := openTestStore(t)
	closedStore.Close()

	o := sbprov.MenderDeviceOptions{HTTP: direct}
	with := func(f func(*sbprov.MenderDeviceOptions)) sbprov.MenderDeviceOptions {
		c := o
		f(&c)
		return c
	}
	cases := []struct {
		name     string
		server   string
		id       *sbprov.Identity
		key      *sbprov.Key
		opts     sbprov.MenderDeviceOptions
		code     sbprov.Code
		fragment string
	}{
		{"NUL in URL", "https://a\x00b", id, key, o, sbprov.ErrInval, "server URL: NUL"},
		{"plain http", "http://127.0.0.1:1", id, key, o, sbprov.ErrInval, "only https"},
		{"path", "https://h.example/api", id, key, o, sbprov.ErrInval, "base URL"},
		{"not a URL", "not a url", id, key, o, sbprov.ErrInval, "not a URL"},
		{"nil identity", refused, nil, key, o, sbprov.ErrInval, "identity: nil"},
		{"nil key", refused, id, nil, o, sbprov.ErrInval, "key: nil"},
		{"empty identity", refused, empty, key, o, sbprov.ErrID, "no attributes"},
		{"public key", refused, id, pub, o, sbprov.ErrKey, "private"},
		{"closed key", refused, id, closedKey, o, sbprov.ErrInval, "after Close"},
		{"closed identity", refused, closedID, key, o, sbprov.ErrInval, "after Close"},
		{"closed client key", refused, id, key, with(func(c *sbprov.MenderDeviceOptions) { c.HTTP.ClientKey = closedKey }),
			sbprov.ErrInval, "HTTPOptions.ClientKey"},
		{"closed store", refused, id, key, with(func(c *sbprov.MenderDeviceOptions) { c.TokenStore = closedStore }),
			sbprov.ErrInval, "after Close"},
		{"entry without store", refused, id, key, with(func(c *sbprov.MenderDeviceOptions) { c.TokenEntry = "jwt" }),
			sbprov.ErrInval, "token_store"},
		{"bad entry", refused, id, key, with(func(c *sbprov.MenderDeviceOptions) {
			c.TokenStore, c.TokenEntry = openTestStore(t), "a/b"
		}), sbprov.ErrID, ""},
		{"NUL in tenant token", refused, id, key, with(func(c *sbprov.MenderDeviceOptions) { c.TenantToken = "t\x00" }),
			sbprov.ErrInval, "TenantToken: NUL"},
		{"NUL in CA file", refused, id, key, with(func(c *sbprov.MenderDeviceOptions) { c.HTTP.CAFile = "\x00" }),
			sbprov.ErrInval, "HTTPOptions.CAFile: NUL"},
		{"negative timeout", refused, id, key, with(func(c *sbprov.MenderDeviceOptions) { c.HTTP.Timeout = -time.Second }),
			sbprov.ErrInval, "HTTPOptions.Timeout: negative"},
		{"huge connect timeout", refused, id, key, with(func(c *sbprov.MenderDeviceOptions) {
			c.HTTP.ConnectTimeout = 50 * 24 * time.Hour
		}), sbprov.ErrInval, "2^32-1 ms"},
		{"negative size", refused, id, key, with(func(c *sbprov.MenderDeviceOptions) { c.HTTP.MaxResponseSize = -1 }),
			sbprov.ErrInval, "MaxResponseSize"},
		{"negative margin", refused, id, key, with(func(c *sbprov.MenderDeviceOptions) { c.RenewMargin = -1 }),
			sbprov.ErrInval, "RenewMargin"},
		{"huge margin", refused, id, key, with(func(c *sbprov.MenderDeviceOptions) { c.RenewMargin = math.MaxInt64 }),
			sbprov.ErrInval, "RenewMargin"},
	}
	for _, c := range cases {
		d, err := sbprov.NewMenderDevice(c.server, c.id, c.key, c.opts)
		if d != nil {
			t.Errorf("%s: got a client", c.name)
		}
		t.Run(c.name, func(t *testing.T) { wantErr(t, err, c.code, c.fragment) })
	}

	// The same Key as device key and TLS client key is locked once (no
	// deadlock); ids and keys may be closed once the client exists.
	same := o
	same.HTTP.ClientKey, same.HTTP.ClientCert = key, "client.pem" // read at the first TLS handshake
	d, err := sbprov.NewMenderDevice(refused, id, key, same)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	id2 := identity(t, "02:00:00:00:00:04")
	key2 := newKeyPair(t, sbprov.KeyEd25519)
	d2, err := sbprov.NewMenderDevice(refused, id2, key2, sbprov.MenderDeviceOptions{HTTP: direct, Tier: sbprov.NoTier})
	if err != nil {
		t.Fatal(err)
	}
	defer d2.Close()
	id2.Close()
	key2.Close()
	_, err = d2.Authenticate()
	wantErr(t, err, sbprov.ErrNetwork)
}

func TestMenderManagementArguments(t *testing.T) {
	for _, c := range []struct {
		url      string
		opts     sbprov.HTTPOptions
		fragment string
	}{
		{"http://127.0.0.1:1", direct, "only https"},
		{"https://h/x", direct, "base URL"},
		{"https://h\x00", direct, "NUL"},
		{refused, sbprov.HTTPOptions{UserAgent: "a\x00"}, "UserAgent: NUL"},
		{refused, sbprov.HTTPOptions{Proxy: "a\x00"}, "Proxy: NUL"},
		{refused, sbprov.HTTPOptions{Timeout: time.Duration(math.MaxUint32+1) * time.Millisecond}, "2^32-1 ms"},
	} {
		m, err := sbprov.NewMenderManagement(c.url, c.opts)
		if m != nil {
			t.Errorf("%q: got a client", c.url)
		}
		wantErr(t, err, sbprov.ErrInval, c.fragment)
	}
	m, err := sbprov.NewMenderManagement(refused, direct)
	if err != nil {
		t.Fatal(err)
	}
	_, err = m.Count("")
	wantErr(t, err, sbprov.ErrAuth, "not logged in")
	if err := m.SetToken("tok"); err != nil {
		t.Fatal(err)
	}
	_, err = m.Count("")
	wantErr(t, err, sbprov.ErrNetwork)
	if info, err := m.LastResponse(); err != nil || info.Status != 0 || info.RequestID != "" {
		t.Fatalf("LastResponse without a response = %+v, %v", info, err)
	}
	_, _, err = m.Preauthorize(nil, nil, false)
	wantErr(t, err, sbprov.ErrInval, "identity: nil")
	_, err = m.FindDevice(nil)
	wantErr(t, err, sbprov.ErrInval, "identity: nil")
	wantErr(t, m.SetAuthStatus("d", "a\x00", "accepted"), sbprov.ErrInval, "auth set ID: NUL")
	m.Close()
	m.Close()
	m.Cancel()
	_, err = m.Count("")
	wantErr(t, err, sbprov.ErrInval, "after Close")
	wantErr(t, m.Login("a", "b"), sbprov.ErrInval, "after Close")
}

// Methods on nil and closed clients fail cleanly; Close is idempotent.
func TestMenderClosedAndNil(t *testing.T) {
	var nd *sbprov.MenderDevice
	var nm *sbprov.MenderManagement
	d := offlineDevice(t)
	d.Close()
	d.Close()
	for _, dev := range []*sbprov.MenderDevice{nd, d} {
		_, err := dev.Authenticate()
		wantErr(t, err, sbprov.ErrInval)
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		wantErr(t, dev.AuthenticateUntilAccepted(ctx, sbprov.Schedule{}), sbprov.ErrInval)
		cancel()
		_, err = dev.Token()
		wantErr(t, err, sbprov.ErrInval)
		_, err = dev.DeviceID()
		wantErr(t, err, sbprov.ErrInval)
		_, err = dev.TokenExpiry()
		wantErr(t, err, sbprov.ErrInval)
		_, err = dev.LastResponse()
		wantErr(t, err, sbprov.ErrInval)
		_, err = dev.CheckUpdate("a", "b")
		wantErr(t, err, sbprov.ErrInval)
		wantErr(t, dev.UpdateInventory([]sbprov.InventoryAttribute{{Name: "a", Value: "b"}}, true), sbprov.ErrInval)
		dev.Cancel()
		if err := dev.Close(); err != nil {
			t.Fatal(err)
		}
	}
	_, err := nm.Count("")
	wantErr(t, err, sbprov.ErrInval)
	_, _, err = nm.Devices("", 1, 1)
	wantErr(t, err, sbprov.ErrInval)
	nm.Cancel()
	if err := nm.Close(); err != nil {
		t.Fatal(err)
	}
}

// Cancel with no call in progress cancels the next call (and only that one),
// as the library does, so a Cancel racing with the start of a call is never
// lost.
func TestMenderCancelBeforeCall(t *testing.T) {
	d := offlineDevice(t)
	_, err := d.Authenticate()
	wantErr(t, err, sbprov.ErrNetwork)
	d.Cancel()
	_, err = d.Authenticate()
	wantErr(t, err, sbprov.ErrCanceled, "cancelled")
	if errors.Is(err, context.Canceled) {
		t.Fatal("Cancel's error wraps context.Canceled")
	}
	_, err = d.Authenticate()
	wantErr(t, err, sbprov.ErrNetwork)
	// Calls that send nothing neither consume nor suffer a pending Cancel.
	d.Cancel()
	_, err = d.Token()
	wantErr(t, err, sbprov.ErrNotFound, "not authenticated")
	_, err = d.CheckUpdate("", "x")
	wantErr(t, err, sbprov.ErrInval)
	_, err = d.CheckUpdate("a", "b")
	wantErr(t, err, sbprov.ErrCanceled)
}

// AuthenticateUntilAccepted against a server that cannot be reached:
// retried until the deadline (ErrTimeout naming the last failure);
// contexts cancelled at random moments around the end of the call never
// leave a cancellation behind for the next call.
func TestMenderContextCancelRaces(t *testing.T) {
	d := offlineDevice(t)
	sched := sbprov.Schedule{FirstInterval: 5 * time.Millisecond}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	err := d.AuthenticateUntilAccepted(ctx, sched)
	cancel()
	wantErr(t, err, sbprov.ErrTimeout, "connect")
	counts := map[string]int{}
	for i := 0; i < 400; i++ {
		// The call ends (ErrTimeout: the next attempt would pass the
		// deadline) within about a millisecond; the cancellations land
		// before, during and after that moment.
		ctx, cancel := context.WithTimeout(context.Background(), 4*time.Millisecond)
		time.AfterFunc(time.Duration(i%20)*70*time.Microsecond, cancel)
		err := d.AuthenticateUntilAccepted(ctx, sched)
		cancel()
		counts[fmt.Sprint(codeOf(t, err))]++
		if !errors.Is(err, sbprov.ErrTimeout) && !errors.Is(err, sbprov.ErrCanceled) {
			t.Fatalf("round %d: %v", i, err)
		}
		// The next call is never cancelled by the previous context.
		if _, err := d.Authenticate(); !errors.Is(err, sbprov.ErrNetwork) {
			t.Fatalf("round %d: Authenticate after a cancelled context: %v", i, err)
		}
	}
	t.Logf("outcomes: %v", counts)
}

// openTestStore opens a new plaintext store in a temp directory.
func openTestStore(t *testing.T) *sbprov.Store {
	t.Helper()
	s, err := sbprov.OpenStore(t.TempDir()+"/store", sbprov.StoreOptions{Plaintext: true, Create: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// The device Key is locked while a call that may sign with it runs (the C
// client signs with the same key object): Key methods on other goroutines
// wait for the call; a Key loaded separately does not.
func TestMenderDeviceHoldsKeyLock(t *testing.T) {
	key := newKeyPair(t, sbprov.KeyEd25519)
	other := newKeyPair(t, sbprov.KeyEd25519)
	d, err := sbprov.NewMenderDevice(refused, identity(t, "02:00:00:00:00:05"), key, sbprov.MenderDeviceOptions{HTTP: direct})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	done := make(chan time.Time, 1)
	go func() {
		_ = d.AuthenticateUntilAccepted(ctx, sbprov.Schedule{FirstInterval: 20 * time.Millisecond})
		done <- time.Now()
	}()
	time.Sleep(100 * time.Millisecond)
	if _, err := other.Sign([]byte("x")); err != nil {
		t.Fatal(err)
	}
	signed := make(chan time.Time, 1)
	go func() {
		if _, err := key.Sign([]byte("x")); err != nil {
			t.Error(err)
		}
		signed <- time.Now()
	}()
	time.Sleep(200 * time.Millisecond)
	select {
	case <-signed:
		t.Fatal("Key.Sign ran while the device was authenticating with the same key")
	default:
	}
	cancel()
	<-done
	<-signed // released with the device call
}
