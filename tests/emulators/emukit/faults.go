package emukit

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// FaultRule describes an injected failure. The JSON field names are the
// control API's (POST /_emu/faults); see the emulators' README "Fault rules".
type FaultRule struct {
	ID            int               `json:"id"`
	Route         string            `json:"route"`  // route name, path prefix ("/..."), "" or "*" = any
	Method        string            `json:"method"` // "" = any
	Count         int               `json:"count"`  // 0 = forever
	Skip          int               `json:"skip"`   // let this many matching requests through first
	Status        int               `json:"status"`
	Body          string            `json:"body"`
	ContentType   string            `json:"content_type"`
	RetryAfter    string            `json:"retry_after"`
	Headers       map[string]string `json:"headers"`
	DelayMS       int               `json:"delay_ms"`
	Truncate      bool              `json:"truncate"`
	OversizeBytes int64             `json:"oversize_bytes"`
	Chunked       bool              `json:"chunked"`
	Garbage       bool              `json:"garbage"`
	Drop          bool              `json:"drop"`
	Seen          int               `json:"seen"`  // matching requests so far
	Fired         int               `json:"fired"` // requests the rule was applied to
}

// Validate refuses a status outside 100..599 and negative counts.
func (f *FaultRule) Validate() error {
	if f.Status != 0 && (f.Status < 100 || f.Status > 599) {
		return fmt.Errorf("status %d out of range", f.Status)
	}
	if f.Count < 0 || f.Skip < 0 || f.DelayMS < 0 || f.OversizeBytes < 0 {
		return errors.New("count, skip, delay_ms and oversize_bytes must not be negative")
	}
	return nil
}

// Passthrough: only a delay; the request is then served normally.
func (f *FaultRule) Passthrough() bool {
	return f.Status == 0 && f.Body == "" && !f.Truncate && f.OversizeBytes == 0 && !f.Garbage && !f.Drop &&
		len(f.Headers) == 0 && f.RetryAfter == ""
}

// Matches: the method (case-insensitive, "" = any), then the route: "" or
// "*" is every request, "/..." a path prefix, anything else one of names
// (the request's route name, and whatever else an emulator lets rules
// name, such as the Azure emulator's service).
func (f *FaultRule) Matches(method, path string, names ...string) bool {
	if f.Method != "" && !strings.EqualFold(f.Method, method) {
		return false
	}
	switch {
	case f.Route == "" || f.Route == "*":
		return true
	case strings.HasPrefix(f.Route, "/"):
		return strings.HasPrefix(path, f.Route)
	}
	for _, n := range names {
		if n != "" && f.Route == n {
			return true
		}
	}
	return false
}

// FaultSet is the list of rules of one emulator.
type FaultSet struct {
	mu     sync.Mutex
	rules  []*FaultRule
	nextID int
}

// Add validates all rules, then numbers and appends them (ids keep growing
// across Clear).
func (fs *FaultSet) Add(rules []*FaultRule) error {
	for _, r := range rules {
		if err := r.Validate(); err != nil {
			return err
		}
	}
	fs.mu.Lock()
	defer fs.mu.Unlock()
	for _, r := range rules {
		fs.nextID++
		r.ID = fs.nextID
		r.Seen, r.Fired = 0, 0
		fs.rules = append(fs.rules, r)
	}
	return nil
}

// Clear removes every rule.
func (fs *FaultSet) Clear() {
	fs.mu.Lock()
	fs.rules = nil
	fs.mu.Unlock()
}

// List returns copies of the rules with their counters.
func (fs *FaultSet) List() []FaultRule {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	out := make([]FaultRule, 0, len(fs.rules))
	for _, r := range fs.rules {
		out = append(out, *r)
	}
	return out
}

// Match returns a copy of the first live rule for the request and counts
// it (seen, and fired once past skip); names as for FaultRule.Matches.
func (fs *FaultSet) Match(method, path string, names ...string) *FaultRule {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	for _, r := range fs.rules {
		if r.Count > 0 && r.Fired >= r.Count {
			continue
		}
		if !r.Matches(method, path, names...) {
			continue
		}
		r.Seen++
		if r.Seen <= r.Skip {
			continue
		}
		r.Fired++
		c := *r
		return &c
	}
	return nil
}

// FaultBodies are an emulator's defaults for what a rule leaves out.
type FaultBodies struct {
	// Error is the body of a status >= 400 without "body": the emulated
	// service's error shape. It may set headers (error-code headers); the
	// rule's content type, Retry-After and headers are set after it.
	Error func(h http.Header, status int) string
	// Garbage is the body of "garbage" without "body".
	Garbage string
	// Truncated is the body of "truncate" without "body".
	Truncated string
	// OversizeField names the JSON member that "oversize_bytes" fills:
	// {"<field>":"aaaa…"}.
	OversizeField string
}

// ApplyFault carries a rule out; false means "now serve the request" (a
// delay-only rule). The delay ends early when the client goes away.
func ApplyFault(w *Recorder, r *http.Request, f *FaultRule, d FaultBodies) bool {
	if f.DelayMS > 0 {
		t := time.NewTimer(time.Duration(f.DelayMS) * time.Millisecond)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			return true
		}
	}
	if f.Drop {
		if conn, _, err := w.Hijack(); err == nil {
			_ = conn.Close()
		}
		return true
	}
	if f.Passthrough() {
		return false
	}
	status := f.Status
	if status == 0 {
		status = http.StatusOK
	}
	ctype := f.ContentType
	if ctype == "" {
		ctype = "application/json; charset=utf-8"
	}
	body := f.Body
	switch {
	case f.Garbage && body == "":
		body = d.Garbage
	case body == "" && status >= 400 && d.Error != nil:
		body = d.Error(w.Header(), status)
	}
	h := w.Header()
	h.Set("Content-Type", ctype)
	if f.RetryAfter != "" {
		h.Set("Retry-After", f.RetryAfter)
	}
	for k, v := range f.Headers {
		h.Set(k, v)
	}
	switch {
	case f.Truncate:
		if body == "" {
			body = d.Truncated
		}
		writeTruncated(w, status, body)
	case f.OversizeBytes > 0:
		writeOversize(w, f, status, d.OversizeField)
	default:
		h.Set("Content-Length", strconv.Itoa(len(body)))
		w.WriteHeader(status)
		_, _ = w.Write([]byte(body))
	}
	return true
}

// writeTruncated announces more bytes than it sends, then closes the
// connection: the client sees a premature end of the body.
func writeTruncated(w *Recorder, status int, body string) {
	if body == "" {
		body = "{}"
	}
	w.stamp()
	hdr := w.Header().Clone()
	w.Status = status
	conn, buf, err := w.Hijack()
	if err != nil {
		return
	}
	defer conn.Close()
	send := body[:len(body)/2+1]
	bw := buf.Writer
	fmt.Fprintf(bw, "HTTP/1.1 %d %s\r\n", status, http.StatusText(status))
	hdr.Del("Content-Length")
	hdr.Del("Transfer-Encoding")
	_ = hdr.Write(bw)
	fmt.Fprintf(bw, "Content-Length: %d\r\nConnection: close\r\n\r\n", len(body)+4096)
	_, _ = bw.WriteString(send)
	_ = bw.Flush()
	w.Written = int64(len(send))
}

// writeOversize streams OversizeBytes of JSON-looking (or garbage) data,
// with a Content-Length unless "chunked" is set.
func writeOversize(w *Recorder, f *FaultRule, status int, field string) {
	n := f.OversizeBytes
	if !f.Chunked {
		w.Header().Set("Content-Length", strconv.FormatInt(n, 10))
	}
	w.WriteHeader(status)
	prefix, suffix := []byte(`{"`+field+`":"`), []byte(`"}`)
	if f.Garbage || n < int64(len(prefix)+len(suffix)) {
		prefix, suffix = nil, nil
	}
	chunk := make([]byte, 32*1024)
	fill := byte('a')
	if f.Garbage {
		fill = 0xff
	}
	for i := range chunk {
		chunk[i] = fill
	}
	var sent int64
	write := func(b []byte) bool {
		m, err := w.Write(b)
		sent += int64(m)
		return err == nil
	}
	if !write(prefix) {
		return
	}
	for sent < n-int64(len(suffix)) {
		left := n - int64(len(suffix)) - sent
		c := chunk
		if int64(len(c)) > left {
			c = c[:left]
		}
		if !write(c) {
			return
		}
		w.Flush()
	}
	write(suffix)
}
