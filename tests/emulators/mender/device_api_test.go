package main

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"
)

const (
	invPath    = "/api/devices/v1/inventory/device/attributes"
	nextPath   = "/api/devices/v1/deployments/device/deployments/next"
	nextV2Path = "/api/devices/v2/deployments/device/deployments/next"
)

func TestDeviceTokenChecks(t *testing.T) {
	e := newEnv(t, nil)
	tok, devID := e.acceptedToken(genKey(t, "ed25519"), map[string]interface{}{"mac": "tok"})
	if r := e.APIDo("PUT", invPath, []byte(`[]`), map[string]string{"Content-Type": "application/json"}); r.Status != 401 || errMsg(t, r) == "" {
		t.Fatalf("no Authorization: %d %s", r.Status, r.Body)
	}
	if r := e.APIDo("PUT", invPath, []byte(`[]`), bearerJSON("x.y.z")); r.Status != 401 || len(r.Body) != 0 {
		t.Fatalf("garbage token: %d %s", r.Status, r.Body)
	}
	// A management token is not a device token.
	if r := e.APIDo("PUT", invPath, []byte(`[]`), bearerJSON(testPAT)); r.Status != 401 {
		t.Fatalf("PAT on device API: %d", r.Status)
	}
	// A token signed by another server.
	other := newEnv(t, nil)
	otok, _ := other.acceptedToken(genKey(t, "ed25519"), map[string]interface{}{"mac": "tok"})
	if r := e.APIDo("PUT", invPath, []byte(`[]`), bearerJSON(otok)); r.Status != 401 {
		t.Fatalf("foreign token: %d", r.Status)
	}
	if r := e.APIDo("PUT", invPath, []byte(`[]`), bearerJSON(tok)); r.Status != 200 {
		t.Fatalf("good token: %d %s", r.Status, r.Body)
	}
	// Expire every token issued so far: 403 with an empty body.
	e.CtlDo("POST", "/_emu/expire-token", map[string]interface{}{"device_id": devID, "now": true})
	if r := e.APIDo("PUT", invPath, []byte(`[]`), bearerJSON(tok)); r.Status != 403 || len(r.Body) != 0 {
		t.Fatalf("expired: %d %s", r.Status, r.Body)
	}
	// Re-authentication at once (same second) gives a different, working token.
	k0 := genKey(t, "ed25519")
	tokA, devA := e.acceptedToken(k0, map[string]interface{}{"mac": "again"})
	e.CtlDo("POST", "/_emu/expire-token", map[string]interface{}{"device_id": devA, "now": true})
	r0 := e.auth(k0, `{"mac":"again"}`)
	if r0.Status != 200 || string(r0.Body) == tokA {
		t.Fatalf("re-auth after expiry: %d, same token %v", r0.Status, string(r0.Body) == tokA)
	}
	if r := e.APIDo("PUT", invPath, []byte(`[]`), bearerJSON(string(r0.Body))); r.Status != 200 {
		t.Fatalf("token after re-auth: %d", r.Status)
	}
	// Or 401, if configured as the current server code reads.
	e.CtlDo("POST", "/_emu/config", map[string]interface{}{"expired_status": 401})
	if r := e.APIDo("PUT", invPath, []byte(`[]`), bearerJSON(tok)); r.Status != 401 {
		t.Fatalf("expired as 401: %d", r.Status)
	}
	e.CtlDo("POST", "/_emu/config", map[string]interface{}{"expired_status": 403})
	// Re-authentication gives a fresh, working token.
	k := genKey(t, "p256")
	tok2, dev2 := e.acceptedToken(k, map[string]interface{}{"mac": "short"})
	// Short-lived tokens for that device.
	e.CtlDo("POST", "/_emu/expire-token", map[string]interface{}{"device_id": dev2, "ttl": "-1s"})
	r := e.auth(k, `{"mac":"short"}`)
	if r.Status != 200 {
		t.Fatal(r.Status)
	}
	if r := e.APIDo("PUT", invPath, []byte(`[]`), bearerJSON(string(r.Body))); r.Status != 403 {
		t.Fatalf("token issued expired: %d", r.Status)
	}
	// The earlier token of the same auth set still works (same jti).
	if r := e.APIDo("PUT", invPath, []byte(`[]`), bearerJSON(tok2)); r.Status != 200 {
		t.Fatalf("earlier token: %d", r.Status)
	}
	e.CtlDo("POST", "/_emu/expire-token", map[string]interface{}{"device_id": dev2, "ttl": "1h"})
	r = e.auth(k, `{"mac":"short"}`)
	c, _ := e.srv.jwt.parse(string(r.Body))
	if c.ExpiresAt-c.IssuedAt != 3600 {
		t.Fatalf("ttl 1h: %+v", c)
	}
	// Revocation through the control API.
	e.CtlDo("POST", "/_emu/revoke", map[string]string{"device_id": dev2})
	if r := e.APIDo("PUT", invPath, []byte(`[]`), bearerJSON(string(r.Body))); r.Status != 401 {
		t.Fatalf("revoked: %d", r.Status)
	}
	if st := e.state(); st.Devices[0].CheckInTime == nil {
		t.Error("no check_in_time after token use")
	}
}

func TestDeviceTokenExpiresByTime(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.JWTTTL = time.Second })
	tok, _ := e.acceptedToken(genKey(t, "ed25519"), map[string]interface{}{"mac": "t"})
	e.srv.now = func() time.Time { return time.Now().Add(3 * time.Second) }
	if r := e.APIDo("PUT", invPath, []byte(`[]`), bearerJSON(tok)); r.Status != 403 {
		t.Fatalf("expired by time: %d", r.Status)
	}
}

func TestInventory(t *testing.T) {
	e := newEnv(t, nil)
	tok, devID := e.acceptedToken(genKey(t, "ed25519"), map[string]interface{}{"mac": "inv"})
	put := func(method, body string) resp {
		return e.APIDo(method, invPath, []byte(body), bearerJSON(tok))
	}
	r := put("PUT", `[{"name":"os","value":"Linux"},{"name":"cpus","value":4},{"name":"ifs","value":["eth0","wlan0"]},{"name":"n","value":[1,2.5]},{"name":"empty","value":[]},{"name":"d","value":"x","description":"desc"}]`)
	if r.Status != 200 || len(r.Body) != 0 {
		t.Fatalf("PUT: %d %s", r.Status, r.Body)
	}
	inv := e.state().Devices[0].Inventory
	if len(inv) != 6 || inv[1].Value.(float64) != 4 || *inv[5].Description != "desc" || inv[0].Scope != "inventory" {
		t.Fatalf("stored: %+v", inv)
	}
	if r = put("PATCH", `[{"name":"os","value":"Yocto"},{"name":"new","value":"v"}]`); r.Status != 200 {
		t.Fatalf("PATCH: %d %s", r.Status, r.Body)
	}
	inv = e.state().Devices[0].Inventory
	if len(inv) != 7 || inv[0].Value != "Yocto" || inv[6].Name != "new" {
		t.Fatalf("after PATCH: %+v", inv)
	}
	if r = put("PUT", `[{"name":"only","value":"1"}]`); r.Status != 200 {
		t.Fatal(r.Status)
	}
	if inv = e.state().Devices[0].Inventory; len(inv) != 1 {
		t.Fatalf("PUT did not replace: %+v", inv)
	}
	bad := []string{
		`{"name":"a","value":"b"}`,
		`[{"name":"","value":"b"}]`,
		`[{"value":"b"}]`,
		`[{"name":"a"}]`,
		`[{"name":"a","value":null}]`,
		`[{"name":"a","value":true}]`,
		`[{"name":"a","value":{"x":1}}]`,
		`[{"name":"a","value":["x",1]}]`,
		`[{"name":"a","value":[1,"x"]}]`,
		`[{"name":"a","value":[true]}]`,
		`[{"name":"a","value":[["x"]]}]`,
		`[{"name":"a","value":"b","description":5}]`,
		`[{"name":` + fmt.Sprintf("%q", strings.Repeat("n", 1025)) + `,"value":"b"}]`,
		``,
		`[`,
	}
	for _, b := range bad {
		if r := put("PUT", b); r.Status != 400 {
			n := b
			if len(n) > 60 {
				n = n[:60]
			}
			t.Errorf("%s: %d %s", n, r.Status, r.Body)
		}
	}
	// 1024 runes are fine, multi-byte ones too.
	if r := put("PUT", `[{"name":`+fmt.Sprintf("%q", strings.Repeat("é", 1024))+`,"value":"b"}]`); r.Status != 200 {
		t.Errorf("1024 runes: %d %s", r.Status, r.Body)
	}
	many := func(n, from int) string {
		var a []map[string]interface{}
		for i := 0; i < n; i++ {
			a = append(a, map[string]interface{}{"name": fmt.Sprintf("a%d", from+i), "value": "v"})
		}
		b, _ := json.Marshal(a)
		return string(b)
	}
	before := len(e.Violations())
	if r := put("PUT", many(100, 0)); r.Status != 200 {
		t.Fatalf("100 attributes: %d", r.Status)
	}
	if r := put("PUT", many(101, 0)); r.Status != 400 {
		t.Fatalf("101 attributes: %d", r.Status)
	}
	if r := put("PATCH", many(1, 0)); r.Status != 200 {
		t.Fatalf("PATCH existing at the limit: %d", r.Status)
	}
	if r := put("PATCH", many(1, 500)); r.Status != 400 {
		t.Fatalf("PATCH over the limit: %d", r.Status)
	}
	if n := len(e.Violations()); n != before {
		t.Fatalf("the attribute limit counted as %d spec violations", n-before)
	}
	if r := e.APIDo("PUT", invPath, []byte(`[]`), map[string]string{"Authorization": "Bearer " + tok, "Content-Type": "text/plain"}); r.Status != 415 {
		t.Fatalf("text/plain: %d", r.Status)
	}
	_ = devID
}

func TestDeploymentsNext(t *testing.T) {
	e := newEnv(t, nil)
	tok, devID := e.acceptedToken(genKey(t, "ed25519"), map[string]interface{}{"mac": "dep"})
	get := func(q string) resp { return e.APIDo("GET", nextPath+q, nil, bearer(tok)) }
	if r := get("?artifact_name=rel-1&device_type=gw"); r.Status != 204 || len(r.Body) != 0 {
		t.Fatalf("no deployment: %d %s", r.Status, r.Body)
	}
	for _, q := range []string{"", "?artifact_name=a", "?device_type=gw", "?artifact_name=&device_type=gw",
		"?artifact_name=a&device_type=" + strings.Repeat("x", 4097)} {
		if r := get(q); r.Status != 400 {
			t.Errorf("%q: %d", q, r.Status)
		}
	}
	// v2 is absent (open-source server): 404, not a violation.
	before := len(e.Violations())
	if r := e.APIDo("POST", nextV2Path, []byte(`{"device_provides":{"device_type":"gw","artifact_name":"rel-1"}}`), bearerJSON(tok)); r.Status != 404 {
		t.Fatalf("v2 disabled: %d", r.Status)
	}
	if len(e.Violations()) != before {
		t.Fatal("disabled v2 counted as a violation")
	}
	r := e.CtlDo("POST", "/_emu/deployments", map[string]interface{}{
		"device_id": devID, "id": "dep-1", "artifact_name": "rel-2", "device_types_compatible": []string{"gw", "gw2"},
		"uri": "https://example.invalid/a.mender",
	})
	if r.Status != 201 {
		t.Fatalf("configure: %d %s", r.Status, r.Body)
	}
	r = get("?artifact_name=rel-1&device_type=gw")
	var ins deploymentInstructions
	r.JSON(t, &ins)
	if r.Status != 200 || ins.ID != "dep-1" || ins.Artifact.ArtifactName != "rel-2" ||
		ins.Artifact.Source.URI != "https://example.invalid/a.mender" || len(ins.Artifact.DeviceTypesCompatible) != 2 ||
		ins.Artifact.Source.Expire.IsZero() {
		t.Fatalf("deployment: %d %s", r.Status, r.Body)
	}
	// v1 POST with a body.
	r = e.APIDo("POST", nextPath, []byte(`{"artifact_name":"rel-1","device_type":"gw","artifact_provides":{"rootfs-image.version":"rel-1"}}`), bearerJSON(tok))
	if r.Status != 200 {
		t.Fatalf("v1 POST: %d %s", r.Status, r.Body)
	}
	if r := e.APIDo("POST", nextPath, []byte(`{"artifact_name":"rel-1"}`), bearerJSON(tok)); r.Status != 400 {
		t.Fatalf("v1 POST without device_type: %d", r.Status)
	}
	// v2 once enabled.
	e.CtlDo("POST", "/_emu/v2next", map[string]bool{"enabled": true})
	if r := e.APIDo("POST", nextV2Path, []byte(`{"device_provides":{"device_type":"gw","artifact_name":"rel-1"}}`), bearerJSON(tok)); r.Status != 200 {
		t.Fatalf("v2 enabled: %d %s", r.Status, r.Body)
	}
	if r := e.APIDo("POST", nextV2Path, []byte(`{"device_type":"gw"}`), bearerJSON(tok)); r.Status != 400 {
		t.Fatalf("v2 bad body: %d", r.Status)
	}
	// Status reports; a final one ends the deployment.
	st := func(id, status string) resp {
		return e.APIDo("PUT", "/api/devices/v1/deployments/device/deployments/"+id+"/status",
			[]byte(`{"status":"`+status+`"}`), bearerJSON(tok))
	}
	if r := st("dep-1", "downloading"); r.Status != 204 {
		t.Fatalf("downloading: %d %s", r.Status, r.Body)
	}
	if r := st("dep-1", "bogus"); r.Status != 400 {
		t.Fatalf("bogus status: %d", r.Status)
	}
	if r := st("nope", "success"); r.Status != 404 {
		t.Fatalf("unknown deployment: %d", r.Status)
	}
	if r := st("dep-1", "success"); r.Status != 204 {
		t.Fatalf("success: %d", r.Status)
	}
	if r := st("dep-1", "failure"); r.Status != 409 {
		t.Fatalf("after success: %d", r.Status)
	}
	if r := get("?artifact_name=rel-2&device_type=gw"); r.Status != 204 {
		t.Fatalf("finished: %d", r.Status)
	}
	// Wildcard deployment: already installed and incompatible give 204.
	e.CtlDo("POST", "/_emu/deployments", map[string]interface{}{"device_id": "*", "artifact_name": "rel-3", "device_types_compatible": []string{"other"}})
	if r := get("?artifact_name=rel-2&device_type=gw"); r.Status != 204 {
		t.Fatalf("incompatible: %d", r.Status)
	}
	e.CtlDo("DELETE", "/_emu/deployments", nil)
	e.CtlDo("POST", "/_emu/deployments", map[string]interface{}{"device_id": "*", "artifact_name": "rel-3"})
	if r := get("?artifact_name=rel-3&device_type=gw"); r.Status != 204 {
		t.Fatalf("already installed: %d", r.Status)
	}
}
