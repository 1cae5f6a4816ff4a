package sbprov

import (
	"context"
	"math"
	"time"
)

// What the Azure clients over HTTPS (Provisioning, Hub, Registry) share:
// their defaults, the conversion of their options, and client creation.

// Azure endpoints, API versions and defaults of libsbprov
// (sbprov/azure_http.h, docs/azure.md).
const (
	// DefaultDPSEndpoint is the global DPS device endpoint,
	// ProvisioningOptions.Endpoint "".
	DefaultDPSEndpoint = "https://global.azure-devices-provisioning.net"
	// DPSAPIVersion is the DPS data-plane API version the library sends.
	DPSAPIVersion = "2021-10-01"
	// HubAPIVersion is the IoT Hub API version the library sends.
	HubAPIVersion = "2021-04-12"

	// DefaultTokenTTL is the lifetime of each SAS token when TokenTTL is 0.
	// A token is renewed when less than 5 minutes (or a tenth of its
	// lifetime, if less) are left.
	DefaultTokenTTL = time.Hour
	// DefaultMaxClockSkew is MaxClockSkew 0: the largest offset between
	// the local clock and a server's (from its Date header) that is
	// tolerated; Azure accepts a token until 5 minutes after its expiry.
	DefaultMaxClockSkew = 5 * time.Minute
	// DefaultRetryTimeout is HubOptions.RetryTimeout 0: how long 429 and
	// 5xx answers are retried, per message (Hub) or per call (Registry).
	DefaultRetryTimeout = time.Minute
)

// durationSec converts d to whole seconds, rounded up: 0 stays 0 (the
// default), negative or over 2^32-1 s is ErrInval naming what.
func durationSec(what string, d time.Duration) (uint, error) {
	if d < 0 {
		return 0, invalid(what + ": negative duration " + d.String())
	}
	s := d / time.Second
	if d%time.Second != 0 {
		s++
	}
	if s > math.MaxUint32 {
		return 0, invalid(what + ": " + d.String() + " is more than 2^32-1 s")
	}
	return uint(s), nil
}

// azureFlat is what the gosbprov_azure_*_new helpers take besides the
// transport options.
type azureFlat struct {
	endpoint             string
	ttlS, skewS, retryMs uint
	http                 httpFlat
	clientKey            *Key
}

// flattenAzure checks and converts the options shared by the Azure clients.
func flattenAzure(typ, endpoint string, http *HTTPOptions, ttl, skew, retry time.Duration) (azureFlat, error) {
	f := azureFlat{endpoint: endpoint, clientKey: http.ClientKey}
	if err := checkString(typ+"Options.Endpoint", endpoint); err != nil {
		return f, err
	}
	var err error
	if f.http, err = http.flatten(); err != nil {
		return f, err
	}
	if f.ttlS, err = durationSec(typ+"Options.TokenTTL", ttl); err != nil {
		return f, err
	}
	if f.skewS, err = durationSec(typ+"Options.MaxClockSkew", skew); err != nil {
		return f, err
	}
	if f.retryMs, err = durationMs(typ+"Options.RetryTimeout", retry); err != nil {
		return f, err
	}
	return f, nil
}

// newAzureClient creates a C client with create (given the live handle of
// the TLS client key, or 0) and wraps it for the Go type typ.
func newAzureClient(typ, cName string, f azureFlat, create func(out *uintptr, clientKey uintptr) int32,
	cancel, free func(uintptr)) (*client, error) {
	if err := networkInit(); err != nil {
		return nil, err
	}
	var h uintptr
	err := withKeys([]*Key{f.clientKey}, []string{"HTTPOptions.ClientKey"}, nil, func(kh []uintptr) error {
		return callStatus(func() int32 { return create(&h, kh[0]) })
	})
	if err == nil && h == 0 {
		err = &Error{Code: ErrGeneric, Message: cName + " succeeded without a client"}
	}
	if err != nil {
		return nil, err
	}
	var keys []*Key
	if f.clientKey != nil {
		keys = []*Key{f.clientKey}
	}
	return newClient(typ, h, keys, cancel, free, nil), nil
}

// azureCall runs one C call of an Azure client holding its call slot (the
// end of ctx cancels it; see client.do) and the TLS client key's lock.
func azureCall(c *client, ctx context.Context, what string, call func(h uintptr) int32) error {
	if ctx == nil {
		return invalid(what + ": nil context")
	}
	return c.do(ctx, what, func(h uintptr) error {
		return c.signing(func() int32 { return call(h) })
	})
}
