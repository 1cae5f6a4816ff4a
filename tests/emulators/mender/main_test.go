package main

import (
	"bytes"
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"sbprov.test/emulators/emukit/emutest"
)

func TestRunFlagsAndListeners(t *testing.T) {
	dir := t.TempDir()
	addrFile := filepath.Join(dir, "addr")
	var out, errb bytes.Buffer
	stop := make(chan struct{})
	done := make(chan int, 1)
	go func() {
		done <- run([]string{"-addr-file", addrFile, "-user", "A@B.c:pw,x@y.z:q", "-pat", "p1",
			"-jwt-ttl", "1m", "-log", filepath.Join(dir, "log")}, &out, &errb, stop)
	}()
	f := emutest.WaitAddrFile(t, addrFile, &errb)
	req, _ := http.NewRequest("POST", "http://"+f[1]+"/api/management/v1/useradm/auth/login", nil)
	req.SetBasicAuth("a@b.c", "pw")
	res, err := http.DefaultClient.Do(req)
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("login through run(): %v %v", err, res)
	}
	res.Body.Close()
	res, err = http.Get("http://" + f[3] + "/_emu/health")
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("control: %v", err)
	}
	res.Body.Close()
	close(stop)
	if code := <-done; code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	if lines, _ := os.ReadFile(addrFile); out.String() != string(lines) {
		t.Fatalf("stdout %q, addr file %q", out.String(), lines)
	}
}

func TestRunBadFlags(t *testing.T) {
	for _, args := range [][]string{
		{"-user", "nocolon"},
		{"-expired-status", "500"},
		{"-jwt-alg", "HS256"},
		{"extra"},
		{"-listen", "256.0.0.1:1"},
	} {
		var out, errb bytes.Buffer
		if code := run(args, &out, &errb, nil); code == 0 {
			t.Errorf("%v: exit 0", args)
		}
	}
}
