package sbprov

import (
	"context"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/sbprov/libsbprov/bindings/go/internal/capi"
)

// Limits of a device-to-cloud message (Hub.Send), as libsbprov checks them.
const (
	MessageMaxSize       = 256*1024 - 1 // Largest body, in bytes (as the Azure device SDKs cap it).
	MessageMaxProperties = 64           // Most application properties of one message.
)

// HubOptions are the options of NewHub and NewRegistry. The zero value
// connects to https://<HostName of the connection string> with the default
// transport options.
type HubOptions struct {
	// Endpoint is the base URL to connect to ("https://host[:port]", no
	// path); "" means "https://" + the connection string's HostName. The SAS
	// tokens always name HostName, so the endpoint may differ from it (a
	// private link, a proxy, a test server).
	Endpoint string
	// HTTP are the transport options (CA, mutual TLS, proxy, timeouts per
	// request).
	HTTP HTTPOptions
	// TokenTTL is the lifetime of each SAS token; 0 means DefaultTokenTTL.
	// Rounded up to whole seconds, at most 2^32-1 s.
	TokenTTL time.Duration
	// MaxClockSkew is the largest offset tolerated between the local clock
	// and the hub's; 0 means DefaultMaxClockSkew. Rounded up to whole
	// seconds, at most 2^32-1 s.
	MaxClockSkew time.Duration
	// RetryTimeout is how long 429 and 5xx answers are retried (after
	// their Retry-After, or with backoff), per message for Hub.Send and per
	// call for a Registry; 0 means DefaultRetryTimeout. Rounded up to whole
	// milliseconds, at most 2^32-1 ms.
	RetryTimeout time.Duration
}

// Message is one device-to-cloud message for Hub.Send. Only Body is
// required; the zero value of every other field means the default.
type Message struct {
	// Body is sent as it is, at most MessageMaxSize bytes.
	Body []byte
	// MessageID is the message's ID (iothub-messageid); "" means a random
	// UUID.
	MessageID string
	// CorrelationID is iothub-correlationid; "" means none.
	CorrelationID string
	// ContentType is the body's content type (Content-Type and
	// iothub-contenttype); "" means "application/json".
	ContentType string
	// ContentEncoding is iothub-contentencoding; "" means "utf-8".
	ContentEncoding string
	// CreationTime is iothub-creation-time-utc, in whole seconds; the zero
	// Time means the time of sending. Times before 1970-01-01T00:00:01Z are
	// refused.
	CreationTime time.Time
	// Properties are the application properties (iothub-app-<name>), sent
	// in the order of their names: names are HTTP tokens (letters, digits
	// and !#$%&'*+-.^_`|~), values printable ASCII without leading or
	// trailing spaces, at most MessageMaxProperties of them.
	Properties map[string]string
}

// Hub is a device's client of IoT Hub over HTTPS (a C sbprov_azure_hub): it
// sends device-to-cloud messages (telemetry) with a SAS token it signs and
// renews with the device key. Create one with NewHub.
//
// A Hub is safe for concurrent use; its calls are serialised (messages sent
// by one goroutine arrive in order). Cancel, or the end of Send's context,
// stops the call in progress from any goroutine. Call Close when done: it
// cancels a call in progress, waits for it, frees the client and wipes its
// key; a finalizer is only a safety net. After Close, methods return
// ErrInval.
type Hub struct {
	c *client
}

// NewHub creates a hub client from a device connection string
// ("HostName=...;DeviceId=...;SharedAccessKey=..."; Registration's
// ConnectionString makes one after DPS). The connection string is copied
// into the client (and wiped by Close); nothing is sent yet.
//
// Errors: ErrConnStr (malformed, no device key, or a ModuleId or
// SharedAccessKeyName), ErrBase64, ErrKeySize, ErrID (its fields),
// ErrInval (the endpoint is not a base URL, or plain http without
// HTTP.AllowHTTP; a closed ClientKey; negative or too large durations; NUL
// bytes), ErrInit.
func NewHub(connectionString string, opts HubOptions) (*Hub, error) {
	if err := checkString("connection string", connectionString); err != nil {
		return nil, err
	}
	f, err := flattenAzure("Hub", opts.Endpoint, &opts.HTTP, opts.TokenTTL, opts.MaxClockSkew, opts.RetryTimeout)
	if err != nil {
		return nil, err
	}
	c, err := newAzureClient("Hub", "sbprov_azure_hub_new", f, func(out *uintptr, ck uintptr) int32 {
		h := f.http
		return capi.Gosbprov_azure_hub_new(out, connectionString, f.endpoint, f.ttlS, f.skewS, f.retryMs,
			h.caFile, h.caPath, h.clientCert, ck, h.proxy, h.proxyMode, h.userAgent, h.connectMs, h.timeoutMs,
			h.maxResponse, h.allowHTTP)
	}, func(h uintptr) { capi.Sbprov_azure_hub_cancel(h) }, func(h uintptr) { capi.Sbprov_azure_hub_free(h) })
	if err != nil {
		return nil, err
	}
	return &Hub{c: c}, nil
}

func (hub *Hub) client() *client {
	if hub == nil {
		return nil
	}
	return hub.c
}

// flatMessages is a batch of messages as gosbprov_azure_hub_send takes it:
// the bodies concatenated, the strings NUL-terminated one after the other,
// GOSBPROV_MSG_FIELDS numbers per message.
type flatMessages struct {
	bodies []byte
	joined string
	fields []int64
}

// flattenMessages checks what C cannot see (NUL bytes, creation times) and
// lays the messages out flat. Properties are sorted by name.
func flattenMessages(msgs []Message) (flatMessages, error) {
	var f flatMessages
	size, strSize := 0, 0
	for i := range msgs {
		m := &msgs[i]
		what := "message " + strconv.Itoa(i)
		if err := checkStrings(what+" MessageID", m.MessageID, what+" CorrelationID", m.CorrelationID,
			what+" ContentType", m.ContentType, what+" ContentEncoding", m.ContentEncoding); err != nil {
			return f, err
		}
		if !m.CreationTime.IsZero() && m.CreationTime.Unix() <= 0 {
			return f, invalid(what + ": CreationTime " + m.CreationTime.UTC().Format(time.RFC3339) +
				" is not after 1970-01-01T00:00:00Z")
		}
		for name, value := range m.Properties {
			if err := checkStrings(what+" property name", name, what+" property "+strconv.Quote(name), value); err != nil {
				return f, err
			}
			strSize += len(name) + len(value) + 2
		}
		size += len(m.Body)
		strSize += len(m.MessageID) + len(m.CorrelationID) + len(m.ContentType) + len(m.ContentEncoding) + 4
	}
	if len(msgs) == 1 {
		f.bodies = msgs[0].Body // read in place during the call
	} else {
		f.bodies = make([]byte, 0, size)
		for i := range msgs {
			f.bodies = append(f.bodies, msgs[i].Body...)
		}
	}
	var b strings.Builder
	b.Grow(strSize)
	f.fields = make([]int64, 0, len(msgs)*capi.GOSBPROV_MSG_FIELDS)
	for i := range msgs {
		m := &msgs[i]
		for _, s := range [...]string{m.MessageID, m.CorrelationID, m.ContentType, m.ContentEncoding} {
			b.WriteString(s)
			b.WriteByte(0)
		}
		names := make([]string, 0, len(m.Properties))
		for name := range m.Properties {
			names = append(names, name)
		}
		sort.Strings(names)
		for _, name := range names {
			b.WriteString(name)
			b.WriteByte(0)
			b.WriteString(m.Properties[name])
			b.WriteByte(0)
		}
		var created int64
		if !m.CreationTime.IsZero() {
			created = m.CreationTime.Unix()
		}
		f.fields = append(f.fields, int64(len(m.Body)), created, int64(len(names)))
	}
	f.joined = b.String()
	return f, nil
}

// Send sends messages to IoT Hub in order, one request each. 429 and 5xx
// answers are retried (after their Retry-After, or with backoff) for up to
// HubOptions.RetryTimeout per message; the SAS token is renewed before it
// expires. Every message is checked before the first is sent. Sending stops
// at the first message that fails for good: accepted is the number of
// messages the hub accepted, always a prefix of msgs, also with an error,
// so nothing is dropped silently. No messages is (0, nil).
//
// ctx bounds the call: when it is cancelled, or its deadline (optional)
// passes, the call stops with ErrCanceled or ErrTimeout, which also match
// the context's error with errors.Is; a message being sent then may or may
// not have reached the hub, and is not counted.
//
// Errors: ErrAuth (the hub refused the token, 401/403: a wrong key, an
// unknown or disabled device), ErrClock (the local clock is off from the
// hub's by more than MaxClockSkew), ErrRateLimit and ErrServer (still 429
// or 5xx after RetryTimeout; LastResponse().RetryAfter says when to retry),
// ErrHTTP (a message refused as malformed, e.g. 413 too large), ErrInval (a
// body over MessageMaxSize, more than MessageMaxProperties properties, a
// property name that is not a token, an ID, content type, encoding or
// property value that is not printable ASCII or longer than 256
// characters, a creation time before 1970, NUL bytes: nothing is sent),
// ErrTimeout, ErrCanceled, ErrNetwork, ErrCert, ErrTLS, ErrResponse.
func (hub *Hub) Send(ctx context.Context, msgs ...Message) (accepted int, err error) {
	const what = "hub send"
	f, err := flattenMessages(msgs)
	if err != nil {
		return 0, err
	}
	var n int64
	err = azureCall(hub.client(), ctx, what, func(h uintptr) int32 {
		n = 0
		if len(msgs) == 0 {
			return 0
		}
		return capi.Gosbprov_azure_hub_send(&n, h, f.bodies, f.joined, f.fields, int64(len(msgs)))
	})
	return int(n), err
}

// LastResponse describes the last HTTP response the client received
// (status 0 if its last request got none), e.g. the Retry-After of a 429.
func (hub *Hub) LastResponse() (ResponseInfo, error) {
	var info ResponseInfo
	err := hub.client().do(nil, "hub last response", func(h uintptr) error {
		var err error
		info, err = responseInfo(func(buf []byte, st, ra, date *int64) int32 {
			return capi.Gosbprov_azure_hub_last_response(buf, st, ra, date, h)
		})
		return err
	})
	return info, err
}

// Cancel stops the call in progress on the client, from any goroutine,
// without waiting for it: the call returns ErrCanceled. If no call is in
// progress, the next call is cancelled instead (so a Cancel racing with the
// start of a call is never lost).
func (hub *Hub) Cancel() {
	hub.client().cancel()
}

// Close cancels a call in progress on another goroutine (it returns
// ErrCanceled), waits for it to return, and frees the client, wiping its
// key and token. Idempotent; always returns nil.
func (hub *Hub) Close() error {
	return hub.client().close()
}
