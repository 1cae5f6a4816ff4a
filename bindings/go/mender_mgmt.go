package sbprov

import (
	"math"
	"runtime"
	"strconv"

	"github.com/sbprov/libsbprov/bindings/go/internal/capi"
)

// Device and auth-set statuses of the Mender management API
// (MenderDeviceInfo.Status, AuthSet.Status, MenderManagement.Devices,
// Count and SetAuthStatus).
const (
	MenderPending       = "pending"       // The device asked to be accepted.
	MenderAccepted      = "accepted"      // The device may authenticate.
	MenderRejected      = "rejected"      // The device was refused.
	MenderPreauthorized = "preauthorized" // The device will be accepted at its first authentication.
	MenderNoAuth        = "noauth"        // The device has no auth set left (devices only).
)

// MenderDevicesMaxPerPage is the largest page of MenderManagement.Devices.
const MenderDevicesMaxPerPage = 500

// MenderManagement is a client of the Mender management API (a C
// sbprov_mender_mgmt), as provisioning tooling uses it: log in (or set a
// Personal Access Token), preauthorize devices, look at them, accept or
// reject their auth sets, decommission them. Create one with
// NewMenderManagement.
//
// A MenderManagement is safe for concurrent use; its calls are serialised.
// Cancel stops the call in progress from any goroutine. Call Close when
// done: it cancels a call in progress, waits for it and frees the client,
// wiping its token; a finalizer is only a safety net. After Close, methods
// return ErrInval.
type MenderManagement struct {
	c *client
}

// AuthSet is one (identity, public key) pair a device authenticated with,
// or was preauthorized with.
type AuthSet struct {
	ID     string // Auth set ID (for SetAuthStatus).
	Status string // MenderPending, MenderAccepted, MenderRejected or MenderPreauthorized.
	PubKey string // The public key, PEM.
}

// MenderDeviceInfo is a device as the management API reports it.
type MenderDeviceInfo struct {
	ID           string    // Device ID.
	Status       string    // MenderPending, MenderAccepted, MenderRejected, MenderPreauthorized or MenderNoAuth.
	IdentityJSON string    // The identity as canonical JSON (sorted keys, compact), as Identity.CanonicalJSON gives it.
	AuthSets     []AuthSet // The device's auth sets (empty, not nil, if it has none or the server did not list them).
	JSON         string    // The server's whole description of the device, as JSON text.
}

// NewMenderManagement creates a management client for server, the server's
// base URL as for NewMenderDevice. Nothing is sent; log in with Login or
// give a token with SetToken.
//
// Errors: ErrInval (the URL is not acceptable, plain http without
// AllowHTTP, a closed ClientKey, bad options), ErrInit.
func NewMenderManagement(server string, opts HTTPOptions) (*MenderManagement, error) {
	if err := checkString("server URL", server); err != nil {
		return nil, err
	}
	flat, err := opts.flatten()
	if err != nil {
		return nil, err
	}
	if err := networkInit(); err != nil {
		return nil, err
	}
	var h uintptr
	err = withKeys([]*Key{opts.ClientKey}, []string{"HTTPOptions.ClientKey"}, nil, func(kh []uintptr) error {
		return callStatus(func() int32 {
			return capi.Gosbprov_mender_mgmt_new(&h, server, flat.caFile, flat.caPath, flat.clientCert, kh[0],
				flat.proxy, flat.proxyMode, flat.userAgent, flat.connectMs, flat.timeoutMs, flat.maxResponse,
				flat.allowHTTP)
		})
	})
	if err == nil && h == 0 {
		err = &Error{Code: ErrGeneric, Message: "sbprov_mender_mgmt_new succeeded without a client"}
	}
	if err != nil {
		return nil, err
	}
	var keys []*Key
	if opts.ClientKey != nil {
		keys = []*Key{opts.ClientKey}
	}
	return &MenderManagement{c: newClient("MenderManagement", h, keys,
		func(h uintptr) { capi.Sbprov_mender_mgmt_cancel(h) }, func(h uintptr) { capi.Sbprov_mender_mgmt_free(h) },
		nil)}, nil
}

func (m *MenderManagement) client() *client {
	if m == nil {
		return nil
	}
	return m.c
}

// status runs a call that returns only a result code (holding the TLS
// client key's lock: the call may make a TLS handshake with it).
func (m *MenderManagement) status(what string, call func(h uintptr) int32) error {
	return m.client().do(nil, what, func(h uintptr) error {
		return m.c.signing(func() int32 { return call(h) })
	})
}

// Login logs in with a user's e-mail address and password (HTTP Basic);
// the client keeps the token it gets.
//
// Errors: ErrAuth (wrong user or password), ErrInval (an empty user, or
// one holding ':' or a control character; NUL bytes), ErrResponse (no
// token in the answer), and the transport errors of
// MenderDevice.Authenticate.
func (m *MenderManagement) Login(user, password string) error {
	if err := checkString("user", user); err != nil {
		return err
	}
	return m.status("mender login", func(h uintptr) int32 { return capi.Sbprov_mender_mgmt_login(h, user, password) })
}

// SetToken makes the client use token (a Personal Access Token, or a user
// token obtained elsewhere) as its bearer token. Nothing is sent.
// ErrInval if the token is empty or not printable ASCII.
func (m *MenderManagement) SetToken(token string) error {
	if err := checkString("token", token); err != nil {
		return err
	}
	return m.status("mender token", func(h uintptr) int32 { return capi.Sbprov_mender_mgmt_set_token(h, token) })
}

// Preauthorize preauthorizes a device with its identity and key (the public
// part is sent), so its first authentication with them is accepted at
// once. It is idempotent: if the identity is already known, the existing
// device's ID is returned with existed true. With force, the identity and
// key are added as a preauthorized auth set even if the identity exists
// (existed is then false: the server answers as for a new device).
//
// The Identity and the Key are locked for the duration of the call.
//
// Errors: ErrAuth (not logged in, or the token is refused), ErrHTTP (the
// server refused the request), ErrResponse (an answer without the device),
// ErrInval (an empty identity; a nil or closed identity or key), and the
// transport errors of MenderDevice.Authenticate.
func (m *MenderManagement) Preauthorize(id *Identity, key *Key, force bool) (deviceID string, existed bool, err error) {
	if id == nil {
		return "", false, invalid("mender preauthorize: identity: nil")
	}
	if key == nil {
		return "", false, invalid("mender preauthorize: key: nil")
	}
	flags := uint(0)
	if force {
		flags = cPreauthForce
	}
	err = m.client().do(nil, "mender preauthorize", func(h uintptr) error {
		return id.use(func(ih uintptr) error {
			return withKeys([]*Key{key}, []string{"mender preauthorize: key"}, m.c.keys, func(kh []uintptr) error {
				runtime.LockOSThread()
				defer runtime.UnlockOSThread()
				buf := make([]byte, 256)
				for attempt := 0; ; attempt++ {
					var n int64
					var ex int32
					rc := capi.Sbprov_mender_mgmt_preauthorize(buf, &n, &ex, h, ih, kh[0], flags)
					if attempt == 0 {
						// On EBUFS the device was preauthorized all the same;
						// the repeated call then finds it existing.
						existed = ex != 0
					}
					if rc == 0 && n >= 0 && n < int64(len(buf)) {
						deviceID = string(buf[:n])
						return nil
					}
					if Code(rc) == ErrBufs && attempt == 0 && n > int64(len(buf)) && n <= 1<<16 {
						buf = make([]byte, n)
						continue
					}
					if rc == 0 {
						return &Error{Code: ErrGeneric, Message: "mender preauthorize: library reported an ID length of " +
							strconv.FormatInt(n, 10)}
					}
					return lastError(rc)
				}
			})
		})
	})
	if err != nil {
		return "", false, err
	}
	return deviceID, existed, nil
}

// readDevice reads a C device (owned by the caller or by a list).
func readDevice(dh uintptr) MenderDeviceInfo {
	field := func(f int, index int64) string {
		s, _ := copyOut(256, func(buf []byte) int64 { return capi.Gosbprov_mender_device_field(buf, dh, f, index) })
		return s
	}
	d := MenderDeviceInfo{
		ID:           field(capi.GOSBPROV_DEVICE_ID, 0),
		Status:       field(capi.GOSBPROV_DEVICE_STATUS, 0),
		IdentityJSON: field(capi.GOSBPROV_DEVICE_IDENTITY_JSON, 0),
		JSON:         field(capi.GOSBPROV_DEVICE_JSON, 0),
	}
	n := capi.Sbprov_mender_device_auth_set_count(dh)
	d.AuthSets = make([]AuthSet, 0, n)
	for i := int64(0); i < n; i++ {
		d.AuthSets = append(d.AuthSets, AuthSet{
			ID:     field(capi.GOSBPROV_AUTH_SET_ID, i),
			Status: field(capi.GOSBPROV_AUTH_SET_STATUS, i),
			PubKey: field(capi.GOSBPROV_AUTH_SET_PUBKEY, i),
		})
	}
	return d
}

// oneDevice runs a call that returns one device.
func (m *MenderManagement) oneDevice(what string, call func(out *uintptr, h uintptr) error) (*MenderDeviceInfo, error) {
	var dh uintptr
	err := m.client().do(nil, what, func(h uintptr) error { return call(&dh, h) })
	if err != nil {
		return nil, err
	}
	if dh == 0 {
		return nil, &Error{Code: ErrGeneric, Message: what + ": the library returned no device"}
	}
	defer capi.Sbprov_mender_device_free(dh)
	d := readDevice(dh)
	return &d, nil
}

// Device returns the device with ID deviceID.
//
// Errors: ErrNotFound (no such device), ErrInval (an empty ID or one that
// is not URL-safe), ErrResponse, ErrAuth, and the transport errors of
// MenderDevice.Authenticate.
func (m *MenderManagement) Device(deviceID string) (*MenderDeviceInfo, error) {
	if err := checkString("device ID", deviceID); err != nil {
		return nil, err
	}
	return m.oneDevice("mender device", func(out *uintptr, h uintptr) error {
		return m.c.signing(func() int32 { return capi.Sbprov_mender_mgmt_get_device(out, h, deviceID) })
	})
}

// FindDevice returns the device with identity id (compared in canonical
// form), looking through every page of the device list (the API has no
// identity filter). The Identity is locked for the duration of the call.
//
// Errors: ErrNotFound (no device has this identity), and those of Device.
func (m *MenderManagement) FindDevice(id *Identity) (*MenderDeviceInfo, error) {
	if id == nil {
		return nil, invalid("mender find device: identity: nil")
	}
	return m.oneDevice("mender find device", func(out *uintptr, h uintptr) error {
		return id.use(func(ih uintptr) error {
			return m.c.signing(func() int32 { return capi.Sbprov_mender_mgmt_find_device(out, h, ih) })
		})
	})
}

// Devices lists one page of devices, oldest first: page from 1, perPage 1
// to MenderDevicesMaxPerPage; status is one of the Mender* statuses, or ""
// for every device. hasNext reports whether the server announced a next
// page. An empty page is an empty, non-nil slice.
//
// Errors: ErrInval (an unknown status, page or perPage out of range), and
// those of Device.
func (m *MenderManagement) Devices(status string, page, perPage int) (devices []MenderDeviceInfo, hasNext bool, err error) {
	if err := checkString("status", status); err != nil {
		return nil, false, err
	}
	if page < 0 || int64(page) > math.MaxUint32 || perPage < 0 || int64(perPage) > math.MaxUint32 {
		return nil, false, invalid("mender devices: page " + strconv.Itoa(page) + ", per page " +
			strconv.Itoa(perPage) + ": out of range")
	}
	var lh uintptr
	err = m.client().do(nil, "mender devices", func(h uintptr) error {
		return m.c.signing(func() int32 {
			return capi.Sbprov_mender_mgmt_list_devices(&lh, h, status, uint(page), uint(perPage))
		})
	})
	if err != nil {
		return nil, false, err
	}
	if lh == 0 {
		return nil, false, &Error{Code: ErrGeneric, Message: "mender devices: the library returned no list"}
	}
	defer capi.Sbprov_mender_device_list_free(lh)
	n := capi.Sbprov_mender_device_list_count(lh)
	devices = make([]MenderDeviceInfo, 0, n)
	for i := int64(0); i < n; i++ {
		if dh := uintptr(capi.Gosbprov_mender_device_list_get(lh, i)); dh != 0 {
			devices = append(devices, readDevice(dh))
		}
	}
	return devices, capi.Sbprov_mender_device_list_has_next(lh) != 0, nil
}

// SetAuthStatus accepts, rejects or resets (MenderAccepted, MenderRejected,
// MenderPending) the auth set authSetID of device deviceID. Accepting one
// auth set rejects the device's previously accepted one.
//
// Errors: ErrNotFound (no such device or auth set), ErrHTTP (the
// transition is not allowed, or the device limit is reached), ErrInval (an
// empty or unsafe ID, an unknown status), and those of Device.
func (m *MenderManagement) SetAuthStatus(deviceID, authSetID, status string) error {
	if err := checkStrings("device ID", deviceID, "auth set ID", authSetID, "status", status); err != nil {
		return err
	}
	return m.status("mender auth set status", func(h uintptr) int32 {
		return capi.Sbprov_mender_mgmt_set_auth_status(h, deviceID, authSetID, status)
	})
}

// Decommission decommissions device deviceID: the server forgets it and
// revokes its tokens.
//
// Errors: ErrNotFound (no such device), and those of Device.
func (m *MenderManagement) Decommission(deviceID string) error {
	if err := checkString("device ID", deviceID); err != nil {
		return err
	}
	return m.status("mender decommission", func(h uintptr) int32 {
		return capi.Sbprov_mender_mgmt_decommission(h, deviceID)
	})
}

// Count returns the number of devices with status (one of the Mender*
// statuses), or of every device for "".
//
// Errors: ErrInval (an unknown status), ErrResponse (no count in the
// answer), and those of Device.
func (m *MenderManagement) Count(status string) (uint64, error) {
	if err := checkString("status", status); err != nil {
		return 0, err
	}
	var n uint64
	err := m.status("mender count", func(h uintptr) int32 { return capi.Sbprov_mender_mgmt_count(&n, h, status) })
	if err != nil {
		return 0, err
	}
	return n, nil
}

// LastResponse describes the last HTTP response the client received
// (status 0 if its last request got none).
func (m *MenderManagement) LastResponse() (ResponseInfo, error) {
	var info ResponseInfo
	err := m.client().do(nil, "mender last response", func(h uintptr) error {
		var err error
		info, err = responseInfo(func(buf []byte, st, ra, date *int64) int32 {
			return capi.Gosbprov_mender_mgmt_last_response(buf, st, ra, date, h)
		})
		return err
	})
	return info, err
}

// Cancel stops the call in progress on the client, from any goroutine,
// without waiting for it: the call returns ErrCanceled. If no call is in
// progress, the next call is cancelled instead.
func (m *MenderManagement) Cancel() {
	m.client().cancel()
}

// Close cancels a call in progress on another goroutine, waits for it to
// return, and frees the client, wiping its token. Idempotent; always
// returns nil.
func (m *MenderManagement) Close() error {
	return m.client().close()
}
