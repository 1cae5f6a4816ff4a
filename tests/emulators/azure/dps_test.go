package main

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestRegisterGroupDerivedKeyAndTelemetry(t *testing.T) {
	e := newEnv(t, nil)
	rid := "sn-007-888-abc-mac-a1-b2-c3-d4-e5-f6"
	key := derive(t, testGroupKey, rid)
	if key != "Jsm0lyGpjaVYVP2g3FnmnmG9dI/9qU24wNoykUmermc=" {
		t.Fatalf("independent derivation %q", key)
	}
	tok := e.dpsToken(rid, key)
	r := e.register(rid, tok, []byte(`{"registrationId":"`+rid+`","payload":{"model":"sbgw-1"}}`))
	if r.Status != 202 || r.Header.Get("Retry-After") != "1" || r.Header.Get("X-Ms-Request-Id") == "" || r.Header.Get("Date") == "" {
		t.Fatalf("register: %d %v %s", r.Status, r.Header, r.Body)
	}
	var op opResult
	r.JSON(t, &op)
	if op.Status != "assigning" || !strings.HasPrefix(op.OperationID, "5.") || op.RegistrationState != nil {
		t.Fatalf("register body %s", r.Body)
	}
	if loc := r.Header.Get("Location"); !strings.Contains(loc, "/operations/"+op.OperationID) {
		t.Fatalf("Location %q", loc)
	}
	// assign_polls = 1: one more 202, then the result.
	r = e.poll(rid, op.OperationID, tok)
	if r.Status != 202 || r.Header.Get("Retry-After") != "1" {
		t.Fatalf("first poll: %d %s", r.Status, r.Body)
	}
	// No device in the hub until the registration completes.
	if r := e.APIDo("GET", "/devices/"+rid+hubAPI, nil, map[string]string{"Authorization": e.ownerToken()}); r.Status != 404 {
		t.Fatalf("device before assignment: %d", r.Status)
	}
	r = e.poll(rid, op.OperationID, tok)
	if r.Status != 200 {
		t.Fatalf("second poll: %d %s", r.Status, r.Body)
	}
	var res opResult
	r.JSON(t, &res)
	st := res.RegistrationState
	if res.Status != "assigned" || res.OperationID != op.OperationID || st == nil || st.RegistrationID != rid ||
		st.DeviceID != rid || st.AssignedHub != testHub || st.Status != "assigned" || st.Substatus != "initialAssignment" ||
		st.ETag == "" || !strings.HasSuffix(st.Created, "Z") || st.LastUpdated == "" || st.SymmetricKey == nil ||
		st.SymmetricKey.EnrollmentGroupID != testGroup || st.Payload != nil {
		t.Fatalf("result %s", r.Body)
	}
	if _, err := time.Parse(time.RFC3339Nano, st.Created); err != nil {
		t.Fatalf("createdDateTimeUtc %q: %v", st.Created, err)
	}
	// Polling again gives the same result.
	if r2 := e.poll(rid, op.OperationID, tok); r2.Status != 200 || string(r2.Body) != string(r.Body) {
		t.Fatalf("repeat poll: %d %s", r2.Status, r2.Body)
	}
	// The device exists with the derived key as primary key and the key
	// derived from the secondary group key as secondary key.
	var dev deviceJSON
	r = e.APIDo("GET", "/devices/"+rid+hubAPI, nil, map[string]string{"Authorization": e.ownerToken()})
	r.JSON(t, &dev)
	if r.Status != 200 || *dev.Authentication.SymmetricKey.PrimaryKey != key ||
		*dev.Authentication.SymmetricKey.SecondaryKey != derive(t, testGroupKey2, rid) || dev.Status != "enabled" {
		t.Fatalf("hub device %d %s", r.Status, r.Body)
	}
	// Telemetry with the derived key.
	r = e.APIDo("POST", "/devices/"+rid+"/messages/events"+hubAPI, []byte(`{"t":21.5}`), map[string]string{
		"Authorization": e.deviceToken(rid, key), "Content-Type": "application/json",
		"iothub-messageid": "m-1", "iothub-app-site": "lab",
	})
	if r.Status != 204 || len(r.Body) != 0 {
		t.Fatalf("telemetry: %d %s", r.Status, r.Body)
	}
	var msgs []telemetryMsg
	e.CtlDo("GET", "/_emu/telemetry", nil).JSON(t, &msgs)
	if len(msgs) != 1 || msgs[0].Body != `{"t":21.5}` || msgs[0].MessageID != "m-1" || msgs[0].Properties["site"] != "lab" ||
		msgs[0].DeviceID != rid || msgs[0].Auth != "device" {
		t.Fatalf("telemetry %+v", msgs)
	}
	// The registration record keeps the request payload.
	var regs struct {
		Registrations []registration `json:"registrations"`
	}
	e.CtlDo("GET", "/_emu/registrations", nil).JSON(t, &regs)
	if len(regs.Registrations) != 1 || string(regs.Registrations[0].RequestPayload) != `{"model":"sbgw-1"}` ||
		regs.Registrations[0].KeyUsed != "primary" {
		t.Fatalf("registrations %+v", regs)
	}
	e.ExpectViolations()
}

func TestRegisterWithSecondaryDerivedKeyAndReRegistration(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.AssignPolls = 0 })
	rid := "gw-0001"
	res := e.provision(rid, derive(t, testGroupKey2, rid))
	if res.Status != "assigned" || res.RegistrationState.Substatus != "initialAssignment" {
		t.Fatalf("first: %+v", res)
	}
	first := res.RegistrationState
	e.advance(time.Minute)
	res = e.provision(rid, derive(t, testGroupKey, rid))
	st := res.RegistrationState
	if res.Status != "assigned" || st.Substatus != "reprovisionedToInitialAssignment" || st.Created != first.Created ||
		st.ETag == first.ETag || st.LastUpdated == first.LastUpdated {
		t.Fatalf("second: %+v / %+v", st, first)
	}
	// A different hub: the data is migrated.
	e.CtlDo("POST", "/_emu/config", map[string]string{"hub_host": "other-hub.azure-devices.net"})
	res = e.provision(rid, derive(t, testGroupKey, rid))
	if res.RegistrationState.Substatus != "deviceDataMigrated" || res.RegistrationState.AssignedHub != "other-hub.azure-devices.net" {
		t.Fatalf("third: %+v", res.RegistrationState)
	}
	// Forgetting the registration makes the next one initial again.
	if r := e.CtlDo("DELETE", "/_emu/registrations?registration_id="+rid, nil); r.Status != 204 {
		t.Fatalf("forget: %d", r.Status)
	}
	if res = e.provision(rid, derive(t, testGroupKey, rid)); res.RegistrationState.Substatus != "initialAssignment" {
		t.Fatalf("after forget: %+v", res.RegistrationState)
	}
	e.ExpectViolations()
}

func TestRegisterWrongKeys(t *testing.T) {
	e := newEnv(t, nil)
	rid := "gw-0002"
	cases := []struct {
		name, key, reason string
	}{
		{"group key itself", testGroupKey, "signed with the key of enrollment group"},
		{"key derived for another id", derive(t, testGroupKey, "gw-0003"), "does not verify with the key derived"},
		{"random key", newKey(32), "does not verify with the key derived"},
		{"derived from upper-cased id", derive(t, testGroupKey, "GW-0002"), "does not verify"},
	}
	for _, c := range cases {
		r := e.register(rid, e.dpsToken(rid, c.key), regBody(rid))
		d := dpsErrOf(t, r)
		if r.Status != 401 || d.ErrorCode != 401002 || !strings.HasPrefix(d.Message, "Unauthorized: ") ||
			!strings.Contains(d.Message, c.reason) {
			t.Errorf("%s: %d %s", c.name, r.Status, r.Body)
		}
	}
	e.ExpectViolations(vkSignature, vkSignature, vkSignature, vkSignature)
	var log []logEntry
	e.register(rid, e.dpsToken(rid, testGroupKey), regBody(rid))
	e.CtlDo("GET", "/_emu/requests", nil).JSON(t, &log)
	if len(log) != 1 || !strings.Contains(log[0].AuthError, "enrollment group") || log[0].RegistrationID != rid {
		t.Fatalf("log %+v", log)
	}
	// Nothing was recorded.
	var regs struct {
		Registrations []registration `json:"registrations"`
	}
	e.CtlDo("GET", "/_emu/registrations", nil).JSON(t, &regs)
	if len(regs.Registrations) != 0 {
		t.Fatalf("registrations %+v", regs)
	}
}

func TestRegisterExpiryAndSkewBoundary(t *testing.T) {
	e := newEnv(t, nil)
	rid := "gw-skew"
	key := derive(t, testGroupKey, rid)
	now := e.clockNow().Unix()
	tokAt := func(se int64) string { return sas(t, key, testScope+"/registrations/"+rid, se, "registration") }
	// se 300 s in the past: inside the 5-minute skew.
	if r := e.register(rid, tokAt(now-300), regBody(rid)); r.Status != 202 {
		t.Fatalf("se = now-300: %d %s", r.Status, r.Body)
	}
	r := e.register(rid, tokAt(now-301), regBody(rid))
	if d := dpsErrOf(t, r); r.Status != 401 || !strings.Contains(d.Message, "expired") {
		t.Fatalf("se = now-301: %d %s", r.Status, r.Body)
	}
	// Far future is accepted (no maximum lifetime by default)...
	if r := e.register(rid, tokAt(now+10*365*86400), regBody(rid)); r.Status != 202 {
		t.Fatalf("far future: %d %s", r.Status, r.Body)
	}
	// ...unless max_ttl is set.
	e.CtlDo("POST", "/_emu/config", map[string]string{"max_ttl": "24h"})
	if r := e.register(rid, tokAt(now+2*86400), regBody(rid)); r.Status != 401 {
		t.Fatalf("max_ttl: %d %s", r.Status, r.Body)
	}
	// A smaller skew.
	e.CtlDo("POST", "/_emu/config", map[string]interface{}{"skew": 10, "max_ttl": "0s"})
	if r := e.register(rid, tokAt(now-11), regBody(rid)); r.Status != 401 {
		t.Fatalf("skew 10s, se = now-11: %d", r.Status)
	}
	if r := e.register(rid, tokAt(now-10), regBody(rid)); r.Status != 202 {
		t.Fatalf("skew 10s, se = now-10: %d", r.Status)
	}
	// Expiry is time-dependent, not a violation.
	e.ExpectViolations()
}

func TestClockOffsetMovesDateAndExpiry(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.ClockOffset = -2 * time.Hour })
	rid := "gw-clock"
	key := derive(t, testGroupKey, rid)
	r := e.register(rid, e.dpsToken(rid, key), regBody(rid))
	date, err := http.ParseTime(r.Header.Get("Date"))
	if err != nil || !date.Equal(testNow.Add(-2*time.Hour)) {
		t.Fatalf("Date %q (%v), want %v", r.Header.Get("Date"), err, testNow.Add(-2*time.Hour))
	}
	// A token that expired an hour ago by the real clock is valid for a
	// server two hours behind.
	old := sas(t, key, testScope+"/registrations/"+rid, testNow.Add(-time.Hour).Unix(), "registration")
	if r := e.register(rid, old, regBody(rid)); r.Status != 202 {
		t.Fatalf("old token, slow server: %d %s", r.Status, r.Body)
	}
	// A server 2 hours ahead refuses a 1-hour token.
	e.CtlDo("POST", "/_emu/config", map[string]string{"clock_offset": "2h"})
	r = e.register(rid, e.dpsToken(rid, key), regBody(rid))
	if r.Status != 401 || !strings.Contains(dpsErrOf(t, r).Message, "expired") {
		t.Fatalf("fast server: %d %s", r.Status, r.Body)
	}
	if date, _ := http.ParseTime(r.Header.Get("Date")); !date.Equal(testNow.Add(2 * time.Hour)) {
		t.Fatalf("Date %q", r.Header.Get("Date"))
	}
	var cfg map[string]interface{}
	e.CtlDo("GET", "/_emu/config", nil).JSON(t, &cfg)
	if cfg["clock_offset_seconds"].(float64) != 7200 || cfg["server_time_unix"].(float64) != float64(testNow.Add(2*time.Hour).Unix()) {
		t.Fatalf("config %v", cfg)
	}
}

func TestRegisterScopeMismatch(t *testing.T) {
	e := newEnv(t, nil)
	rid := "gw-scope"
	key := derive(t, testGroupKey, rid)
	for name, sr := range map[string]string{
		"other registration": testScope + "/registrations/gw-other",
		"other scope":        "0ne00000000/registrations/" + rid,
		"scope only":         testScope,
		"hub resource":       testHub + "/devices/" + rid,
		"with /register":     testScope + "/registrations/" + rid + "/register",
	} {
		r := e.register(rid, sas(t, key, sr, e.se(), "registration"), regBody(rid))
		if d := dpsErrOf(t, r); r.Status != 401 || !strings.Contains(d.Message, "does not name this registration") {
			t.Errorf("%s: %d %s", name, r.Status, r.Body)
		}
	}
	// Case and a trailing '/' do not matter; skn may be absent.
	if r := e.register(rid, sas(t, key, strings.ToLower(testScope)+"/Registrations/"+rid+"/", e.se(), ""), regBody(rid)); r.Status != 202 {
		t.Fatalf("case-insensitive sr: %d %s", r.Status, r.Body)
	}
	r := e.register(rid, sas(t, key, testScope+"/registrations/"+rid, e.se(), "iothubowner"), regBody(rid))
	if r.Status != 401 || !strings.Contains(dpsErrOf(t, r).Message, "skn") {
		t.Fatalf("skn=iothubowner: %d %s", r.Status, r.Body)
	}
	e.ExpectViolations(vkSASScope, vkSASScope, vkSASScope, vkSASScope, vkSASScope, vkSASFormat)
}

func TestRegisterRequestChecks(t *testing.T) {
	e := newEnv(t, nil)
	rid := "gw-req"
	tok := e.dpsToken(rid, derive(t, testGroupKey, rid))
	path := "/" + testScope + "/registrations/" + rid + "/register"
	r := e.APIDo("PUT", path, regBody(rid), jsonHdr(tok))
	if r.Status != 400 || !strings.Contains(dpsErrOf(t, r).Message, "api-version") {
		t.Fatalf("no api-version: %d %s", r.Status, r.Body)
	}
	r = e.APIDo("PUT", path+"?api-version=latest", regBody(rid), jsonHdr(tok))
	if r.Status != 400 {
		t.Fatalf("bad api-version: %d", r.Status)
	}
	r = e.APIDo("PUT", path+dpsAPI, regBody(rid), map[string]string{"Authorization": tok, "Content-Type": "text/plain"})
	if r.Status != 415 {
		t.Fatalf("text/plain: %d", r.Status)
	}
	r = e.APIDo("PUT", path+dpsAPI, regBody(rid), map[string]string{"Authorization": tok})
	if r.Status != 415 {
		t.Fatalf("no Content-Type: %d", r.Status)
	}
	for name, body := range map[string]string{
		"empty":    "",
		"not json": "{",
		"array":    "[]",
		"no id":    `{"payload":{}}`,
		"other id": `{"registrationId":"gw-other"}`,
		"tpm":      `{"registrationId":"gw-req","tpm":{"endorsementKey":"x"}}`,
	} {
		if r := e.register(rid, tok, []byte(body)); r.Status != 400 {
			t.Errorf("%s: %d %s", name, r.Status, r.Body)
		}
	}
	// The body id may differ in case (registration ids are case-insensitive).
	if r := e.register(rid, tok, []byte(`{"registrationId":"GW-REQ"}`)); r.Status != 202 {
		t.Fatalf("case: %d %s", r.Status, r.Body)
	}
	r = e.APIDo("PUT", path+dpsAPI, regBody(rid), map[string]string{"Content-Type": "application/json"})
	if r.Status != 401 || !strings.Contains(dpsErrOf(t, r).Message, "Authorization header is missing") {
		t.Fatalf("no Authorization: %d %s", r.Status, r.Body)
	}
	r = e.APIDo("POST", path+dpsAPI, regBody(rid), jsonHdr(tok))
	if r.Status != 405 || r.Header.Get("Allow") != "PUT" {
		t.Fatalf("POST register: %d %v", r.Status, r.Header)
	}
	e.ExpectViolations(vkAPIVersion, vkAPIVersion, vkContentType, vkContentType,
		vkSchema, vkSchema, vkSchema, vkSchema, vkSchema, vkSchema, vkAuthHeader, vkMethod)
}

func TestRegistrationIDRules(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.AssignPolls = 0 })
	for _, rid := range []string{"-gw", "gw_", "gw.", strings.Repeat("a", 129), "gw%20x"} {
		r := e.register(rid, e.dpsToken(rid, derive(t, testGroupKey, rid)), regBody(rid))
		if r.Status != 400 || !strings.Contains(dpsErrOf(t, r).Message, "registration ID") {
			t.Errorf("%q: %d %s", rid, r.Status, r.Body)
		}
	}
	// The documented character set, and mixed case.
	for _, rid := range []string{"Gw.01_a:b-", strings.Repeat("a", 128), "x"} {
		if res := e.provision(rid, derive(t, testGroupKey, rid)); res.Status != "assigned" || res.RegistrationState.DeviceID != rid {
			t.Errorf("%q: %+v", rid, res)
		}
	}
	e.CtlDo("POST", "/_emu/config", map[string]bool{"strict_registration_id": true})
	for _, rid := range []string{"Gw-01", "gw.01", "gw-"} {
		if r := e.register(rid, e.dpsToken(rid, derive(t, testGroupKey, rid)), regBody(rid)); r.Status != 400 {
			t.Errorf("strict %q: %d", rid, r.Status)
		}
	}
	if res := e.provision("gw-01", derive(t, testGroupKey, "gw-01")); res.Status != "assigned" {
		t.Errorf("strict gw-01: %+v", res)
	}
}

func TestIndividualEnrollmentDisabledAndFailed(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.AssignPolls = 0 })
	indKey := newKey(64)
	r := e.CtlDo("POST", "/_emu/enrollments", []map[string]interface{}{
		{"registration_id": "solo-1", "primary_key": indKey, "device_id": "solo-device"},
		{"type": "group", "name": "off", "id_scope": "0neOTHER1", "primary_key": testGroupKey, "provisioning_status": "disabled"},
		{"type": "group", "name": "broken", "id_scope": "0neOTHER2", "primary_key": testGroupKey,
			"failure": map[string]interface{}{"error_code": 400209, "error_message": "Custom allocation failed with status code: 401"},
			"payload": map[string]int{"x": 1}},
	})
	if r.Status != 201 {
		t.Fatalf("enrollments: %d %s", r.Status, r.Body)
	}
	// Individual: its own key, not derived; device id override.
	res := e.provision("solo-1", indKey)
	if res.Status != "assigned" || res.RegistrationState.DeviceID != "solo-device" || res.RegistrationState.SymmetricKey != nil {
		t.Fatalf("individual: %+v", res.RegistrationState)
	}
	// A key derived from a group key does not work for an individual enrollment.
	r = e.register("solo-1", e.dpsToken("solo-1", derive(t, testGroupKey, "solo-1")), regBody("solo-1"))
	if r.Status != 401 || !strings.Contains(dpsErrOf(t, r).Message, "individual enrollment") {
		t.Fatalf("derived key on individual: %d %s", r.Status, r.Body)
	}
	var dev deviceJSON
	e.APIDo("GET", "/devices/solo-device"+hubAPI, nil, map[string]string{"Authorization": e.ownerToken()}).JSON(t, &dev)
	if *dev.Authentication.SymmetricKey.PrimaryKey != indKey {
		t.Fatalf("individual device %+v", dev)
	}
	// Disabled group in another scope.
	poll := func(scope, rid string) opResult {
		key := derive(t, testGroupKey, rid)
		tok := sas(t, key, scope+"/registrations/"+rid, e.se(), "registration")
		r := e.APIDo("PUT", "/"+scope+"/registrations/"+rid+"/register"+dpsAPI, regBody(rid), jsonHdr(tok))
		if r.Status != 202 {
			t.Fatalf("%s register: %d %s", scope, r.Status, r.Body)
		}
		var op opResult
		r.JSON(t, &op)
		r = e.APIDo("GET", "/"+scope+"/registrations/"+rid+"/operations/"+op.OperationID+dpsAPI, nil, map[string]string{"Authorization": tok})
		var res opResult
		r.JSON(t, &res)
		if r.Status != 200 {
			t.Fatalf("%s poll: %d %s", scope, r.Status, r.Body)
		}
		return res
	}
	res = poll("0neOTHER1", "gw-off")
	if res.Status != "disabled" || res.RegistrationState.Status != "disabled" || res.RegistrationState.DeviceID != "" {
		t.Fatalf("disabled: %+v", res.RegistrationState)
	}
	res = poll("0neOTHER2", "gw-broken")
	if res.Status != "failed" || res.RegistrationState.ErrorCode != 400209 ||
		res.RegistrationState.ErrorMessage != "Custom allocation failed with status code: 401" || res.RegistrationState.AssignedHub != "" {
		t.Fatalf("failed: %+v", res.RegistrationState)
	}
	// No hub device for either.
	var devs struct {
		Devices []emuDevice `json:"devices"`
	}
	e.CtlDo("GET", "/_emu/devices", nil).JSON(t, &devs)
	if len(devs.Devices) != 1 || devs.Devices[0].DeviceID != "solo-device" || devs.Devices[0].CreatedBy != "dps" {
		t.Fatalf("devices %+v", devs)
	}
	// Unknown scope.
	tok := sas(t, derive(t, testGroupKey, "gw-x"), "0neNOWHERE/registrations/gw-x", e.se(), "registration")
	r = e.APIDo("PUT", "/0neNOWHERE/registrations/gw-x/register"+dpsAPI, regBody("gw-x"), jsonHdr(tok))
	if r.Status != 401 || !strings.Contains(dpsErrOf(t, r).Message, "unknown ID scope") {
		t.Fatalf("unknown scope: %d %s", r.Status, r.Body)
	}
}

func TestReturnedPayloadAndImmediateAssign(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.ImmediateAssign = true })
	e.CtlDo("POST", "/_emu/enrollments", map[string]interface{}{"name": testGroup, "primary_key": testGroupKey,
		"secondary_key": testGroupKey2, "payload": map[string]string{"site": "lab"}})
	rid := "gw-now"
	r := e.register(rid, e.dpsToken(rid, derive(t, testGroupKey, rid)), regBody(rid))
	var res opResult
	r.JSON(t, &res)
	if r.Status != 200 || res.Status != "assigned" || string(res.RegistrationState.Payload) != `{"site":"lab"}` {
		t.Fatalf("immediate: %d %s", r.Status, r.Body)
	}
}

func TestOperationAndStatusLookup(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.AssignPolls = 2 })
	rid := "gw-look"
	key := derive(t, testGroupKey, rid)
	tok := e.dpsToken(rid, key)
	lookup := func(body []byte) resp {
		return e.APIDo("POST", "/"+testScope+"/registrations/"+rid+dpsAPI, body, jsonHdr(tok))
	}
	if r := lookup(regBody(rid)); r.Status != 404 || dpsErrOf(t, r).ErrorCode != dpsNotFound {
		t.Fatalf("lookup before: %d %s", r.Status, r.Body)
	}
	r := e.register(rid, tok, regBody(rid))
	var op opResult
	r.JSON(t, &op)
	if r := lookup(nil); r.Status != 200 || !strings.Contains(string(r.Body), `"status":"assigning"`) {
		t.Fatalf("lookup while assigning: %d %s", r.Status, r.Body)
	}
	if r := e.poll(rid, "5.0000000000000000.nope", tok); r.Status != 404 {
		t.Fatalf("unknown operation: %d", r.Status)
	}
	// Another registration's token cannot poll this operation.
	other := e.dpsToken("gw-other", derive(t, testGroupKey, "gw-other"))
	if r := e.poll("gw-other", op.OperationID, other); r.Status != 404 {
		t.Fatalf("foreign operation: %d %s", r.Status, r.Body)
	}
	for i, want := range []int{202, 202, 200} {
		if r := e.poll(rid, op.OperationID, tok); r.Status != want {
			t.Fatalf("poll %d: %d", i, r.Status)
		}
	}
	r = lookup(regBody(rid))
	var st struct {
		RegistrationID, Status, Substatus, DeviceID, AssignedHub string
	}
	r.JSON(t, &st)
	if r.Status != 200 || st.Status != "assigned" || st.DeviceID != rid || st.AssignedHub != testHub {
		t.Fatalf("lookup after: %d %s", r.Status, r.Body)
	}
	if r := lookup([]byte(`{"registrationId":"someone-else"}`)); r.Status != 400 {
		t.Fatalf("lookup with another id: %d", r.Status)
	}
}

func TestServiceEndpointHeader(t *testing.T) {
	e := newEnv(t, nil)
	rid := "gw-svc"
	tok := e.dpsToken(rid, derive(t, testGroupKey, rid))
	hdr := jsonHdr(tok)
	hdr[serviceHeader] = "hub"
	r := e.APIDo("PUT", "/"+testScope+"/registrations/"+rid+"/register"+dpsAPI, regBody(rid), hdr)
	if r.Status != 404 || !strings.Contains(hubErrOf(t, r).Message, "is a DPS route, sent to the HUB endpoint") {
		t.Fatalf("DPS route on the hub endpoint: %d %s", r.Status, r.Body)
	}
	hdr[serviceHeader] = "dps"
	if r := e.APIDo("PUT", "/"+testScope+"/registrations/"+rid+"/register"+dpsAPI, regBody(rid), hdr); r.Status != 202 {
		t.Fatalf("DPS route on the DPS endpoint: %d %s", r.Status, r.Body)
	}
	r = e.APIDo("GET", "/devices/x"+hubAPI, nil, map[string]string{serviceHeader: "dps", "Authorization": e.ownerToken()})
	if r.Status != 404 || !strings.Contains(dpsErrOf(t, r).Message, "is a HUB route, sent to the DPS endpoint") {
		t.Fatalf("hub route on the DPS endpoint: %d %s", r.Status, r.Body)
	}
	if r := e.APIDo("GET", "/nothing/here"+dpsAPI, nil, nil); r.Status != 404 {
		t.Fatalf("unknown: %d", r.Status)
	}
	e.ExpectViolations(vkRoute, vkRoute, vkRoute)
}

func TestDPSResponsesAreJSON(t *testing.T) {
	e := newEnv(t, nil)
	rid := "gw-json"
	r := e.register(rid, e.dpsToken(rid, derive(t, testGroupKey, rid)), regBody(rid))
	if ct := r.Header.Get("Content-Type"); ct != "application/json; charset=utf-8" || !json.Valid(r.Body) {
		t.Fatalf("content type %q body %s", ct, r.Body)
	}
}
