package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// faultRule describes an injected failure; see README "Fault rules". The
// JSON field names are the Mender emulator's.
type faultRule struct {
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

func (f *faultRule) validate() error {
	if f.Status != 0 && (f.Status < 100 || f.Status > 599) {
		return fmt.Errorf("status %d out of range", f.Status)
	}
	if f.Count < 0 || f.Skip < 0 || f.DelayMS < 0 || f.OversizeBytes < 0 {
		return errors.New("count, skip, delay_ms and oversize_bytes must not be negative")
	}
	return nil
}

// passthrough: only a delay; the request is then served normally.
func (f *faultRule) passthrough() bool {
	return f.Status == 0 && f.Body == "" && !f.Truncate && f.OversizeBytes == 0 && !f.Garbage && !f.Drop &&
		len(f.Headers) == 0 && f.RetryAfter == ""
}

func (f *faultRule) matches(name, service, method, path string) bool {
	if f.Method != "" && !strings.EqualFold(f.Method, method) {
		return false
	}
	switch {
	case f.Route == "" || f.Route == "*":
		return true
	case strings.HasPrefix(f.Route, "/"):
		return strings.HasPrefix(path, f.Route)
	case f.Route == "dps" || f.Route == "hub":
		return f.Route == service
	default:
		return f.Route == name
	}
}

type faultSet struct {
	mu     sync.Mutex
	rules  []*faultRule
	nextID int
}

func (fs *faultSet) add(rules []*faultRule) error {
	for _, r := range rules {
		if err := r.validate(); err != nil {
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

func (fs *faultSet) clear() {
	fs.mu.Lock()
	fs.rules = nil
	fs.mu.Unlock()
}

func (fs *faultSet) list() []faultRule {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	out := make([]faultRule, 0, len(fs.rules))
	for _, r := range fs.rules {
		out = append(out, *r)
	}
	return out
}

// match returns a copy of the first live rule for the request and counts it.
func (fs *faultSet) match(name, service, method, path string) *faultRule {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	for _, r := range fs.rules {
		if r.Count > 0 && r.Fired >= r.Count {
			continue
		}
		if !r.matches(name, service, method, path) {
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

const garbageBody = "{\"operationId\": \"5.\x00\", \"status\": [1, 2,, }}} \xff\xfe<html>"

// faultErrorBody is the default body of a fault status >= 400: the error
// shape of the service the request was meant for, with its error-code header.
func (s *Server) faultErrorBody(w http.ResponseWriter, rc *reqCtx, status int) string {
	var v interface{}
	if rc.service == svcHub {
		name := hubErrorName(status)
		setRawHeader(w.Header(), hdrHubErrorCode, name)
		v = s.hubErrorJSON(rc, name, http.StatusText(status))
	} else {
		code := dpsFaultCode(status)
		setRawHeader(w.Header(), hdrDPSErrorCode, strconv.Itoa(code))
		v = s.dpsErrorJSON(rc, code, http.StatusText(status))
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// applyFault carries a rule out; false means "now serve the request".
func (s *Server) applyFault(w *recorder, r *http.Request, rc *reqCtx, f *faultRule) bool {
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
	if f.passthrough() {
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
		body = garbageBody
	case body == "" && status >= 400:
		body = s.faultErrorBody(w, rc, status)
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
		s.writeTruncated(w, rc, status, body)
	case f.OversizeBytes > 0:
		s.writeOversize(w, f, status)
	default:
		h.Set("Content-Length", strconv.Itoa(len(body)))
		w.WriteHeader(status)
		_, _ = w.Write([]byte(body))
	}
	return true
}

// writeTruncated announces more bytes than it sends, then closes the
// connection: the client sees a premature end of the body.
func (s *Server) writeTruncated(w *recorder, rc *reqCtx, status int, body string) {
	if body == "" {
		body = `{"operationId":"` + rc.requestID + `","status":"assigning"}`
	}
	w.setDate()
	hdr := w.Header().Clone()
	w.status = status
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
	w.written = int64(len(send))
}

// writeOversize streams OversizeBytes of JSON-looking (or garbage) data,
// with a Content-Length unless "chunked" is set.
func (s *Server) writeOversize(w *recorder, f *faultRule, status int) {
	n := f.OversizeBytes
	if !f.Chunked {
		w.Header().Set("Content-Length", strconv.FormatInt(n, 10))
	}
	w.WriteHeader(status)
	prefix, suffix := []byte(`{"message":"`), []byte(`"}`)
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
