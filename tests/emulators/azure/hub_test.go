package main

import (
	"encoding/base64"
	"strings"
	"testing"
)

func (e *testEnv) putDevice(id, token string, body string, ifMatch string) resp {
	e.t.Helper()
	h := jsonHdr(token)
	if ifMatch != "" {
		h["If-Match"] = ifMatch
	}
	return e.APIDo("PUT", "/devices/"+id+hubAPI, []byte(body), h)
}

func (e *testEnv) getDevice(id, token string) (resp, deviceJSON) {
	e.t.Helper()
	r := e.APIDo("GET", "/devices/"+id+hubAPI, nil, map[string]string{"Authorization": token})
	var d deviceJSON
	if r.Status == 200 {
		r.JSON(e.t, &d)
	}
	return r, d
}

func (e *testEnv) deleteDevice(id, token, ifMatch string) resp {
	e.t.Helper()
	h := map[string]string{"Authorization": token}
	if ifMatch != "" {
		h["If-Match"] = ifMatch
	}
	return e.APIDo("DELETE", "/devices/"+id+hubAPI, nil, h)
}

func TestRegistryCreateGetUpdateDeleteWithETags(t *testing.T) {
	e := newEnv(t, nil)
	owner := e.ownerToken()
	r := e.putDevice("dev-1", owner, `{"deviceId":"dev-1"}`, "")
	var d deviceJSON
	r.JSON(t, &d)
	if r.Status != 200 || d.DeviceID != "dev-1" || d.Status != "enabled" || d.Authentication.Type != "sas" ||
		d.ETag == "" || r.Header.Get("ETag") != `"`+d.ETag+`"` || d.GenerationID == "" || d.ConnectionState != "Disconnected" {
		t.Fatalf("create: %d %v %s", r.Status, r.Header, r.Body)
	}
	for _, k := range []*string{d.Authentication.SymmetricKey.PrimaryKey, d.Authentication.SymmetricKey.SecondaryKey} {
		if b, err := base64.StdEncoding.DecodeString(*k); err != nil || len(b) != 32 {
			t.Fatalf("generated key %q: %d bytes %v", *k, len(b), err)
		}
	}
	// Creating it again without If-Match: 409.
	r = e.putDevice("dev-1", owner, `{"deviceId":"dev-1"}`, "")
	if r.Status != 409 || !strings.HasPrefix(hubErrOf(t, r).Message, "ErrorCode:DeviceAlreadyExists;") {
		t.Fatalf("re-create: %d %s", r.Status, r.Body)
	}
	// A stale etag: 412; an unquoted one: 412 Invalid ETag (and a violation).
	r = e.putDevice("dev-1", owner, `{"deviceId":"dev-1","status":"disabled"}`, `"AAAA"`)
	if r.Status != 412 || !strings.HasPrefix(hubErrOf(t, r).Message, "ErrorCode:PreconditionFailed;") {
		t.Fatalf("stale etag: %d %s", r.Status, r.Body)
	}
	r = e.putDevice("dev-1", owner, `{"deviceId":"dev-1","status":"disabled"}`, d.ETag)
	if r.Status != 412 || !strings.Contains(hubErrOf(t, r).Message, "Invalid ETag") {
		t.Fatalf("unquoted etag: %d %s", r.Status, r.Body)
	}
	// The current etag: updated, keys kept when the body has none.
	r = e.putDevice("dev-1", owner, `{"deviceId":"dev-1","status":"Disabled","statusReason":"maintenance"}`, `"`+d.ETag+`"`)
	var d2 deviceJSON
	r.JSON(t, &d2)
	if r.Status != 200 || d2.Status != "disabled" || d2.ETag == d.ETag || *d2.StatusReason != "maintenance" ||
		*d2.Authentication.SymmetricKey.PrimaryKey != *d.Authentication.SymmetricKey.PrimaryKey || d2.GenerationID != d.GenerationID {
		t.Fatalf("update: %d %s", r.Status, r.Body)
	}
	// "*" with new keys.
	k1, k2 := newKey(32), newKey(16)
	r = e.putDevice("dev-1", owner, `{"deviceId":"dev-1","authentication":{"type":"sas","symmetricKey":{"primaryKey":"`+k1+`","secondaryKey":"`+k2+`"}}}`, "*")
	var d3 deviceJSON
	r.JSON(t, &d3)
	if r.Status != 200 || *d3.Authentication.SymmetricKey.PrimaryKey != k1 || d3.Status != "enabled" {
		t.Fatalf("update *: %d %s", r.Status, r.Body)
	}
	// GET reflects it, with the ETag header.
	r, got := e.getDevice("dev-1", owner)
	if r.Status != 200 || got.ETag != d3.ETag || r.Header.Get("ETag") != `"`+d3.ETag+`"` {
		t.Fatalf("get: %d %s", r.Status, r.Body)
	}
	// Delete: stale etag 412, unquoted 412, W/"current" works.
	if r := e.deleteDevice("dev-1", owner, `"`+d.ETag+`"`); r.Status != 412 {
		t.Fatalf("delete stale: %d", r.Status)
	}
	if r := e.deleteDevice("dev-1", owner, d3.ETag); r.Status != 412 {
		t.Fatalf("delete unquoted: %d", r.Status)
	}
	if r := e.deleteDevice("dev-1", owner, `W/"`+d3.ETag+`"`); r.Status != 204 || len(r.Body) != 0 {
		t.Fatalf("delete: %d %s", r.Status, r.Body)
	}
	if r, _ := e.getDevice("dev-1", owner); r.Status != 404 || !strings.HasPrefix(hubErrOf(t, r).Message, "ErrorCode:DeviceNotFound;") {
		t.Fatalf("get deleted: %d %s", r.Status, r.Body)
	}
	if r := e.deleteDevice("dev-1", owner, "*"); r.Status != 404 {
		t.Fatalf("delete deleted: %d", r.Status)
	}
	// Update of a device that does not exist: 404.
	if r := e.putDevice("dev-1", owner, `{"deviceId":"dev-1"}`, "*"); r.Status != 404 {
		t.Fatalf("update missing: %d", r.Status)
	}
	// Delete without If-Match is unconditional.
	e.putDevice("dev-2", owner, `{"deviceId":"dev-2"}`, "")
	if r := e.deleteDevice("dev-2", owner, ""); r.Status != 204 {
		t.Fatalf("delete without If-Match: %d", r.Status)
	}
	e.ExpectViolations(vkETag, vkETag)
}

func TestRegistryBodyChecks(t *testing.T) {
	e := newEnv(t, nil)
	owner := e.ownerToken()
	for name, body := range map[string]string{
		"not json":       "{",
		"array":          "[]",
		"no id":          `{}`,
		"other id":       `{"deviceId":"dev-9"}`,
		"id case":        `{"deviceId":"DEV-1"}`,
		"bad status":     `{"deviceId":"dev-1","status":"on"}`,
		"bad type":       `{"deviceId":"dev-1","authentication":{"type":"password"}}`,
		"one key":        `{"deviceId":"dev-1","authentication":{"symmetricKey":{"primaryKey":"` + newKey(32) + `"}}}`,
		"bad key":        `{"deviceId":"dev-1","authentication":{"symmetricKey":{"primaryKey":"abc","secondaryKey":"abc"}}}`,
		"short key":      `{"deviceId":"dev-1","authentication":{"symmetricKey":{"primaryKey":"` + newKey(8) + `","secondaryKey":"` + newKey(8) + `"}}}`,
		"status type":    `{"deviceId":"dev-1","status":1}`,
		"selfSigned":     `{"deviceId":"dev-1","authentication":{"type":"selfSigned"}}`,
		"iotEdge string": `{"deviceId":"dev-1","capabilities":{"iotEdge":"yes"}}`,
	} {
		r := e.putDevice("dev-1", owner, body, "")
		if r.Status != 400 || !strings.HasPrefix(hubErrOf(t, r).Message, "ErrorCode:ArgumentInvalid;") {
			t.Errorf("%s: %d %s", name, r.Status, r.Body)
		}
	}
	if r := e.APIDo("PUT", "/devices/dev-1"+hubAPI, []byte(`{"deviceId":"dev-1"}`), map[string]string{"Authorization": owner}); r.Status != 415 {
		t.Fatalf("no Content-Type: %d", r.Status)
	}
	if r := e.putDevice("bad%20id", owner, `{"deviceId":"bad id"}`, ""); r.Status != 400 {
		t.Fatalf("bad device id: %d", r.Status)
	}
	// Special characters allowed in device ids, URL-encoded in the path.
	id := "a+b@c.d$e(f)"
	if r := e.putDevice(strings.ReplaceAll(id, "+", "%2B"), owner, `{"deviceId":"`+id+`"}`, ""); r.Status != 200 {
		t.Fatalf("special id: %d %s", r.Status, r.Body)
	}
	// Non-SAS identities keep no keys.
	r := e.putDevice("x509-dev", owner, `{"deviceId":"x509-dev","authentication":{"type":"selfSigned","x509Thumbprint":{"primaryThumbprint":"AB"}}}`, "")
	if r.Status != 200 || !strings.Contains(string(r.Body), `"symmetricKey":{"primaryKey":null,"secondaryKey":null}`) {
		t.Fatalf("selfSigned: %d %s", r.Status, r.Body)
	}
	if r := e.APIDo("GET", "/devices/x"+hubAPI[:len(hubAPI)-10], nil, map[string]string{"Authorization": owner}); r.Status != 400 ||
		!strings.HasPrefix(hubErrOf(t, r).Message, "ErrorCode:InvalidProtocolVersion;") {
		t.Fatalf("bad api-version: %d %s", r.Status, r.Body)
	}
}

func TestRegistryPolicyPermissions(t *testing.T) {
	e := newEnv(t, nil)
	se := e.se()
	rw := sas(t, testRegRWKey, testHub+"/devices", se, "registryReadWrite")
	ro := sas(t, testRegRWKey, testHub, se, "registryRead") // registryRead's key is another one
	read := sas(t, testReadKey, testHub, se, "registryRead")
	devPol := sas(t, testDevPolKey, testHub, se, "device")
	if r := e.putDevice("dev-p", rw, `{"deviceId":"dev-p"}`, ""); r.Status != 200 {
		t.Fatalf("registryReadWrite create: %d %s", r.Status, r.Body)
	}
	if r, _ := e.getDevice("dev-p", read); r.Status != 200 {
		t.Fatalf("registryRead get: %d %s", r.Status, r.Body)
	}
	r := e.putDevice("dev-q", read, `{"deviceId":"dev-q"}`, "")
	if r.Status != 401 || !strings.Contains(hubErrOf(t, r).Message, "does not grant RegistryWrite") {
		t.Fatalf("registryRead create: %d %s", r.Status, r.Body)
	}
	if r, _ := e.getDevice("dev-p", ro); r.Status != 401 || !strings.Contains(hubErrOf(t, r).Message, "signature") {
		t.Fatalf("wrong policy key: %d %s", r.Status, r.Body)
	}
	if r, _ := e.getDevice("dev-p", devPol); r.Status != 401 {
		t.Fatalf("device policy on the registry: %d", r.Status)
	}
	if r, _ := e.getDevice("dev-p", sas(t, testOwnerKey, testHub, se, "nosuch")); r.Status != 401 ||
		!strings.Contains(hubErrOf(t, r).Message, "no shared access policy") {
		t.Fatalf("unknown policy: %d %s", r.Status, r.Body)
	}
	// A device token cannot use the registry, even for its own identity.
	_, d := e.getDevice("dev-p", e.ownerToken())
	r, _ = e.getDevice("dev-p", e.deviceToken("dev-p", *d.Authentication.SymmetricKey.PrimaryKey))
	if r.Status != 401 || !strings.Contains(hubErrOf(t, r).Message, "grants DeviceConnect only") {
		t.Fatalf("device token on the registry: %d %s", r.Status, r.Body)
	}
	// Policies added through the control API.
	if r := e.CtlDo("POST", "/_emu/policies", map[string]interface{}{"name": "ops", "permissions": []string{"RegistryRead"}}); r.Status != 201 {
		t.Fatalf("add policy: %d %s", r.Status, r.Body)
	}
	var pols []policy
	e.CtlDo("GET", "/_emu/policies", nil).JSON(t, &pols)
	var opsKey string
	for _, p := range pols {
		if p.Name == "ops" {
			opsKey = p.PrimaryKey
		}
	}
	if r, _ := e.getDevice("dev-p", sas(t, opsKey, testHub, se, "ops")); r.Status != 200 {
		t.Fatalf("custom policy: %d %s", r.Status, r.Body)
	}
	e.ExpectViolations(vkSignature)
}

func TestHubSASScope(t *testing.T) {
	e := newEnv(t, nil)
	se := e.se()
	e.putDevice("dev", e.ownerToken(), `{"deviceId":"dev"}`, "")
	cases := map[string]struct {
		sr     string
		status int
		kind   string
	}{
		"hub":                 {testHub, 200, ""},
		"HUB upper case":      {strings.ToUpper(testHub), 200, ""},
		"devices":             {testHub + "/devices", 200, ""},
		"device":              {testHub + "/devices/dev", 200, ""},
		"device trailing /":   {testHub + "/devices/dev/", 200, ""},
		"other device":        {testHub + "/devices/dev2", 401, vkSASScope},
		"prefix, not segment": {testHub + "/devices/de", 401, vkSASScope},
		"nginx host":          {"localhost:8443/devices/dev", 401, vkSASScope},
		"scheme":              {"https://" + testHub, 401, vkSASScope},
		"other hub":           {"other.azure-devices.net", 401, vkSASScope},
	}
	for name, c := range cases {
		r, _ := e.getDevice("dev", sas(t, testOwnerKey, c.sr, se, "iothubowner"))
		if r.Status != c.status {
			t.Errorf("%s: %d %s", name, r.Status, r.Body)
		}
		if c.kind != "" {
			v := e.Violations()
			if len(v) != 1 || v[0].Kind != c.kind {
				t.Errorf("%s: violations %+v", name, v)
			}
			e.CtlDo("DELETE", "/_emu/requests", nil)
		}
	}
	r, _ := e.getDevice("dev", sas(t, testOwnerKey, "localhost:8443", se, "iothubowner"))
	if !strings.Contains(hubErrOf(t, r).Message, `not the hub host name "`+testHub+`"`) {
		t.Fatalf("host message: %s", r.Body)
	}
	// Expired.
	r, _ = e.getDevice("dev", sas(t, testOwnerKey, testHub, testNow.Unix()-301, "iothubowner"))
	if r.Status != 401 || !strings.Contains(hubErrOf(t, r).Message, "expired") {
		t.Fatalf("expired: %d %s", r.Status, r.Body)
	}
}

func TestTelemetry(t *testing.T) {
	e := newEnv(t, nil)
	owner := e.ownerToken()
	key := newKey(32)
	e.putDevice("td", owner, `{"deviceId":"td","authentication":{"symmetricKey":{"primaryKey":"`+key+`","secondaryKey":"`+newKey(32)+`"}}}`, "")
	path := "/devices/td/messages/events" + hubAPI
	hdr := map[string]string{
		"Authorization":               e.deviceToken("td", key),
		"Content-Type":                "application/octet-stream",
		"iothub-messageid":            "msg-42",
		"iothub-correlationid":        "corr-7",
		"iothub-contenttype":          "application/json",
		"iothub-contentencoding":      "utf-8",
		"iothub-creation-time-utc":    "2024-05-06T07:08:09.000Z",
		"iothub-userid":               "td",
		"iothub-to":                   "/devices/td/messages/events",
		"iothub-app-temperatureAlert": "true",
		"iothub-app-Site":             "lab 1",
	}
	r := e.APIDo("POST", path, []byte(`{"temperature":30}`), hdr)
	if r.Status != 204 || r.Header.Get("Date") == "" || r.Header.Get("X-Ms-Request-Id") == "" {
		t.Fatalf("send: %d %v %s", r.Status, r.Header, r.Body)
	}
	// A binary body; a token for the messages/events resource itself.
	hdr2 := map[string]string{"Authorization": sas(t, key, testHub+"/devices/td/messages/events", e.se(), "")}
	if r := e.APIDo("POST", path, []byte{0xff, 0x00, 0x01}, hdr2); r.Status != 204 {
		t.Fatalf("binary: %d %s", r.Status, r.Body)
	}
	// The device policy (token-service pattern).
	hdr3 := map[string]string{"Authorization": sas(t, testDevPolKey, testHub+"/devices/td", e.se(), "device")}
	if r := e.APIDo("POST", path, []byte("x"), hdr3); r.Status != 204 {
		t.Fatalf("device policy: %d %s", r.Status, r.Body)
	}
	var msgs []telemetryMsg
	e.CtlDo("GET", "/_emu/telemetry?device_id=td", nil).JSON(t, &msgs)
	if len(msgs) != 3 {
		t.Fatalf("messages %+v", msgs)
	}
	m := msgs[0]
	if m.Body != `{"temperature":30}` || m.HTTPContentType != "application/octet-stream" || m.MessageID != "msg-42" ||
		m.CorrelationID != "corr-7" || m.ContentType != "application/json" || m.ContentEncoding != "utf-8" ||
		m.CreationTimeUTC != "2024-05-06T07:08:09.000Z" || m.UserID != "td" || m.To != "/devices/td/messages/events" ||
		m.Properties["temperaturealert"] != "true" || m.Properties["site"] != "lab 1" || len(m.Properties) != 2 ||
		m.APIVersion != "2021-04-12" || m.Auth != "device" || m.BodyBytes != 18 || !strings.HasPrefix(m.Time, "2024-05-06T07:08:09") {
		t.Fatalf("message %+v", m)
	}
	if msgs[1].BodyB64 != "/wAB" || msgs[1].Body != "" || msgs[2].Auth != "policy:device" {
		t.Fatalf("messages %+v", msgs[1:])
	}
	var since []telemetryMsg
	e.CtlDo("GET", "/_emu/telemetry?since="+itoa(msgs[1].Seq), nil).JSON(t, &since)
	if len(since) != 1 || since[0].Seq != msgs[2].Seq {
		t.Fatalf("since: %+v", since)
	}
	// Errors: another device's token, a wrong key, the registry policy,
	// an unknown device, a disabled device, a message too large.
	e.putDevice("other", owner, `{"deviceId":"other"}`, "")
	for name, c := range map[string]struct {
		path, auth string
		status     int
		msg        string
	}{
		"other device's sr":  {path, e.deviceToken("other", key), 401, "does not cover"},
		"wrong key":          {path, e.deviceToken("td", newKey(32)), 401, "signature"},
		"registry policy":    {path, sas(t, testRegRWKey, testHub, e.se(), "registryReadWrite"), 401, "does not grant DeviceConnect"},
		"unknown, device":    {"/devices/ghost/messages/events" + hubAPI, e.deviceToken("ghost", key), 401, "not registered"},
		"unknown, policy":    {"/devices/ghost/messages/events" + hubAPI, sas(t, testDevPolKey, testHub, e.se(), "device"), 404, "DeviceNotFound"},
		"device sr too wide": {path, sas(t, key, testHub, e.se(), ""), 401, "needs sr={hubHost}/devices/{deviceId}"},
	} {
		r := e.APIDo("POST", c.path, []byte("x"), map[string]string{"Authorization": c.auth})
		if r.Status != c.status || !strings.Contains(hubErrOf(t, r).Message, c.msg) {
			t.Errorf("%s: %d %s", name, r.Status, r.Body)
		}
	}
	e.CtlDo("DELETE", "/_emu/requests", nil)
	_, d := e.getDevice("td", owner)
	e.putDevice("td", owner, `{"deviceId":"td","status":"disabled"}`, `"`+d.ETag+`"`)
	if r := e.APIDo("POST", path, []byte("x"), hdr); r.Status != 401 || !strings.Contains(hubErrOf(t, r).Message, "disabled") {
		t.Fatalf("disabled: %d %s", r.Status, r.Body)
	}
	if r := e.APIDo("POST", path, []byte("x"), hdr3); r.Status != 401 {
		t.Fatalf("disabled, policy: %d %s", r.Status, r.Body)
	}
	e.putDevice("td", owner, `{"deviceId":"td","status":"enabled"}`, "*")
	big := make([]byte, 256*1024+1)
	r = e.APIDo("POST", path, big, hdr)
	if r.Status != 413 || !strings.HasPrefix(hubErrOf(t, r).Message, "ErrorCode:MessageTooLarge;") {
		t.Fatalf("too large: %d %s", r.Status, r.Body)
	}
	if r := e.APIDo("POST", path, big[:256*1024], hdr); r.Status != 204 {
		t.Fatalf("256 KiB: %d", r.Status)
	}
	e.ExpectViolations(vkSize)
	if r := e.APIDo("GET", path, nil, hdr); r.Status != 405 {
		t.Fatalf("GET events: %d", r.Status)
	}
	if r := e.CtlDo("DELETE", "/_emu/telemetry", nil); r.Status != 204 {
		t.Fatal(r.Status)
	}
	e.CtlDo("GET", "/_emu/telemetry", nil).JSON(t, &msgs)
	if len(msgs) != 0 {
		t.Fatal("telemetry not cleared")
	}
	var devs struct {
		Devices []emuDevice `json:"devices"`
	}
	e.CtlDo("GET", "/_emu/devices?device_id=td", nil).JSON(t, &devs)
	if len(devs.Devices) != 1 || devs.Devices[0].TelemetryCount != 4 || devs.Devices[0].LastActivityTime == "0001-01-01T00:00:00Z" {
		t.Fatalf("devices %+v", devs)
	}
}
