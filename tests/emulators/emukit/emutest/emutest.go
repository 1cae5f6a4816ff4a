// Package emutest has the test helpers the emulators share: an emulated
// API and its control API on httptest servers, requests that fail the
// test on transport errors, and the violation checks.
package emutest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"sbprov.test/emulators/emukit"
)

// Resp is an answer, read completely.
type Resp struct {
	Status int
	Header http.Header
	Body   []byte
}

// JSON decodes the body into v or fails the test.
func (r Resp) JSON(t testing.TB, v interface{}) {
	t.Helper()
	if err := json.Unmarshal(r.Body, v); err != nil {
		t.Fatalf("bad JSON %q: %v", r.Body, err)
	}
}

// Env is an emulator under test: its API and its control API, served by
// httptest servers that the test's cleanup closes.
type Env struct {
	T   *testing.T
	API *httptest.Server
	Ctl *httptest.Server
}

// NewEnv starts api and ctl. Register the emulator's own cleanup before
// calling it: the servers are closed first.
func NewEnv(t *testing.T, api, ctl http.Handler) *Env {
	t.Helper()
	e := &Env{T: t, API: httptest.NewServer(api), Ctl: httptest.NewServer(ctl)}
	t.Cleanup(func() {
		e.API.Close()
		e.Ctl.Close()
	})
	return e
}

// Do sends a request (body nil: none) with the headers hdr.
func (e *Env) Do(method, url string, body []byte, hdr map[string]string) Resp {
	e.T.Helper()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		e.T.Fatal(err)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		e.T.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		e.T.Fatal(err)
	}
	return Resp{Status: res.StatusCode, Header: res.Header, Body: b}
}

// APIDo sends a request to the emulated API.
func (e *Env) APIDo(method, path string, body []byte, hdr map[string]string) Resp {
	e.T.Helper()
	return e.Do(method, e.API.URL+path, body, hdr)
}

// CtlDo sends a control request; body (if not nil) is sent as JSON.
func (e *Env) CtlDo(method, path string, body interface{}) Resp {
	e.T.Helper()
	var b []byte
	if body != nil {
		var err error
		if b, err = json.Marshal(body); err != nil {
			e.T.Fatal(err)
		}
	}
	return e.Do(method, e.Ctl.URL+path, b, map[string]string{"Content-Type": "application/json"})
}

// Violations returns GET /_emu/violations.
func (e *Env) Violations() []emukit.Violation {
	e.T.Helper()
	var v []emukit.Violation
	e.CtlDo("GET", "/_emu/violations", nil).JSON(e.T, &v)
	return v
}

// ExpectViolations fails the test unless the violations so far have
// exactly these kinds, in this order.
func (e *Env) ExpectViolations(kinds ...string) {
	e.T.Helper()
	v := e.Violations()
	if len(v) != len(kinds) {
		e.T.Fatalf("violations %+v, want kinds %v", v, kinds)
	}
	for i, k := range kinds {
		if v[i].Kind != k {
			e.T.Errorf("violation %d kind %q (%s), want %q", i, v[i].Kind, v[i].Message, k)
		}
	}
}

// AddFaults posts fault rules (201 expected).
func (e *Env) AddFaults(rules ...map[string]interface{}) {
	e.T.Helper()
	if r := e.CtlDo("POST", "/_emu/faults", rules); r.Status != 201 {
		e.T.Fatalf("add faults: %d %s", r.Status, r.Body)
	}
}

// RawRequest writes req as is to the server at url and reads until the
// connection closes (5 s at most).
func RawRequest(t testing.TB, url, req string) (string, error) {
	t.Helper()
	addr := strings.TrimPrefix(url, "http://")
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.WriteString(c, req); err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(c)
	return string(b), err
}

// WaitAddrFile waits (2 s at most) for an emulator's -addr-file and
// returns its fields: "listening", the API address, "control", the
// control address. stderr (may be nil) is shown if the file is wrong.
func WaitAddrFile(t testing.TB, path string, stderr fmt.Stringer) []string {
	t.Helper()
	var lines string
	for i := 0; i < 200; i++ {
		if b, err := os.ReadFile(path); err == nil {
			lines = string(b)
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	f := strings.Fields(lines)
	if len(f) != 4 || f[0] != "listening" || f[2] != "control" || !strings.HasPrefix(f[1], "127.0.0.1:") {
		msg := ""
		if stderr != nil {
			msg = " (stderr " + stderr.String() + ")"
		}
		t.Fatalf("addr file %q%s", lines, msg)
	}
	return f
}
