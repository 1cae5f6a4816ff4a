package emukit

import (
	"bufio"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
)

// Call is the per-request state the request log records besides the
// request and the response. An emulator embeds it in its request context.
type Call struct {
	RequestID string
	RouteName string // the route the request is dispatched to ("" if none)
	DeviceID  string
	Fault     int // id of the fault rule applied, 0 if none

	mu         sync.Mutex
	violations []string
}

// Violate records that the request broke the emulated API's description.
func (c *Call) Violate(kind, msg string) {
	c.mu.Lock()
	c.violations = append(c.violations, kind+": "+msg)
	c.mu.Unlock()
}

// Violations returns a copy of what Violate recorded ("kind: message").
func (c *Call) Violations() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.violations...)
}

// Recorder remembers the status and the bytes written; it keeps
// http.Hijacker and http.Flusher reachable for fault injection.
type Recorder struct {
	http.ResponseWriter
	Status   int
	Written  int64
	Hijacked bool
	// Stamp, if set, runs when the header is about to go out: at the first
	// WriteHeader (or Write), and before a truncating fault writes the raw
	// response (the Azure emulator sets Date from its clock here).
	Stamp func(h http.Header)
}

func (r *Recorder) stamp() {
	if r.Stamp != nil {
		r.Stamp(r.Header())
	}
}

// WriteHeader records the first status.
func (r *Recorder) WriteHeader(code int) {
	if r.Status == 0 {
		r.Status = code
		r.stamp()
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *Recorder) Write(b []byte) (int, error) {
	if r.Status == 0 {
		r.WriteHeader(http.StatusOK)
	}
	n, err := r.ResponseWriter.Write(b)
	r.Written += int64(n)
	return n, err
}

// Flush flushes if the underlying writer can.
func (r *Recorder) Flush() {
	if f, ok := r.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Hijack takes the connection over (drop and truncate faults).
func (r *Recorder) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	h, ok := r.ResponseWriter.(http.Hijacker)
	if !ok {
		return nil, nil, errors.New("hijacking not supported")
	}
	r.Hijacked = true
	return h.Hijack()
}

// LogBodyLimit is how much of each request body the log keeps.
const LogBodyLimit = 64 * 1024

// BodyCapture keeps the first bytes of what the handler reads, and counts
// them all.
type BodyCapture struct {
	rc    io.ReadCloser
	limit int
	buf   []byte
	n     int64
}

func (b *BodyCapture) Read(p []byte) (int, error) {
	n, err := b.rc.Read(p)
	b.n += int64(n)
	if room := b.limit - len(b.buf); room > 0 && n > 0 {
		if room > n {
			room = n
		}
		b.buf = append(b.buf, p[:room]...)
	}
	return n, err
}

// Close closes the request body.
func (b *BodyCapture) Close() error { return b.rc.Close() }

// Capture starts a request's bookkeeping: a Recorder around w, and a
// BodyCapture around the request body (which it replaces).
func Capture(w http.ResponseWriter, r *http.Request) (*Recorder, *BodyCapture) {
	body := &BodyCapture{rc: r.Body, limit: LogBodyLimit}
	if r.Body != nil {
		r.Body = body
	}
	return &Recorder{ResponseWriter: w}, body
}

// NewUUID returns a random (version 4) UUID.
func NewUUID() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err)
	}
	b[6] = (b[6] & 0x0f) | 0x40
	b[8] = (b[8] & 0x3f) | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}
