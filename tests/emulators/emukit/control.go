package emukit

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
)

// JSONStyle renders JSON the way an emulated service does: json.Marshal
// (HTML-escaping, no trailing newline) with Content-Type
// "application/json; charset=utf-8".
type JSONStyle struct {
	// ContentLength sets Content-Length (else net/http decides: a length
	// for small bodies, chunked for large ones, as gin does).
	ContentLength bool
	// InternalError is the body (500) if v cannot be marshalled.
	InternalError string
}

// Write renders v with status.
func (st JSONStyle) Write(w http.ResponseWriter, status int, v interface{}) {
	b, err := json.Marshal(v)
	if err != nil {
		status = http.StatusInternalServerError
		b = []byte(st.InternalError)
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	if st.ContentLength {
		w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	}
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// ControlBodyLimit bounds control API request bodies.
const ControlBodyLimit = 8 << 20

// ReadControlBody reads a control request's body (at most ControlBodyLimit).
func ReadControlBody(r *http.Request) ([]byte, error) {
	return io.ReadAll(io.LimitReader(r.Body, ControlBodyLimit))
}

// DecodeBody decodes a control request's JSON body leniently (unknown
// fields are ignored); an empty body leaves v alone.
func DecodeBody(r *http.Request, v interface{}) error {
	b, err := ReadControlBody(r)
	if err != nil || len(b) == 0 {
		return err
	}
	return json.Unmarshal(b, v)
}

// DecodeStrict decodes a JSON body, refusing unknown fields (typos in a
// test's request) and trailing data; an empty body leaves v alone.
func DecodeStrict(b []byte, v interface{}) error {
	if len(bytes.TrimSpace(b)) == 0 {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return errors.New("trailing data after the JSON value")
	}
	return nil
}

// DecodeList strictly decodes one object or a list of them; one makes an
// empty value to decode into.
func DecodeList(b []byte, one func() interface{}) ([]interface{}, error) {
	t := bytes.TrimSpace(b)
	if len(t) > 0 && t[0] == '[' {
		var raws []json.RawMessage
		if err := json.Unmarshal(t, &raws); err != nil {
			return nil, err
		}
		out := []interface{}{}
		for _, raw := range raws {
			v := one()
			if err := DecodeStrict(raw, v); err != nil {
				return nil, err
			}
			out = append(out, v)
		}
		return out, nil
	}
	v := one()
	if err := DecodeStrict(t, v); err != nil {
		return nil, err
	}
	return []interface{}{v}, nil
}

// SinceParam is the ?since=SEQ parameter (0 if absent or malformed).
func SinceParam(r *http.Request) int64 {
	n, _ := strconv.ParseInt(r.URL.Query().Get("since"), 10, 64)
	return n
}

// Control is the part of the test-only control API that every emulator
// has: health, request log, violations, fault rules and reset.
type Control struct {
	Faults *FaultSet
	Log    *RequestLog
	// JSON renders every control answer.
	JSON JSONStyle
	// StrictFaults: POST /_emu/faults refuses unknown fields and trailing
	// data (and takes an empty body as one empty rule); otherwise rules are
	// decoded leniently and an empty body is refused.
	StrictFaults bool
	// Reset forgets the emulator's own state for POST /_emu/reset; the
	// fault rules and the logs are cleared in any case. An error answers 500.
	Reset func() error
}

// Mux returns a ServeMux with /_emu/health, /_emu/requests,
// /_emu/violations, /_emu/faults and /_emu/reset; the emulator adds its
// own routes.
func (c *Control) Mux() *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("/_emu/health", c.health)
	mux.HandleFunc("/_emu/requests", c.requests)
	mux.HandleFunc("/_emu/violations", c.violations)
	mux.HandleFunc("/_emu/faults", c.faults)
	mux.HandleFunc("/_emu/reset", c.reset)
	return mux
}

// Error answers {"error": message}.
func (c *Control) Error(w http.ResponseWriter, status int, format string, args ...interface{}) {
	c.JSON.Write(w, status, map[string]string{"error": fmt.Sprintf(format, args...)})
}

// Allow answers 405 unless the request's method is one of methods.
func (c *Control) Allow(w http.ResponseWriter, r *http.Request, methods ...string) bool {
	for _, m := range methods {
		if r.Method == m {
			return true
		}
	}
	c.Error(w, http.StatusMethodNotAllowed, "method %s not allowed", r.Method)
	return false
}

func (c *Control) health(w http.ResponseWriter, r *http.Request) {
	c.JSON.Write(w, http.StatusOK, map[string]bool{"ok": true})
}

// requests: GET the request log (?since=SEQ); DELETE clears it and the
// violations.
func (c *Control) requests(w http.ResponseWriter, r *http.Request) {
	if !c.Allow(w, r, http.MethodGet, http.MethodDelete) {
		return
	}
	if r.Method == http.MethodDelete {
		c.Log.Clear()
		w.WriteHeader(http.StatusNoContent)
		return
	}
	c.JSON.Write(w, http.StatusOK, c.Log.Since(SinceParam(r)))
}

// violations: GET the violations of the emulated API (?since=SEQ).
func (c *Control) violations(w http.ResponseWriter, r *http.Request) {
	if !c.Allow(w, r, http.MethodGet) {
		return
	}
	c.JSON.Write(w, http.StatusOK, c.Log.ViolationsSince(SinceParam(r)))
}

// reset: the emulator's Reset, then no fault rules and empty logs (204).
func (c *Control) reset(w http.ResponseWriter, r *http.Request) {
	if !c.Allow(w, r, http.MethodPost) {
		return
	}
	var err error
	if c.Reset != nil {
		err = c.Reset()
	}
	c.Faults.Clear()
	c.Log.Clear()
	if err != nil {
		c.Error(w, http.StatusInternalServerError, "%v", err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// faults: GET lists the rules, POST adds one rule or a list, DELETE
// removes all.
func (c *Control) faults(w http.ResponseWriter, r *http.Request) {
	if !c.Allow(w, r, http.MethodGet, http.MethodPost, http.MethodDelete) {
		return
	}
	switch r.Method {
	case http.MethodGet:
		c.JSON.Write(w, http.StatusOK, c.Faults.List())
	case http.MethodDelete:
		c.Faults.Clear()
		w.WriteHeader(http.StatusNoContent)
	case http.MethodPost:
		b, err := ReadControlBody(r)
		if err != nil {
			c.Error(w, http.StatusBadRequest, "%v", err)
			return
		}
		rules, err := c.decodeRules(b)
		if err != nil {
			c.Error(w, http.StatusBadRequest, "want a fault rule or a list of them: %v", err)
			return
		}
		if err := c.Faults.Add(rules); err != nil {
			c.Error(w, http.StatusBadRequest, "%v", err)
			return
		}
		c.JSON.Write(w, http.StatusCreated, rules)
	}
}

func (c *Control) decodeRules(b []byte) ([]*FaultRule, error) {
	if !c.StrictFaults {
		var rules []*FaultRule
		if err := json.Unmarshal(b, &rules); err != nil {
			var one FaultRule
			if err2 := json.Unmarshal(b, &one); err2 != nil {
				return nil, err
			}
			rules = []*FaultRule{&one}
		}
		return rules, nil
	}
	items, err := DecodeList(b, func() interface{} { return &FaultRule{} })
	if err != nil {
		return nil, err
	}
	rules := make([]*FaultRule, 0, len(items))
	for _, it := range items {
		rules = append(rules, it.(*FaultRule))
	}
	return rules, nil
}
