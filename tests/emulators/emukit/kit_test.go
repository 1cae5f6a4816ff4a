package emukit_test

import (
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"sbprov.test/emulators/emukit"
	"sbprov.test/emulators/emukit/emutest"
)

// miniEmu is the smallest emulator built from emukit: routes "ok" (GET
// /ok), "echo" (POST /echo reads the body) and "bad" (GET /bad, a
// violation), all in the group "grp"; everything else is 404.
type miniEmu struct {
	faults *emukit.FaultSet
	log    *emukit.RequestLog
	ctl    *emukit.Control
	resets int
	stamp  bool // stamp X-Stamp like the Azure emulator's Date
}

type miniExtra struct {
	Group string `json:"group,omitempty"`
}

func newMini(t *testing.T, logPath string, mod func(*miniEmu)) (*miniEmu, *emutest.Env) {
	t.Helper()
	rl, err := emukit.NewRequestLog(logPath)
	if err != nil {
		t.Fatal(err)
	}
	m := &miniEmu{faults: &emukit.FaultSet{}, log: rl}
	m.ctl = &emukit.Control{Faults: m.faults, Log: rl, Reset: func() error { m.resets++; return nil },
		JSON: emukit.JSONStyle{InternalError: `{"error":"internal error"}`}}
	if mod != nil {
		mod(m)
	}
	t.Cleanup(func() { rl.Close() })
	return m, emutest.NewEnv(t, m, m.ctl.Mux())
}

func (m *miniEmu) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	c := &emukit.Call{RequestID: emukit.NewUUID()}
	rec, body := emukit.Capture(w, r)
	if m.stamp {
		rec.Stamp = func(h http.Header) { h.Set("X-Stamp", "1") }
	}
	rec.Header().Set("X-Request-Id", c.RequestID)
	defer func() {
		m.log.Add(r, rec, body, start, c, miniExtra{Group: "grp"}, miniExtra{Group: "grp"})
	}()
	switch r.URL.Path {
	case "/ok", "/echo", "/bad":
		c.RouteName = strings.TrimPrefix(r.URL.Path, "/")
	}
	if rule := m.faults.Match(r.Method, r.URL.Path, c.RouteName, "grp"); rule != nil {
		c.Fault = rule.ID
		if emukit.ApplyFault(rec, r, rule, emukit.FaultBodies{
			Error: func(h http.Header, status int) string {
				h.Set("X-Error-Code", http.StatusText(status))
				return `{"err":"` + http.StatusText(status) + `"}`
			},
			Garbage:       "\xff{garbage",
			Truncated:     `{"truncated":"` + c.RequestID + `"}`,
			OversizeField: "msg",
		}) {
			return
		}
	}
	switch c.RouteName {
	case "ok":
		c.DeviceID = "dev-1"
		_, _ = io.WriteString(rec, "ok")
	case "echo":
		b, _ := io.ReadAll(r.Body)
		rec.WriteHeader(http.StatusCreated)
		_, _ = rec.Write(b)
	case "bad":
		c.Violate("schema", "bad: very")
		c.Violate("size", "too big")
		http.Error(rec, "bad", http.StatusBadRequest)
	default:
		http.NotFound(rec, r)
	}
}

func TestRecorderStampAndStatus(t *testing.T) {
	_, e := newMini(t, "", func(m *miniEmu) { m.stamp = true })
	r := e.APIDo("GET", "/ok", nil, nil)
	if r.Status != 200 || string(r.Body) != "ok" || r.Header.Get("X-Stamp") != "1" || r.Header.Get("X-Request-Id") == "" {
		t.Fatalf("ok: %d %v %q", r.Status, r.Header, r.Body)
	}
	var log []emukit.LogEntry
	e.CtlDo("GET", "/_emu/requests", nil).JSON(t, &log)
	if len(log) != 1 || log[0].Status != 200 || log[0].RespBytes != 2 || log[0].RespHdrs["X-Stamp"] != "1" {
		t.Fatalf("log: %+v", log)
	}
}

func TestControlHealthResetMethods(t *testing.T) {
	m, e := newMini(t, "", nil)
	if r := e.CtlDo("GET", "/_emu/health", nil); r.Status != 200 || string(r.Body) != `{"ok":true}` ||
		r.Header.Get("Content-Type") != "application/json; charset=utf-8" {
		t.Fatalf("health: %d %s", r.Status, r.Body)
	}
	e.AddFaults(map[string]interface{}{"route": "/zzz", "status": 500})
	e.APIDo("GET", "/bad", nil, nil)
	if r := e.CtlDo("GET", "/_emu/reset", nil); r.Status != 405 || !strings.Contains(string(r.Body), "method GET not allowed") {
		t.Fatalf("GET reset: %d %s", r.Status, r.Body)
	}
	if r := e.CtlDo("POST", "/_emu/reset", nil); r.Status != 204 || m.resets != 1 {
		t.Fatalf("reset: %d, %d calls", r.Status, m.resets)
	}
	var rules []emukit.FaultRule
	e.CtlDo("GET", "/_emu/faults", nil).JSON(t, &rules)
	if len(rules) != 0 || len(e.Violations()) != 0 {
		t.Fatalf("kept: %+v", rules)
	}
	var log []emukit.LogEntry
	if e.CtlDo("GET", "/_emu/requests", nil).JSON(t, &log); len(log) != 0 {
		t.Fatalf("log kept: %+v", log)
	}
	// A failing reset hook: 500, faults and logs cleared all the same.
	m.ctl.Reset = func() error { return io.ErrUnexpectedEOF }
	e.AddFaults(map[string]interface{}{"route": "/zzz", "status": 500})
	if r := e.CtlDo("POST", "/_emu/reset", nil); r.Status != 500 || !strings.Contains(string(r.Body), "unexpected EOF") {
		t.Fatalf("failed reset: %d %s", r.Status, r.Body)
	}
	if e.CtlDo("GET", "/_emu/faults", nil).JSON(t, &rules); len(rules) != 0 {
		t.Fatal("faults kept by a failed reset")
	}
	for _, c := range []struct{ method, path string }{{"POST", "/_emu/requests"}, {"DELETE", "/_emu/violations"},
		{"PUT", "/_emu/faults"}} {
		if r := e.CtlDo(c.method, c.path, nil); r.Status != 405 {
			t.Errorf("%s %s: %d", c.method, c.path, r.Status)
		}
	}
}

func TestJSONStyle(t *testing.T) {
	for _, st := range []emukit.JSONStyle{{}, {ContentLength: true, InternalError: `{"message":"internal error"}`}} {
		big := strings.Repeat("x", 10000)
		rec := &headerRecorder{h: http.Header{}}
		st.Write(rec, 201, map[string]string{"a": "<" + big})
		if rec.status != 201 || rec.h.Get("Content-Type") != "application/json; charset=utf-8" ||
			!strings.HasPrefix(rec.body.String(), `{"a":"\u003cxxx`) || strings.HasSuffix(rec.body.String(), "\n") {
			t.Fatalf("%+v: %d %v %.20q", st, rec.status, rec.h, rec.body.String())
		}
		if got, want := rec.h.Get("Content-Length"), strconv.Itoa(rec.body.Len()); st.ContentLength != (got == want) {
			t.Errorf("%+v: Content-Length %q", st, got)
		}
		rec = &headerRecorder{h: http.Header{}}
		st.Write(rec, 200, map[string]interface{}{"f": func() {}})
		if rec.status != 500 || rec.body.String() != st.InternalError {
			t.Errorf("%+v: marshal error: %d %q", st, rec.status, rec.body.String())
		}
	}
}

type headerRecorder struct {
	h      http.Header
	status int
	body   strings.Builder
}

func (r *headerRecorder) Header() http.Header         { return r.h }
func (r *headerRecorder) WriteHeader(code int)        { r.status = code }
func (r *headerRecorder) Write(b []byte) (int, error) { return r.body.Write(b) }
