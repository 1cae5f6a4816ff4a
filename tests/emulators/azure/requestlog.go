package main

import (
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"sort"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

const (
	logBodyLimit = 64 * 1024 // bytes of each request body kept in the log
	logKeep      = 20000     // entries kept in memory
)

// logEntry is one line of the -log file and one element of /_emu/requests.
type logEntry struct {
	Seq            int64             `json:"seq"`
	Time           string            `json:"time"`
	Method         string            `json:"method"`
	Path           string            `json:"path"`
	Query          string            `json:"query,omitempty"`
	Service        string            `json:"service,omitempty"`
	Route          string            `json:"route,omitempty"`
	Status         int               `json:"status"`
	RequestID      string            `json:"request_id"`
	Headers        map[string]string `json:"headers"`
	RespHdrs       map[string]string `json:"response_headers,omitempty"`
	BodyBytes      int64             `json:"body_bytes"`
	Body           string            `json:"body,omitempty"`
	BodyB64        string            `json:"body_base64,omitempty"`
	BodyCut        bool              `json:"body_truncated,omitempty"`
	RespBytes      int64             `json:"response_bytes"`
	RegistrationID string            `json:"registration_id,omitempty"`
	DeviceID       string            `json:"device_id,omitempty"`
	Auth           string            `json:"auth,omitempty"`
	AuthError      string            `json:"auth_error,omitempty"`
	Fault          int               `json:"fault,omitempty"`
	Violations     []string          `json:"violations,omitempty"`
	DurationMS     float64           `json:"duration_ms"`
	Proto          string            `json:"proto"`
}

// violation is one element of /_emu/violations.
type violation struct {
	Seq       int64  `json:"seq"`
	Time      string `json:"time"`
	Method    string `json:"method"`
	Path      string `json:"path"`
	Service   string `json:"service,omitempty"`
	Route     string `json:"route,omitempty"`
	Status    int    `json:"status"`
	Kind      string `json:"kind"`
	Message   string `json:"message"`
	RequestID string `json:"request_id"`
}

// bodyCapture keeps the first bytes of what the handler reads.
type bodyCapture struct {
	rc    io.ReadCloser
	limit int
	buf   []byte
	n     int64
}

func (b *bodyCapture) Read(p []byte) (int, error) {
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

func (b *bodyCapture) Close() error { return b.rc.Close() }

type requestLog struct {
	mu         sync.Mutex
	seq        int64
	entries    []logEntry
	violations []violation
	file       *os.File
}

func newRequestLog(path string) (*requestLog, error) {
	rl := &requestLog{}
	if path != "" {
		f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		if err != nil {
			return nil, err
		}
		rl.file = f
	}
	return rl, nil
}

func (rl *requestLog) close() error {
	rl.mu.Lock()
	defer rl.mu.Unlock()
	if rl.file != nil {
		err := rl.file.Close()
		rl.file = nil
		return err
	}
	return nil
}

func flatten(h http.Header) map[string]string {
	out := map[string]string{}
	for k, v := range h {
		out[k] = strings.Join(v, ", ")
	}
	return out
}

func (rl *requestLog) add(r *http.Request, rec *recorder, rc *reqCtx, body *bodyCapture, start time.Time) {
	status := rec.status
	if status == 0 && !rec.hijacked {
		status = http.StatusOK
	}
	hdrs := flatten(r.Header)
	if r.Host != "" {
		hdrs["Host"] = r.Host
	}
	if len(r.TransferEncoding) > 0 {
		hdrs["Transfer-Encoding"] = strings.Join(r.TransferEncoding, ", ")
	}
	rc.mu.Lock()
	e := logEntry{
		Time:           start.UTC().Format(time.RFC3339Nano),
		Method:         r.Method,
		Path:           r.URL.Path,
		Query:          r.URL.RawQuery,
		Service:        rc.service,
		Route:          rc.routeName,
		Status:         status,
		RequestID:      rc.requestID,
		Headers:        hdrs,
		BodyBytes:      body.n,
		RespBytes:      rec.written,
		RegistrationID: rc.registrationID,
		DeviceID:       rc.deviceID,
		Auth:           rc.auth,
		AuthError:      rc.authError,
		Fault:          rc.fault,
		DurationMS:     float64(time.Since(start).Microseconds()) / 1000,
		Proto:          r.Proto,
		Violations:     append([]string(nil), rc.violations...),
	}
	rc.mu.Unlock()
	if !rec.hijacked {
		e.RespHdrs = flatten(rec.Header())
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
		rl.violations = append(rl.violations, violation{
			Seq: e.Seq, Time: e.Time, Method: e.Method, Path: e.Path, Service: e.Service, Route: e.Route,
			Status: e.Status, Kind: kind, Message: msg, RequestID: e.RequestID,
		})
	}
	rl.entries = append(rl.entries, e)
	if len(rl.entries) > logKeep {
		rl.entries = append([]logEntry(nil), rl.entries[len(rl.entries)-logKeep:]...)
	}
	if rl.file != nil {
		b, err := json.Marshal(e)
		if err == nil {
			_, _ = rl.file.Write(append(b, '\n'))
		}
	}
}

func (rl *requestLog) since(seq int64) []logEntry {
	rl.mu.Lock()
	defer rl.mu.Unlock()
	out := []logEntry{}
	for _, e := range rl.entries {
		if e.Seq > seq {
			out = append(out, e)
		}
	}
	return out
}

func (rl *requestLog) violationsSince(seq int64) []violation {
	rl.mu.Lock()
	defer rl.mu.Unlock()
	out := []violation{}
	for _, v := range rl.violations {
		if v.Seq > seq {
			out = append(out, v)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Seq < out[j].Seq })
	return out
}

// clear forgets entries and violations; sequence numbers keep growing.
func (rl *requestLog) clear() {
	rl.mu.Lock()
	rl.entries = nil
	rl.violations = nil
	rl.mu.Unlock()
}
