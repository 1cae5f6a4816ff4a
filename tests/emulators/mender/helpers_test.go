package main

import (
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
	"strings"
	"testing"

	"sbprov.test/emulators/emukit/emutest"
)

const (
	testUser = "admin@example.com"
	testPass = "secret"
	testPAT  = "test-pat-token"
)

// testEnv is the emulator on httptest servers (emutest.Env: do, APIDo,
// CtlDo, Violations, ExpectViolations, AddFaults).
type testEnv struct {
	*emutest.Env
	t   *testing.T
	srv *Server
}

type resp = emutest.Resp

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
	t.Cleanup(func() { srv.Close() })
	return &testEnv{Env: emutest.NewEnv(t, srv, srv.ControlHandler()), t: t, srv: srv}
}

// errMsg is the "error" of a Mender error body, which must have a request_id.
func errMsg(t *testing.T, r resp) string {
	t.Helper()
	var e apiError
	r.JSON(t, &e)
	if e.RequestID == "" {
		t.Errorf("error body without request_id: %s", r.Body)
	}
	return e.Err
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
	return e.APIDo(method, path, b, hdr)
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
	e.CtlDo("GET", "/_emu/devices", nil).JSON(e.t, &st)
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
	return e.APIDo("POST", authPath, body, map[string]string{
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
	if r.Status != 201 {
		e.t.Fatalf("preauthorize: %d %s", r.Status, r.Body)
	}
	devID = strings.TrimPrefix(r.Header.Get("Location"), "devices/")
	idData, _ := json.Marshal(identity)
	r = e.auth(k, string(idData))
	if r.Status != 200 {
		e.t.Fatalf("auth: %d %s", r.Status, r.Body)
	}
	return string(r.Body), devID
}

func bearer(tok string) map[string]string {
	return map[string]string{"Authorization": "Bearer " + tok}
}

func bearerJSON(tok string) map[string]string {
	return map[string]string{"Authorization": "Bearer " + tok, "Content-Type": "application/json"}
}
