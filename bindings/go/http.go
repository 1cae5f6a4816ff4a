package sbprov

import (
	"context"
	"errors"
	"math"
	"runtime"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/sbprov/libsbprov/bindings/go/internal/capi"
)

// NoProxy is the HTTPOptions.Proxy value that connects directly, even if the
// environment names a proxy (http_proxy, https_proxy, all_proxy). It is
// Chromium's spelling of "no proxy" and can never be a proxy URL libcurl
// accepts.
const NoProxy = "direct://"

// NoTier is the MenderDeviceOptions.Tier value that sends no "tier" field in
// the authentication request (for servers that refuse it); "" sends the
// default, "standard".
const NoTier = "-"

// Transport defaults of libsbprov (sbprov/http.h), used where an
// HTTPOptions field is zero.
const (
	DefaultConnectTimeout  = 10 * time.Second // HTTPOptions.ConnectTimeout 0
	DefaultHTTPTimeout     = 30 * time.Second // HTTPOptions.Timeout 0
	DefaultMaxResponseSize = 1024 * 1024      // HTTPOptions.MaxResponseSize 0 (1 MiB)
)

// HTTPOptions are the transport options of the network clients
// (MenderDevice, MenderManagement, Provisioning, Hub, Registry). The zero
// value is the safe default: HTTPS only, TLS 1.2 or newer, the server's
// certificate and host name checked against the system's CA store, the
// environment's proxy, no redirects, responses capped at 1 MiB, a 10 s
// connect timeout and a 30 s limit per request. The client copies
// everything when it is created.
type HTTPOptions struct {
	// CAFile is a PEM file of trusted CA certificates; "" for the system's.
	CAFile string
	// CAPath is a directory of hashed CA certificates (c_rehash); "" for none.
	CAPath string
	// ClientCert is a PEM client certificate (chain) for mutual TLS; "" for
	// none.
	ClientCert string
	// ClientKey is the private key of ClientCert (from LoadKey, possibly in
	// a TPM); nil for none. The client keeps its own reference: the Key may
	// be closed once the client is created.
	ClientKey *Key
	// Proxy is a proxy URL ("http://proxy:3128"); "" follows libcurl's
	// environment rules (http_proxy, https_proxy, no_proxy); NoProxy
	// connects directly whatever the environment says.
	Proxy string
	// UserAgent is the User-Agent header; "" for "libsbprov/<version>".
	UserAgent string
	// ConnectTimeout limits connecting (TCP and TLS); 0 means
	// DefaultConnectTimeout. Rounded up to whole milliseconds, at most
	// 2^32-1 ms.
	ConnectTimeout time.Duration
	// Timeout limits one request, connection included; 0 means
	// DefaultHTTPTimeout. Rounded up to whole milliseconds, at most
	// 2^32-1 ms.
	Timeout time.Duration
	// MaxResponseSize is the largest response body accepted, in bytes; 0
	// means DefaultMaxResponseSize.
	MaxResponseSize int
	// AllowHTTP allows plain http:// server URLs (tests, a local proxy).
	AllowHTTP bool
}

// httpFlat is HTTPOptions as the gosbprov_* helpers take them.
type httpFlat struct {
	caFile, caPath, clientCert, proxy, userAgent string
	proxyMode                                    int // 0 environment, 1 none, 2 proxy
	connectMs, timeoutMs                         uint
	maxResponse                                  uint64
	allowHTTP                                    int
}

// flatten checks the options and converts them (the client key is passed
// separately, as a locked handle).
func (o *HTTPOptions) flatten() (httpFlat, error) {
	var f httpFlat
	if err := checkStrings("HTTPOptions.CAFile", o.CAFile, "HTTPOptions.CAPath", o.CAPath,
		"HTTPOptions.ClientCert", o.ClientCert, "HTTPOptions.Proxy", o.Proxy,
		"HTTPOptions.UserAgent", o.UserAgent); err != nil {
		return f, err
	}
	var err error
	if f.connectMs, err = durationMs("HTTPOptions.ConnectTimeout", o.ConnectTimeout); err != nil {
		return f, err
	}
	if f.timeoutMs, err = durationMs("HTTPOptions.Timeout", o.Timeout); err != nil {
		return f, err
	}
	if o.MaxResponseSize < 0 {
		return f, invalid("HTTPOptions.MaxResponseSize: negative (" + strconv.Itoa(o.MaxResponseSize) + ")")
	}
	f.caFile, f.caPath, f.clientCert, f.userAgent = o.CAFile, o.CAPath, o.ClientCert, o.UserAgent
	switch o.Proxy {
	case "":
		f.proxyMode = 0
	case NoProxy:
		f.proxyMode = 1
	default:
		f.proxyMode, f.proxy = 2, o.Proxy
	}
	f.maxResponse = uint64(o.MaxResponseSize)
	f.allowHTTP = boolInt(o.AllowHTTP)
	return f, nil
}

// durationMs converts d to whole milliseconds, rounded up: 0 stays 0 (the
// default), negative or over 2^32-1 ms is ErrInval naming what.
func durationMs(what string, d time.Duration) (uint, error) {
	if d < 0 {
		return 0, invalid(what + ": negative duration " + d.String())
	}
	ms := d / time.Millisecond
	if d%time.Millisecond != 0 {
		ms++
	}
	if ms > math.MaxUint32 {
		return 0, invalid(what + ": " + d.String() + " is more than 2^32-1 ms (about 49.7 days)")
	}
	return uint(ms), nil
}

// ResponseInfo describes the last HTTP response a client received
// (MenderDevice.LastResponse, MenderManagement.LastResponse,
// Provisioning.LastResponse, Hub.LastResponse).
type ResponseInfo struct {
	// Status is the HTTP status, or 0 if the last request got no response
	// (network failure, timeout, cancellation, TLS failure).
	Status int
	// RetryAfter is the Retry-After header (seconds or an HTTP date, as a
	// duration from the response, at most a day), or -1 if the response had
	// none.
	RetryAfter time.Duration
	// ServerDate is the response's Date header; the zero Time if absent or
	// unparsable.
	ServerDate time.Time
	// RequestID is the server's request ID (X-MEN-RequestID, a request_id
	// in an error body, or x-ms-request-id), or "".
	RequestID string
}

// responseInfo reads a response info through one of the
// gosbprov_*_last_response helpers.
func responseInfo(get func(buf []byte, status, retryAfter, date *int64) int32) (ResponseInfo, error) {
	var info ResponseInfo
	buf := make([]byte, 72)
	var status, retry, date int64
	if err := callStatus(func() int32 { return get(buf, &status, &retry, &date) }); err != nil {
		return info, err
	}
	info.Status = int(status)
	info.RetryAfter = -1
	if retry >= 0 {
		info.RetryAfter = time.Duration(retry) * time.Second
	}
	if date > 0 {
		info.ServerDate = time.Unix(date, 0)
	}
	for i, c := range buf {
		if c == 0 {
			info.RequestID = string(buf[:i])
			break
		}
	}
	return info, nil
}

// netInit is the one sbprov_global_init() of the process (it initialises
// libcurl), made before the first network client. It is never undone: the
// library stays initialised until the process exits, so clients may be
// created and closed from any goroutine at any time.
var netInit struct {
	once sync.Once
	err  error
}

func networkInit() error {
	netInit.once.Do(func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		if n := capi.Sbprov_global_init(); n < 1 {
			netInit.err = lastError(int32(n))
		}
	})
	return netInit.err
}

// lockKeys locks each distinct non-nil Key once, in address order, and
// returns the function that unlocks them.
//
// Locks are always taken in this order: a client's call slot, then an
// Identity, then Keys (all at once, through lockKeys), so no two calls can
// wait for each other.
func lockKeys(keys ...*Key) (unlock func()) {
	var order []*Key
	for _, k := range keys {
		dup := k == nil
		for _, o := range order {
			dup = dup || o == k
		}
		if !dup {
			order = append(order, k)
		}
	}
	sort.Slice(order, func(i, j int) bool {
		return uintptr(unsafe.Pointer(order[i])) < uintptr(unsafe.Pointer(order[j]))
	})
	for _, k := range order {
		k.mu.Lock()
	}
	return func() {
		for i := len(order) - 1; i >= 0; i-- {
			order[i].mu.Unlock()
		}
		runtime.KeepAlive(order)
	}
}

// withKeys runs call with the live handles of keys (0 for a nil Key), each
// distinct Key locked once (lockKeys); names name the keys in errors. The
// Keys in also are locked too but need not be live (a client's own keys,
// whose C references outlive a Key's Close).
func withKeys(keys []*Key, names []string, also []*Key, call func(handles []uintptr) error) error {
	unlock := lockKeys(append(append([]*Key(nil), keys...), also...)...)
	defer unlock()
	handles := make([]uintptr, len(keys))
	for i, k := range keys {
		if k == nil {
			continue
		}
		if k.handle == 0 {
			return invalid(names[i] + ": Key used after Close")
		}
		handles[i] = k.handle
	}
	err := call(handles)
	// The keys (and their finalizers) must not go away during the C call.
	runtime.KeepAlive(keys)
	return err
}

// client is what MenderDevice and MenderManagement share: one C handle
// whose calls the library serialises and which sbprov_*_cancel() may stop
// from any thread.
//
// The C client signs with the very key objects it was given (the device key,
// a TLS client key: it holds references, not copies), and a key held by a
// provider such as a TPM is not safe for concurrent use. So the calls that
// may sign hold the locks of those Keys (keys; see signing) as any Key
// method does.
//
// Calls hold sem, a one-slot semaphore, for their whole duration, so the
// call in C is always the one whose context or Cancel a cancellation is
// meant for (the library keeps one cancel flag per handle). Cancel takes
// only cmu, which guards the handle against being freed and is never held
// during a network call, so it cannot be blocked by a call in progress.
type client struct {
	what    string        // type name, for messages
	sem     chan struct{} // one slot: held by each call and by Close
	cmu     sync.Mutex    // guards handle for cancelNow and the free in close
	handle  uintptr       // C handle; written with sem and cmu held; 0 once closed
	closing atomic.Bool   // Close has begun: queued calls give up
	cancels atomic.Uint64 // explicit cancellations (Cancel, Close)
	cancelC func(uintptr) // sbprov_*_cancel
	freeC   func(uintptr) // sbprov_*_free
	onFree  func()        // run once after the handle is freed, or nil
	keys    []*Key        // Keys whose key objects the C client signs with (locked by signing)
	stale   bool          // guarded by sem: a context's cancel is pending in the library
	staleAt uint64        // guarded by sem: cancels when stale was set
}

func newClient(what string, h uintptr, keys []*Key, cancel, free func(uintptr), onFree func()) *client {
	c := &client{what: what, sem: make(chan struct{}, 1), handle: h, keys: keys, cancelC: cancel, freeC: free,
		onFree: onFree}
	runtime.SetFinalizer(c, (*client).close)
	return c
}

// signing makes a C call that may sign with the client's keys (an auth
// request, a TLS handshake with a client key), holding their locks.
func (c *client) signing(call func() int32) error {
	unlock := lockKeys(c.keys...)
	defer unlock()
	return callStatus(call)
}

// acquire takes the call slot, giving up when ctx (may be nil) ends, and
// returns the live handle. The caller releases the slot with <-c.sem.
func (c *client) acquire(ctx context.Context, what string) (uintptr, error) {
	if c == nil {
		return 0, invalid(what + ": nil client")
	}
	if ctx == nil {
		c.sem <- struct{}{}
	} else {
		if ctx.Err() != nil {
			return 0, ctxError(ctx, what)
		}
		select {
		case c.sem <- struct{}{}:
		case <-ctx.Done():
			return 0, ctxError(ctx, what+": while waiting for another call on the "+c.what)
		}
	}
	if c.closing.Load() || c.handle == 0 {
		<-c.sem
		return 0, invalid(what + ": " + c.what + " used after Close")
	}
	return c.handle, nil
}

// do runs fn (C calls on the live handle, made through callStatus or
// callText so that errors carry their message) holding the call slot. With
// a non-nil ctx, the end of ctx cancels the call from another goroutine.
//
// The library keeps a cancellation that arrives when no call is in
// progress for the next call. A context can end just as its call returns;
// its cancellation then stays pending in the library. do remembers that,
// and when the next call on the handle is stopped by that stale
// cancellation (which the library checks before it sends anything), it
// runs that call once more. Cancellations asked for with Cancel are never
// swallowed this way.
func (c *client) do(ctx context.Context, what string, fn func(h uintptr) error) error {
	h, err := c.acquire(ctx, what)
	if err != nil {
		return err
	}
	defer func() { <-c.sem }()
	for attempt := 0; ; attempt++ {
		gen := c.cancels.Load()
		err, issued := c.run(ctx, h, fn)
		canceled := isCode(err, ErrCanceled)
		switch {
		case canceled:
			retry := c.stale && !issued && attempt == 0 && c.cancels.Load() == c.staleAt && !c.closing.Load()
			c.stale = false
			if retry {
				continue
			}
		case issued && c.cancels.Load() == gen:
			// The context ended after the library's last look at the
			// cancel flag: the flag is still set.
			c.stale, c.staleAt = true, gen
		}
		runtime.KeepAlive(c)
		if ctx != nil && canceled && ctx.Err() != nil {
			return ctxCanceled(ctx, err, what)
		}
		return err
	}
}

// run makes one fn call, watching ctx (if not nil) on another goroutine;
// issued reports whether that goroutine asked the library to cancel.
func (c *client) run(ctx context.Context, h uintptr, fn func(h uintptr) error) (err error, issued bool) {
	if ctx == nil {
		return fn(h), false
	}
	stop, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		select {
		case <-ctx.Done():
			issued = true
			c.cancelNow()
		case <-stop:
		}
	}()
	err = fn(h)
	close(stop)
	<-done
	return err, issued
}

// cancelNow asks the library to stop the call in progress (or the next
// one). It never waits for a call.
func (c *client) cancelNow() {
	c.cmu.Lock()
	if c.handle != 0 {
		c.cancelC(c.handle)
	}
	c.cmu.Unlock()
}

// cancel is the public Cancel: counted, so that do never mistakes it for a
// stale context cancellation.
func (c *client) cancel() {
	if c == nil {
		return
	}
	c.cancels.Add(1)
	c.cancelNow()
}

// close cancels the call in progress, waits for it, and frees the handle.
// Idempotent.
func (c *client) close() error {
	if c == nil {
		return nil
	}
	c.closing.Store(true)
	c.cancel()
	c.sem <- struct{}{}
	c.cmu.Lock()
	h := c.handle
	c.handle = 0
	if h != 0 {
		c.freeC(h)
	}
	c.cmu.Unlock()
	<-c.sem
	if h != 0 {
		runtime.SetFinalizer(c, nil)
		if c.onFree != nil {
			c.onFree()
		}
	}
	return nil
}

// ctxError is the error for a context that ended before its call began.
func ctxError(ctx context.Context, what string) error {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return &Error{Code: ErrTimeout, Message: what + ": the context's deadline has passed", cause: ctx.Err()}
	}
	return &Error{Code: ErrCanceled, Message: what + ": the context was cancelled", cause: ctx.Err()}
}

// ctxCanceled turns the library's ErrCanceled, for a call whose context
// ended, into ErrTimeout (deadline) or ErrCanceled carrying the context's
// error.
func ctxCanceled(ctx context.Context, err error, what string) error {
	msg := ""
	var e *Error
	if errors.As(err, &e) {
		msg = e.Message
	}
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return &Error{Code: ErrTimeout, Message: what + ": the context's deadline passed (" + msg + ")", cause: ctx.Err()}
	}
	return &Error{Code: ErrCanceled, Message: msg, cause: ctx.Err()}
}

// isCode reports whether err is an *Error with code c.
func isCode(err error, c Code) bool {
	var e *Error
	return errors.As(err, &e) && e.Code == c
}
