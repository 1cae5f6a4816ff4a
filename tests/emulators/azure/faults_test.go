package main

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"sbprov.test/emulators/emukit"
	"sbprov.test/emulators/emukit/emutest"
)

// The fault machinery (count, skip, method, prefix, delay, truncate,
// oversize, garbage, drop, validation) is tested in emukit; these tests
// check the Azure wiring: service error shapes, service names in rules,
// the Date stamp, strict rule decoding.

func TestFault429RetryAfterAndCount(t *testing.T) {
	e := newEnv(t, nil)
	rid := "gw-f"
	tok := e.dpsToken(rid, derive(t, testGroupKey, rid))
	e.AddFaults(map[string]interface{}{"route": "dps_register", "count": 2, "status": 429, "retry_after": "7"})
	for i := 0; i < 2; i++ {
		r := e.register(rid, tok, regBody(rid))
		d := dpsErrOf(t, r)
		if r.Status != 429 || r.Header.Get("Retry-After") != "7" || d.ErrorCode != 429001 || d.Message != "Too Many Requests" ||
			r.Header.Get("Date") == "" || r.Header.Get("X-Ms-Request-Id") != d.TrackingID {
			t.Fatalf("fault %d: %d %v %s", i, r.Status, r.Header, r.Body)
		}
	}
	if r := e.register(rid, tok, regBody(rid)); r.Status != 202 {
		t.Fatalf("after count: %d", r.Status)
	}
	// Faulted requests recorded nothing: one registration.
	var regs struct {
		Registrations []registration `json:"registrations"`
	}
	e.CtlDo("GET", "/_emu/registrations", nil).JSON(t, &regs)
	if len(regs.Registrations) != 1 || regs.Registrations[0].Registrations != 1 {
		t.Fatalf("registrations %+v", regs)
	}
	var rules []emukit.FaultRule
	e.CtlDo("GET", "/_emu/faults", nil).JSON(t, &rules)
	if len(rules) != 1 || rules[0].Fired != 2 || rules[0].Seen != 2 {
		t.Fatalf("rules: %+v", rules)
	}
	var log []logEntry
	e.CtlDo("GET", "/_emu/requests", nil).JSON(t, &log)
	if log[0].Fault != rules[0].ID || log[2].Fault != 0 || log[0].Service != "dps" || log[0].Route != "dps_register" {
		t.Fatalf("fault not logged: %+v", log)
	}
	e.CtlDo("DELETE", "/_emu/faults", nil)
	e.CtlDo("GET", "/_emu/faults", nil).JSON(t, &rules)
	if len(rules) != 0 {
		t.Fatal("faults not cleared")
	}
}

func TestFaultHubShapesServiceMatchAndSkip(t *testing.T) {
	e := newEnv(t, nil)
	owner := e.ownerToken()
	e.AddFaults(
		map[string]interface{}{"route": "hub", "method": "get", "skip": 1, "count": 1, "status": 503},
		map[string]interface{}{"route": "/devices/z", "status": 500, "body": "oops", "content_type": "text/plain",
			"headers": map[string]string{"X-Test": "1"}},
	)
	e.putDevice("y", owner, `{"deviceId":"y"}`, "")
	if r, _ := e.getDevice("y", owner); r.Status != 200 {
		t.Fatalf("skipped: %d", r.Status)
	}
	r, _ := e.getDevice("y", owner)
	h := hubErrOf(t, r)
	if r.Status != 503 || h.Message != "ErrorCode:ServiceUnavailable;Service Unavailable" {
		t.Fatalf("hub 503: %d %s", r.Status, r.Body)
	}
	if r, _ := e.getDevice("y", owner); r.Status != 200 {
		t.Fatalf("after: %d", r.Status)
	}
	r, _ = e.getDevice("z", owner)
	if r.Status != 500 || string(r.Body) != "oops" || r.Header.Get("Content-Type") != "text/plain" || r.Header.Get("X-Test") != "1" {
		t.Fatalf("custom: %d %v %q", r.Status, r.Header, r.Body)
	}
}

func TestFaultAzureDefaults(t *testing.T) {
	e := newEnv(t, nil)
	e.AddFaults(
		map[string]interface{}{"route": "/t", "truncate": true, "status": 202},
		map[string]interface{}{"route": "/a", "oversize_bytes": 100000},
		map[string]interface{}{"route": "/c", "garbage": true},
	)
	res, err := http.Get(e.API.URL + "/t")
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(res.Body)
	res.Body.Close()
	// The truncated answer has the stamped Date and a DPS operation body.
	if res.StatusCode != 202 || !errors.Is(err, io.ErrUnexpectedEOF) || res.Header.Get("Date") == "" ||
		!strings.HasPrefix(string(b), `{"operationId":"`) || res.Header.Get("X-Ms-Request-Id") == "" {
		t.Fatalf("truncate: %d %v %v %q", res.StatusCode, err, res.Header, b)
	}
	r := e.APIDo("GET", "/a", nil, nil)
	if len(r.Body) != 100000 || !strings.HasPrefix(string(r.Body), `{"message":"`) || !json.Valid(r.Body) {
		t.Fatalf("oversize: %d %q", len(r.Body), r.Body[:20])
	}
	if r := e.APIDo("GET", "/c", nil, nil); r.Status != 200 || string(r.Body) != garbageBody || r.Header.Get("Date") == "" {
		t.Fatalf("garbage: %d %q", r.Status, r.Body)
	}
	// The truncated answer's entry is written when its handler returns, which
	// may be after the later requests: wait for all three, in any order.
	var log []logEntry
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		log = nil
		e.CtlDo("GET", "/_emu/requests", nil).JSON(t, &log)
		if len(log) >= 3 || time.Now().After(deadline) {
			break
		}
	}
	if len(log) != 3 {
		t.Fatalf("log: %+v", log)
	}
	for _, entry := range log {
		if entry.Service != "dps" || entry.Fault == 0 {
			t.Fatalf("log entry %s: %+v", entry.Path, entry)
		}
	}
}

func TestFaultRulesStrict(t *testing.T) {
	e := newEnv(t, nil)
	// Unknown fields and trailing data are refused (the Mender emulator
	// ignores them).
	for _, bad := range []interface{}{
		map[string]interface{}{"stauts": 500},
		"nonsense",
	} {
		if r := e.CtlDo("POST", "/_emu/faults", bad); r.Status != 400 {
			t.Errorf("%v: %d", bad, r.Status)
		}
	}
	if r := e.Do("POST", e.Ctl.URL+"/_emu/faults", []byte(`{"status":500} {}`), nil); r.Status != 400 {
		t.Errorf("trailing data: %d", r.Status)
	}
	if r := e.CtlDo("POST", "/_emu/faults", map[string]interface{}{"status": 500}); r.Status != 201 {
		t.Fatalf("single rule: %d", r.Status)
	}
	out, _ := emutest.RawRequest(t, e.API.URL, "GET /anything HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
	if !strings.HasPrefix(out, "HTTP/1.1 500") || !strings.Contains(out, `"errorCode":500000`) {
		t.Fatalf("rule on every route: %q", out)
	}
}
