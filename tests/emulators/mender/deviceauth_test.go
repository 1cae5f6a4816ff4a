package main

import (
	"bytes"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/asn1"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"strings"
	"testing"
	"time"
)

const macID = `{"mac":"00:01:02:03:04:05"}`

func TestAuthContentTypeAndSize(t *testing.T) {
	e := newEnv(t, nil)
	k := genKey(t, "ed25519")
	body := authBody(t, macID, k.pub, nil)
	sig := k.sign(t, body)

	r := e.APIDo("POST", authPath, body, map[string]string{"Content-Type": "text/plain", "X-MEN-Signature": sig})
	if r.Status != 415 || errMsg(t, r) != "Bad Content-Type, expected 'application/json'" {
		t.Fatalf("text/plain: %d %s", r.Status, r.Body)
	}
	r = e.APIDo("POST", authPath, body, map[string]string{"Content-Type": "application/json; charset=", "X-MEN-Signature": sig})
	if r.Status != 400 || !strings.HasPrefix(errMsg(t, r), "Invalid value for Content-Type header") {
		t.Fatalf("unparsable: %d %s", r.Status, r.Body)
	}
	// No Content-Type at all does not parse either.
	r = e.APIDo("POST", authPath, body, map[string]string{"X-MEN-Signature": sig})
	if r.Status != 400 {
		t.Fatalf("missing Content-Type: %d %s", r.Status, r.Body)
	}
	// Parameters are fine.
	r = e.APIDo("POST", authPath, body, map[string]string{"Content-Type": "application/json; charset=utf-8", "X-MEN-Signature": sig})
	if r.Status != 401 || errMsg(t, r) != "dev auth: unauthorized" {
		t.Fatalf("charset: %d %s", r.Status, r.Body)
	}
	big := bytes.Repeat([]byte("a"), 1<<20+1)
	r = e.APIDo("POST", authPath, big, map[string]string{"Content-Type": "application/json", "X-MEN-Signature": sig})
	if r.Status != 413 {
		t.Fatalf("oversize: %d %s", r.Status, r.Body)
	}
	// The size check comes before the Content-Type check.
	r = e.APIDo("POST", authPath, big, map[string]string{"Content-Type": "text/plain", "X-MEN-Signature": sig})
	if r.Status != 413 {
		t.Fatalf("oversize text/plain: %d", r.Status)
	}
	e.ExpectViolations(vkContentType, vkContentType, vkContentType, vkSize, vkSize)
}

func TestAuthValidationOrder(t *testing.T) {
	e := newEnv(t, nil)
	k := genKey(t, "ed25519")
	hdr := func(body []byte) map[string]string {
		return map[string]string{"Content-Type": "application/json", "X-MEN-Signature": k.sign(t, body)}
	}
	rsaKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	pkcs1 := string(pem.EncodeToMemory(&pem.Block{Type: "RSA PUBLIC KEY", Bytes: x509.MarshalPKCS1PublicKey(&rsaKey.PublicKey)}))
	cases := []struct {
		name string
		body []byte
		want string
	}{
		{"not json", []byte("{"), "failed to decode auth request: "},
		{"empty", []byte(""), "failed to decode auth request: "},
		{"id_data object", []byte(`{"id_data":{"mac":"x"},"pubkey":"p"}`), "failed to decode auth request: "},
		{"no id_data", authBody(t, "", k.pub, nil), "invalid auth request: id_data must be provided"},
		{"no pubkey", authBody(t, macID, "", nil), "invalid auth request: pubkey must be provided"},
		{"not pem", authBody(t, macID, "hello", nil), "invalid auth request: cannot decode public key"},
		{"pkcs1", authBody(t, macID, pkcs1, nil), "invalid auth request: cannot decode public key"},
		{"id_data array", authBody(t, `["a"]`, k.pub, nil), "invalid auth request: "},
		{"id_data string", authBody(t, `"mac"`, k.pub, nil), "invalid auth request: "},
		{"id_data null", authBody(t, `null`, k.pub, nil), "invalid auth request: "},
		{"id_data broken", authBody(t, `{"mac":`, k.pub, nil), "invalid auth request: "},
	}
	for _, c := range cases {
		r := e.APIDo("POST", authPath, c.body, hdr(c.body))
		if r.Status != 400 || !strings.HasPrefix(errMsg(t, r), c.want) {
			t.Errorf("%s: %d %s, want 400 %q", c.name, r.Status, r.Body, c.want)
		}
	}
	// Missing signature header: 400 after the body is validated.
	body := authBody(t, macID, k.pub, nil)
	r := e.APIDo("POST", authPath, body, map[string]string{"Content-Type": "application/json"})
	if r.Status != 400 || errMsg(t, r) != "missing request signature header" {
		t.Fatalf("no signature: %d %s", r.Status, r.Body)
	}
	// A bad body is reported before a missing signature.
	r = e.APIDo("POST", authPath, []byte("{"), map[string]string{"Content-Type": "application/json"})
	if r.Status != 400 || !strings.HasPrefix(errMsg(t, r), "failed to decode") {
		t.Fatalf("bad body without signature: %d %s", r.Status, r.Body)
	}
	if n := len(e.state().Devices); n != 0 {
		t.Fatalf("%d devices recorded by invalid requests", n)
	}
}

func TestAuthBadSignatureRecordsNothing(t *testing.T) {
	e := newEnv(t, nil)
	k := genKey(t, "ed25519")
	other := genKey(t, "ed25519")
	body := authBody(t, macID, k.pub, nil)
	for name, sig := range map[string]string{
		"other key":  other.sign(t, body),
		"tampered":   k.sign(t, append(append([]byte{}, body...), ' ')),
		"not base64": "!!!",
		"url base64": strings.NewReplacer("+", "-", "/", "_").Replace(k.sign(t, body)) + "-_",
	} {
		r := e.APIDo("POST", authPath, body, map[string]string{"Content-Type": "application/json", "X-MEN-Signature": sig})
		if r.Status != 401 || errMsg(t, r) != "signature verification failed" {
			t.Errorf("%s: %d %s", name, r.Status, r.Body)
		}
	}
	if n := len(e.state().Devices); n != 0 {
		t.Fatalf("bad signatures recorded %d devices", n)
	}
	for _, v := range e.Violations() {
		if v.Kind != vkSignature {
			t.Errorf("unexpected violation %+v", v)
		}
	}
}

func TestAuthKeyTypes(t *testing.T) {
	e := newEnv(t, nil)
	for i, kind := range []string{"ed25519", "rsa", "p256", "p384", "p521"} {
		k := genKey(t, kind)
		id := map[string]interface{}{"sn": kind, "n": float64(i)}
		tok, devID := e.acceptedToken(k, id)
		c, err := e.srv.jwt.parse(tok)
		if err != nil {
			t.Fatalf("%s: token does not parse: %v", kind, err)
		}
		if c.Subject != devID || !c.Device || c.Issuer != "Mender" {
			t.Errorf("%s: claims %+v, device %s", kind, c, devID)
		}
	}
	if v := e.Violations(); len(v) != 0 {
		t.Fatalf("violations: %+v", v)
	}
}

func TestAuthSignatureEncodings(t *testing.T) {
	e := newEnv(t, nil)
	// ECDSA: trailing bytes after the DER are ignored; raw r||s is refused.
	k := genKey(t, "p256")
	body := authBody(t, macID, k.pub, nil)
	der, _ := base64.StdEncoding.DecodeString(k.sign(t, body))
	trailing := base64.StdEncoding.EncodeToString(append(der, 0, 1, 2))
	r := e.APIDo("POST", authPath, body, map[string]string{"Content-Type": "application/json", "X-MEN-Signature": trailing})
	if r.Status != 401 || errMsg(t, r) != "dev auth: unauthorized" {
		t.Fatalf("DER + trailing bytes: %d %s", r.Status, r.Body)
	}
	var rs struct{ R, S *big.Int }
	if _, err := asn1.Unmarshal(der, &rs); err != nil {
		t.Fatal(err)
	}
	raw := append(pad32(rs.R), pad32(rs.S)...)
	r = e.APIDo("POST", authPath, body, map[string]string{"Content-Type": "application/json",
		"X-MEN-Signature": base64.StdEncoding.EncodeToString(raw)})
	if r.Status != 401 || errMsg(t, r) != "signature verification failed" {
		t.Fatalf("raw r||s: %d %s", r.Status, r.Body)
	}
	// Base64 wrapped with CR/LF decodes (Go's decoder skips them); such a
	// header cannot be sent through net/http, so check the verifier itself.
	ek := genKey(t, "rsa")
	body = authBody(t, `{"mac":"rsa"}`, ek.pub, nil)
	sig := ek.sign(t, body)
	if err := verifyAuthReqSign(sig[:40]+"\r\n"+sig[40:], mustParse(t, ek.pub), body); err != nil {
		t.Fatalf("CR/LF in signature: %v", err)
	}
	// RSA-PSS is not accepted.
	rk := ek.priv.(*rsa.PrivateKey)
	h := sha256.Sum256(body)
	pss, _ := rsa.SignPSS(rand.Reader, rk, crypto.SHA256, h[:], nil)
	if verifyAuthReqSign(base64.StdEncoding.EncodeToString(pss), mustParse(t, ek.pub), body) == nil {
		t.Fatal("PSS signature accepted")
	}
	// RSA under 1024 bits fails verification.
	small, _ := rsa.GenerateKey(rand.Reader, 768)
	sk := devKey{priv: small}
	d, _ := x509.MarshalPKIXPublicKey(&small.PublicKey)
	sk.pub = string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: d}))
	body = authBody(t, `{"mac":"small"}`, sk.pub, nil)
	r = e.APIDo("POST", authPath, body, map[string]string{"Content-Type": "application/json", "X-MEN-Signature": sk.sign(t, body)})
	if r.Status != 401 || errMsg(t, r) != "signature verification failed" {
		t.Fatalf("768-bit RSA: %d %s", r.Status, r.Body)
	}
}

func mustParse(t *testing.T, pub string) interface{} {
	t.Helper()
	k, err := parsePubKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func pad32(i *big.Int) []byte {
	b := i.Bytes()
	return append(make([]byte, 32-len(b)), b...)
}

func TestAuthUnknownDevicePendingThenAccepted(t *testing.T) {
	e := newEnv(t, nil)
	k := genKey(t, "ed25519")
	// Key order and spacing do not matter: the identity is canonicalized.
	r := e.auth(k, `{ "sn": "1", "mac": "aa" }`)
	if r.Status != 401 || errMsg(t, r) != "dev auth: unauthorized" {
		t.Fatalf("first auth: %d %s", r.Status, r.Body)
	}
	st := e.state()
	if len(st.Devices) != 1 || st.Devices[0].Status != statusPending ||
		st.Devices[0].IdentityCanonical != `{"mac":"aa","sn":"1"}` || len(st.Devices[0].AuthSets) != 1 {
		t.Fatalf("state after first auth: %+v", st)
	}
	dev := st.Devices[0]
	// Normalized key (re-encoded PEM) is what is stored.
	if dev.AuthSets[0].PubKey != k.pub {
		t.Errorf("stored key %q", dev.AuthSets[0].PubKey)
	}
	// Same again: same device, same auth set, still 401.
	if r = e.auth(k, `{"mac":"aa","sn":"1"}`); r.Status != 401 {
		t.Fatalf("second auth: %d", r.Status)
	}
	if st = e.state(); len(st.Devices) != 1 || len(st.Devices[0].AuthSets) != 1 {
		t.Fatalf("duplicate records: %+v", st)
	}
	// Accept through the management API.
	r = e.mgmt("PUT", "/api/management/v2/devauth/devices/"+dev.ID+"/auth/"+dev.AuthSets[0].ID+"/status",
		map[string]string{"status": "accepted"})
	if r.Status != 204 {
		t.Fatalf("accept: %d %s", r.Status, r.Body)
	}
	r = e.auth(k, `{"sn":"1","mac":"aa"}`)
	if r.Status != 200 || r.Header.Get("Content-Type") != "application/jwt" {
		t.Fatalf("accepted: %d %v %s", r.Status, r.Header, r.Body)
	}
	c, err := e.srv.jwt.parse(string(r.Body))
	if err != nil || c.ID != dev.AuthSets[0].ID || c.Subject != dev.ID {
		t.Fatalf("claims %+v %v", c, err)
	}
	if d := time.Unix(c.ExpiresAt, 0).Sub(time.Unix(c.IssuedAt, 0)); d != 168*time.Hour {
		t.Errorf("token lifetime %v", d)
	}
	if c.Tenant != "" {
		t.Errorf("tenant claim without tenant token: %q", c.Tenant)
	}
	// Reject: 401 again, and the token stops working.
	tok := string(r.Body)
	e.mgmt("PUT", "/api/management/v2/devauth/devices/"+dev.ID+"/auth/"+dev.AuthSets[0].ID+"/status",
		map[string]string{"status": "rejected"})
	if r = e.auth(k, `{"sn":"1","mac":"aa"}`); r.Status != 401 {
		t.Fatalf("rejected: %d", r.Status)
	}
	if r = e.APIDo("PUT", invPath, []byte(`[]`), bearerJSON(tok)); r.Status != 401 {
		t.Fatalf("token of a rejected device: %d", r.Status)
	}
}

func TestAuthKeyRotation(t *testing.T) {
	e := newEnv(t, nil)
	k1, k2 := genKey(t, "ed25519"), genKey(t, "p256")
	tok1, devID := e.acceptedToken(k1, map[string]interface{}{"mac": "rot"})
	// New key, same identity: new pending auth set; device stays accepted.
	if r := e.auth(k2, `{"mac":"rot"}`); r.Status != 401 {
		t.Fatalf("new key: %d %s", r.Status, r.Body)
	}
	st := e.state()
	d := st.Devices[0]
	if d.ID != devID || d.Status != statusAccepted || len(d.AuthSets) != 2 || d.AuthSets[1].Status != statusPending {
		t.Fatalf("after rotation: %+v", d)
	}
	// Accepting the new one rejects the old one.
	r := e.mgmt("PUT", "/api/management/v2/devauth/devices/"+devID+"/auth/"+d.AuthSets[1].ID+"/status",
		map[string]string{"status": "accepted"})
	if r.Status != 204 {
		t.Fatalf("accept new: %d %s", r.Status, r.Body)
	}
	d = e.state().Devices[0]
	if d.AuthSets[0].Status != statusRejected || d.AuthSets[1].Status != statusAccepted {
		t.Fatalf("statuses: %s %s", d.AuthSets[0].Status, d.AuthSets[1].Status)
	}
	if r = e.auth(k1, `{"mac":"rot"}`); r.Status != 401 {
		t.Fatalf("old key: %d", r.Status)
	}
	if r = e.APIDo("PUT", invPath, []byte(`[]`), bearerJSON(tok1)); r.Status != 401 {
		t.Fatalf("old token: %d", r.Status)
	}
	if r = e.auth(k2, `{"mac":"rot"}`); r.Status != 200 {
		t.Fatalf("new key after accept: %d", r.Status)
	}
}

func TestAuthPreauthNeedsSameKeyAndIdentity(t *testing.T) {
	e := newEnv(t, nil)
	k, other := genKey(t, "ed25519"), genKey(t, "ed25519")
	r := e.mgmt("POST", "/api/management/v2/devauth/devices", map[string]interface{}{
		"identity_data": map[string]interface{}{"mac": "pre", "sku": "gw"}, "pubkey": k.pub,
	})
	if r.Status != 201 {
		t.Fatal(r.Status)
	}
	// Different identity: a new pending device.
	if r = e.auth(k, `{"mac":"pre"}`); r.Status != 401 {
		t.Fatalf("other identity: %d", r.Status)
	}
	// Different key: new pending auth set on the preauthorized device.
	if r = e.auth(other, `{"sku":"gw","mac":"pre"}`); r.Status != 401 {
		t.Fatalf("other key: %d", r.Status)
	}
	st := e.state()
	if len(st.Devices) != 2 {
		t.Fatalf("devices: %+v", st.Devices)
	}
	pre := st.Devices[0]
	if pre.Status != statusPreauth || len(pre.AuthSets) != 2 || pre.AuthSets[1].Status != statusPending {
		t.Fatalf("preauthorized device: %+v", pre)
	}
	// Matching identity (any key order) and key: accepted.
	if r = e.auth(k, `{"sku":"gw","mac":"pre"}`); r.Status != 200 {
		t.Fatalf("match: %d %s", r.Status, r.Body)
	}
	if d := e.state().Devices[0]; d.Status != statusAccepted || d.AuthSets[0].Status != statusAccepted {
		t.Fatalf("after match: %+v", d)
	}
}

func TestAuthTenantToken(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.TenantToken = "tenant-XYZ" })
	k := genKey(t, "ed25519")
	e.mgmt("POST", "/api/management/v2/devauth/devices", map[string]interface{}{
		"identity_data": map[string]interface{}{"mac": "t"}, "pubkey": k.pub,
	})
	send := func(extra map[string]interface{}) resp {
		body := authBody(t, `{"mac":"t"}`, k.pub, extra)
		return e.APIDo("POST", authPath, body, map[string]string{"Content-Type": "application/json", "X-MEN-Signature": k.sign(t, body)})
	}
	if r := send(nil); r.Status != 401 {
		t.Fatalf("no tenant token: %d", r.Status)
	}
	if r := send(map[string]interface{}{"tenant_token": "wrong"}); r.Status != 401 {
		t.Fatalf("wrong tenant token: %d", r.Status)
	}
	r := send(map[string]interface{}{"tenant_token": "tenant-XYZ"})
	if r.Status != 200 {
		t.Fatalf("right tenant token: %d %s", r.Status, r.Body)
	}
	c, _ := e.srv.jwt.parse(string(r.Body))
	if c == nil || c.Tenant == "" {
		t.Fatalf("no mender.tenant claim: %+v", c)
	}
}

func TestAuthMaxDevices(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.MaxDevices = 1 })
	k1, k2 := genKey(t, "ed25519"), genKey(t, "ed25519")
	e.acceptedToken(k1, map[string]interface{}{"mac": "1"})
	e.mgmt("POST", "/api/management/v2/devauth/devices", map[string]interface{}{
		"identity_data": map[string]interface{}{"mac": "2"}, "pubkey": k2.pub,
	})
	r := e.auth(k2, `{"mac":"2"}`)
	if r.Status != 401 || errMsg(t, r) != "unauthorized" {
		t.Fatalf("over the limit: %d %s", r.Status, r.Body)
	}
	var lim map[string]int
	e.mgmt("GET", "/api/management/v2/devauth/limits/max_devices", nil).JSON(t, &lim)
	if lim["limit"] != 1 {
		t.Fatalf("limit %v", lim)
	}
}

func TestAuthRSAKeyRSAJWT(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.JWTAlg = "RS256"; c.JWTTTL = time.Hour })
	tok, _ := e.acceptedToken(genKey(t, "rsa"), map[string]interface{}{"mac": "rs"})
	parts := strings.Split(tok, ".")
	hb, _ := base64.RawURLEncoding.DecodeString(parts[0])
	var hdr map[string]string
	_ = json.Unmarshal(hb, &hdr)
	if hdr["alg"] != "RS256" {
		t.Fatalf("header %v", hdr)
	}
	c, err := e.srv.jwt.parse(tok)
	if err != nil || c.ExpiresAt-c.IssuedAt != 3600 {
		t.Fatalf("claims %+v %v", c, err)
	}
	// The published key verifies the token.
	r := e.CtlDo("GET", "/_emu/jwt-key", nil)
	blk, _ := pem.Decode(r.Body)
	pub, err := x509.ParsePKIXPublicKey(blk.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	h := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	sig, _ := base64.RawURLEncoding.DecodeString(parts[2])
	if err := rsa.VerifyPKCS1v15(pub.(*rsa.PublicKey), crypto.SHA256, h[:], sig); err != nil {
		t.Fatal(err)
	}
}
