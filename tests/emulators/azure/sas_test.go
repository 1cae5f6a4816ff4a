package main

import (
	"strings"
	"testing"
	"time"
)

// Vector D1 (azure-docs how-to-legacy-device-symm-key.md).
func TestDeriveKeyVectorD1(t *testing.T) {
	got, err := deriveKey(testGroupKey, "sn-007-888-abc-mac-a1-b2-c3-d4-e5-f6")
	if err != nil || got != "Jsm0lyGpjaVYVP2g3FnmnmG9dI/9qU24wNoykUmermc=" {
		t.Fatalf("derived %q %v", got, err)
	}
	if indep := derive(t, testGroupKey, "sn-007-888-abc-mac-a1-b2-c3-d4-e5-f6"); indep != got {
		t.Fatalf("independent derivation %q", indep)
	}
}

// Vector S1 (azure-docs iot-dps-https-sym-key-support.md).
const (
	s1Key   = "18RQk/hOPJR9EbsJlk2j8WA6vWaj/yi+oaYg7zmxfQNdOyMSu+SJ8O7TSlZhDJCYmn4rzEiVKIzNiVAWjLxrGA=="
	s1Token = "SharedAccessSignature sr=MyExampleHub.azure-devices.net%2Fdevices%2Fmy-symkey-device&sig=f%2BwW8XOKeJOtiPc9Iwjc4OpExvPM7NlhM9qxN2a1aAM%3D&se=1663119026"
)

func TestSASVectorS1(t *testing.T) {
	sig, err := sasSignature(s1Key, "MyExampleHub.azure-devices.net%2Fdevices%2Fmy-symkey-device", "1663119026")
	if err != nil || sig != "f+wW8XOKeJOtiPc9Iwjc4OpExvPM7NlhM9qxN2a1aAM=" {
		t.Fatalf("sig %q %v", sig, err)
	}
	tok, f := parseSAS(s1Token)
	if f != nil {
		t.Fatal(f)
	}
	if tok.SR != "MyExampleHub.azure-devices.net/devices/my-symkey-device" || tok.SKN != "" || tok.HasSKN ||
		tok.Expiry.Unix() != 1663119026 {
		t.Fatalf("parsed %+v", tok)
	}
	if tok.matchKey("", testGroupKey, s1Key) != 2 {
		t.Fatal("S1 key does not match")
	}
	// The independent client-side builder produces the same token.
	if got := sas(t, s1Key, "MyExampleHub.azure-devices.net/devices/my-symkey-device", 1663119026, ""); got != s1Token {
		t.Fatalf("builder %q", got)
	}
	// Expiry with the 5-minute skew.
	exp := time.Unix(1663119026, 0)
	if tok.checkTime(exp.Add(5*time.Minute), 5*time.Minute, 0) != nil {
		t.Fatal("expired at the skew boundary")
	}
	if tok.checkTime(exp.Add(5*time.Minute+time.Second), 5*time.Minute, 0) == nil {
		t.Fatal("not expired one second after the skew")
	}
	if f := tok.checkTime(exp.Add(-48*time.Hour), 5*time.Minute, time.Hour); f == nil || !strings.Contains(f.reason, "more than 1h0m0s") {
		t.Fatalf("max ttl: %v", f)
	}
}

func TestSASHexCaseAndEncodingAreSignedAsSent(t *testing.T) {
	// Lower-case %2f (azure-sdk-for-c's DPS form) and an unencoded sr both
	// verify, since the signature covers sr exactly as sent.
	for _, sr := range []string{"0ne00C0FFEE%2fregistrations%2fdev-1", "0ne00C0FFEE/registrations/dev-1", "0ne00C0FFEE%2Fregistrations%2Fdev-1"} {
		h := sasRawSR(t, testOwnerKey, sr, 2000000000, "registration")
		tok, f := parseSAS(h)
		if f != nil || tok.SR != "0ne00C0FFEE/registrations/dev-1" || tok.matchKey(testOwnerKey) != 0 {
			t.Errorf("%s: %+v %v", sr, tok, f)
		}
	}
}

func TestSASMalformed(t *testing.T) {
	good := sas(t, testOwnerKey, testHub, 2000000000, "iothubowner")
	rest := strings.TrimPrefix(good, "SharedAccessSignature ")
	cases := map[string]string{
		"":                                                               "missing",
		"Bearer abc":                                                     "malformed token",
		"SharedAccessSignature  " + rest:                                 "exactly one space",
		"sharedaccesssignature " + rest:                                  "malformed token",
		"SharedAccessSignature sig=a&se=1":                               "missing field: sr",
		"SharedAccessSignature sr=a&se=1":                                "missing field: sig",
		"SharedAccessSignature sr=a&sig=b":                               "missing field: se",
		"SharedAccessSignature sr=a&sig=b&se=":                           "not an integer",
		"SharedAccessSignature sr=a&sig=b&se=1.5":                        "not an integer",
		"SharedAccessSignature sr=a&sig=b&se=-1":                         "not an integer",
		"SharedAccessSignature sr=a&sig=b&se=99999999999999999":          "out of range",
		"SharedAccessSignature sr=a&sig=b&se=1&SR=c":                     "appears twice",
		"SharedAccessSignature sr=a&sig&se=1":                            "has no '='",
		"SharedAccessSignature sr=a%zz&sig=b&se=1":                       "sr is not URL-encoded",
		"SharedAccessSignature sr=a&sig=%zz&se=1":                        "field \"sig\"",
		"SharedAccessSignature\tsr=a&sig=b&se=1&skn=x extra":             "exactly one space",
		"SharedAccessSignature sr=a&sig=b&se=1&skn=x&unknown=1&&":        "",
		"SharedAccessSignature SR=a&SIG=b&SE=1700000000&SKN=iothubowner": "",
	}
	for h, want := range cases {
		tok, f := parseSAS(h)
		if want == "" {
			if f != nil || tok == nil {
				t.Errorf("%q: %v", h, f)
			}
			continue
		}
		if f == nil || !strings.Contains(f.reason, want) {
			t.Errorf("%q: got %v, want %q", h, f, want)
			continue
		}
		if h == "" && f.kind != vkAuthHeader || h != "" && f.kind != vkSASFormat {
			t.Errorf("%q: kind %q", h, f.kind)
		}
	}
}

func TestSASUnencodedSignatureFails(t *testing.T) {
	// A signature sent without URL-encoding: '+' decodes to a space and a
	// '=' padding is cut at the second '=', so it does not verify.
	for se := int64(2000000000); se < 2000000100; se++ {
		sig, _ := sasSignature(testOwnerKey, "h", itoa(se))
		if !strings.Contains(sig, "+") {
			continue
		}
		tok, f := parseSAS("SharedAccessSignature sr=h&sig=" + sig + "&se=" + itoa(se))
		if f != nil {
			t.Fatal(f)
		}
		if tok.matchKey(testOwnerKey) >= 0 {
			t.Fatalf("unencoded sig %q verified", sig)
		}
		return
	}
	t.Fatal("no signature with '+' found")
}

func TestCovers(t *testing.T) {
	for _, c := range []struct {
		aud, target string
		want        bool
	}{
		{"h.net", "h.net/devices/x", true},
		{"H.NET/Devices", "h.net/devices/x", true},
		{"h.net/devices/x/", "h.net/devices/x", true},
		{"h.net/devices/x", "h.net/devices/x/messages/events", true},
		{"h.net/devices/x", "h.net/devices/xy", false},
		{"h.net/devices/xy", "h.net/devices/x", false},
		{"h.ne", "h.net/devices/x", false},
		{"", "h.net", false},
	} {
		if got := covers(c.aud, c.target); got != c.want {
			t.Errorf("covers(%q, %q) = %v", c.aud, c.target, got)
		}
	}
}

func TestKeyChecks(t *testing.T) {
	for _, k := range []string{"", "!!!!", "YWJj", newKey(15), newKey(65), "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY"} {
		if _, err := decodeKey(k); err == nil {
			t.Errorf("key %q accepted", k)
		}
	}
	for _, n := range []int{16, 32, 64} {
		if _, err := decodeKey(newKey(n)); err != nil {
			t.Errorf("%d bytes: %v", n, err)
		}
	}
	if _, _, _, _, err := parseEnrollmentFlag("grp=notbase64", "s"); err == nil {
		t.Error("bad group key accepted")
	}
	scope, id, p, sk, err := parseEnrollmentFlag("0neOTHER/my.group:1="+testGroupKey+","+testGroupKey2, "def")
	if err != nil || scope != "0neOTHER" || id != "my.group:1" || p != testGroupKey || sk != testGroupKey2 {
		t.Errorf("parsed %q %q %q %q %v", scope, id, p, sk, err)
	}
	if p, err := parsePolicyFlag("custom=" + testOwnerKey + "@registryread|DEVICECONNECT"); err != nil ||
		strings.Join(p.Permissions, ",") != "RegistryRead,DeviceConnect" {
		t.Errorf("policy %+v %v", p, err)
	}
	for _, bad := range []string{"custom=" + testOwnerKey, "iothubowner=" + testOwnerKey + "@Fly", "=x", "x"} {
		if _, err := parsePolicyFlag(bad); err == nil {
			t.Errorf("policy %q accepted", bad)
		}
	}
}
