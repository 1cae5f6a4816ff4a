package emukit_test

import (
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"sbprov.test/emulators/emukit"
)

// entry is a log entry with miniEmu's extra field.
type entry struct {
	emukit.LogEntry
	miniExtra
}

func TestRequestLog(t *testing.T) {
	_, e := newMini(t, "", nil)
	e.APIDo("GET", "/ok?x=1", nil, map[string]string{"X-Test": "a"})
	big := strings.Repeat("b", emukit.LogBodyLimit+10)
	e.APIDo("POST", "/echo", []byte(big), nil)
	e.APIDo("POST", "/echo", []byte{0xff, 0xfe}, nil)
	var log []entry
	e.CtlDo("GET", "/_emu/requests", nil).JSON(t, &log)
	if len(log) != 3 {
		t.Fatalf("log: %+v", log)
	}
	l := log[0]
	if l.Seq != 1 || l.Method != "GET" || l.Path != "/ok" || l.Query != "x=1" || l.Route != "ok" || l.Status != 200 ||
		l.RequestID == "" || l.RespHdrs["X-Request-Id"] != l.RequestID || l.Headers["X-Test"] != "a" ||
		!strings.HasPrefix(l.Headers["Host"], "127.0.0.1:") || l.DeviceID != "dev-1" || l.RespBytes != 2 ||
		l.Proto != "HTTP/1.1" || l.Group != "grp" || l.Time == "" || l.DurationMS < 0 || l.Fault != 0 {
		t.Fatalf("entry: %+v", l)
	}
	if l := log[1]; l.BodyBytes != int64(len(big)) || len(l.Body) != emukit.LogBodyLimit || !l.BodyCut || l.BodyB64 != "" ||
		l.Status != 201 || l.RespBytes != int64(len(big)) {
		t.Fatalf("big body: %d %d %v", l.BodyBytes, len(l.Body), l.BodyCut)
	}
	if l := log[2]; l.Body != "" || l.BodyB64 != base64.StdEncoding.EncodeToString([]byte{0xff, 0xfe}) || l.BodyCut {
		t.Fatalf("binary body: %+v", l)
	}
	e.APIDo("GET", "/nope", nil, nil)
	since := log[2].Seq
	log = nil
	e.CtlDo("GET", "/_emu/requests?since="+strconv.FormatInt(since, 10), nil).JSON(t, &log)
	if len(log) != 1 || log[0].Seq != 4 || log[0].Route != "" || log[0].Status != 404 {
		t.Fatalf("since: %+v", log)
	}
	// Omitted when empty: query, route, device_id, fault, violations, bodies.
	r := e.CtlDo("GET", "/_emu/requests?since=3", nil)
	for _, k := range []string{`"query"`, `"route"`, `"device_id"`, `"fault"`, `"violations"`, `"body"`, `"body_base64"`} {
		if strings.Contains(string(r.Body), k) {
			t.Errorf("%s in %s", k, r.Body)
		}
	}
	if r := e.CtlDo("DELETE", "/_emu/requests", nil); r.Status != 204 {
		t.Fatalf("delete: %d", r.Status)
	}
	e.CtlDo("GET", "/_emu/requests", nil).JSON(t, &log)
	if len(log) != 0 {
		t.Fatal("not cleared")
	}
	// Sequence numbers keep growing.
	e.APIDo("GET", "/ok", nil, nil)
	e.CtlDo("GET", "/_emu/requests", nil).JSON(t, &log)
	if len(log) != 1 || log[0].Seq != 5 {
		t.Fatalf("after clear: %+v", log)
	}
}

func TestViolations(t *testing.T) {
	_, e := newMini(t, "", nil)
	e.APIDo("GET", "/ok", nil, nil)
	e.APIDo("GET", "/bad", nil, nil)
	e.ExpectViolations("schema", "size")
	r := e.CtlDo("GET", "/_emu/violations", nil)
	var v []struct {
		emukit.Violation
		miniExtra
	}
	r.JSON(t, &v)
	if len(v) != 2 || v[0].Seq != 2 || v[0].Message != "bad: very" || v[1].Message != "too big" || v[0].Route != "bad" ||
		v[0].Status != 400 || v[0].Method != "GET" || v[0].Path != "/bad" || v[0].RequestID == "" || v[0].Group != "grp" {
		t.Fatalf("violations: %s", r.Body)
	}
	var log []emukit.LogEntry
	e.CtlDo("GET", "/_emu/requests?since=1", nil).JSON(t, &log)
	if len(log) != 1 || strings.Join(log[0].Violations, "|") != "schema: bad: very|size: too big" {
		t.Fatalf("log: %+v", log)
	}
	if v := e.CtlDo("GET", "/_emu/violations?since=2", nil); string(v.Body) != "[]" {
		t.Fatalf("since: %s", v.Body)
	}
	e.CtlDo("DELETE", "/_emu/requests", nil)
	e.ExpectViolations()
}

func TestRequestLogFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "req.jsonl")
	_, e := newMini(t, path, nil)
	e.APIDo("GET", "/nope", nil, nil)
	e.APIDo("GET", "/nope2", nil, nil)
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) != 2 || !strings.Contains(lines[1], `"path":"/nope2"`) || !strings.Contains(lines[1], `"status":404`) ||
		!strings.HasSuffix(lines[1], `,"group":"grp"}`) {
		t.Fatalf("log file: %q", b)
	}
	if _, err := emukit.NewRequestLog(filepath.Join(path, "sub")); err == nil {
		t.Fatal("log under a file")
	}
}

func TestLogEntryExtra(t *testing.T) {
	for _, c := range []struct {
		extra interface{}
		want  string
	}{
		{nil, `"proto":""}`},
		{struct{}{}, `"proto":""}`},
		{(*miniExtra)(nil), `"proto":""}`},
		{miniExtra{}, `"proto":""}`},
		{miniExtra{Group: "g"}, `"proto":"","group":"g"}`},
		{map[string]int{"n": 1}, `"proto":"","n":1}`},
	} {
		b, err := json.Marshal(emukit.LogEntry{Extra: c.extra})
		if err != nil || !strings.HasSuffix(string(b), c.want) || !json.Valid(b) {
			t.Errorf("%#v: %s %v", c.extra, b, err)
		}
	}
	if _, err := json.Marshal(emukit.Violation{Extra: map[string]interface{}{"f": func() {}}}); err == nil {
		t.Error("unmarshallable extra")
	}
}
