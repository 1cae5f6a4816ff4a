package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"sbprov.test/emulators/emukit"
)

func TestControlRequestLog(t *testing.T) {
	e := newEnv(t, nil)
	rid := "gw-log"
	e.register(rid, e.dpsToken(rid, derive(t, testGroupKey, rid)), regBody(rid))
	var log []logEntry
	e.CtlDo("GET", "/_emu/requests", nil).JSON(t, &log)
	if len(log) != 1 {
		t.Fatalf("log: %+v", log)
	}
	l := log[0]
	if l.Method != "PUT" || l.Route != "dps_register" || l.Service != "dps" || l.Status != 202 || l.RegistrationID != rid ||
		l.Auth != "group:"+testGroup+"/primary" || l.Headers["Authorization"] == "" || !strings.Contains(l.Body, rid) ||
		l.RequestID == "" || l.RespHdrs["x-ms-request-id"] != l.RequestID || l.Query != "api-version=2021-10-01" {
		t.Fatalf("entry: %+v", l)
	}
	e.APIDo("GET", "/x", nil, nil)
	e.CtlDo("GET", "/_emu/requests?since="+itoa(l.Seq), nil).JSON(t, &log)
	if len(log) != 1 || log[0].Seq != l.Seq+1 {
		t.Fatalf("since: %+v", log)
	}
	e.CtlDo("DELETE", "/_emu/requests", nil)
	e.CtlDo("GET", "/_emu/requests", nil).JSON(t, &log)
	if len(log) != 0 || len(e.Violations()) != 0 {
		t.Fatal("not cleared")
	}
}

func TestControlLogFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "req.jsonl")
	e := newEnv(t, func(c *Config) { c.LogPath = path })
	e.APIDo("GET", "/devices/a"+hubAPI, nil, nil)
	e.APIDo("GET", "/nope2", nil, nil)
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) != 2 || !strings.Contains(lines[0], `"auth_error":"the Authorization header is missing"`) ||
		!strings.Contains(lines[1], `"status":404`) {
		t.Fatalf("log file: %q", b)
	}
}

func TestControlResetAndConfig(t *testing.T) {
	e := newEnv(t, nil)
	rid := "gw-reset"
	e.provision(rid, derive(t, testGroupKey, rid))
	e.CtlDo("POST", "/_emu/faults", map[string]interface{}{"route": "/zzz", "status": 500})
	e.CtlDo("POST", "/_emu/enrollments", map[string]interface{}{"name": "extra"})
	e.CtlDo("POST", "/_emu/policies", map[string]interface{}{"name": "x", "permissions": []string{"DeviceConnect"}})
	if r := e.CtlDo("POST", "/_emu/config", map[string]interface{}{"assign_polls": 3, "retry_after": 0,
		"clock_offset": -90, "hub_host": "h2.example.net", "immediate_assign": true, "max_message_bytes": 10}); r.Status != 200 {
		t.Fatalf("config: %d %s", r.Status, r.Body)
	}
	var pols []policy
	e.CtlDo("GET", "/_emu/policies", nil).JSON(t, &pols)
	before := map[string]string{}
	for _, p := range pols {
		before[p.Name] = p.PrimaryKey
	}
	e.APIDo("GET", "/nope", nil, nil)
	if r := e.CtlDo("POST", "/_emu/reset", nil); r.Status != 204 {
		t.Fatal(r.Status)
	}
	var devs struct {
		Devices []emuDevice `json:"devices"`
	}
	e.CtlDo("GET", "/_emu/devices", nil).JSON(t, &devs)
	var enr struct {
		Groups      []enrollment `json:"groups"`
		Individuals []enrollment `json:"individuals"`
	}
	e.CtlDo("GET", "/_emu/enrollments", nil).JSON(t, &enr)
	if len(devs.Devices) != 0 || len(e.Violations()) != 0 || len(enr.Groups) != 1 || enr.Groups[0].Name != testGroup ||
		enr.Groups[0].PrimaryKey != testGroupKey || enr.Groups[0].SecondaryKey != testGroupKey2 {
		t.Fatalf("state kept: %+v %+v", devs, enr)
	}
	var cfg map[string]interface{}
	e.CtlDo("GET", "/_emu/config", nil).JSON(t, &cfg)
	if cfg["assign_polls"].(float64) != 1 || cfg["retry_after"].(float64) != 1 || cfg["clock_offset"] != "0s" ||
		cfg["hub_host"] != testHub || cfg["immediate_assign"].(bool) || cfg["skew"] != "5m0s" || cfg["id_scope"] != testScope {
		t.Fatalf("config kept: %v", cfg)
	}
	e.CtlDo("GET", "/_emu/policies", nil).JSON(t, &pols)
	if len(pols) != 5 {
		t.Fatalf("policies %+v", pols)
	}
	for _, p := range pols {
		if before[p.Name] != p.PrimaryKey {
			t.Errorf("policy %s key changed by reset", p.Name)
		}
	}
	var rules []emukit.FaultRule
	e.CtlDo("GET", "/_emu/faults", nil).JSON(t, &rules)
	if len(rules) != 0 {
		t.Fatal("faults kept")
	}
	if r := e.CtlDo("GET", "/_emu/reset", nil); r.Status != 405 {
		t.Fatalf("GET reset: %d", r.Status)
	}
	for _, bad := range []map[string]interface{}{
		{"hub_host": "localhost:8443"}, {"hub_host": "https://x.net"}, {"assign_polls": -1}, {"skew": "-1s"},
		{"clock_offset": "soon"}, {"id_scope": "a/b"}, {"max_message_bytes": 0}, {"unknown": 1},
	} {
		if r := e.CtlDo("POST", "/_emu/config", bad); r.Status != 400 {
			t.Errorf("config %v: %d", bad, r.Status)
		}
	}
	if r := e.CtlDo("GET", "/_emu/health", nil); r.Status != 200 || string(r.Body) != `{"ok":true}` {
		t.Fatalf("health: %d %s", r.Status, r.Body)
	}
}

func TestControlEnrollmentsDevicesPolicies(t *testing.T) {
	e := newEnv(t, nil)
	r := e.CtlDo("POST", "/_emu/enrollments", map[string]interface{}{"name": "g2", "id_scope": "0neABC"})
	var g enrollment
	r.JSON(t, &g)
	if r.Status != 201 || g.Type != "group" || g.IDScope != "0neABC" || g.ProvisioningStatus != "enabled" {
		t.Fatalf("add: %d %s", r.Status, r.Body)
	}
	for _, k := range []string{g.PrimaryKey, g.SecondaryKey} {
		if b, err := decodeKey(k); err != nil || len(b) != 64 {
			t.Fatalf("generated key %q %v", k, err)
		}
	}
	for _, bad := range []map[string]interface{}{
		{"type": "group"}, {"type": "individual"}, {"type": "other", "name": "x"}, {"name": "x", "primary_key": "abc"},
		{"name": "x", "provisioning_status": "paused"}, {"name": "x", "id_scope": "0ne-1"}, {"name": "x", "typo": 1},
		{"name": "x", "registration_id": "y", "type": "group"},
	} {
		if r := e.CtlDo("POST", "/_emu/enrollments", bad); r.Status != 400 {
			t.Errorf("enrollment %v: %d %s", bad, r.Status, r.Body)
		}
	}
	if r := e.CtlDo("DELETE", "/_emu/enrollments?name=g2&id_scope=0neABC", nil); r.Status != 204 {
		t.Fatalf("delete: %d", r.Status)
	}
	if r := e.CtlDo("DELETE", "/_emu/enrollments?name=g2&id_scope=0neABC", nil); r.Status != 404 {
		t.Fatalf("delete again: %d", r.Status)
	}
	// Devices through the control API; telemetry with their key.
	key := newKey(32)
	r = e.CtlDo("POST", "/_emu/devices", map[string]string{"device_id": "ctl-dev", "primary_key": key})
	if r.Status != 201 || !strings.Contains(string(r.Body), `"created_by":"control"`) {
		t.Fatalf("add device: %d %s", r.Status, r.Body)
	}
	if r := e.APIDo("POST", "/devices/ctl-dev/messages/events"+hubAPI, []byte("hi"),
		map[string]string{"Authorization": e.deviceToken("ctl-dev", key)}); r.Status != 204 {
		t.Fatalf("telemetry: %d %s", r.Status, r.Body)
	}
	for _, bad := range []map[string]string{{"device_id": "a b"}, {"device_id": "x", "status": "on"}, {"device_id": "x", "primary_key": "zz"}} {
		if r := e.CtlDo("POST", "/_emu/devices", bad); r.Status != 400 {
			t.Errorf("device %v: %d", bad, r.Status)
		}
	}
	if r := e.CtlDo("DELETE", "/_emu/devices?device_id=nope", nil); r.Status != 404 {
		t.Fatalf("delete unknown device: %d", r.Status)
	}
	if r := e.CtlDo("DELETE", "/_emu/devices?device_id=ctl-dev", nil); r.Status != 204 {
		t.Fatalf("delete device: %d", r.Status)
	}
	// Policies.
	for _, bad := range []map[string]interface{}{{"name": "custom"}, {"name": "p", "permissions": []string{"Fly"}}, {"permissions": []string{"RegistryRead"}}} {
		if r := e.CtlDo("POST", "/_emu/policies", bad); r.Status != 400 {
			t.Errorf("policy %v: %d", bad, r.Status)
		}
	}
	if r := e.CtlDo("DELETE", "/_emu/policies?name=service", nil); r.Status != 204 {
		t.Fatalf("delete policy: %d", r.Status)
	}
	if r := e.CtlDo("DELETE", "/_emu/policies?name=service", nil); r.Status != 404 {
		t.Fatalf("delete policy again: %d", r.Status)
	}
}
