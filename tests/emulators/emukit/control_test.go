package emukit_test

import (
	"bytes"
	"flag"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"sbprov.test/emulators/emukit"
	"sbprov.test/emulators/emukit/emutest"
)

type thing struct {
	Name string `json:"name"`
	N    int    `json:"n"`
}

func TestDecodeStrictAndList(t *testing.T) {
	var v thing
	if err := emukit.DecodeStrict([]byte("  \n"), &v); err != nil || v != (thing{}) {
		t.Fatalf("empty: %v %+v", err, v)
	}
	if err := emukit.DecodeStrict([]byte(`{"name":"a","n":2}`), &v); err != nil || v != (thing{"a", 2}) {
		t.Fatalf("good: %v %+v", err, v)
	}
	for _, bad := range []string{`{"name":"a","typo":1}`, `{"name":"a"} {}`, `{"name":`, `[]`} {
		if err := emukit.DecodeStrict([]byte(bad), &thing{}); err == nil {
			t.Errorf("%s: no error", bad)
		}
	}
	one := func() interface{} { return &thing{} }
	items, err := emukit.DecodeList([]byte(` [{"name":"a"},{"name":"b","n":1}]`), one)
	if err != nil || len(items) != 2 || *items[1].(*thing) != (thing{"b", 1}) {
		t.Fatalf("list: %v %+v", err, items)
	}
	items, err = emukit.DecodeList([]byte(`{"name":"a"}`), one)
	if err != nil || len(items) != 1 || items[0].(*thing).Name != "a" {
		t.Fatalf("one: %v %+v", err, items)
	}
	if items, err = emukit.DecodeList([]byte(`[]`), one); err != nil || len(items) != 0 {
		t.Fatalf("empty list: %v %+v", err, items)
	}
	for _, bad := range []string{`[{"name":"a","x":1}]`, `[1]`, `[`, `"s"`} {
		if _, err := emukit.DecodeList([]byte(bad), one); err == nil {
			t.Errorf("%s: no error", bad)
		}
	}
}

func TestDecodeBodyAndSince(t *testing.T) {
	v := thing{Name: "keep"}
	r := httptest.NewRequest("POST", "/x?since=12", strings.NewReader(""))
	if err := emukit.DecodeBody(r, &v); err != nil || v.Name != "keep" || emukit.SinceParam(r) != 12 {
		t.Fatalf("empty: %v %+v", err, v)
	}
	r = httptest.NewRequest("POST", "/x?since=x", strings.NewReader(`{"name":"a","other":1}`))
	if err := emukit.DecodeBody(r, &v); err != nil || v.Name != "a" || emukit.SinceParam(r) != 0 {
		t.Fatalf("lenient: %v %+v", err, v)
	}
	r = httptest.NewRequest("POST", "/x", strings.NewReader(`{"name":`))
	if err := emukit.DecodeBody(r, &v); err == nil {
		t.Fatal("broken JSON")
	}
	r = httptest.NewRequest("POST", "/x", io.LimitReader(zeros{}, emukit.ControlBodyLimit+10))
	if b, err := emukit.ReadControlBody(r); err != nil || len(b) != emukit.ControlBodyLimit {
		t.Fatalf("limit: %v %d", err, len(b))
	}
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = ' '
	}
	return len(p), nil
}

func TestAllowAndError(t *testing.T) {
	c := &emukit.Control{JSON: emukit.JSONStyle{ContentLength: true}}
	w := httptest.NewRecorder()
	if !c.Allow(w, httptest.NewRequest("GET", "/", nil), "POST", "GET") || w.Code != 200 || w.Body.Len() != 0 {
		t.Fatal("allowed method refused")
	}
	w = httptest.NewRecorder()
	if c.Allow(w, httptest.NewRequest("PUT", "/", nil), "POST", "GET") || w.Code != 405 ||
		w.Body.String() != `{"error":"method PUT not allowed"}` || w.Header().Get("Content-Length") != "34" {
		t.Fatalf("405: %d %q %v", w.Code, w.Body, w.Header())
	}
}

func TestServe(t *testing.T) {
	dir := t.TempDir()
	addrFile := filepath.Join(dir, "addr")
	fs := flag.NewFlagSet("kit-emu", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fl := emukit.AddFlags(fs, "the API")
	if code, ok := emukit.ParseFlags(fs, []string{"-addr-file", addrFile, "-log", "x.jsonl"}, io.Discard); !ok || code != 0 {
		t.Fatalf("parse: %d %v", code, ok)
	}
	if fl.Listen != "127.0.0.1:0" || fl.Control != "127.0.0.1:0" || fl.Log != "x.jsonl" || fl.AddrFile != addrFile {
		t.Fatalf("flags: %+v", fl)
	}
	api := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, "api") })
	ctl := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, "ctl") })
	var out, errb bytes.Buffer
	stop := make(chan struct{})
	done := make(chan int, 1)
	go func() { done <- fl.Serve("kit-emu", api, ctl, &out, &errb, stop) }()
	f := emutest.WaitAddrFile(t, addrFile, nil)
	for i, want := range map[int]string{1: "api", 3: "ctl"} {
		res, err := http.Get("http://" + f[i] + "/")
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if string(b) != want {
			t.Fatalf("%s: %q", f[i], b)
		}
	}
	close(stop)
	if code := <-done; code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	if lines, _ := os.ReadFile(addrFile); out.String() != string(lines) {
		t.Fatalf("stdout %q, addr file %q", out.String(), lines)
	}
	if m, _ := filepath.Glob(filepath.Join(dir, ".addr-*")); len(m) != 0 {
		t.Fatalf("temporary files left: %v", m)
	}
	// Bad addresses and an unwritable addr file: exit 1 with a message.
	for _, bad := range []emukit.Flags{{Listen: "256.0.0.1:1", Control: "127.0.0.1:0"},
		{Listen: "127.0.0.1:0", Control: "256.0.0.1:1"},
		{Listen: "127.0.0.1:0", Control: "127.0.0.1:0", AddrFile: filepath.Join(dir, "no", "addr")}} {
		errb.Reset()
		if code := bad.Serve("kit-emu", api, ctl, io.Discard, &errb, nil); code != 1 || !strings.HasPrefix(errb.String(), "kit-emu: ") {
			t.Errorf("%+v: exit %d, %q", bad, code, errb.String())
		}
	}
}

func TestParseFlags(t *testing.T) {
	for _, c := range []struct {
		args []string
		code int
		msg  string
	}{{[]string{"-help"}, 0, ""}, {[]string{"-nope"}, 2, ""}, {[]string{"extra"}, 2, "kit-emu: unexpected arguments: [extra]\n"}} {
		fs := flag.NewFlagSet("kit-emu", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		emukit.AddFlags(fs, "the API")
		var errb bytes.Buffer
		if code, ok := emukit.ParseFlags(fs, c.args, &errb); ok || code != c.code || errb.String() != c.msg {
			t.Errorf("%v: %d %v %q", c.args, code, ok, errb.String())
		}
	}
}

func TestWriteFileAtomic(t *testing.T) {
	p := filepath.Join(t.TempDir(), "f")
	for _, s := range []string{"one", "two"} {
		if err := emukit.WriteFileAtomic(p, []byte(s)); err != nil {
			t.Fatal(err)
		}
		if b, _ := os.ReadFile(p); string(b) != s {
			t.Fatalf("%q", b)
		}
	}
}
