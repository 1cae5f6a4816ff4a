package emukit

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"os"
	"sort"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

// LogKeep is how many entries the log keeps in memory.
const LogKeep = 20000

// LogEntry is one line of the -log file and one element of /_emu/requests.
// Extra holds an emulator's own fields: a struct (or map) whose JSON
// members follow the common ones in the same object.
type LogEntry struct {
	Seq        int64             `json:"seq"`
	Time       string            `json:"time"`
	Method     string            `json:"method"`
	Path       string            `json:"path"`
	Query      string            `json:"query,omitempty"`
	Route      string            `json:"route,omitempty"`
	Status     int               `json:"status"`
	RequestID  string            `json:"request_id"`
	Headers    map[string]string `json:"headers"`
	RespHdrs   map[string]string `json:"response_headers,omitempty"`
	BodyBytes  int64             `json:"body_bytes"`
	Body       string            `json:"body,omitempty"`
	BodyB64    string            `json:"body_base64,omitempty"`
	BodyCut    bool              `json:"body_truncated,omitempty"`
	RespBytes  int64             `json:"response_bytes"`
	DeviceID   string            `json:"device_id,omitempty"`
	Fault      int               `json:"fault,omitempty"`
	Violations []string          `json:"violations,omitempty"`
	DurationMS float64           `json:"duration_ms"`
	Proto      string            `json:"proto"`
	Extra      interface{}       `json:"-"`
}

// MarshalJSON flattens Extra into the object.
func (e LogEntry) MarshalJSON() ([]byte, error) {
	type plain LogEntry
	return withExtra(plain(e), e.Extra)
}

// Violation is one element of /_emu/violations; Extra as for LogEntry.
type Violation struct {
	Seq       int64       `json:"seq"`
	Time      string      `json:"time"`
	Method    string      `json:"method"`
	Path      string      `json:"path"`
	Route     string      `json:"route,omitempty"`
	Status    int         `json:"status"`
	Kind      string      `json:"kind"`
	Message   string      `json:"message"`
	RequestID string      `json:"request_id"`
	Extra     interface{} `json:"-"`
}

// MarshalJSON flattens Extra into the object.
func (v Violation) MarshalJSON() ([]byte, error) {
	type plain Violation
	return withExtra(plain(v), v.Extra)
}

// withExtra marshals base (a struct) and appends the members of extra (a
// struct or map marshalling to an object; nil or {} adds nothing).
func withExtra(base, extra interface{}) ([]byte, error) {
	b, err := json.Marshal(base)
	if err != nil || extra == nil {
		return b, err
	}
	x, err := json.Marshal(extra)
	if err != nil {
		return nil, err
	}
	x = bytes.TrimSpace(x)
	if len(x) < 2 || x[0] != '{' || bytes.Equal(x, []byte("{}")) {
		return b, nil
	}
	out := append(b[:len(b)-1:len(b)-1], ',')
	return append(out, x[1:]...), nil
}

// RequestLog keeps the request log and the violations in memory, and
// appends each entry as a JSON line to a file if one is given.
type RequestLog struct {
	mu         sync.Mutex
	seq        int64
	entries    []LogEntry
	violations []Violation
	file       *os.File
}

// NewRequestLog opens (appends to) path; "" keeps the log in memory only.
func NewRequestLog(path string) (*RequestLog, error) {
	rl := &RequestLog{}
	if path != "" {
		f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		if err != nil {
			return nil, err
		}
		rl.file = f
	}
	return rl, nil
}

// Close closes the file.
func (rl *RequestLog) Close() error {
	rl.mu.Lock()
	defer rl.mu.Unlock()
	if rl.file != nil {
		err := rl.file.Close()
		rl.file = nil
		return err
	}
	return nil
}

// Flatten joins each header's values with ", ".
func Flatten(h http.Header) map[string]string {
	out := map[string]string{}
	for k, v := range h {
		out[k] = strings.Join(v, ", ")
	}
	return out
}

// Add logs a finished request: what it was (r, body), how it was answered
// (rec), what the emulator noted (c), and the emulator's own fields: extra
// for the entry, violationExtra for each of its violations.
func (rl *RequestLog) Add(r *http.Request, rec *Recorder, body *BodyCapture, start time.Time, c *Call,
	extra, violationExtra interface{}) {
	status := rec.Status
	if status == 0 && !rec.Hijacked {
		status = http.StatusOK
	}
	hdrs := Flatten(r.Header)
	if r.Host != "" {
		hdrs["Host"] = r.Host
	}
	if len(r.TransferEncoding) > 0 {
		hdrs["Transfer-Encoding"] = strings.Join(r.TransferEncoding, ", ")
	}
	e := LogEntry{
		Time:       start.UTC().Format(time.RFC3339Nano),
		Method:     r.Method,
		Path:       r.URL.Path,
		Query:      r.URL.RawQuery,
		Route:      c.RouteName,
		Status:     status,
		RequestID:  c.RequestID,
		Headers:    hdrs,
		BodyBytes:  body.n,
		RespBytes:  rec.Written,
		DeviceID:   c.DeviceID,
		Fault:      c.Fault,
		DurationMS: float64(time.Since(start).Microseconds()) / 1000,
		Proto:      r.Proto,
		Violations: c.Violations(),
		Extra:      extra,
	}
	if !rec.Hijacked {
		e.RespHdrs = Flatten(rec.Header())
	}
	if len(body.buf) > 0 {
		if utf8.Valid(body.buf) {
			e.Body = string(body.buf)
		} else {
			e.BodyB64 = base64.StdEncoding.EncodeToString(body.buf)
		}
		e.BodyCut = body.n > int64(len(body.buf))
	}

	rl.mu.Lock()
	defer rl.mu.Unlock()
	rl.seq++
	e.Seq = rl.seq
	for _, v := range e.Violations {
		kind, msg := v, ""
		if i := strings.Index(v, ": "); i >= 0 {
			kind, msg = v[:i], v[i+2:]
		}
		rl.violations = append(rl.violations, Violation{
			Seq: e.Seq, Time: e.Time, Method: e.Method, Path: e.Path, Route: e.Route,
			Status: e.Status, Kind: kind, Message: msg, RequestID: e.RequestID, Extra: violationExtra,
		})
	}
	rl.entries = append(rl.entries, e)
	if len(rl.entries) > LogKeep {
		rl.entries = append([]LogEntry(nil), rl.entries[len(rl.entries)-LogKeep:]...)
	}
	if rl.file != nil {
		b, err := json.Marshal(e)
		if err == nil {
			_, _ = rl.file.Write(append(b, '\n'))
		}
	}
}

// Since returns the entries after sequence number seq (never nil).
func (rl *RequestLog) Since(seq int64) []LogEntry {
	rl.mu.Lock()
	defer rl.mu.Unlock()
	out := []LogEntry{}
	for _, e := range rl.entries {
		if e.Seq > seq {
			out = append(out, e)
		}
	}
	return out
}

// ViolationsSince returns the violations of the requests after seq.
func (rl *RequestLog) ViolationsSince(seq int64) []Violation {
	rl.mu.Lock()
	defer rl.mu.Unlock()
	out := []Violation{}
	for _, v := range rl.violations {
		if v.Seq > seq {
			out = append(out, v)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Seq < out[j].Seq })
	return out
}

// Clear forgets entries and violations; sequence numbers keep growing.
func (rl *RequestLog) Clear() {
	rl.mu.Lock()
	rl.entries = nil
	rl.violations = nil
	rl.mu.Unlock()
}
