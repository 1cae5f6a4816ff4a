package main

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"

	"sbprov.test/emulators/emukit"
	"sbprov.test/emulators/emukit/emutest"
)

// The fault machinery (count, skip, method, prefix, delay, truncate,
// oversize, garbage, drop, validation) is tested in emukit; these tests
// check the Mender wiring and defaults.

func TestFaultStatusCountAndRetryAfter(t *testing.T) {
	e := newEnv(t, nil)
	k := genKey(t, "ed25519")
	e.AddFaults(map[string]interface{}{"route": "auth_requests", "count": 2, "status": 503, "retry_after": "5"})
	for i := 0; i < 2; i++ {
		r := e.auth(k, macID)
		if r.Status != 503 || r.Header.Get("Retry-After") != "5" || errMsg(t, r) != "service unavailable" {
			t.Fatalf("fault %d: %d %v %s", i, r.Status, r.Header, r.Body)
		}
	}
	if r := e.auth(k, macID); r.Status != 401 {
		t.Fatalf("after count: %d", r.Status)
	}
	// Faulted requests recorded nothing.
	if n := len(e.state().Devices); n != 1 {
		t.Fatalf("devices %d", n)
	}
	var rules []emukit.FaultRule
	e.CtlDo("GET", "/_emu/faults", nil).JSON(t, &rules)
	if len(rules) != 1 || rules[0].Fired != 2 || rules[0].Seen != 2 {
		t.Fatalf("rules: %+v", rules)
	}
	var log []emukit.LogEntry
	e.CtlDo("GET", "/_emu/requests", nil).JSON(t, &log)
	if log[0].Fault != rules[0].ID || log[2].Fault != 0 || log[0].Route != "auth_requests" {
		t.Fatalf("fault not logged: %+v", log)
	}
	e.CtlDo("DELETE", "/_emu/faults", nil)
	e.CtlDo("GET", "/_emu/faults", nil).JSON(t, &rules)
	if len(rules) != 0 {
		t.Fatal("faults not cleared")
	}
}

func TestFaultMenderDefaults(t *testing.T) {
	e := newEnv(t, nil)
	e.AddFaults(
		map[string]interface{}{"route": "auth_requests", "truncate": true, "status": 200},
		map[string]interface{}{"route": "/a", "oversize_bytes": 100000},
		map[string]interface{}{"route": "/c", "garbage": true},
	)
	res, err := http.Post(e.API.URL+authPath, "application/json", strings.NewReader("{}"))
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || !errors.Is(err, io.ErrUnexpectedEOF) || !strings.HasPrefix(string(b), `{"error":"trunc`) ||
		res.Header.Get("X-Men-Requestid") == "" {
		t.Fatalf("truncate: %d %v %q %v", res.StatusCode, err, b, res.Header)
	}
	r := e.APIDo("GET", "/a", nil, nil)
	if len(r.Body) != 100000 || !strings.HasPrefix(string(r.Body), `{"error":"`) || !json.Valid(r.Body) {
		t.Fatalf("oversize: %d %q", len(r.Body), r.Body[:20])
	}
	if r := e.APIDo("GET", "/c", nil, nil); r.Status != 200 || string(r.Body) != garbageBody {
		t.Fatalf("garbage: %d %q", r.Status, r.Body)
	}
}

func TestFaultRulesLenient(t *testing.T) {
	e := newEnv(t, nil)
	// Unknown fields are ignored (the Azure emulator refuses them).
	if r := e.CtlDo("POST", "/_emu/faults", map[string]interface{}{"status": 500, "stauts": 1}); r.Status != 201 {
		t.Fatalf("single rule: %d", r.Status)
	}
	out, _ := emutest.RawRequest(t, e.API.URL, "GET /anything HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
	if !strings.HasPrefix(out, "HTTP/1.1 500") || !strings.Contains(out, `{"error":"internal server error","request_id":"`) {
		t.Fatalf("rule on every route: %q", out)
	}
	if r := e.CtlDo("POST", "/_emu/faults", "nonsense"); r.Status != 400 {
		t.Fatalf("nonsense: %d", r.Status)
	}
}
