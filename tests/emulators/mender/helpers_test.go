package main

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

const (
	testUser = "admin@example.com"
	testPass = "secret"
	testPAT  = "test-pat-token"
)

type testEnv struct {
	t   *testing.T
	srv *Server
	api *httptest.Server
	ctl *httptest.Server
}

func newEnv(t *testing.T, mod func(*Config)) *testEnv {
	t.Helper()
	cfg := DefaultConfig()
	cfg.Users[testUser] = testPass
	cfg.PATs = []string{testPAT}
	if mod != nil {
		mod(&cfg)
	}
	srv, err := NewServer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	e := &testEnv{t: t, srv: srv, api: httptest.NewServer(srv), ctl: httptest.NewServer(srv.ControlHandler())}
	t.Cleanup(func() {
		e.api.Close()
		e.ctl.Close()
		srv.Close()
	})
	return e
}

type resp struct {
	status int
	header http.Header
	body   []byte
}

func (r resp) json(t *testing.T, v interface{}) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("bad JSON %q: %v", r.body, err)
	}
}

func (r resp) errMsg(t *testing.T) string {
	t.Helper()
	var e apiError
	r.json(t, &e)
	if e.RequestID == "" {
		t.Errorf("error body without request_id: %s", r.body)
	}
	return e.Err
}

func (e *testEnv) do(method, url string, body []byte, hdr map[string]string) resp {
	e.t.Helper()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	return resp{status: res.StatusCode, header: res.Header, body: b}
}

func (e *testEnv) apiDo(method, path string, body []byte, hdr map[string]string) resp {
	e.t.Helper()
	return e.do(method, e.api.URL+path, body, hdr)
}

func (e *testEnv) ctlDo(method, path string, body interface{}) resp {
	e.t.Helper()
	var b []byte
	if body != nil {
		var err error
		if b, err = json.Marshal(body); err != nil {
			e.t.Fatal(err)
		}
	}
	return e.do(method, e.ctl.URL+path, b, map[string]string{"Content-Type": "application/json"})
}

// mgmt sends a management request with the PAT.
func (e *testEnv) mgmt(method, path string, body interface{}) resp {
	e.t.Helper()
	var b []byte
	hdr := map[string]string{"Authorization": "Bearer " + testPAT}
	if body != nil {
		var err error
		if b, err = json.Marshal(body); err != nil {
			e.t.Fatal(err)
		}
		hdr["Content-Type"] = "application/json"
	}
	return e.apiDo(method, path, b, hdr)
}

func (e *testEnv) violations() []violation {
	e.t.Helper()
	var v []violation
	e.ctlDo("GET", "/_emu/violations", nil).json(e.t, &v)
	return v
}

func (e *testEnv) expectViolations(kinds ...string) {
	e.t.Helper()
	v := e.violations()
	if len(v) != len(kinds) {
		e.t.Fatalf("violations %+v, want kinds %v", v, kinds)
	}
	for i, k := range kinds {
		if v[i].Kind != k {
			e.t.Errorf("violation %d kind %q (%s), want %q", i, v[i].Kind, v[i].Message, k)
		}
	}
}

type emuState struct {
	Devices []struct {
		deviceJSON
		IdentityCanonical string      `json:"identity_canonical"`
		Inventory         []attribute `json:"inventory"`
		Tokens            []emuToken  `json:"tokens"`
	} `json:"devices"`
}

func (e *testEnv) state() emuState {
	e.t.Helper()
	var st emuState
	e.ctlDo("GET", "/_emu/devices", nil).json(e.t, &st)
	return st
}

// --- device keys and auth requests ------------------------------------------

type devKey struct {
	priv crypto.Signer
	pub  string // PEM SPKI
}

func genKey(t *testing.T, kind string) devKey {
	t.Helper()
	var priv crypto.Signer
	var err error
	switch kind {
	case "ed25519":
		_, priv, err = ed25519.GenerateKey(rand.Reader)
	case "rsa":
		priv, err = rsa.GenerateKey(rand.Reader, 2048)
	case "p256":
		priv, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case "p384":
		priv, err = ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	case "p521":
		priv, err = ecdsa.GenerateKey(elliptic.P521(), rand.Reader)
	default:
		t.Fatalf("unknown key kind %s", kind)
	}
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKIXPublicKey(priv.Public())
	if err != nil {
		t.Fatal(err)
	}
	return devKey{priv: priv, pub: string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))}
}

// sign signs the raw body the way Mender clients do (SHA-256 for RSA and
// ECDSA with a DER signature, pure Ed25519).
func (k devKey) sign(t *testing.T, body []byte) string {
	t.Helper()
	var sig []byte
	var err error
	if _, ok := k.priv.(ed25519.PrivateKey); ok {
		sig, err = k.priv.Sign(rand.Reader, body, crypto.Hash(0))
	} else {
		h := sha256.Sum256(body)
		sig, err = k.priv.Sign(rand.Reader, h[:], crypto.SHA256)
	}
	if err != nil {
		t.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(sig)
}

func authBody(t *testing.T, idData string, pub string, extra map[string]interface{}) []byte {
	t.Helper()
	m := map[string]interface{}{"id_data": idData, "pubkey": pub}
	for k, v := range extra {
		m[k] = v
	}
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

const authPath = "/api/devices/v1/authentication/auth_requests"

// auth submits a signed auth request.
func (e *testEnv) auth(k devKey, idData string) resp {
	e.t.Helper()
	body := authBody(e.t, idData, k.pub, map[string]interface{}{"tier": "standard"})
	return e.apiDo("POST", authPath, body, map[string]string{
		"Content-Type":    "application/json",
		"X-MEN-Signature": k.sign(e.t, body),
	})
}

// acceptedToken preauthorizes the identity/key and returns a device token.
func (e *testEnv) acceptedToken(k devKey, identity map[string]interface{}) (token, devID string) {
	e.t.Helper()
	r := e.mgmt("POST", "/api/management/v2/devauth/devices", map[string]interface{}{
		"identity_data": identity, "pubkey": k.pub,
	})
	if r.status != 201 {
		e.t.Fatalf("preauthorize: %d %s", r.status, r.body)
	}
	devID = strings.TrimPrefix(r.header.Get("Location"), "devices/")
	idData, _ := json.Marshal(identity)
	r = e.auth(k, string(idData))
	if r.status != 200 {
		e.t.Fatalf("auth: %d %s", r.status, r.body)
	}
	return string(r.body), devID
}

func bearer(tok string) map[string]string {
	return map[string]string{"Authorization": "Bearer " + tok}
}

func bearerJSON(tok string) map[string]string {
	return map[string]string{"Authorization": "Bearer " + tok, "Content-Type": "application/json"}
}
