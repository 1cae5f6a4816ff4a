package main

import (
	"strconv"
	"strings"
	"testing"

	"sbprov.test/emulators/emukit"
)

func TestControlRequestLog(t *testing.T) {
	e := newEnv(t, nil)
	k := genKey(t, "ed25519")
	e.auth(k, macID)
	var log []emukit.LogEntry
	e.CtlDo("GET", "/_emu/requests", nil).JSON(t, &log)
	if len(log) != 1 {
		t.Fatalf("log: %+v", log)
	}
	l := log[0]
	if l.Method != "POST" || l.Path != authPath || l.Route != "auth_requests" || l.Status != 401 ||
		l.Headers["X-Men-Signature"] == "" || l.Headers["Content-Type"] != "application/json" ||
		!strings.Contains(l.Body, `"id_data"`) || l.BodyBytes != int64(len(l.Body)) || l.RequestID == "" {
		t.Fatalf("entry: %+v", l)
	}
	e.auth(k, macID)
	e.CtlDo("GET", "/_emu/requests?since="+itoa(l.Seq), nil).JSON(t, &log)
	if len(log) != 1 || log[0].Seq != l.Seq+1 {
		t.Fatalf("since: %+v", log)
	}
	e.CtlDo("DELETE", "/_emu/requests", nil)
	e.CtlDo("GET", "/_emu/requests", nil).JSON(t, &log)
	if len(log) != 0 {
		t.Fatal("not cleared")
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func TestControlReset(t *testing.T) {
	e := newEnv(t, nil)
	e.acceptedToken(genKey(t, "ed25519"), map[string]interface{}{"mac": "x"})
	e.CtlDo("POST", "/_emu/faults", map[string]interface{}{"route": "/zzz", "status": 500})
	e.CtlDo("POST", "/_emu/v2next", nil)
	e.CtlDo("POST", "/_emu/config", map[string]interface{}{"max_devices": 3})
	e.APIDo("GET", "/nope", nil, nil)
	if r := e.CtlDo("POST", "/_emu/reset", nil); r.Status != 204 {
		t.Fatal(r.Status)
	}
	if len(e.state().Devices) != 0 || len(e.Violations()) != 0 {
		t.Fatal("state kept")
	}
	var cfg map[string]interface{}
	e.CtlDo("GET", "/_emu/config", nil).JSON(t, &cfg)
	if cfg["max_devices"].(float64) != 0 || cfg["v2next"].(bool) {
		t.Fatalf("config kept: %v", cfg)
	}
	var rules []emukit.FaultRule
	e.CtlDo("GET", "/_emu/faults", nil).JSON(t, &rules)
	if len(rules) != 0 {
		t.Fatal("faults kept")
	}
	if r := e.CtlDo("GET", "/_emu/reset", nil); r.Status != 405 {
		t.Fatalf("GET reset: %d", r.Status)
	}
}

func TestControlSetStatusAndConfig(t *testing.T) {
	e := newEnv(t, nil)
	k := genKey(t, "ed25519")
	e.auth(k, macID)
	id := e.state().Devices[0].ID
	if r := e.CtlDo("POST", "/_emu/set-status", map[string]string{"device_id": id, "status": "accepted"}); r.Status != 200 {
		t.Fatalf("set-status: %d %s", r.Status, r.Body)
	}
	if r := e.auth(k, macID); r.Status != 200 {
		t.Fatalf("auth after set-status: %d", r.Status)
	}
	if r := e.CtlDo("POST", "/_emu/set-status", map[string]string{"device_id": "x", "status": "accepted"}); r.Status != 404 {
		t.Fatalf("unknown device: %d", r.Status)
	}
	if r := e.CtlDo("POST", "/_emu/config", map[string]interface{}{"expired_status": 500}); r.Status != 400 {
		t.Fatalf("bad expired_status: %d", r.Status)
	}
	if r := e.CtlDo("POST", "/_emu/config", map[string]interface{}{"jwt_ttl": "2m", "tenant_token": "tt"}); r.Status != 200 {
		t.Fatalf("config: %d", r.Status)
	}
	// Tenant token now required.
	if r := e.auth(k, macID); r.Status != 401 {
		t.Fatalf("tenant token required: %d", r.Status)
	}
	if r := e.CtlDo("POST", "/_emu/expire-token", map[string]interface{}{"device_id": "nope", "now": true}); r.Status != 404 {
		t.Fatalf("expire unknown: %d", r.Status)
	}
	if r := e.CtlDo("POST", "/_emu/expire-token", map[string]interface{}{}); r.Status != 400 {
		t.Fatalf("expire without device: %d", r.Status)
	}
	if r := e.CtlDo("GET", "/_emu/health", nil); r.Status != 200 {
		t.Fatalf("health: %d", r.Status)
	}
}
