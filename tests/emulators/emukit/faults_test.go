package emukit_test

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"sbprov.test/emulators/emukit"
	"sbprov.test/emulators/emukit/emutest"
)

func TestFaultStatusCountRetryAfterAndList(t *testing.T) {
	_, e := newMini(t, "", nil)
	e.AddFaults(map[string]interface{}{"route": "ok", "count": 2, "status": 503, "retry_after": "5"})
	for i := 0; i < 2; i++ {
		r := e.APIDo("GET", "/ok", nil, nil)
		if r.Status != 503 || r.Header.Get("Retry-After") != "5" || string(r.Body) != `{"err":"Service Unavailable"}` ||
			r.Header.Get("X-Error-Code") != "Service Unavailable" || r.Header.Get("Content-Type") != "application/json; charset=utf-8" {
			t.Fatalf("fault %d: %d %v %s", i, r.Status, r.Header, r.Body)
		}
	}
	if r := e.APIDo("GET", "/ok", nil, nil); r.Status != 200 {
		t.Fatalf("after count: %d", r.Status)
	}
	var rules []emukit.FaultRule
	e.CtlDo("GET", "/_emu/faults", nil).JSON(t, &rules)
	if len(rules) != 1 || rules[0].Fired != 2 || rules[0].Seen != 2 || rules[0].ID != 1 {
		t.Fatalf("rules: %+v", rules)
	}
	var log []emukit.LogEntry
	e.CtlDo("GET", "/_emu/requests", nil).JSON(t, &log)
	if len(log) != 3 || log[0].Fault != rules[0].ID || log[2].Fault != 0 || log[0].Status != 503 {
		t.Fatalf("fault not logged: %+v", log)
	}
	if r := e.CtlDo("DELETE", "/_emu/faults", nil); r.Status != 204 {
		t.Fatalf("delete: %d", r.Status)
	}
	e.CtlDo("GET", "/_emu/faults", nil).JSON(t, &rules)
	if len(rules) != 0 {
		t.Fatal("faults not cleared")
	}
	// Ids keep growing after a clear; POST answers the rules with theirs.
	r := e.CtlDo("POST", "/_emu/faults", []map[string]interface{}{{"route": "/x"}, {"route": "/y", "seen": 9}})
	if r.JSON(t, &rules); r.Status != 201 || len(rules) != 2 || rules[0].ID != 2 || rules[1].ID != 3 || rules[1].Seen != 0 {
		t.Fatalf("post: %d %s", r.Status, r.Body)
	}
}

func TestFaultSkipMethodPrefixBodyHeaders(t *testing.T) {
	_, e := newMini(t, "", nil)
	e.AddFaults(
		map[string]interface{}{"route": "/ec", "method": "post", "skip": 1, "count": 1,
			"status": 429, "body": "slow down", "content_type": "text/plain", "headers": map[string]string{"X-Test": "1"}},
	)
	if r := e.APIDo("GET", "/echo", nil, nil); r.Status != 201 {
		t.Fatalf("GET not matched: %d", r.Status)
	}
	if r := e.APIDo("POST", "/echo", []byte("a"), nil); r.Status != 201 {
		t.Fatalf("skipped POST: %d", r.Status)
	}
	r := e.APIDo("POST", "/echo", []byte("a"), nil)
	if r.Status != 429 || string(r.Body) != "slow down" || r.Header.Get("Content-Type") != "text/plain" ||
		r.Header.Get("X-Test") != "1" || r.Header.Get("X-Error-Code") != "" {
		t.Fatalf("fault: %d %v %q", r.Status, r.Header, r.Body)
	}
	if r := e.APIDo("POST", "/echo", []byte("a"), nil); r.Status != 201 {
		t.Fatalf("after: %d", r.Status)
	}
}

func TestFaultNames(t *testing.T) {
	_, e := newMini(t, "", nil)
	// A group name (the Azure emulator's service), a route name, a name
	// nothing has, "*" for every request; the first live rule wins.
	e.AddFaults(
		map[string]interface{}{"route": "nothing", "status": 500},
		map[string]interface{}{"route": "bad", "status": 502, "count": 1},
		map[string]interface{}{"route": "grp", "status": 503, "count": 1},
		map[string]interface{}{"route": "*", "status": 504, "count": 1},
	)
	for _, c := range []struct {
		path string
		want int
	}{{"/bad", 502}, {"/nope", 503}, {"/ok", 504}, {"/ok", 200}} {
		if r := e.APIDo("GET", c.path, nil, nil); r.Status != c.want {
			t.Errorf("%s: %d, want %d", c.path, r.Status, c.want)
		}
	}
	f := emukit.FaultRule{Route: "x", Method: "GET"}
	if f.Matches("GET", "/x") || f.Matches("PUT", "/", "x") || !f.Matches("get", "/", "", "x") {
		t.Error("Matches")
	}
}

func TestFaultDelayPassthrough(t *testing.T) {
	_, e := newMini(t, "", nil)
	e.AddFaults(map[string]interface{}{"route": "ok", "delay_ms": 300, "count": 1})
	start := time.Now()
	if r := e.APIDo("GET", "/ok", nil, nil); r.Status != 200 || string(r.Body) != "ok" || time.Since(start) < 300*time.Millisecond {
		t.Fatalf("delay %v status %d", time.Since(start), r.Status)
	}
	// A client timeout shorter than the delay.
	e.AddFaults(map[string]interface{}{"delay_ms": 2000, "count": 1})
	cl := &http.Client{Timeout: 200 * time.Millisecond}
	if _, err := cl.Get(e.API.URL + "/x"); err == nil {
		t.Fatal("no timeout")
	}
}

func TestFaultTruncate(t *testing.T) {
	_, e := newMini(t, "", func(m *miniEmu) { m.stamp = true })
	e.AddFaults(
		map[string]interface{}{"route": "echo", "truncate": true, "status": 200,
			"body": "eyJhbGciOiJFZERTQSJ9.e30.c2ln", "content_type": "application/jwt", "count": 1},
		map[string]interface{}{"route": "echo", "truncate": true, "status": 202, "count": 1},
	)
	for i, want := range []string{"eyJhbGciOiJFZER", `{"truncated":"`} {
		res, err := http.Post(e.API.URL+"/echo", "application/json", strings.NewReader("{}"))
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(res.Body)
		res.Body.Close()
		if !errors.Is(err, io.ErrUnexpectedEOF) || !strings.HasPrefix(string(b), want) || res.Header.Get("X-Stamp") != "1" ||
			res.ContentLength != int64(2*len(b)-1+4096) && res.ContentLength != int64(2*len(b)-2+4096) {
			t.Fatalf("truncate %d: %d %v %v %q", i, res.StatusCode, err, res.Header, b)
		}
	}
}

func TestFaultOversizeGarbageDrop(t *testing.T) {
	_, e := newMini(t, "", nil)
	e.AddFaults(
		map[string]interface{}{"route": "/a", "oversize_bytes": 3000000},
		map[string]interface{}{"route": "/b", "oversize_bytes": 100000, "chunked": true, "garbage": true},
		map[string]interface{}{"route": "/c", "garbage": true},
		map[string]interface{}{"route": "/d", "drop": true},
		map[string]interface{}{"route": "/e", "oversize_bytes": 5},
	)
	res, err := http.Get(e.API.URL + "/a")
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(res.Body)
	res.Body.Close()
	if err != nil || res.ContentLength != 3000000 || len(b) != 3000000 || !strings.HasPrefix(string(b), `{"msg":"`) ||
		!strings.HasSuffix(string(b), `"}`) || !json.Valid(b) {
		t.Fatalf("oversize: %v cl=%d len=%d", err, res.ContentLength, len(b))
	}
	res, err = http.Get(e.API.URL + "/b")
	if err != nil {
		t.Fatal(err)
	}
	b, _ = io.ReadAll(res.Body)
	res.Body.Close()
	if res.ContentLength != -1 || len(b) != 100000 || json.Valid(b) || b[0] != 0xff {
		t.Fatalf("chunked garbage: cl=%d len=%d", res.ContentLength, len(b))
	}
	if r := e.APIDo("GET", "/e", nil, nil); string(r.Body) != "aaaaa" {
		t.Fatalf("small oversize: %q", r.Body)
	}
	r := e.APIDo("GET", "/c", nil, nil)
	if r.Status != 200 || !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") || string(r.Body) != "\xff{garbage" {
		t.Fatalf("garbage: %d %q", r.Status, r.Body)
	}
	out, _ := emutest.RawRequest(t, e.API.URL, "GET /d HTTP/1.1\r\nHost: x\r\n\r\n")
	if out != "" {
		t.Fatalf("drop answered %q", out)
	}
	var log []emukit.LogEntry
	e.CtlDo("GET", "/_emu/requests", nil).JSON(t, &log)
	// A dropped answer is logged when its handler returns, possibly after
	// the next request: look entries up by path, not by position.
	status := map[string]int{}
	for _, l := range log {
		status[l.Path] = l.Status
	}
	if len(log) != 5 || status["/d"] != 0 || status["/a"] != 200 || status["/c"] != 200 {
		t.Fatalf("log: %+v", log)
	}
}

func TestFaultValidation(t *testing.T) {
	for _, strict := range []bool{false, true} {
		_, e := newMini(t, "", func(m *miniEmu) { m.ctl.StrictFaults = strict })
		for _, bad := range []interface{}{
			map[string]interface{}{"status": 42},
			map[string]interface{}{"status": 600},
			map[string]interface{}{"count": -1},
			map[string]interface{}{"skip": -1},
			map[string]interface{}{"delay_ms": -1},
			map[string]interface{}{"oversize_bytes": -1},
			[]interface{}{map[string]interface{}{"status": 500}, map[string]interface{}{"status": 42}},
			"nonsense",
		} {
			if r := e.CtlDo("POST", "/_emu/faults", bad); r.Status != 400 || !strings.Contains(string(r.Body), `"error":`) {
				t.Errorf("strict %v, %v: %d %s", strict, bad, r.Status, r.Body)
			}
		}
		var rules []emukit.FaultRule
		if e.CtlDo("GET", "/_emu/faults", nil).JSON(t, &rules); len(rules) != 0 {
			t.Fatalf("strict %v: a bad list added rules: %+v", strict, rules)
		}
		// Unknown fields: refused when strict, ignored otherwise.
		want := map[bool]int{false: 201, true: 400}[strict]
		if r := e.CtlDo("POST", "/_emu/faults", map[string]interface{}{"stauts": 500}); r.Status != want {
			t.Errorf("strict %v, unknown field: %d", strict, r.Status)
		}
		if r := e.Do("POST", e.Ctl.URL+"/_emu/faults", []byte(`[{"status":500}] [`), nil); r.Status != 400 {
			t.Errorf("strict %v, trailing data: %d", strict, r.Status)
		}
		e.CtlDo("DELETE", "/_emu/faults", nil)
		// A single object is accepted as well as a list.
		r := e.CtlDo("POST", "/_emu/faults", map[string]interface{}{"status": 500})
		if r.JSON(t, &rules); r.Status != 201 || len(rules) != 1 || rules[0].Status != 500 {
			t.Fatalf("strict %v, single rule: %d %s", strict, r.Status, r.Body)
		}
		out, _ := emutest.RawRequest(t, e.API.URL, "GET /anything HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
		if !strings.HasPrefix(out, "HTTP/1.1 500") || !strings.Contains(out, `{"err":"Internal Server Error"}`) {
			t.Fatalf("strict %v, rule on every route: %q", strict, out)
		}
	}
}
