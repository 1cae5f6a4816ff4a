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

func TestFaultStatusCountAndRetryAfter(t *testing.T) {
	e := newEnv(t, nil)
	k := genKey(t, "ed25519")
	e.addFaults(map[string]interface{}{"route": "auth_requests", "count": 2, "status": 503, "retry_after": "5"})
	for i := 0; i < 2; i++ {
		r := e.auth(k, macID)
		if r.status != 503 || r.header.Get("Retry-After") != "5" || r.errMsg(t) != "service unavailable" {
			t.Fatalf("fault %d: %d %v %s", i, r.status, r.header, r.body)
		}
	}
	if r := e.auth(k, macID); r.status != 401 {
		t.Fatalf("after count: %d", r.status)
	}
	// Faulted requests recorded nothing.
	if n := len(e.state().Devices); n != 1 {
		t.Fatalf("devices %d", n)
	}
	var rules []faultRule
	e.ctlDo("GET", "/_emu/faults", nil).json(t, &rules)
	if len(rules) != 1 || rules[0].Fired != 2 || rules[0].Seen != 2 {
		t.Fatalf("rules: %+v", rules)
	}
	var log []logEntry
	e.ctlDo("GET", "/_emu/requests", nil).json(t, &log)
	if log[0].Fault != rules[0].ID || log[2].Fault != 0 {
		t.Fatalf("fault not logged: %+v", log)
	}
	e.ctlDo("DELETE", "/_emu/faults", nil)
	e.ctlDo("GET", "/_emu/faults", nil).json(t, &rules)
	if len(rules) != 0 {
		t.Fatal("faults not cleared")
	}
}

func TestFaultSkipMethodPrefixBody(t *testing.T) {
	e := newEnv(t, nil)
	tok, _ := e.acceptedToken(genKey(t, "ed25519"), map[string]interface{}{"mac": "f"})
	e.addFaults(
		map[string]interface{}{"route": "/api/devices/v1/inventory", "method": "patch", "skip": 1, "count": 1,
			"status": 429, "body": "slow down", "content_type": "text/plain", "headers": map[string]string{"X-Test": "1"}},
	)
	if r := e.apiDo("PUT", invPath, []byte(`[]`), bearerJSON(tok)); r.status != 200 {
		t.Fatalf("PUT not matched: %d", r.status)
	}
	if r := e.apiDo("PATCH", invPath, []byte(`[]`), bearerJSON(tok)); r.status != 200 {
		t.Fatalf("skipped PATCH: %d", r.status)
	}
	r := e.apiDo("PATCH", invPath, []byte(`[]`), bearerJSON(tok))
	if r.status != 429 || string(r.body) != "slow down" || r.header.Get("Content-Type") != "text/plain" || r.header.Get("X-Test") != "1" {
		t.Fatalf("fault: %d %v %q", r.status, r.header, r.body)
	}
	if r := e.apiDo("PATCH", invPath, []byte(`[]`), bearerJSON(tok)); r.status != 200 {
		t.Fatalf("after: %d", r.status)
	}
}

func TestFaultDelayPassthrough(t *testing.T) {
	e := newEnv(t, nil)
	e.addFaults(map[string]interface{}{"route": "useradm_login", "delay_ms": 300, "count": 1})
	start := time.Now()
	req, _ := http.NewRequest("POST", e.api.URL+"/api/management/v1/useradm/auth/login", nil)
	req.SetBasicAuth(testUser, testPass)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if d := time.Since(start); d < 300*time.Millisecond || res.StatusCode != 200 {
		t.Fatalf("delay %v status %d", d, res.StatusCode)
	}
	// A client timeout shorter than the delay.
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

func TestFaultTruncate(t *testing.T) {
	e := newEnv(t, nil)
	e.addFaults(map[string]interface{}{"route": "auth_requests", "truncate": true, "status": 200,
		"body": "eyJhbGciOiJFZERTQSJ9.e30.c2ln", "content_type": "application/jwt"})
	res, err := http.Post(e.api.URL+authPath, "application/json", strings.NewReader("{}"))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != 200 || res.Header.Get("Content-Type") != "application/jwt" {
		t.Fatalf("status %d %v", res.StatusCode, res.Header)
	}
	_, err = io.ReadAll(res.Body)
	if !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("want unexpected EOF, got %v", err)
	}
}

func TestFaultOversizeGarbageDrop(t *testing.T) {
	e := newEnv(t, nil)
	e.addFaults(
		map[string]interface{}{"route": "/a", "oversize_bytes": 3000000},
		map[string]interface{}{"route": "/b", "oversize_bytes": 100000, "chunked": true, "garbage": true},
		map[string]interface{}{"route": "/c", "garbage": true},
		map[string]interface{}{"route": "/d", "drop": true},
	)
	res, err := http.Get(e.api.URL + "/a")
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(res.Body)
	res.Body.Close()
	if err != nil || res.ContentLength != 3000000 || len(b) != 3000000 || !strings.HasPrefix(string(b), `{"error":"`) ||
		!strings.HasSuffix(string(b), `"}`) || !json.Valid(b) {
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
	// A truncated answer is logged when its handler returns, possibly after
	// the next request: find the dropped one by path, not by position.
	dropped := -1
	for i, l := range log {
		if l.Path == "/d" {
			dropped = i
		}
	}
	if len(log) != 4 || dropped < 0 || log[dropped].Status != 0 {
		t.Fatalf("log: %+v", log)
	}
}

func TestFaultValidation(t *testing.T) {
	e := newEnv(t, nil)
	if r := e.ctlDo("POST", "/_emu/faults", map[string]interface{}{"status": 42}); r.status != 400 {
		t.Fatalf("status 42: %d", r.status)
	}
	if r := e.ctlDo("POST", "/_emu/faults", map[string]interface{}{"count": -1}); r.status != 400 {
		t.Fatalf("negative count: %d", r.status)
	}
	// A single object is accepted as well as a list.
	if r := e.ctlDo("POST", "/_emu/faults", map[string]interface{}{"status": 500}); r.status != 201 {
		t.Fatalf("single rule: %d", r.status)
	}
	out, _ := rawRequest(t, e.api.URL, "GET /anything HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
	if !strings.HasPrefix(out, "HTTP/1.1 500") {
		t.Fatalf("rule on every route: %q", out)
	}
}
