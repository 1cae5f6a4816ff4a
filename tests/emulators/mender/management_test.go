package main

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
)

const devicesPath = "/api/management/v2/devauth/devices"

func TestLogin(t *testing.T) {
	e := newEnv(t, nil)
	login := func(user, pass string, body []byte, hdr map[string]string) resp {
		req, _ := http.NewRequest("POST", e.api.URL+"/api/management/v1/useradm/auth/login", nil)
		if body != nil {
			req, _ = http.NewRequest("POST", e.api.URL+"/api/management/v1/useradm/auth/login", strings.NewReader(string(body)))
		}
		if user != "" {
			req.SetBasicAuth(user, pass)
		}
		for k, v := range hdr {
			req.Header.Set(k, v)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return resp{status: res.StatusCode, header: res.Header, body: b}
	}
	r := login("Admin@Example.com", testPass, nil, nil)
	if r.status != 200 || r.header.Get("Content-Type") != "application/jwt" || strings.Count(string(r.body), ".") != 2 {
		t.Fatalf("login: %d %v %s", r.status, r.header, r.body)
	}
	tok := string(r.body)
	if r := e.apiDo("GET", devicesPath, nil, bearer(tok)); r.status != 200 {
		t.Fatalf("user token on management: %d %s", r.status, r.body)
	}
	if r := login(testUser, "nope", nil, nil); r.status != 401 {
		t.Fatalf("bad password: %d", r.status)
	}
	if r := login("", "", nil, nil); r.status != 401 {
		t.Fatalf("no basic: %d", r.status)
	}
	if r := login(testUser, testPass, []byte(`{"no_expiry":true}`), map[string]string{"Content-Type": "application/json"}); r.status != 200 {
		t.Fatalf("no_expiry: %d %s", r.status, r.body)
	}
	if r := login(testUser, testPass, []byte(`{`), map[string]string{"Content-Type": "application/json"}); r.status != 400 {
		t.Fatalf("bad body: %d %s", r.status, r.body)
	}
	if r := login(testUser, testPass, []byte(`{}`), map[string]string{"Content-Type": "text/plain"}); r.status != 415 {
		t.Fatalf("text body: %d %s", r.status, r.body)
	}
}

func TestManagementAuth(t *testing.T) {
	e := newEnv(t, nil)
	if r := e.apiDo("GET", devicesPath, nil, nil); r.status != 401 {
		t.Fatalf("no header: %d", r.status)
	}
	if r := e.apiDo("GET", devicesPath, nil, bearer("garbage")); r.status != 401 || r.errMsg(t) != "invalid jwt" {
		t.Fatalf("garbage: %d %s", r.status, r.body)
	}
	if r := e.apiDo("GET", devicesPath, nil, map[string]string{"Authorization": "Basic eDp5"}); r.status != 401 {
		t.Fatalf("basic: %d", r.status)
	}
	tok, _ := e.acceptedToken(genKey(t, "ed25519"), map[string]interface{}{"mac": "m"})
	if r := e.apiDo("GET", devicesPath, nil, bearer(tok)); r.status != 401 {
		t.Fatalf("device token on management: %d", r.status)
	}
	// PAT creation; the new PAT works; the name is unique.
	r := e.mgmt("POST", "/api/management/v1/useradm/settings/tokens", map[string]interface{}{"name": "ci", "expires_in": 3600})
	if r.status != 200 {
		t.Fatalf("create PAT: %d %s", r.status, r.body)
	}
	if r2 := e.apiDo("GET", devicesPath, nil, bearer(string(r.body))); r2.status != 200 {
		t.Fatalf("new PAT: %d", r2.status)
	}
	if r := e.mgmt("POST", "/api/management/v1/useradm/settings/tokens", map[string]interface{}{"name": "ci"}); r.status != 409 {
		t.Fatalf("PAT name reuse: %d", r.status)
	}
	if r := e.mgmt("POST", "/api/management/v1/useradm/settings/tokens", map[string]interface{}{"name": "x", "expires_in": 31536001}); r.status != 400 {
		t.Fatalf("PAT expires_in: %d", r.status)
	}
}

func TestPreauthorize(t *testing.T) {
	e := newEnv(t, nil)
	k := genKey(t, "rsa")
	body := map[string]interface{}{"identity_data": map[string]interface{}{"mac": "p", "sn": "1"}, "pubkey": k.pub}
	r := e.mgmt("POST", devicesPath, body)
	loc := r.header.Get("Location")
	if r.status != 201 || !strings.HasPrefix(loc, "devices/") || len(r.body) != 0 {
		t.Fatalf("preauthorize: %d %q %s", r.status, loc, r.body)
	}
	id := strings.TrimPrefix(loc, "devices/")
	r = e.mgmt("POST", devicesPath, map[string]interface{}{"identity_data": map[string]interface{}{"sn": "1", "mac": "p"}, "pubkey": k.pub})
	var dev deviceJSON
	r.json(t, &dev)
	if r.status != 409 || dev.ID != id || dev.Status != statusPreauth || dev.AuthSets != nil {
		t.Fatalf("conflict: %d %s", r.status, r.body)
	}
	if !strings.Contains(string(r.body), `"auth_sets":null`) {
		t.Errorf("409 body should carry auth_sets null as the real server: %s", r.body)
	}
	// force: a preauthorized auth set for another key, 201 with an unused id.
	k2 := genKey(t, "ed25519")
	r = e.mgmt("POST", devicesPath, map[string]interface{}{"identity_data": map[string]interface{}{"mac": "p", "sn": "1"}, "pubkey": k2.pub, "force": true})
	floc := strings.TrimPrefix(r.header.Get("Location"), "devices/")
	if r.status != 201 || floc == "" || floc == id {
		t.Fatalf("force: %d %q", r.status, floc)
	}
	if r := e.mgmt("GET", devicesPath+"/"+floc, nil); r.status != 404 {
		t.Fatalf("force Location should be unused: %d", r.status)
	}
	r = e.mgmt("GET", devicesPath+"/"+id, nil)
	r.json(t, &dev)
	if len(dev.AuthSets) != 2 || dev.AuthSets[1].Status != statusPreauth || dev.AuthSets[1].PubKey != k2.pub {
		t.Fatalf("after force: %s", r.body)
	}
	bad := []map[string]interface{}{
		{"identity_data": map[string]interface{}{}, "pubkey": k.pub},
		{"pubkey": k.pub},
		{"identity_data": map[string]interface{}{"mac": "q"}},
		{"identity_data": map[string]interface{}{"mac": "q"}, "pubkey": "junk"},
		{"identity_data": "mac=q", "pubkey": k.pub},
	}
	for i, b := range bad {
		if r := e.mgmt("POST", devicesPath, b); r.status != 400 {
			t.Errorf("bad body %d: %d %s", i, r.status, r.body)
		}
	}
	if r := e.apiDo("POST", devicesPath, []byte(`{`), bearerJSON(testPAT)); r.status != 400 {
		t.Errorf("broken JSON: %d", r.status)
	}
	if r := e.apiDo("POST", devicesPath, []byte(`{}`), map[string]string{"Authorization": "Bearer " + testPAT, "Content-Type": "text/plain"}); r.status != 415 {
		t.Errorf("text/plain: %d", r.status)
	}
}

func TestListCountGet(t *testing.T) {
	e := newEnv(t, nil)
	for i := 0; i < 5; i++ {
		e.mgmt("POST", devicesPath, map[string]interface{}{
			"identity_data": map[string]interface{}{"n": fmt.Sprint(i)}, "pubkey": genKey(t, "ed25519").pub,
		})
	}
	e.auth(genKey(t, "ed25519"), `{"n":"pending"}`)
	var devs []deviceJSON
	r := e.mgmt("GET", devicesPath+"?per_page=2&page=2", nil)
	r.json(t, &devs)
	if r.status != 200 || len(devs) != 2 || devs[0].IdentityData["n"] != "2" {
		t.Fatalf("page 2: %d %s", r.status, r.body)
	}
	links := strings.Join(r.header["Link"], ",")
	for _, want := range []string{`page=1&per_page=2>; rel="first"`, `page=1&per_page=2>; rel="prev"`, `page=3&per_page=2>; rel="next"`} {
		if !strings.Contains(links, want) {
			t.Errorf("Link %q lacks %q", links, want)
		}
	}
	r = e.mgmt("GET", devicesPath+"?per_page=2&page=3", nil)
	r.json(t, &devs)
	if len(devs) != 2 || strings.Contains(strings.Join(r.header["Link"], ","), `rel="next"`) {
		t.Fatalf("last page: %s %v", r.body, r.header["Link"])
	}
	r = e.mgmt("GET", devicesPath+"?status=pending", nil)
	r.json(t, &devs)
	if len(devs) != 1 || devs[0].Status != statusPending || len(devs[0].AuthSets) != 1 {
		t.Fatalf("pending: %s", r.body)
	}
	r = e.mgmt("GET", devicesPath+"?id="+devs[0].ID, nil)
	r.json(t, &devs)
	if len(devs) != 1 {
		t.Fatalf("by id: %s", r.body)
	}
	var empty []deviceJSON
	if r = e.mgmt("GET", devicesPath+"?page=9", nil); r.status != 200 || string(r.body) != "[]" {
		t.Fatalf("empty page: %s", r.body)
	}
	r.json(t, &empty)
	for _, q := range []string{"per_page=501", "per_page=0", "page=0", "page=x", "status=bogus"} {
		if r := e.mgmt("GET", devicesPath+"?"+q, nil); r.status != 400 {
			t.Errorf("%s: %d", q, r.status)
		}
	}
	var cnt map[string]int
	e.mgmt("GET", devicesPath+"/count?status=preauthorized", nil).json(t, &cnt)
	if cnt["count"] != 5 {
		t.Errorf("count %v", cnt)
	}
	e.mgmt("GET", devicesPath+"/count", nil).json(t, &cnt)
	if cnt["count"] != 6 {
		t.Errorf("count all %v", cnt)
	}
	if r := e.mgmt("GET", devicesPath+"/count?status=x", nil); r.status != 400 {
		t.Errorf("count bad status: %d", r.status)
	}
	if r := e.mgmt("GET", devicesPath+"/nope", nil); r.status != 404 || r.errMsg(t) != "device not found" {
		t.Errorf("get unknown: %d %s", r.status, r.body)
	}
	var found []deviceJSON
	e.mgmt("POST", devicesPath+"/search", map[string]interface{}{"status": []string{"pending", "accepted"}}).json(t, &found)
	if len(found) != 1 {
		t.Errorf("search: %+v", found)
	}
}

func TestStatusTransitions(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.MaxDevices = 1 })
	e.auth(genKey(t, "ed25519"), `{"mac":"a"}`)
	e.auth(genKey(t, "ed25519"), `{"mac":"b"}`)
	st := e.state()
	a, b := st.Devices[0], st.Devices[1]
	put := func(devID, aid, status string) resp {
		return e.mgmt("PUT", devicesPath+"/"+devID+"/auth/"+aid+"/status", map[string]string{"status": status})
	}
	if r := put(a.ID, a.AuthSets[0].ID, "preauthorized"); r.status != 400 {
		t.Fatalf("to preauthorized: %d", r.status)
	}
	if r := put(a.ID, "nope", "accepted"); r.status != 404 {
		t.Fatalf("unknown auth set: %d", r.status)
	}
	if r := put(b.ID, a.AuthSets[0].ID, "accepted"); r.status != 400 {
		t.Fatalf("mismatch: %d %s", r.status, r.body)
	}
	if r := put(a.ID, a.AuthSets[0].ID, "accepted"); r.status != 204 {
		t.Fatalf("accept a: %d %s", r.status, r.body)
	}
	if r := put(b.ID, b.AuthSets[0].ID, "accepted"); r.status != 422 {
		t.Fatalf("limit: %d %s", r.status, r.body)
	}
	if r := put(a.ID, a.AuthSets[0].ID, "accepted"); r.status != 204 {
		t.Fatalf("no-op: %d", r.status)
	}
	if r := put(a.ID, a.AuthSets[0].ID, "pending"); r.status != 204 {
		t.Fatalf("accepted -> pending: %d", r.status)
	}
	if r := put(b.ID, b.AuthSets[0].ID, "rejected"); r.status != 204 {
		t.Fatalf("pending -> rejected: %d", r.status)
	}
	if r := put(b.ID, b.AuthSets[0].ID, "accepted"); r.status != 204 {
		t.Fatalf("rejected -> accepted: %d %s", r.status, r.body)
	}
	var s map[string]string
	e.mgmt("GET", devicesPath+"/"+b.ID+"/auth/"+b.AuthSets[0].ID+"/status", nil).json(t, &s)
	if s["status"] != statusAccepted {
		t.Fatalf("status: %v", s)
	}
	// preauthorized -> pending is the one invalid move to pending.
	k := genKey(t, "ed25519")
	e.mgmt("POST", devicesPath, map[string]interface{}{"identity_data": map[string]interface{}{"mac": "c"}, "pubkey": k.pub})
	c := e.state().Devices[2]
	if r := put(c.ID, c.AuthSets[0].ID, "pending"); r.status != 400 {
		t.Fatalf("preauthorized -> pending: %d", r.status)
	}
	if r := e.mgmt("PUT", devicesPath+"/"+c.ID+"/auth/"+c.AuthSets[0].ID+"/status", map[string]int{"status": 1}); r.status != 400 {
		t.Fatalf("bad body: %d", r.status)
	}
}

func TestDecommissionAndDismiss(t *testing.T) {
	e := newEnv(t, nil)
	k := genKey(t, "ed25519")
	tok, id := e.acceptedToken(k, map[string]interface{}{"mac": "d"})
	if r := e.mgmt("DELETE", devicesPath+"/"+id, nil); r.status != 204 {
		t.Fatalf("decommission: %d", r.status)
	}
	if r := e.apiDo("PUT", invPath, []byte(`[]`), bearerJSON(tok)); r.status != 401 {
		t.Fatalf("token after decommission: %d", r.status)
	}
	if r := e.mgmt("DELETE", devicesPath+"/"+id, nil); r.status != 404 || len(r.body) != 0 {
		t.Fatalf("second decommission: %d %s", r.status, r.body)
	}
	// Re-preauthorization works at once (no decommission delay).
	if r := e.mgmt("POST", devicesPath, map[string]interface{}{"identity_data": map[string]interface{}{"mac": "d"}, "pubkey": k.pub}); r.status != 201 {
		t.Fatalf("re-preauthorize: %d", r.status)
	}
	// Dismissing the only preauthorized auth set deletes the device.
	d := e.state().Devices[0]
	if r := e.mgmt("DELETE", devicesPath+"/"+d.ID+"/auth/"+d.AuthSets[0].ID, nil); r.status != 204 {
		t.Fatalf("dismiss: %d", r.status)
	}
	if n := len(e.state().Devices); n != 0 {
		t.Fatalf("device left after dismissing its preauthorized auth set: %d", n)
	}
	if r := e.mgmt("DELETE", devicesPath+"/"+d.ID+"/auth/"+d.AuthSets[0].ID, nil); r.status != 404 {
		t.Fatalf("dismiss again: %d", r.status)
	}
	// A pending device keeps existing (noauth) when its auth set goes.
	e.auth(genKey(t, "ed25519"), `{"mac":"e"}`)
	d = e.state().Devices[0]
	e.mgmt("DELETE", devicesPath+"/"+d.ID+"/auth/"+d.AuthSets[0].ID, nil)
	if st := e.state(); len(st.Devices) != 1 || st.Devices[0].Status != statusNoAuth {
		t.Fatalf("after dismissing pending: %+v", st.Devices)
	}
}

func TestDecommissionDelay409(t *testing.T) {
	e := newEnv(t, nil)
	e.ctlDo("POST", "/_emu/config", map[string]string{"decommission_delay": "1h"})
	k := genKey(t, "ed25519")
	_, id := e.acceptedToken(k, map[string]interface{}{"mac": "slow"})
	e.mgmt("DELETE", devicesPath+"/"+id, nil)
	r := e.mgmt("POST", devicesPath, map[string]interface{}{"identity_data": map[string]interface{}{"mac": "slow"}, "pubkey": k.pub})
	var dev deviceJSON
	r.json(t, &dev)
	if r.status != 409 || !dev.Decommissioning {
		t.Fatalf("re-preauthorize while decommissioning: %d %s", r.status, r.body)
	}
	if r := e.auth(k, `{"mac":"slow"}`); r.status != 401 {
		t.Fatalf("auth while decommissioning: %d", r.status)
	}
}

func TestRevokeTokenAndLimits(t *testing.T) {
	e := newEnv(t, nil)
	tok, _ := e.acceptedToken(genKey(t, "ed25519"), map[string]interface{}{"mac": "r"})
	c, _ := e.srv.jwt.parse(tok)
	if r := e.mgmt("DELETE", "/api/management/v2/devauth/tokens/"+c.ID, nil); r.status != 204 {
		t.Fatalf("revoke: %d", r.status)
	}
	if r := e.apiDo("PUT", invPath, []byte(`[]`), bearerJSON(tok)); r.status != 401 {
		t.Fatalf("revoked token: %d", r.status)
	}
	if r := e.mgmt("DELETE", "/api/management/v2/devauth/tokens/"+c.ID, nil); r.status != 404 {
		t.Fatalf("revoke again: %d", r.status)
	}
	var lim map[string]int
	e.mgmt("GET", "/api/management/v2/devauth/limits/max_devices", nil).json(t, &lim)
	if lim["limit"] != -1 {
		t.Fatalf("unlimited: %v", lim)
	}
	if r := e.mgmt("GET", "/api/management/v2/devauth/limits/other", nil); r.status != 400 {
		t.Fatalf("other limit: %d", r.status)
	}
}

func TestRoutingErrors(t *testing.T) {
	e := newEnv(t, nil)
	r := e.apiDo("GET", "/api/devices/v1/nothing", nil, nil)
	if r.status != 404 || r.errMsg(t) != "not found" {
		t.Fatalf("no route: %d %s", r.status, r.body)
	}
	r = e.apiDo("GET", authPath, nil, nil)
	if r.status != 405 || r.errMsg(t) != "method not allowed" {
		t.Fatalf("wrong method: %d %s", r.status, r.body)
	}
	r = e.apiDo("OPTIONS", authPath, nil, nil)
	if r.status != 200 || r.header.Get("Allow") != "POST" {
		t.Fatalf("OPTIONS: %d %v", r.status, r.header)
	}
	if id := r.header.Get("X-MEN-RequestID"); id == "" {
		t.Fatal("no X-MEN-RequestID")
	}
	r = e.apiDo("GET", "/api/devices/v1/nothing", nil, map[string]string{"X-MEN-RequestID": "abc"})
	if r.header.Get("X-MEN-RequestID") != "abc" || !strings.Contains(string(r.body), `"request_id":"abc"`) {
		t.Fatalf("request id not echoed: %v %s", r.header, r.body)
	}
	e.expectViolations(vkRoute, vkMethod, vkRoute)
}
