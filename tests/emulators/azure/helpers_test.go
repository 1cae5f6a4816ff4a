package main

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/url"
	"strconv"
	"sync"
	"testing"
	"time"

	"sbprov.test/emulators/emukit"
	"sbprov.test/emulators/emukit/emutest"
)

// Test fixtures. The group key is a 64-byte key as DPS generates them; the
// policy key a 32-byte one.
const (
	testScope     = "0ne00C0FFEE"
	testHub       = "test-hub.azure-devices.net"
	testGroup     = "gateways"
	testGroupKey  = "8isrFI1sGsIlvvFSSFRiMfCNzv21fjbE/+ah/lSh3lF8e2YG1Te7w1KpZhJFFXJrqYKi9yegxkqIChbqOS9Egw=="
	testGroupKey2 = "O1kALw1YY5sNB0PogOgKh5700Vnvj1x7P6DQMs4bTAIFHlFpsy2HHTYDhbxn6txTUjlNnxMl4yctPGSmdT7rfg=="
	testOwnerKey  = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="
	testRegRWKey  = "cmVnaXN0cnlSZWFkV3JpdGUta2V5LTMyLWJ5dGVzLi4="
	testReadKey   = "cmVnaXN0cnlSZWFkLW9ubHkta2V5LTMyLWJ5dGVzLi4="
	testDevPolKey = "ZGV2aWNlLXBvbGljeS1rZXktb2YtMzItYnl0ZXMuLi4="
	dpsAPI        = "?api-version=2021-10-01"
	hubAPI        = "?api-version=2021-04-12"
)

// testNow is the fixed clock of the tests (the server's clock before the
// offset).
var testNow = time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC)

// testEnv is the emulator on httptest servers (emutest.Env: Do, APIDo,
// CtlDo, Violations, AddFaults) with a test clock.
type testEnv struct {
	*emutest.Env
	t   *testing.T
	srv *Server
	mu  sync.Mutex
	now time.Time
}

type resp = emutest.Resp

// logEntry is a request log entry with the Azure fields.
type logEntry struct {
	emukit.LogEntry
	logExtra
}

func newEnv(t *testing.T, mod func(*Config)) *testEnv {
	t.Helper()
	cfg := DefaultConfig()
	cfg.HubHost = testHub
	cfg.IDScope = testScope
	cfg.RetryAfter = 1
	cfg.Groups = []*enrollment{{Type: "group", IDScope: testScope, Name: testGroup, PrimaryKey: testGroupKey, SecondaryKey: testGroupKey2}}
	for _, spec := range []string{"iothubowner=" + testOwnerKey, "registryReadWrite=" + testRegRWKey,
		"registryRead=" + testReadKey, "device=" + testDevPolKey} {
		p, err := parsePolicyFlag(spec)
		if err != nil {
			t.Fatal(err)
		}
		cfg.Policies = append(cfg.Policies, p)
	}
	if mod != nil {
		mod(&cfg)
	}
	srv, err := NewServer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	e := &testEnv{t: t, srv: srv, now: testNow}
	srv.clock = func() time.Time {
		e.mu.Lock()
		defer e.mu.Unlock()
		return e.now
	}
	t.Cleanup(func() { srv.Close() })
	e.Env = emutest.NewEnv(t, srv, srv.ControlHandler())
	return e
}

func (e *testEnv) advance(d time.Duration) {
	e.mu.Lock()
	e.now = e.now.Add(d)
	e.mu.Unlock()
}

func (e *testEnv) clockNow() time.Time {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.now
}

// ExpectViolations is emutest's, then clears the log for the next check.
func (e *testEnv) ExpectViolations(kinds ...string) {
	e.t.Helper()
	e.Env.ExpectViolations(kinds...)
	e.CtlDo("DELETE", "/_emu/requests", nil)
}

// --- an independent implementation of the client side --------------------

// derive is the DPS derived device key, written here independently of
// keys.go: Base64(HMAC-SHA256(Base64Decode(groupKey), registrationId)).
func derive(t *testing.T, groupKey, rid string) string {
	t.Helper()
	k, err := base64.StdEncoding.DecodeString(groupKey)
	if err != nil {
		t.Fatal(err)
	}
	m := hmac.New(sha256.New, k)
	_, _ = io.WriteString(m, rid)
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// sas builds "SharedAccessSignature sr=..&sig=..&se=..[&skn=..]" as the
// Azure SDKs do (sr and sig URL-encoded, upper-case hex).
func sas(t *testing.T, key, resource string, se int64, skn string) string {
	t.Helper()
	return sasRawSR(t, key, url.QueryEscape(resource), se, skn)
}

func sasRawSR(t *testing.T, key, srEncoded string, se int64, skn string) string {
	t.Helper()
	k, err := base64.StdEncoding.DecodeString(key)
	if err != nil {
		t.Fatal(err)
	}
	m := hmac.New(sha256.New, k)
	_, _ = io.WriteString(m, srEncoded+"\n"+strconv.FormatInt(se, 10))
	sig := base64.StdEncoding.EncodeToString(m.Sum(nil))
	tok := "SharedAccessSignature sr=" + srEncoded + "&sig=" + url.QueryEscape(sig) + "&se=" + strconv.FormatInt(se, 10)
	if skn != "" {
		tok += "&skn=" + skn
	}
	return tok
}

// an hour after the test clock
func (e *testEnv) se() int64 { return e.clockNow().Add(time.Hour).Unix() }

func (e *testEnv) dpsToken(rid, key string) string {
	return sas(e.t, key, testScope+"/registrations/"+rid, e.se(), "registration")
}

func (e *testEnv) deviceToken(id, key string) string {
	return sas(e.t, key, testHub+"/devices/"+id, e.se(), "")
}

func (e *testEnv) ownerToken() string {
	return sas(e.t, testOwnerKey, testHub, e.se(), "iothubowner")
}

func jsonHdr(auth string) map[string]string {
	return map[string]string{"Authorization": auth, "Content-Type": "application/json; charset=utf-8"}
}

func regBody(rid string) []byte {
	return []byte(`{"registrationId":"` + rid + `"}`)
}

func (e *testEnv) register(rid, token string, body []byte) resp {
	e.t.Helper()
	return e.APIDo("PUT", "/"+testScope+"/registrations/"+rid+"/register"+dpsAPI, body, jsonHdr(token))
}

func (e *testEnv) poll(rid, op, token string) resp {
	e.t.Helper()
	return e.APIDo("GET", "/"+testScope+"/registrations/"+rid+"/operations/"+op+dpsAPI, nil,
		map[string]string{"Authorization": token})
}

type opResult struct {
	OperationID       string `json:"operationId"`
	Status            string `json:"status"`
	RegistrationState *struct {
		RegistrationID string `json:"registrationId"`
		Created        string `json:"createdDateTimeUtc"`
		AssignedHub    string `json:"assignedHub"`
		DeviceID       string `json:"deviceId"`
		Status         string `json:"status"`
		Substatus      string `json:"substatus"`
		LastUpdated    string `json:"lastUpdatedDateTimeUtc"`
		ETag           string `json:"etag"`
		ErrorCode      int    `json:"errorCode"`
		ErrorMessage   string `json:"errorMessage"`
		Payload        json.RawMessage
		SymmetricKey   *struct {
			EnrollmentGroupID string `json:"enrollmentGroupId"`
		} `json:"symmetricKey"`
	} `json:"registrationState"`
}

// provision registers and polls until a final answer.
func (e *testEnv) provision(rid, key string) opResult {
	e.t.Helper()
	tok := e.dpsToken(rid, key)
	r := e.register(rid, tok, regBody(rid))
	if r.Status != 202 {
		e.t.Fatalf("register %s: %d %s", rid, r.Status, r.Body)
	}
	var op opResult
	r.JSON(e.t, &op)
	for i := 0; i < 10; i++ {
		r = e.poll(rid, op.OperationID, tok)
		if r.Status == 200 {
			var res opResult
			r.JSON(e.t, &res)
			return res
		}
		if r.Status != 202 {
			e.t.Fatalf("poll: %d %s", r.Status, r.Body)
		}
	}
	e.t.Fatal("still assigning after 10 polls")
	return opResult{}
}

type dpsErr struct {
	ErrorCode    int    `json:"errorCode"`
	TrackingID   string `json:"trackingId"`
	Message      string `json:"message"`
	TimestampUTC string `json:"timestampUtc"`
}

// dpsErrOf checks and returns a DPS error body.
func dpsErrOf(t *testing.T, r resp) dpsErr {
	t.Helper()
	var d dpsErr
	r.JSON(t, &d)
	if d.TrackingID == "" || d.TimestampUTC == "" || d.ErrorCode == 0 {
		t.Errorf("DPS error body incomplete: %s", r.Body)
	}
	if r.Header.Get("X-Ms-Error-Code") != strconv.Itoa(d.ErrorCode) {
		t.Errorf("x-ms-error-code %q, body code %d", r.Header.Get("X-Ms-Error-Code"), d.ErrorCode)
	}
	return d
}

type hubErr struct {
	Message          string `json:"Message"`
	ExceptionMessage string `json:"ExceptionMessage"`
}

// hubErrOf checks and returns an IoT Hub error body.
func hubErrOf(t *testing.T, r resp) hubErr {
	t.Helper()
	var h hubErr
	r.JSON(t, &h)
	if h.ExceptionMessage == "" || h.Message == "" {
		t.Errorf("hub error body incomplete: %s", r.Body)
	}
	if code := r.Header.Get("Iothub-Errorcode"); code == "" || !bytes.HasPrefix([]byte(h.Message), []byte("ErrorCode:"+code+";")) {
		t.Errorf("iothub-errorcode %q, Message %q", code, h.Message)
	}
	return h
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
