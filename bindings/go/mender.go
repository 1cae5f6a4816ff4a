package sbprov

import (
	"context"
	"fmt"
	"math"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/sbprov/libsbprov/bindings/go/internal/capi"
)

// Limits of an inventory update (sbprov/mender.h).
const (
	InventoryMax     = 100  // Most attributes in one UpdateInventory call (the server's default limit).
	InventoryNameMax = 1024 // Longest attribute name, in bytes.
)

// DefaultRenewMargin is MenderDeviceOptions.RenewMargin when it is 0.
const DefaultRenewMargin = 5 * time.Minute

// Values of the C enums the Go layer passes as integers.
const (
	cInventoryReplace = 1 // SBPROV_INVENTORY_REPLACE
	cInventoryMerge   = 2 // SBPROV_INVENTORY_MERGE
	cPreauthForce     = 1 // SBPROV_MENDER_PREAUTH_FORCE
)

// MenderDeviceOptions are the options of NewMenderDevice. The zero value
// talks to an open-source server (no tenant token) with the default
// transport options and keeps the token in memory only.
type MenderDeviceOptions struct {
	// TenantToken is the tenant token of a hosted or Enterprise server; ""
	// for none.
	TenantToken string
	// Tier is the device tier sent in the authentication request: ""
	// sends "standard", NoTier sends none, anything else is sent as given.
	Tier string
	// HTTP are the transport options (CA, mutual TLS, proxy, timeouts).
	HTTP HTTPOptions
	// TokenStore keeps the device token across restarts: a token stored
	// there that has not expired is loaded by NewMenderDevice, and every new
	// token is written to it. nil keeps the token in memory only. The store
	// stays open inside the library until the MenderDevice is closed, even if
	// the Store is closed first (see Store).
	TokenStore *Store
	// TokenEntry is the entry name of the token in TokenStore; "" means
	// "mender.jwt". Giving one without a TokenStore is ErrInval.
	TokenEntry string
	// RenewMargin makes device API calls authenticate again when the token
	// expires within this margin; 0 means DefaultRenewMargin. Rounded up to
	// whole seconds, at most 2^32-1 s.
	RenewMargin time.Duration
}

// Schedule is how AuthenticateUntilAccepted spaces its attempts, as the
// Mender client does: each interval is used TriesPerInterval times, then
// doubles, up to MaxInterval (a MaxInterval below FirstInterval is used as
// a fixed interval). The zero value is Mender's schedule: 60 s three
// times, then doubling, at most 300 s. Durations are rounded up to whole
// milliseconds, at most 2^32-1 ms.
type Schedule struct {
	FirstInterval    time.Duration // First wait between attempts; 0 means 60 s.
	MaxInterval      time.Duration // Cap of the wait; 0 means 300 s.
	TriesPerInterval int           // Attempts at each interval before it doubles; 0 means 3.
}

// MenderDevice is a Mender device client (a C sbprov_mender): it
// authenticates the device with its identity and key (a signed auth request;
// the server answers with a token once it accepts the device), keeps and
// renews the token, sends inventory and asks for updates. Create one with
// NewMenderDevice.
//
// A MenderDevice is safe for concurrent use; its calls are serialised (the
// library keeps one connection and one cancel flag per client), so a slow
// call, such as AuthenticateUntilAccepted, makes the others wait. Cancel
// stops the call in progress from any goroutine without waiting. Call Close
// when done: it cancels a call in progress, waits for it, frees the client
// and wipes the token from memory; a finalizer is only a safety net. After
// Close, methods return ErrInval.
//
// The client signs with the device Key's own key object (and uses
// HTTPOptions.ClientKey's in TLS handshakes), which for a key held by a TPM
// is not safe for concurrent use. So Authenticate, AuthenticateUntilAccepted,
// UpdateInventory and CheckUpdate hold those Keys' locks while they run:
// methods of the same Key on other goroutines wait for them (for the whole
// of AuthenticateUntilAccepted). Load the key a second time for another
// user that must not wait.
type MenderDevice struct {
	c *client
}

// NewMenderDevice creates a device client for server, the server's base URL
// ("https://hosted.mender.io"; no path, query or fragment), with the
// device's identity and key (which must have its private part). Nothing is
// sent yet; a token kept in opts.TokenStore that has not expired is loaded,
// so a restarted device is authenticated without a round trip.
//
// The identity's canonical JSON and the public key are computed here, once;
// the client keeps its own reference to the key object (which may live in a
// TPM), so id and key may be closed afterwards (see MenderDevice for the
// key's lock).
//
// Errors: ErrInval (a nil or closed identity, key or store; the URL is not
// http(s) with a host and no path; plain http without HTTP.AllowHTTP; a
// TokenEntry without a TokenStore; negative or too large durations; NUL
// bytes), ErrID (an empty identity, an invalid token entry name), ErrKey
// (no private part), ErrTampered or ErrIO (the stored token could not be
// read), ErrInit (libcurl could not be initialised).
func NewMenderDevice(server string, id *Identity, key *Key, opts MenderDeviceOptions) (*MenderDevice, error) {
	if err := checkStrings("server URL", server, "TenantToken", opts.TenantToken, "Tier", opts.Tier,
		"TokenEntry", opts.TokenEntry); err != nil {
		return nil, err
	}
	if id == nil {
		return nil, invalid("mender: identity: nil")
	}
	if key == nil {
		return nil, invalid("mender: key: nil")
	}
	flat, err := opts.HTTP.flatten()
	if err != nil {
		return nil, err
	}
	if opts.RenewMargin < 0 {
		return nil, invalid("RenewMargin: negative duration " + opts.RenewMargin.String())
	}
	renew := opts.RenewMargin / time.Second
	if opts.RenewMargin%time.Second != 0 {
		renew++
	}
	if renew > math.MaxUint32 {
		return nil, invalid("RenewMargin: " + opts.RenewMargin.String() + " is more than 2^32-1 s")
	}
	tierMode, tier := 2, opts.Tier
	switch opts.Tier {
	case "":
		tierMode = 0
	case NoTier:
		tierMode, tier = 1, ""
	}
	if err := networkInit(); err != nil {
		return nil, err
	}
	var storeH uintptr
	if opts.TokenStore != nil {
		if storeH, err = opts.TokenStore.retain(); err != nil {
			return nil, err
		}
	}
	var h uintptr
	err = id.use(func(ih uintptr) error {
		return withKeys([]*Key{key, opts.HTTP.ClientKey}, []string{"mender: key", "HTTPOptions.ClientKey"}, nil,
			func(kh []uintptr) error {
				return callStatus(func() int32 {
					return capi.Gosbprov_mender_new(&h, server, ih, kh[0], opts.TenantToken, tier, tierMode, storeH,
						opts.TokenEntry, uint(renew), flat.caFile, flat.caPath, flat.clientCert, kh[1], flat.proxy,
						flat.proxyMode, flat.userAgent, flat.connectMs, flat.timeoutMs, flat.maxResponse, flat.allowHTTP)
				})
			})
	})
	if err == nil && h == 0 {
		err = &Error{Code: ErrGeneric, Message: "sbprov_mender_new succeeded without a client"}
	}
	if err != nil {
		if opts.TokenStore != nil {
			opts.TokenStore.release()
		}
		return nil, err
	}
	var onFree func()
	if store := opts.TokenStore; store != nil {
		onFree = store.release
	}
	d := &MenderDevice{c: newClient("MenderDevice", h, []*Key{key, opts.HTTP.ClientKey},
		func(h uintptr) { capi.Sbprov_mender_cancel(h) }, func(h uintptr) { capi.Sbprov_mender_free(h) }, onFree)}
	return d, nil
}

func (d *MenderDevice) client() *client {
	if d == nil {
		return nil
	}
	return d.c
}

// Authenticate sends one authentication request. It returns true if the
// server accepted the device (the client now holds a token, also written to
// the token store), false if the server answered "not accepted yet"
// (pending, rejected, or unknown to the server: HTTP 401).
//
// Errors: ErrNetwork, ErrTimeout, ErrCert (the server's certificate is not
// trusted, expired or for another host), ErrTLS, ErrHTTP (the server refused
// the request as malformed), ErrRateLimit (429: LastResponse().RetryAfter
// says when to retry), ErrServer (5xx), ErrResponse (malformed answer),
// ErrCanceled (Cancel), ErrProvider or ErrCrypto (signing failed), ErrIO
// (the token store could not be written).
func (d *MenderDevice) Authenticate() (accepted bool, err error) {
	var acc int32
	err = d.client().do(nil, "mender auth", func(h uintptr) error {
		return d.c.signing(func() int32 { return capi.Gosbprov_mender_authenticate(&acc, h) })
	})
	return err == nil && acc != 0, err
}

// AuthenticateUntilAccepted authenticates until the server accepts the
// device, waiting between attempts as sched says. A 429 answer waits for its
// Retry-After instead. Pending answers, network failures, timeouts, 5xx and
// malformed answers are retried; errors that a retry cannot fix (ErrCert,
// ErrTLS, ErrHTTP, ErrProvider, ErrCrypto, ErrIO) end the wait at once.
//
// ctx must have a deadline (context.WithTimeout): it is the overall limit
// the library enforces; a context without one is ErrInval, as a device that
// waits for acceptance forever should say so with a long deadline (at most
// 2^32-1 ms, about 49.7 days, ahead). When the next attempt would come after
// the deadline, the library makes one last attempt before it and then
// returns ErrTimeout, which may therefore come somewhat before the deadline.
// When ctx is cancelled the call stops with ErrCanceled, within
// milliseconds during a wait and at libcurl's next progress callback (under
// a second) during a transfer: the library is cancelled from another
// goroutine. When the deadline passes during a transfer, the error is
// ErrTimeout. Both errors also match the context's error with errors.Is
// (context.Canceled, context.DeadlineExceeded).
//
// Errors: ErrTimeout (not accepted in time; the message names the last
// attempt's outcome), ErrCanceled (ctx cancelled, or Cancel), ErrInval (no
// deadline, a bad schedule), and the unretried errors above.
func (d *MenderDevice) AuthenticateUntilAccepted(ctx context.Context, sched Schedule) error {
	const what = "mender auth"
	if ctx == nil {
		return invalid(what + ": nil context")
	}
	deadline, ok := ctx.Deadline()
	if !ok {
		return invalid(what + ": the context has no deadline (use context.WithTimeout): it is the overall time limit")
	}
	first, err := durationMs("Schedule.FirstInterval", sched.FirstInterval)
	if err != nil {
		return err
	}
	maxInterval, err := durationMs("Schedule.MaxInterval", sched.MaxInterval)
	if err != nil {
		return err
	}
	if sched.TriesPerInterval < 0 || int64(sched.TriesPerInterval) > math.MaxUint32 {
		return invalid("Schedule.TriesPerInterval: " + strconv.Itoa(sched.TriesPerInterval) + " out of range")
	}
	if left := time.Until(deadline); left > time.Duration(math.MaxUint32)*time.Millisecond {
		return invalid(what + ": the context's deadline is " + left.String() + " away, more than 2^32-1 ms")
	}
	err = d.client().do(ctx, what, func(h uintptr) error {
		// Measured once the call slot is held: waiting for it counts.
		timeout, _ := durationMs("", time.Until(deadline))
		if timeout == 0 {
			timeout = 1
		}
		return d.c.signing(func() int32 {
			return capi.Gosbprov_mender_wait(h, timeout, first, maxInterval, uint(sched.TriesPerInterval))
		})
	})
	if e, ok := err.(*Error); ok && e.Code == ErrTimeout && e.cause == nil {
		// The library's overall timeout is the context's deadline.
		e.cause = context.DeadlineExceeded
	}
	return err
}

// Cancel stops the call in progress on the client, from any goroutine,
// without waiting for it: the call returns ErrCanceled. If no call is in
// progress, the next call is cancelled instead (so a Cancel racing with the
// start of a call is never lost).
func (d *MenderDevice) Cancel() {
	d.client().cancel()
}

// Token returns the current device token (a JWT), for calls to the Mender
// device API this package does not make. ErrNotFound if the device is not
// authenticated.
func (d *MenderDevice) Token() (string, error) {
	var s string
	err := d.client().do(nil, "mender token", func(h uintptr) error {
		var err error
		s, err = callText(1024, func(buf []byte, n *int64) int32 { return capi.Sbprov_mender_token(buf, n, h) })
		return err
	})
	return s, err
}

// DeviceID returns the device ID the server assigned (the token's "sub"
// claim). ErrNotFound if the device is not authenticated.
func (d *MenderDevice) DeviceID() (string, error) {
	var s string
	err := d.client().do(nil, "mender device id", func(h uintptr) error {
		var err error
		s, err = callText(64, func(buf []byte, n *int64) int32 { return capi.Sbprov_mender_token_device_id(buf, n, h) })
		return err
	})
	return s, err
}

// TokenExpiry returns when the current token expires (its "exp" claim),
// or the zero Time for a token without one. ErrNotFound if the device is not
// authenticated.
func (d *MenderDevice) TokenExpiry() (time.Time, error) {
	var exp int64
	err := d.client().do(nil, "mender token expiry", func(h uintptr) error {
		return callStatus(func() int32 { return capi.Sbprov_mender_token_expiry(&exp, h) })
	})
	if err != nil || exp == 0 {
		return time.Time{}, err
	}
	return time.Unix(exp, 0), nil
}

// LastResponse describes the last HTTP response the client received
// (status 0 if its last request got none), e.g. the Retry-After of a 429.
func (d *MenderDevice) LastResponse() (ResponseInfo, error) {
	var info ResponseInfo
	err := d.client().do(nil, "mender last response", func(h uintptr) error {
		var err error
		info, err = responseInfo(func(buf []byte, st, ra, date *int64) int32 {
			return capi.Gosbprov_mender_last_response(buf, st, ra, date, h)
		})
		return err
	})
	return info, err
}

// InventoryAttribute is one inventory attribute. Value is a string, a
// number (float64, float32, or any integer type whose value a float64
// holds exactly, i.e. within ±2^53), or a non-empty slice of strings or of
// numbers ([]string, []float64, []int ...; several values become a JSON
// array, and arrays never mix strings and numbers, as the server requires).
// []byte is refused: send a string.
type InventoryAttribute struct {
	Name  string // 1 to InventoryNameMax bytes of UTF-8 without control characters.
	Value any    // See the type's documentation.
}

// InventoryFromMap returns the attributes of m sorted by name, for
// UpdateInventory.
func InventoryFromMap(m map[string]any) []InventoryAttribute {
	attrs := make([]InventoryAttribute, 0, len(m))
	for name, v := range m {
		attrs = append(attrs, InventoryAttribute{Name: name, Value: v})
	}
	sort.Slice(attrs, func(i, j int) bool { return attrs[i].Name < attrs[j].Name })
	return attrs
}

// maxExactInt is the largest integer magnitude a float64 holds exactly.
const maxExactInt = 1 << 53

// inventoryValue splits an attribute value into strings or numbers. Named
// types whose kind is a string or a number (and slices of them) are
// accepted too; []byte is not (it is not a list of numbers anyone means).
func inventoryValue(what string, v any) ([]string, []float64, error) {
	number := func(rv reflect.Value) (float64, bool, error) {
		switch rv.Kind() {
		case reflect.Float32, reflect.Float64:
			return rv.Float(), true, nil
		case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
			if n := rv.Int(); n > maxExactInt || n < -maxExactInt {
				return 0, true, invalid(what + ": integer " + strconv.FormatInt(n, 10) +
					" is beyond ±2^53, where a JSON number loses precision")
			}
			return float64(rv.Int()), true, nil
		case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
			if n := rv.Uint(); n > maxExactInt {
				return 0, true, invalid(what + ": integer " + strconv.FormatUint(n, 10) +
					" is beyond 2^53, where a JSON number loses precision")
			}
			return float64(rv.Uint()), true, nil
		}
		return 0, false, nil
	}
	unsupported := func() error {
		return invalid(fmt.Sprintf("%s: unsupported value type %T (a string, a number, or a slice of strings or of numbers)", what, v))
	}
	if v == nil {
		return nil, nil, invalid(what + ": no value (nil)")
	}
	rv := reflect.ValueOf(v)
	if rv.Kind() == reflect.String {
		return []string{rv.String()}, nil, nil
	}
	if f, ok, err := number(rv); ok || err != nil {
		return nil, []float64{f}, err
	}
	if rv.Kind() != reflect.Slice || rv.Type().Elem().Kind() == reflect.Uint8 {
		return nil, nil, unsupported()
	}
	if rv.Len() == 0 {
		return nil, nil, invalid(what + ": an empty list (the library sends at least one value)")
	}
	if rv.Type().Elem().Kind() == reflect.String {
		strs := make([]string, rv.Len())
		for i := range strs {
			strs[i] = rv.Index(i).String()
		}
		return strs, nil, nil
	}
	nums := make([]float64, rv.Len())
	for i := range nums {
		f, ok, err := number(rv.Index(i))
		if err != nil {
			return nil, nil, err
		}
		if !ok {
			return nil, nil, unsupported()
		}
		nums[i] = f
	}
	return nil, nums, nil
}

// UpdateInventory sends inventory attributes to the server: with replace,
// they replace the device's inventory attributes (PUT); otherwise they are
// merged into them (PATCH). The client authenticates first if it has no
// token or the token expires within the renew margin, and once more if the
// server refuses the token (401, 403).
//
// Errors: ErrInval (no attributes, more than InventoryMax, an unsupported,
// empty or inexact value, NaN or infinity, NUL bytes), ErrID (a bad name),
// ErrExists (a name given twice), ErrAuth (the device is not accepted),
// ErrHTTP (the server refused the attributes, e.g. over its limit), and the
// transport errors of Authenticate.
func (d *MenderDevice) UpdateInventory(attrs []InventoryAttribute, replace bool) error {
	if len(attrs) == 0 {
		return invalid("mender inventory: no attributes")
	}
	if len(attrs) > InventoryMax {
		return invalid("mender inventory: " + strconv.Itoa(len(attrs)) + " attributes, at most " +
			strconv.Itoa(InventoryMax) + " in one update")
	}
	type attr struct {
		name   string
		joined string
		count  int
		nums   []float64
	}
	list := make([]attr, len(attrs))
	for i, a := range attrs {
		what := "inventory attribute " + strconv.Quote(a.Name)
		if err := checkString("inventory attribute "+strconv.Itoa(i)+" name", a.Name); err != nil {
			return err
		}
		strs, nums, err := inventoryValue(what, a.Value)
		if err != nil {
			return err
		}
		for j, s := range strs {
			if err := checkString(what+" value "+strconv.Itoa(j), s); err != nil {
				return err
			}
		}
		list[i] = attr{name: a.Name, joined: strings.Join(strs, "\x00"), count: len(strs), nums: nums}
	}
	var inv uintptr
	if err := callStatus(func() int32 { return capi.Sbprov_inventory_new(&inv) }); err != nil {
		return err
	}
	defer capi.Sbprov_inventory_free(inv)
	for _, a := range list {
		var err error
		if a.nums != nil {
			err = callStatus(func() int32 { return capi.Sbprov_inventory_add_numbers(inv, a.name, a.nums) })
		} else {
			err = callStatus(func() int32 {
				return capi.Gosbprov_inventory_add_strings(inv, a.name, a.joined, int64(a.count))
			})
		}
		if err != nil {
			return err
		}
	}
	mode := int32(cInventoryMerge)
	if replace {
		mode = cInventoryReplace
	}
	return d.client().do(nil, "mender inventory", func(h uintptr) error {
		return d.c.signing(func() int32 { return capi.Sbprov_mender_update_inventory(h, inv, mode) })
	})
}

// MenderUpdate is a deployment the server offers to the device
// (MenderDevice.CheckUpdate).
type MenderUpdate struct {
	ID           string // Deployment ID (for status reports).
	ArtifactName string // Name of the artifact to install.
	URI          string // Download URI of the artifact.
	JSON         string // The server's whole answer, as JSON text.
}

// CheckUpdate asks the server whether a deployment is pending for the
// device, which runs artifactName on deviceType (each 1 to 4096 bytes). It
// returns nil and no error when there is none. The v2 route is tried first,
// then v1 (servers without v2). It authenticates as UpdateInventory does.
//
// Errors: ErrInval (an empty or too long parameter), ErrResponse (an
// answer without the deployment's ID, artifact name or URI), ErrAuth, and
// the transport errors of Authenticate.
func (d *MenderDevice) CheckUpdate(artifactName, deviceType string) (*MenderUpdate, error) {
	if err := checkStrings("artifact name", artifactName, "device type", deviceType); err != nil {
		return nil, err
	}
	var uh uintptr
	err := d.client().do(nil, "mender update check", func(h uintptr) error {
		return d.c.signing(func() int32 { return capi.Sbprov_mender_check_update(&uh, h, artifactName, deviceType) })
	})
	if err != nil || uh == 0 {
		return nil, err
	}
	defer capi.Sbprov_mender_update_free(uh)
	field := func(f int) string {
		s, _ := copyOut(256, func(buf []byte) int64 { return capi.Gosbprov_mender_update_field(buf, uh, f) })
		return s
	}
	return &MenderUpdate{
		ID:           field(capi.GOSBPROV_UPDATE_ID),
		ArtifactName: field(capi.GOSBPROV_UPDATE_ARTIFACT_NAME),
		URI:          field(capi.GOSBPROV_UPDATE_URI),
		JSON:         field(capi.GOSBPROV_UPDATE_JSON),
	}, nil
}

// Close cancels a call in progress on another goroutine (it returns
// ErrCanceled), waits for it to return, and frees the client, wiping its
// token from memory. The token store, if any, is released (and freed if it
// was closed meanwhile). Idempotent; always returns nil.
func (d *MenderDevice) Close() error {
	return d.client().close()
}
