package sbprov

import (
	"context"
	"encoding/json"
	"math"
	"time"

	"github.com/sbprov/libsbprov/bindings/go/internal/capi"
)

// Registration statuses (Registration.Status).
const (
	RegistrationAssigned   = "assigned"   // The device was assigned to a hub (AssignedHub, DeviceID).
	RegistrationFailed     = "failed"     // The registration failed (ErrorCode, ErrorMessage).
	RegistrationDisabled   = "disabled"   // The enrollment is disabled.
	RegistrationUnassigned = "unassigned" // Not assigned (DPS's status for a device without a hub).
)

// ProvisioningOptions are the options of NewProvisioning. The zero value
// talks to the global DPS endpoint with the default transport options.
type ProvisioningOptions struct {
	// Endpoint is the DPS base URL, where to connect ("https://host[:port]",
	// no path); "" means DefaultDPSEndpoint. DPS tokens name the ID scope
	// and registration ID, not a host, so any endpoint works with them.
	Endpoint string
	// HTTP are the transport options (CA, mutual TLS, proxy, timeouts per
	// request).
	HTTP HTTPOptions
	// TokenTTL is the lifetime of each SAS token; 0 means DefaultTokenTTL.
	// Rounded up to whole seconds, at most 2^32-1 s.
	TokenTTL time.Duration
	// MaxClockSkew is the largest offset tolerated between the local clock
	// and DPS's; 0 means DefaultMaxClockSkew. Rounded up to whole seconds,
	// at most 2^32-1 s.
	MaxClockSkew time.Duration
}

// Provisioning is a DPS registration client for one device (a C
// sbprov_azure_dps): it registers the device with its symmetric key (for a
// group enrollment, the key DeriveDeviceKey derives from the group key)
// and learns which IoT Hub it is assigned to. Create one with
// NewProvisioning.
//
// A Provisioning is safe for concurrent use; its calls are serialised.
// Cancel, or the end of Register's context, stops the call in progress from
// any goroutine. Call Close when done: it cancels a call in progress, waits
// for it, frees the client and wipes its key; a finalizer is only a safety
// net. After Close, methods return ErrInval.
type Provisioning struct {
	c *client
}

// Registration is the outcome of a DPS registration (Provisioning.Register).
type Registration struct {
	// Status is RegistrationAssigned, RegistrationFailed,
	// RegistrationDisabled or RegistrationUnassigned.
	Status string
	// AssignedHub is the IoT Hub host name ("myhub.azure-devices.net") the
	// device is assigned to: the HostName of its connection string and of
	// its SAS tokens. "" unless assigned.
	AssignedHub string
	// DeviceID is the device's ID in that hub; "" unless assigned.
	DeviceID string
	// Substatus says what the assignment did: "initialAssignment",
	// "deviceDataMigrated", "deviceDataReset" or
	// "reprovisionedToInitialAssignment"; "" if DPS gave none.
	Substatus string
	// ErrorCode is Azure's error code of a failed registration (e.g.
	// 400207), or 0.
	ErrorCode int
	// ErrorMessage is Azure's message for a failed registration, or "".
	ErrorMessage string
	// JSON is DPS's whole final answer, as JSON text.
	JSON string
}

// ConnectionString returns the device connection string for the assigned
// hub, "HostName=<AssignedHub>;DeviceId=<DeviceID>;SharedAccessKey=<key>",
// for NewHub (with HubOptions.Endpoint where the hub is reached at another
// address than its host name). key is the device key the registration used.
// ErrInval if the device is not assigned; otherwise the errors of
// BuildConnectionString.
func (r *Registration) ConnectionString(key string) (string, error) {
	if r == nil || r.Status != RegistrationAssigned {
		return "", invalid("registration: the device is not assigned to a hub")
	}
	return BuildConnectionString(ConnectionString{HostName: r.AssignedHub, DeviceID: r.DeviceID, SharedAccessKey: key})
}

// NewProvisioning creates a DPS client for the device registrationID
// (see CheckRegistrationID) of the ID scope idScope ("0ne00000000"), with
// the device's symmetric key (Base64; for a group enrollment the key
// DeriveDeviceKey derives from the group key). Nothing is sent yet. The key
// is copied into the client (and wiped by Close).
//
// Errors: ErrID (a malformed ID scope or registration ID), ErrBase64 or
// ErrKeySize (the key), ErrInval (the endpoint is not an https base URL, or
// plain http without HTTP.AllowHTTP; a closed ClientKey; negative or too
// large durations; NUL bytes), ErrInit (libcurl could not be initialised).
func NewProvisioning(idScope, registrationID, key string, opts ProvisioningOptions) (*Provisioning, error) {
	if err := checkStrings("ID scope", idScope, "registration ID", registrationID, "key", key); err != nil {
		return nil, err
	}
	f, err := flattenAzure("Provisioning", opts.Endpoint, &opts.HTTP, opts.TokenTTL, opts.MaxClockSkew, 0)
	if err != nil {
		return nil, err
	}
	c, err := newAzureClient("Provisioning", "sbprov_azure_dps_new", f, func(out *uintptr, ck uintptr) int32 {
		h := f.http
		return capi.Gosbprov_azure_dps_new(out, idScope, registrationID, key, f.endpoint, f.ttlS, f.skewS,
			h.caFile, h.caPath, h.clientCert, ck, h.proxy, h.proxyMode, h.userAgent, h.connectMs, h.timeoutMs,
			h.maxResponse, h.allowHTTP)
	}, func(h uintptr) { capi.Sbprov_azure_dps_cancel(h) }, func(h uintptr) { capi.Sbprov_azure_dps_free(h) })
	if err != nil {
		return nil, err
	}
	return &Provisioning{c: c}, nil
}

func (p *Provisioning) client() *client {
	if p == nil {
		return nil
	}
	return p.c
}

// payloadJSON is the JSON text of a registration payload; "" for none.
func payloadJSON(payload any) (string, error) {
	const what = "dps register: payload"
	switch v := payload.(type) {
	case nil:
		return "", nil
	case json.RawMessage:
		if len(v) == 0 {
			return "", nil
		}
		if !json.Valid(v) {
			return "", &Error{Code: ErrParse, Message: what + ": the json.RawMessage is not valid JSON"}
		}
		return string(v), nil
	case []byte:
		return "", invalid(what + ": []byte is ambiguous (JSON text? bytes to encode?): use json.RawMessage for JSON text")
	}
	b, err := json.Marshal(payload)
	if err != nil {
		return "", invalid(what + ": " + err.Error())
	}
	return string(b), nil
}

// Register registers the device with DPS (a PUT with a SAS token, then
// polls of the operation, waiting as long as DPS asks, until it is no
// longer "assigning") and returns the outcome. Registering again is
// allowed: the result's Substatus says whether the device moved. 429 and
// 5xx answers are retried after their Retry-After (or with backoff).
//
// payload is the custom data sent to DPS (for a custom allocation
// policy): nil for none, a json.RawMessage holding JSON text (sent as it
// is; empty means none), or any other value, which is encoded with
// encoding/json ([]byte is refused as ambiguous). The library parses and
// prints the JSON again before sending it (cJSON): numbers beyond what a
// float64 holds exactly lose precision.
//
// ctx must have a deadline (context.WithTimeout), at most 2^32-1 ms ahead:
// it is the overall limit of the call, polling included, which the library
// requires. A context without one is ErrInval. When ctx is cancelled the
// call stops with ErrCanceled within milliseconds during a wait between
// polls and at libcurl's next progress callback during a transfer; when
// the deadline passes, with ErrTimeout. Both also match the context's
// error with errors.Is. When DPS's next poll would come after the deadline
// the call ends at once with ErrTimeout ("still being assigned").
//
// A "failed" or "disabled" answer is not an error: the Registration says so
// (Status, ErrorCode, ErrorMessage).
//
// Errors: ErrAuth (DPS refused the token: a wrong key, an unknown
// registration, a disabled group), ErrClock (the local clock is off from
// DPS's by more than MaxClockSkew: the message names the offset),
// ErrTimeout, ErrCanceled, ErrHTTP (another 4xx; the message has Azure's
// errorCode), ErrRateLimit and ErrServer (429 and 5xx still answered when
// the time is up; LastResponse().RetryAfter says when to retry), ErrParse
// (a json.RawMessage that is not JSON), ErrInval (a payload encoding/json
// refuses, no deadline), ErrNetwork, ErrCert, ErrTLS, ErrResponse.
func (p *Provisioning) Register(ctx context.Context, payload any) (*Registration, error) {
	const what = "dps register"
	if ctx == nil {
		return nil, invalid(what + ": nil context")
	}
	deadline, ok := ctx.Deadline()
	if !ok {
		return nil, invalid(what + ": the context has no deadline (use context.WithTimeout): it is the overall time limit")
	}
	if left := time.Until(deadline); left > time.Duration(math.MaxUint32)*time.Millisecond {
		return nil, invalid(what + ": the context's deadline is " + left.String() + " away, more than 2^32-1 ms")
	}
	pj, err := payloadJSON(payload)
	if err != nil {
		return nil, err
	}
	if err := checkString(what+": payload", pj); err != nil {
		return nil, err
	}
	var rh uintptr
	var lastStatus int64
	err = p.client().do(ctx, what, func(h uintptr) error {
		// Measured once the call slot is held: waiting for it counts.
		timeout, _ := durationMs("", time.Until(deadline))
		if timeout == 0 {
			timeout = 1
		}
		rh = 0
		err := p.c.signing(func() int32 { return capi.Sbprov_azure_dps_register(&rh, h, pj, timeout) })
		if isCode(err, ErrTimeout) {
			// Status 0: a single request timed out (HTTPOptions.Timeout),
			// not necessarily the whole call.
			var buf [72]byte
			var ra, date int64
			capi.Gosbprov_azure_dps_last_response(buf[:], &lastStatus, &ra, &date, h)
		}
		return err
	})
	if e, ok := err.(*Error); ok && e.Code == ErrTimeout && e.cause == nil &&
		(lastStatus != 0 || !time.Now().Before(deadline)) {
		// The library's overall timeout is the context's deadline.
		e.cause = context.DeadlineExceeded
	}
	if err != nil {
		return nil, err
	}
	if rh == 0 {
		return nil, &Error{Code: ErrGeneric, Message: what + ": the library returned no result"}
	}
	defer capi.Sbprov_azure_dps_result_free(rh)
	field := func(f int) string {
		s, _ := copyOut(256, func(buf []byte) int64 { return capi.Gosbprov_azure_dps_result_field(buf, rh, f) })
		return s
	}
	return &Registration{
		Status:       field(capi.GOSBPROV_DPS_STATUS),
		AssignedHub:  field(capi.GOSBPROV_DPS_HUB),
		DeviceID:     field(capi.GOSBPROV_DPS_DEVICE_ID),
		Substatus:    field(capi.GOSBPROV_DPS_SUBSTATUS),
		ErrorCode:    capi.Sbprov_azure_dps_result_error_code(rh),
		ErrorMessage: field(capi.GOSBPROV_DPS_ERROR_MESSAGE),
		JSON:         field(capi.GOSBPROV_DPS_JSON),
	}, nil
}

// LastResponse describes the last HTTP response the client received
// (status 0 if its last request got none), e.g. the Retry-After of a 429.
func (p *Provisioning) LastResponse() (ResponseInfo, error) {
	var info ResponseInfo
	err := p.client().do(nil, "dps last response", func(h uintptr) error {
		var err error
		info, err = responseInfo(func(buf []byte, st, ra, date *int64) int32 {
			return capi.Gosbprov_azure_dps_last_response(buf, st, ra, date, h)
		})
		return err
	})
	return info, err
}

// Cancel stops the call in progress on the client, from any goroutine,
// without waiting for it: the call returns ErrCanceled. If no call is in
// progress, the next call is cancelled instead (so a Cancel racing with the
// start of a call is never lost).
func (p *Provisioning) Cancel() {
	p.client().cancel()
}

// Close cancels a call in progress on another goroutine (it returns
// ErrCanceled), waits for it to return, and frees the client, wiping its
// key and token. Idempotent; always returns nil.
func (p *Provisioning) Close() error {
	return p.client().close()
}
