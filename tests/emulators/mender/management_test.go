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
		req, _ := http.NewRequest("POST", e.API.URL+"/api/management/v1/useradm/auth/login", nil)
		if body != nil {
			req, _ = http.NewRequest("POST", e.API.URL+"/api/management/v1/useradm/auth/login", strings.NewReader(string(body)))
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
		return resp{Status: res.StatusCode, Header: res.Header, Body: b}
	}
	r := login("Admin@Example.com", testPass, nil, nil)
	if r.Status != 200 || r.Header.Get("Content-Type") != "application/jwt" || strings.Count(string(r.Body), ".") != 2 {
		t.Fatalf("login: %d %v %s", r.Status, r.Header, r.Body)
	}
	tok := string(r.Body)
	if r := e.APIDo("GET", devicesPath, nil, bearer(tok)); r.Status != 200 {
		t.Fatalf("user token on management: %d %s", r.Status, r.Body)
	}
	if r := login(testUser, "nope", nil, nil); r.Status != 401 {
		t.Fatalf("bad password: %d", r.Status)
	}
	if r := login("", "", nil, nil); r.Status != 401 {
		t.Fatalf("no basic: %d", r.Status)
	}
	if r := login(testUser, testPass, []byte(`{"no_expiry":true}`), map[string]string{"Content-Type": "application/json"}); r.Status != 200 {
		t.Fatalf("no_expiry: %d %s", r.Status, r.Body)
	}
	if r := login(testUser, testPass, []byte(`{`), map[string]string{"Content-Type": "application/json"}); r.Status != 400 {
		t.Fatalf("bad body: %d %s", r.Status, r.Body)
	}
	if r := login(testUser, testPass, []byte(`{}`), map[string]string{"Content-Type": "text/plain"}); r.Status != 415 {
		t.Fatalf("text body: %d %s", r.Status, r.Body)
	}
}

func TestManagementAuth(t *testing.T) {
	e := newEnv(t, nil)
	if r := e.APIDo("GET", devicesPath, nil, nil); r.Status != 401 {
		t.Fatalf("no header: %d", r.Status)
	}
	if r := e.APIDo("GET", devicesPath, nil, bearer("garbage")); r.Status != 401 || errMsg(t, r) != "invalid jwt" {
		t.Fatalf("garbage: %d %s", r.Status, r.Body)
	}
	if r := e.APIDo("GET", devicesPath, nil, map[string]string{"Authorization": "Basic eDp5"}); r.Status != 401 {
		t.Fatalf("basic: %d", r.Status)
	}
	tok, _ := e.acceptedToken(genKey(t, "ed25519"), map[string]interface{}{"mac": "m"})
	if r := e.APIDo("GET", devicesPath, nil, bearer(tok)); r.Status != 401 {
		t.Fatalf("device token on management: %d", r.Status)
	}
	// PAT creation; the new PAT works; the name is unique.
	r := e.mgmt("POST", "/api/management/v1/useradm/settings/tokens", map[string]interface{}{"name": "ci", "expires_in": 3600})
	if r.Status != 200 {
		t.Fatalf("create PAT: %d %s", r.Status, r.Body)
	}
	if r2 := e.APIDo("GET", devicesPath, nil, bearer(string(r.Body))); r2.Status != 200 {
		t.Fatalf("new PAT: %d", r2.Status)
	}
	if r := e.mgmt("POST", "/api/management/v1/useradm/settings/tokens", map[string]interface{}{"name": "ci"}); r.Status != 409 {
		t.Fatalf("PAT name reuse: %d", r.Status)
	}
	if r := e.mgmt("POST", "/api/management/v1/useradm/settings/tokens", map[string]interface{}{"name": "x", "expires_in": 31536001}); r.Status != 400 {
		t.Fatalf("PAT expires_in: %d", r.Status)
	}
}

func TestPreauthorize(t *testing.T) {
	e := newEnv(t, nil)
	k := genKey(t, "rsa")
	body := map[string]interface{}{"identity_data": map[string]interface{}{"mac": "p", "sn": "1"}, "pubkey": k.pub}
	r := e.mgmt("POST", devicesPath, body)
	loc := r.Header.Get("Location")
	if r.Status != 201 || !strings.HasPrefix(loc, "devices/") || len(r.Body) != 0 {
		t.Fatalf("preauthorize: %d %q %s", r.Status, loc, r.Body)
	}
	id := strings.TrimPrefix(loc, "devices/")
	r = e.mgmt("POST", devicesPath, map[string]interface{}{"identity_data": map[string]interface{}{"sn": "1", "mac": "p"}, "pubkey": k.pub})
	var dev deviceJSON
	r.JSON(t, &dev)
	if r.Status != 409 || dev.ID != id || dev.Status != statusPreauth || dev.AuthSets != nil {
		t.Fatalf("conflict: %d %s", r.Status, r.Body)
	}
	if !strings.Contains(string(r.Body), `"auth_sets":null`) {
		t.Errorf("409 body should carry auth_sets null as the real server: %s", r.Body)
	}
	// force: a preauthorized auth set for another key, 201 with an unused id.
	k2 := genKey(t, "ed25519")
	r = e.mgmt("POST", devicesPath, map[string]interface{}{"identity_data": map[string]interface{}{"mac": "p", "sn": "1"}, "pubkey": k2.pub, "force": true})
	floc := strings.TrimPrefix(r.Header.Get("Location"), "devices/")
	if r.Status != 201 || floc == "" || floc == id {
		t.Fatalf("force: %d %q", r.Status, floc)
	}
	if r := e.mgmt("GET", devicesPath+"/"+floc, nil); r.Status != 404 {
		t.Fatalf("force Location should be unused: %d", r.Status)
	}
	r = e.mgmt("GET", devicesPath+"/"+id, nil)
	r.JSON(t, &dev)
	if len(dev.AuthSets) != 2 || dev.AuthSets[1].Status != statusPreauth || dev.AuthSets[1].PubKey != k2.pub {
		t.Fatalf("after force: %s", r.Body)
	}
	bad := []map[string]interface{}{
		{"identity_data": map[string]interface{}{}, "pubkey": k.pub},
		{"pubkey": k.pub},
		{"identity_data": map[string]interface{}{"mac": "q"}},
		{"identity_data": map[string]interface{}{"mac": "q"}, "pubkey": "junk"},
		{"identity_data": "mac=q", "pubkey": k.pub},
	}
	for i, b := range bad {
		if r := e.mgmt("POST", devicesPath, b); r.Status != 400 {
			t.Errorf("bad body %d: %d %s", i, r.Status, r.Body)
		}
	}
	if r := e.APIDo("POST", devicesPath, []byte(`{`), bearerJSON(testPAT)); r.Status != 400 {
		t.Errorf("broken JSON: %d", r.Status)
	}
	if r := e.APIDo("POST", devicesPath, []byte(`{}`), map[string]string{"Authorization": "Bearer " + testPAT, "Content-Type": "text/plain"}); r.Status != 415 {
		t.Errorf("text/plain: %d", r.Status)
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
	r.JSON(t, &devs)
	if r.Status != 200 || len(devs) != 2 || devs[0].IdentityData["n"] != "2" {
		t.Fatalf("page 2: %d %s", r.Status, r.Body)
	}
	links := strings.Join(r.Header["Link"], ",")
	for _, want := range []string{`page=1&per_page=2>; rel="first"`, `page=1&per_page=2>; rel="prev"`, `page=3&per_page=2>; rel="next"`} {
		if !strings.Contains(links, want) {
			t.Errorf("Link %q lacks %q", links, want)
		}
	}
	r = e.mgmt("GET", devicesPath+"?per_page=2&page=3", nil)
	r.JSON(t, &devs)
	if len(devs) != 2 || strings.Contains(strings.Join(r.Header["Link"], ","), `rel="next"`) {
		t.Fatalf("last page: %s %v", r.Body, r.Header["Link"])
	}
	r = e.mgmt("GET", devicesPath+"?status=pending", nil)
	r.JSON(t, &devs)
	if len(devs) != 1 || devs[0].Status != statusPending || len(devs[0].AuthSets) != 1 {
		t.Fatalf("pending: %s", r.Body)
	}
	r = e.mgmt("GET", devicesPath+"?id="+devs[0].ID, nil)
	r.JSON(t, &devs)
	if len(devs) != 1 {
		t.Fatalf("by id: %s", r.Body)
	}
	var empty []deviceJSON
	if r = e.mgmt("GET", devicesPath+"?page=9", nil); r.Status != 200 || string(r.Body) != "[]" {
		t.Fatalf("empty page: %s", r.Body)
	}
	r.JSON(t, &empty)
	for _, q := range []string{"per_page=501", "per_page=0", "page=0", "page=x", "status=bogus"} {
		if r := e.mgmt("GET", devicesPath+"?"+q, nil); r.Status != 400 {
			t.Errorf("%s: %d", q, r.Status)
		}
	}
	var cnt map[string]int
	e.mgmt("GET", devicesPath+"/count?status=preauthorized", nil).JSON(t, &cnt)
	if cnt["count"] != 5 {
		t.Errorf("count %v", cnt)
	}
	e.mgmt("GET", devicesPath+"/count", nil).JSON(t, &cnt)
	if cnt["count"] != 6 {
		t.Errorf("count all %v", cnt)
	}
	if r := e.mgmt("GET", devicesPath+"/count?status=x", nil); r.Status != 400 {
		t.Errorf("count bad status: %d", r.Status)
	}
	if r := e.mgmt("GET", devicesPath+"/nope", nil); r.Status != 404 || errMsg(t, r) != "device not found" {
		t.Errorf("get unknown: %d %s", r.Status, r.Body)
	}
	var found []deviceJSON
	e.mgmt("POST", devicesPath+"/search", map[string]interface{}{"status": []string{"pending", "accepted"}}).JSON(t, &found)
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
	if r := put(a.ID, a.AuthSets[0].ID, "preauthorized"); r.Status != 400 {
		t.Fatalf("to preauthorized: %d", r.Status)
	}
	if r := put(a.ID, "nope", "accepted"); r.Status != 404 {
		t.Fatalf("unknown auth set: %d", r.Status)
	}
	if r := put(b.ID, a.AuthSets[0].ID, "accepted"); r.Status != 400 {
		t.Fatalf("mismatch: %d %s", r.Status, r.Body)
	}
	if r := put(a.ID, a.AuthSets[0].ID, "accepted"); r.Status != 204 {
		t.Fatalf("accept a: %d %s", r.Status, r.Body)
	}
	if r := put(b.ID, b.AuthSets[0].ID, "accepted"); r.Status != 422 {
		t.Fatalf("limit: %d %s", r.Status, r.Body)
	}
	if r := put(a.ID, a.AuthSets[0].ID, "accepted"); r.Status != 204 {
		t.Fatalf("no-op: %d", r.Status)
	}
	if r := put(a.ID, a.AuthSets[0].ID, "pending"); r.Status != 204 {
		t.Fatalf("accepted -> pending: %d", r.Status)
	}
	if r := put(b.ID, b.AuthSets[0].ID, "rejected"); r.Status != 204 {
		t.Fatalf("pending -> rejected: %d", r.Status)
	}
	if r := put(b.ID, b.AuthSets[0].ID, "accepted"); r.Status != 204 {
		t.Fatalf("rejected -> accepted: %d %s", r.Status, r.Body)
	}
	var s map[string]string
	e.mgmt("GET", devicesPath+"/"+b.ID+"/auth/"+b.AuthSets[0].ID+"/status", nil).JSON(t, &s)
	if s["status"] != statusAccepted {
		t.Fatalf("status: %v", s)
	}
	// preauthorized -> pending is the one invalid move to pending.
	k := genKey(t, "ed25519")
	e.mgmt("POST", devicesPath, map[string]interface{}{"identity_data": map[string]interface{}{"mac": "c"}, "pubkey": k.pub})
	c := e.state().Devices[2]
	if r := put(c.ID, c.AuthSets[0].ID, "pending"); r.Status != 400 {
		t.Fatalf("preauthorized -> pending: %d", r.Status)
	}
	if r := e.mgmt("PUT", devicesPath+"/"+c.ID+"/auth/"+c.AuthSets[0].ID+"/status", map[string]int{"status": 1}); r.Status != 400 {
		t.Fatalf("bad body: %d", r.Status)
	}
}

func TestDecommissionAndDismiss(t *testing.T) {
	e := newEnv(t, nil)
	k := genKey(t, "ed25519")
	tok, id := e.acceptedToken(k, map[string]interface{}{"mac": "d"})
	if r := e.mgmt("DELETE", devicesPath+"/"+id, nil); r.Status != 204 {
		t.Fatalf("decommission: %d", r.Status)
	}
	if r := e.APIDo("PUT", invPath, []byte(`[]`), bearerJSON(tok)); r.Status != 401 {
		t.Fatalf("token after decommission: %d", r.Status)
	}
	if r := e.mgmt("DELETE", devicesPath+"/"+id, nil); r.Status != 404 || len(r.Body) != 0 {
		t.Fatalf("second decommission: %d %s", r.Status, r.Body)
	}
	// Re-preauthorization works at once (no decommission delay).
	if r := e.mgmt("POST", devicesPath, map[string]interface{}{"identity_data": map[string]interface{}{"mac": "d"}, "pubkey": k.pub}); r.Status != 201 {
		t.Fatalf("re-preauthorize: %d", r.Status)
	}
	// Dismissing the only preauthorized auth set deletes the device.
	d := e.state().Devices[0]
	if r := e.mgmt("DELETE", devicesPath+"/"+d.ID+"/auth/"+d.AuthSets[0].ID, nil); r.Status != 204 {
		t.Fatalf("dismiss: %d", r.Status)
	}
	if n := len(e.state().Devices); n != 0 {
		t.Fatalf("device left after dismissing its preauthorized auth set: %d", n)
	}
	if r := e.mgmt("DELETE", devicesPath+"/"+d.ID+"/auth/"+d.AuthSets[0].ID, nil); r.Status != 404 {
		t.Fatalf("dismiss again: %d", r.Status)
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
	e.CtlDo("POST", "/_emu/config", map[string]string{"decommission_delay": "1h"})
	k := genKey(t, "ed25519")
	_, id := e.acceptedToken(k, map[string]interface{}{"mac": "slow"})
	e.mgmt("DELETE", devicesPath+"/"+id, nil)
	r := e.mgmt("POST", devicesPath, map[string]interface{}{"identity_data": map[string]interface{}{"mac": "slow"}, "pubkey": k.pub})
	var dev deviceJSON
	r.JSON(t, &dev)
	if r.Status != 409 || !dev.Decommissioning {
		t.Fatalf("re-preauthorize while decommissioning: %d %s", r.Status, r.Body)
	}
	if r := e.auth(k, `{"mac":"slow"}`); r.Status != 401 {
		t.Fatalf("auth while decommissioning: %d", r.Status)
	}
}

func TestRevokeTokenAndLimits(t *testing.T) {
	e := newEnv(t, nil)
	tok, _ := e.acceptedToken(genKey(t, "ed25519"), map[string]interface{}{"mac": "r"})
	c, _ := e.srv.jwt.parse(tok)
	if r := e.mgmt("DELETE", "/api/management/v2/devauth/tokens/"+c.ID, nil); r.Status != 204 {
		t.Fatalf("revoke: %d", r.Status)
	}
	if r := e.APIDo("PUT", invPath, []byte(`[]`), bearerJSON(tok)); r.Status != 401 {
		t.Fatalf("revoked token: %d", r.Status)
	}
	if r := e.mgmt("DELETE", "/api/management/v2/devauth/tokens/"+c.ID, nil); r.Status != 404 {
		t.Fatalf("revoke again: %d", r.Status)
	}
	var lim map[string]int
	e.mgmt("GET", "/api/management/v2/devauth/limits/max_devices", nil).JSON(t, &lim)
	if lim["limit"] != -1 {
		t.Fatalf("unlimited: %v", lim)
	}
	if r := e.mgmt("GET", "/api/management/v2/devauth/limits/other", nil); r.Status != 400 {
		t.Fatalf("other limit: %d", r.Status)
	}
}

func TestRoutingErrors(t *testing.T) {
	e := newEnv(t, nil)
	r := e.APIDo("GET", "/api/devices/v1/nothing", nil, nil)
	if r.Status != 404 || errMsg(t, r) != "not found" {
		t.Fatalf("no route: %d %s", r.Status, r.Body)
	}
	r = e.APIDo("GET", authPath, nil, nil)
	if r.Status != 405 || errMsg(t, r) != "method not allowed" {
		t.Fatalf("wrong method: %d %s", r.Status, r.Body)
	}
	r = e.APIDo("OPTIONS", authPath, nil, nil)
	if r.Status != 200 || r.Header.Get("Allow") != "POST" {
		t.Fatalf("OPTIONS: %d %v", r.Status, r.Header)
	}
	if id := r.Header.Get("X-MEN-RequestID"); id == "" {
		t.Fatal("no X-MEN-RequestID")
	}
	r = e.APIDo("GET", "/api/devices/v1/nothing", nil, map[string]string{"X-MEN-RequestID": "abc"})
	if r.Header.Get("X-MEN-RequestID") != "abc" || !strings.Contains(string(r.Body), `"request_id":"abc"`) {
		t.Fatalf("request id not echoed: %v %s", r.Header, r.Body)
	}
	e.ExpectViolations(vkRoute, vkMethod, vkRoute)
}
