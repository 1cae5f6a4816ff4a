package main

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

func TestControlRequestLog(t *testing.T) {
	e := newEnv(t, nil)
	k := genKey(t, "ed25519")
	e.auth(k, macID)
	var log []logEntry
	e.ctlDo("GET", "/_emu/requests", nil).json(t, &log)
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
	e.ctlDo("GET", "/_emu/requests?since="+itoa(l.Seq), nil).json(t, &log)
	if len(log) != 1 || log[0].Seq != l.Seq+1 {
		t.Fatalf("since: %+v", log)
	}
	e.ctlDo("DELETE", "/_emu/requests", nil)
	e.ctlDo("GET", "/_emu/requests", nil).json(t, &log)
	if len(log) != 0 {
		t.Fatal("not cleared")
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func TestControlLogFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "req.jsonl")
	e := newEnv(t, func(c *Config) { c.LogPath = path })
	e.apiDo("GET", "/nope", nil, nil)
	e.apiDo("GET", "/nope2", nil, nil)
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) != 2 || !strings.Contains(lines[1], `"path":"/nope2"`) || !strings.Contains(lines[1], `"status":404`) {
		t.Fatalf("log file: %q", b)
	}
}

func TestControlReset(t *testing.T) {
	e := newEnv(t, nil)
	e.acceptedToken(genKey(t, "ed25519"), map[string]interface{}{"mac": "x"})
	e.ctlDo("POST", "/_emu/faults", map[string]interface{}{"route": "/zzz", "status": 500})
	e.ctlDo("POST", "/_emu/v2next", nil)
	e.ctlDo("POST", "/_emu/config", map[string]interface{}{"max_devices": 3})
	e.apiDo("GET", "/nope", nil, nil)
	if r := e.ctlDo("POST", "/_emu/reset", nil); r.status != 204 {
		t.Fatal(r.status)
	}
	if len(e.state().Devices) != 0 || len(e.violations()) != 0 {
		t.Fatal("state kept")
	}
	var cfg map[string]interface{}
	e.ctlDo("GET", "/_emu/config", nil).json(t, &cfg)
	if cfg["max_devices"].(float64) != 0 || cfg["v2next"].(bool) {
		t.Fatalf("config kept: %v", cfg)
	}
	var rules []faultRule
	e.ctlDo("GET", "/_emu/faults", nil).json(t, &rules)
	if len(rules) != 0 {
		t.Fatal("faults kept")
	}
	if r := e.ctlDo("GET", "/_emu/reset", nil); r.status != 405 {
		t.Fatalf("GET reset: %d", r.status)
	}
}

func TestControlSetStatusAndConfig(t *testing.T) {
	e := newEnv(t, nil)
	k := genKey(t, "ed25519")
	e.auth(k, macID)
	id := e.state().Devices[0].ID
	if r := e.ctlDo("POST", "/_emu/set-status", map[string]string{"device_id": id, "status": "accepted"}); r.status != 200 {
		t.Fatalf("set-status: %d %s", r.status, r.body)
	}
	if r := e.auth(k, macID); r.status != 200 {
		t.Fatalf("auth after set-status: %d", r.status)
	}
	if r := e.ctlDo("POST", "/_emu/set-status", map[string]string{"device_id": "x", "status": "accepted"}); r.status != 404 {
		t.Fatalf("unknown device: %d", r.status)
	}
	if r := e.ctlDo("POST", "/_emu/config", map[string]interface{}{"expired_status": 500}); r.status != 400 {
		t.Fatalf("bad expired_status: %d", r.status)
	}
	if r := e.ctlDo("POST", "/_emu/config", map[string]interface{}{"jwt_ttl": "2m", "tenant_token": "tt"}); r.status != 200 {
		t.Fatalf("config: %d", r.status)
	}
	// Tenant token now required.
	if r := e.auth(k, macID); r.status != 401 {
		t.Fatalf("tenant token required: %d", r.status)
	}
	if r := e.ctlDo("POST", "/_emu/expire-token", map[string]interface{}{"device_id": "nope", "now": true}); r.status != 404 {
		t.Fatalf("expire unknown: %d", r.status)
	}
	if r := e.ctlDo("POST", "/_emu/expire-token", map[string]interface{}{}); r.status != 400 {
		t.Fatalf("expire without device: %d", r.status)
	}
	if r := e.ctlDo("GET", "/_emu/health", nil); r.status != 200 {
		t.Fatalf("health: %d", r.status)
	}
}
