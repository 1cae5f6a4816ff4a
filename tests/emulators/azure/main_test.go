package main

import (
	"bytes"
	"encoding/json"
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
		done <- run([]string{"-addr-file", addrFile, "-hub-host", "my-hub.azure-devices.net", "-id-scope", "0ne00ABCDEF",
			"-group", "grp=" + testGroupKey, "-group", "0ne00OTHER/g2=" + testGroupKey + "," + testGroupKey2,
			"-enrollment", "solo=" + testOwnerKey, "-policy", "iothubowner=" + testOwnerKey,
			"-policy", "svc=" + testReadKey + "@ServiceConnect", "-assign-polls", "0", "-retry-after", "2",
			"-skew", "1m", "-clock-offset", "-30s", "-max-ttl", "48h", "-strict-registration-id",
			"-log", filepath.Join(dir, "log")}, &out, &errb, stop)
	}()
	f := emutest.WaitAddrFile(t, addrFile, &errb)
	res, err := http.Get("http://" + f[3] + "/_emu/config")
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("control: %v", err)
	}
	var cfg map[string]interface{}
	_ = json.NewDecoder(res.Body).Decode(&cfg)
	res.Body.Close()
	if cfg["hub_host"] != "my-hub.azure-devices.net" || cfg["id_scope"] != "0ne00ABCDEF" || cfg["assign_polls"].(float64) != 0 ||
		cfg["retry_after"].(float64) != 2 || cfg["skew"] != "1m0s" || cfg["clock_offset"] != "-30s" || cfg["max_ttl"] != "48h0m0s" ||
		cfg["strict_registration_id"] != true {
		t.Fatalf("config %v", cfg)
	}
	res, err = http.Get("http://" + f[3] + "/_emu/enrollments")
	if err != nil {
		t.Fatal(err)
	}
	var enr struct {
		Groups      []enrollment `json:"groups"`
		Individuals []enrollment `json:"individuals"`
	}
	_ = json.NewDecoder(res.Body).Decode(&enr)
	res.Body.Close()
	if len(enr.Groups) != 2 || enr.Groups[0].IDScope != "0ne00ABCDEF" || enr.Groups[1].IDScope != "0ne00OTHER" ||
		enr.Groups[1].SecondaryKey != testGroupKey2 || len(enr.Individuals) != 1 || enr.Individuals[0].RegistrationID != "solo" {
		t.Fatalf("enrollments %+v", enr)
	}
	res, err = http.Get("http://" + f[1] + "/devices/x?api-version=2021-04-12")
	if err != nil || res.StatusCode != 401 || res.Header.Get("Date") == "" {
		t.Fatalf("api: %v %v", err, res)
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
		{"-group", "nokey"},
		{"-group", "g=abc"},
		{"-enrollment", "x=" + newKey(8)},
		{"-policy", "custom=" + testOwnerKey},
		{"-hub-host", "localhost:8443"},
		{"-id-scope", "0ne-bad"},
		{"-assign-polls", "-1"},
		{"extra"},
		{"-listen", "256.0.0.1:1"},
	} {
		var out, errb bytes.Buffer
		if code := run(args, &out, &errb, nil); code == 0 {
			t.Errorf("%v: exit 0", args)
		}
	}
}
