package sbprov

import (
	"runtime"
	"sync"

	"github.com/sbprov/libsbprov/bindings/go/internal/capi"
)

// Deriver derives the device keys of one DPS group enrollment. It holds the
// group key decoded and keyed into HMAC-SHA256 once (a C
// sbprov_azure_deriver), so each Derive costs only the HMAC of the ID.
//
// A Deriver is safe for concurrent use, but its calls are serialised (the C
// handle is used by one thread at a time); for parallel derivation give each
// goroutine its own Deriver. Call Close when done: it cleanses the key
// material at once. A finalizer frees a forgotten Deriver eventually, but
// that is a safety net, not a substitute for Close.
type Deriver struct {
	mu     sync.Mutex
	handle uintptr // C sbprov_azure_deriver *, 0 once closed
}

// NewDeriver decodes groupKey (strict padded Base64 of 16 to 64 bytes; else
// ErrBase64 or ErrKeySize) and returns a Deriver for it.
func NewDeriver(groupKey string) (*Deriver, error) {
	if err := checkString("group key", groupKey); err != nil {
		return nil, err
	}
	var h uintptr
	if err := callStatus(func() int32 { return capi.Sbprov_azure_deriver_new(&h, groupKey) }); err != nil {
		return nil, err
	}
	if h == 0 {
		return nil, &Error{Code: ErrGeneric, Message: "sbprov_azure_deriver_new succeeded without a handle"}
	}
	d := &Deriver{handle: h}
	runtime.SetFinalizer(d, (*Deriver).Close)
	return d, nil
}

// Derive returns the device key of registrationID, as DeriveDeviceKey would
// with this Deriver's group key. The ID must pass CheckRegistrationID
// (ErrID). After Close, or on a nil Deriver, it returns an ErrInval error.
func (d *Deriver) Derive(registrationID string) (string, error) {
	if d == nil {
		return "", invalid("Deriver: nil")
	}
	if err := checkString("registration ID", registrationID); err != nil {
		return "", err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.handle == 0 {
		return "", invalid("Deriver: used after Close")
	}
	h := d.handle
	key, err := callText(derivedKeySize, func(buf []byte, n *int64) int32 {
		return capi.Sbprov_azure_deriver_derive(buf, n, h, registrationID)
	})
	// d must stay reachable until the C call is over, or its finalizer could
	// free the handle during the call.
	runtime.KeepAlive(d)
	return key, err
}

// Close frees the C deriver and cleanses its key material. It is idempotent
// and always returns nil; any later Derive fails with ErrInval.
func (d *Deriver) Close() error {
	if d == nil {
		return nil
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.handle != 0 {
		capi.Sbprov_azure_deriver_free(d.handle)
		d.handle = 0
		runtime.SetFinalizer(d, nil)
	}
	return nil
}
