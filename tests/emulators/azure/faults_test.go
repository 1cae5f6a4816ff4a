package main

import (
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

func (e *testEnv) addFaults(rules ...map[string]interface{}) {
	e.t.Helper()
	if r := e.ctlDo("POST", "/_emu/faults", rules); r.status != 201 {
		e.t.Fatalf("add faults: %d %s", r.status, r.body)
	}
}

func TestFault429RetryAfterAndCount(t *testing.T) {
	e := newEnv(t, nil)
	rid := "gw-f"
	tok := e.dpsToken(rid, derive(t, testGroupKey, rid))
	e.addFaults(map[string]interface{}{"route": "dps_register", "count": 2, "status": 429, "retry_after": "7"})
	for i := 0; i < 2; i++ {
		r := e.register(rid, tok, regBody(rid))
		d := r.dpsErr(t)
		if r.status != 429 || r.header.Get("Retry-After") != "7" || d.ErrorCode != 429001 || d.Message != "Too Many Requests" ||
			r.header.Get("Date") == "" || r.header.Get("X-Ms-Request-Id") != d.TrackingID {
			t.Fatalf("fault %d: %d %v %s", i, r.status, r.header, r.body)
		}
	}
	if r := e.register(rid, tok, regBody(rid)); r.status != 202 {
		t.Fatalf("after count: %d", r.status)
	}
	// Faulted requests recorded nothing: one registration.
	var regs struct {
		Registrations []registration `json:"registrations"`
	}
	e.ctlDo("GET", "/_emu/registrations", nil).json(t, &regs)
	if len(regs.Registrations) != 1 || regs.Registrations[0].Registrations != 1 {
		t.Fatalf("registrations %+v", regs)
	}
	var rules []faultRule
	e.ctlDo("GET", "/_emu/faults", nil).json(t, &rules)
	if len(rules) != 1 || rules[0].Fired != 2 || rules[0].Seen != 2 {
		t.Fatalf("rules: %+v", rules)
	}
	var log []logEntry
	e.ctlDo("GET", "/_emu/requests", nil).json(t, &log)
	if log[0].Fault != rules[0].ID || log[2].Fault != 0 || log[0].Service != "dps" || log[0].Route != "dps_register" {
		t.Fatalf("fault not logged: %+v", log)
	}
	e.ctlDo("DELETE", "/_emu/faults", nil)
	e.ctlDo("GET", "/_emu/faults", nil).json(t, &rules)
	if len(rules) != 0 {
		t.Fatal("faults not cleared")
	}
}

func TestFaultHubShapesServiceMatchAndSkip(t *testing.T) {
	e := newEnv(t, nil)
	owner := e.ownerToken()
	e.addFaults(
		map[string]interface{}{"route": "hub", "method": "get", "skip": 1, "count": 1, "status": 503},
		map[string]interface{}{"route": "/devices/z", "status": 500, "body": "oops", "content_type": "text/plain",
			"headers": map[string]string{"X-Test": "1"}},
	)
	e.putDevice("y", owner, `{"deviceId":"y"}`, "")
	if r, _ := e.getDevice("y", owner); r.status != 200 {
		t.Fatalf("skipped: %d", r.status)
	}
	r, _ := e.getDevice("y", owner)
	h := r.hubErr(t)
	if r.status != 503 || h.Message != "ErrorCode:ServiceUnavailable;Service Unavailable" {
		t.Fatalf("hub 503: %d %s", r.status, r.body)
	}
	if r, _ := e.getDevice("y", owner); r.status != 200 {
		t.Fatalf("after: %d", r.status)
	}
	r, _ = e.getDevice("z", owner)
	if r.status != 500 || string(r.body) != "oops" || r.header.Get("Content-Type") != "text/plain" || r.header.Get("X-Test") != "1" {
		t.Fatalf("custom: %d %v %q", r.status, r.header, r.body)
	}
}

func TestFaultDelayPassthrough(t *testing.T) {
	e := newEnv(t, nil)
	e.addFaults(map[string]interface{}{"route": "hub_device", "delay_ms": 300, "count": 1})
	start := time.Now()
	if r, _ := e.getDevice("nope", e.ownerToken()); r.status != 404 || time.Since(start) < 300*time.Millisecond {
		t.Fatalf("delay %v status %d", time.Since(start), r.status)
	}
	e.addFaults(map[string]interface{}{"delay_ms": 2000, "count": 1})
	cl := &http.Client{Timeout: 200 * time.Millisecond}
	if _, err := cl.Get(e.api.URL + "/x"); err == nil {
		t.Fatal("no timeout")
	}
}

func rawRequest(t *testing.T, url, req string) (string, error) {
	t.Helper()
	addr := strings.TrimPrefix(url, "http://")
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.WriteString(c, req); err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(c)
	return string(b), err
}

func TestFaultTruncateOversizeGarbageDrop(t *testing.T) {
	e := newEnv(t, nil)
	e.addFaults(
		map[string]interface{}{"route": "/t", "truncate": true, "status": 202},
		map[string]interface{}{"route": "/a", "oversize_bytes": 3000000},
		map[string]interface{}{"route": "/b", "oversize_bytes": 100000, "chunked": true, "garbage": true},
		map[string]interface{}{"route": "/c", "garbage": true},
		map[string]interface{}{"route": "/d", "drop": true},
	)
	res, err := http.Get(e.api.URL + "/t")
	if err != nil {
		t.Fatal(err)
	}
	_, err = io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 202 || !errors.Is(err, io.ErrUnexpectedEOF) || res.Header.Get("Date") == "" {
		t.Fatalf("truncate: %d %v %v", res.StatusCode, err, res.Header)
	}
	res, err = http.Get(e.api.URL + "/a")
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(res.Body)
	res.Body.Close()
	if err != nil || res.ContentLength != 3000000 || len(b) != 3000000 || !json.Valid(b) {
		t.Fatalf("oversize: %v cl=%d len=%d", err, res.ContentLength, len(b))
	}
	res, err = http.Get(e.api.URL + "/b")
	if err != nil {
		t.Fatal(err)
	}
	b, _ = io.ReadAll(res.Body)
	res.Body.Close()
	if res.ContentLength != -1 || len(b) != 100000 || json.Valid(b) {
		t.Fatalf("chunked garbage: cl=%d len=%d", res.ContentLength, len(b))
	}
	res, err = http.Get(e.api.URL + "/c")
	if err != nil {
		t.Fatal(err)
	}
	b, _ = io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || !strings.HasPrefix(res.Header.Get("Content-Type"), "application/json") || json.Valid(b) {
		t.Fatalf("garbage: %d %q", res.StatusCode, b)
	}
	out, _ := rawRequest(t, e.api.URL, "GET /d HTTP/1.1\r\nHost: x\r\n\r\n")
	if out != "" {
		t.Fatalf("drop answered %q", out)
	}
	var log []logEntry
	e.ctlDo("GET", "/_emu/requests", nil).json(t, &log)
	// The truncated answer is logged when its handler returns, which may be
	// after the client has moved on: look entries up by path, not position.
	status := map[string]int{}
	for _, l := range log {
		status[l.Path] = l.Status
	}
	if len(log) != 5 || status["/d"] != 0 || status["/t"] != 202 || status["/a"] != 200 {
		t.Fatalf("log: %+v", log)
	}
}

func TestFaultValidation(t *testing.T) {
	e := newEnv(t, nil)
	for _, bad := range []interface{}{
		map[string]interface{}{"status": 42},
		map[string]interface{}{"count": -1},
		map[string]interface{}{"stauts": 500},
		"nonsense",
	} {
		if r := e.ctlDo("POST", "/_emu/faults", bad); r.status != 400 {
			t.Errorf("%v: %d", bad, r.status)
		}
	}
	if r := e.ctlDo("POST", "/_emu/faults", map[string]interface{}{"status": 500}); r.status != 201 {
		t.Fatalf("single rule: %d", r.status)
	}
	out, _ := rawRequest(t, e.api.URL, "GET /anything HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
	if !strings.HasPrefix(out, "HTTP/1.1 500") || !strings.Contains(out, `"errorCode":500000`) {
		t.Fatalf("rule on every route: %q", out)
	}
}
