package sbprov_test

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"testing"

	sbprov "github.com/sbprov/libsbprov/bindings/go"
)

const (
	key64  = "8isrFI1sGsIlvvFSSFRiMfCNzv21fjbE/+ah/lSh3lF8e2YG1Te7w1KpZhJFFXJrqYKi9yegxkqIChbqOS9Egw=="
	key16  = "AAAAAAAAAAAAAAAAAAAAAA==" // 16 zero bytes
	key15  = "AAAAAAAAAAAAAAAAAAAA"     // 15 bytes
	key65  = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="
	future = 4102444800 // 2100-01-01
)

func TestErrorType(t *testing.T) {
	_, err := sbprov.DeriveDeviceKey(key64, "Sensor-1")
	wantErr(t, err, sbprov.ErrID, "upper-case 'S' at position 1")
	if !errors.Is(err, sbprov.ErrID) || errors.Is(err, sbprov.ErrBase64) {
		t.Fatalf("errors.Is does not follow the code: %v", err)
	}
	var e *sbprov.Error
	if !errors.As(err, &e) {
		t.Fatal("errors.As(*Error) failed")
	}
	if got := err.Error(); got != "sbprov: "+e.Message+" (ErrID)" {
		t.Fatalf("Error() = %q", got)
	}
	// Wrapped errors still match.
	wrapped := fmt.Errorf("provisioning sensor: %w", err)
	if !errors.Is(wrapped, sbprov.ErrID) || !errors.As(wrapped, &e) || e.Code != sbprov.ErrID {
		t.Fatalf("wrapped error lost its code: %v", wrapped)
	}
	if !errors.Is(err, &sbprov.Error{Code: sbprov.ErrID, Message: e.Message}) {
		t.Fatal("an equal *Error does not match")
	}
	if errors.Is(err, &sbprov.Error{Code: sbprov.ErrID, Message: "other"}) {
		t.Fatal("an *Error with another message matches")
	}
	// Without a message, the description stands in.
	if got := (&sbprov.Error{Code: sbprov.ErrKeySize}).Error(); got != "sbprov: key length out of range (ErrKeySize)" {
		t.Fatalf("Error() without message = %q", got)
	}
}

func TestCodeNames(t *testing.T) {
	want := map[sbprov.Code][3]string{
		sbprov.OK:          {"0", "OK", "success"},
		sbprov.ErrGeneric:  {"-1", "ErrGeneric", "unclassified failure"},
		sbprov.ErrInval:    {"-2", "ErrInval", "invalid argument"},
		sbprov.ErrNoMem:    {"-3", "ErrNoMem", "out of memory"},
		sbprov.ErrBufs:     {"-4", "ErrBufs", "output buffer too small"},
		sbprov.ErrBase64:   {"-5", "ErrBase64", "not valid padded Base64"},
		sbprov.ErrKeySize:  {"-6", "ErrKeySize", "key length out of range"},
		sbprov.ErrID:       {"-7", "ErrID", "malformed identifier"},
		sbprov.ErrExpiry:   {"-8", "ErrExpiry", "token expiry out of range"},
		sbprov.ErrConnStr:  {"-9", "ErrConnStr", "malformed connection string"},
		sbprov.ErrCrypto:   {"-10", "ErrCrypto", "crypto provider failure"},
		sbprov.ErrInit:     {"-11", "ErrInit", "library initialisation failure"},
		sbprov.ErrNotFound: {"-12", "ErrNotFound", "not found"},
		sbprov.ErrRandom:   {"-13", "ErrRandom", "random generator failure"},
	}
	for c, w := range want {
		if strconv.Itoa(int(c)) != w[0] || c.String() != w[1] || c.Error() != w[2] {
			t.Errorf("code %d: %q %q; want %v", int(c), c.String(), c.Error(), w)
		}
	}
	if c := sbprov.Code(-99); c.String() != "Code(-99)" || c.Error() != "unknown error" {
		t.Errorf("unknown code: %q %q", c.String(), c.Error())
	}
}

func TestErrorsBase64(t *testing.T) {
	cases := []struct{ key, fragment string }{
		{"", "group key: empty"},
		{"abc", "not a multiple of 4"},
		{strings.Replace(key64, "/", "_", 1), "base64url is not accepted"},
		{strings.Replace(key64, "+", "-", 1), "base64url is not accepted"},
		{"AAAA=AAAAAAAAAAAAAAAAAAA", "misplaced '=' at character 5"},
		{"AAAAAAAAAAAAAAAAAAAAAB==", "non-zero bits before the '=' padding"},
		{"AAAAAAAAAAAAAAAAAAAAAAB=", "non-zero bits before the '=' padding"},
		{"AAAAAAAAAAAAAAAAAAAA=AAA", "misplaced '='"},
		{"AAAAAAAAAAAAAAAAAAAAA=A=", "misplaced '='"},
		{"AAAAAAAAAAAAAAAAAAAA\nAAA", "byte 0x0a at character 21"},
		{"AAAAAAAAAAAAAAAAAAAA AAA", "' ' at character 21"},
		{"AAAAAAAAAAAAAAAAAAAA\xc3\xa9AA", "byte 0xc3 at character 21"},
	}
	for _, c := range cases {
		_, err := sbprov.DeriveDeviceKey(c.key, "dev-1")
		wantErr(t, err, sbprov.ErrBase64, "group key", c.fragment)
		_, err = sbprov.NewDeriver(c.key)
		wantErr(t, err, sbprov.ErrBase64, "group key", c.fragment)
		_, err = sbprov.DeriveDeviceKeys(c.key, []string{"dev-1"})
		wantErr(t, err, sbprov.ErrBase64, "group key", c.fragment)
		_, err = sbprov.SASTokenAt("h/devices/d", c.key, future, "", 0)
		wantErr(t, err, sbprov.ErrBase64, "key")
	}
}

func TestErrorsKeySize(t *testing.T) {
	for _, c := range []struct {
		key  string
		size string
	}{{key15, "15 bytes"}, {key65, "65 bytes"}, {"AAAA", "3 bytes"}, {strings.Repeat("A", 4100), "far longer"}} {
		_, err := sbprov.DeriveDeviceKey(c.key, "dev-1")
		wantErr(t, err, sbprov.ErrKeySize, c.size)
		_, err = sbprov.NewDeriver(c.key)
		wantErr(t, err, sbprov.ErrKeySize, c.size)
		_, err = sbprov.SASTokenAt("h/devices/d", c.key, future, "", 0)
		wantErr(t, err, sbprov.ErrKeySize, c.size)
	}
	for _, key := range []string{key16, key64} {
		if _, err := sbprov.DeriveDeviceKey(key, "dev-1"); err != nil {
			t.Errorf("key of the limit size refused: %v", err)
		}
	}
	for _, n := range []int{-1, 1, 15, 65, 1000} {
		_, err := sbprov.GenerateKey(n)
		wantErr(t, err, sbprov.ErrKeySize, "key length "+strconv.Itoa(n)+" bytes")
		_, _, err = sbprov.GenerateKeys(n)
		wantErr(t, err, sbprov.ErrKeySize, "key length "+strconv.Itoa(n)+" bytes")
	}
}

func TestErrorsRegistrationID(t *testing.T) {
	cases := []struct{ id, fragment string }{
		{"", "registration ID: empty"},
		{strings.Repeat("a", 129), "129 characters, at most 128"},
		{"Sensor-1", "upper-case 'S' at position 1"},
		{"sensor-X", "upper-case 'X' at position 8"},
		{"dev 1", "' ' at position 4"},
		{"dev/1", "'/' at position 4"},
		{"dév", "byte 0xc3 at position 2"},
		{"-dev", "must start with a letter or digit"},
		{".dev", "must start with a letter or digit"},
		{"dev.", "must end with a letter, digit or '-'"},
		{"dev_", "must end with a letter, digit or '-'"},
		{"dev:", "must end with a letter, digit or '-'"},
	}
	d, err := sbprov.NewDeriver(key64)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	for _, c := range cases {
		wantErr(t, sbprov.CheckRegistrationID(c.id), sbprov.ErrID, c.fragment)
		_, err := sbprov.DeriveDeviceKey(key64, c.id)
		wantErr(t, err, sbprov.ErrID, c.fragment)
		_, err = d.Derive(c.id)
		wantErr(t, err, sbprov.ErrID, c.fragment)
		_, err = sbprov.DeriveDeviceKeys(key64, []string{"ok-1", c.id})
		wantErr(t, err, sbprov.ErrID, "registrationIDs[1]: ", c.fragment)
		_, err = sbprov.DPSRegistrationURI("0ne00111111", c.id)
		wantErr(t, err, sbprov.ErrID, c.fragment)
	}
	for _, id := range []string{"a", "dev-", "a.b_c:d-e", strings.Repeat("z", 128), "0"} {
		if err := sbprov.CheckRegistrationID(id); err != nil {
			t.Errorf("CheckRegistrationID(%q): %v", id, err)
		}
	}
	// The ID is checked before the group key is touched.
	_, err = sbprov.DeriveDeviceKey("not base64", "Bad")
	wantErr(t, err, sbprov.ErrID)
}

func TestErrorsDeviceIDAndURIs(t *testing.T) {
	for _, c := range []struct{ id, fragment string }{
		{"", "device ID: empty"},
		{strings.Repeat("d", 129), "129 characters"},
		{"dev 1", "' ' at position 4"},
		{"dev/1", "'/' at position 4"},
		{"dev&1", "'&' at position 4"},
		{"dév", "byte 0xc3 at position 2"},
	} {
		wantErr(t, sbprov.CheckDeviceID(c.id), sbprov.ErrID, c.fragment)
		_, err := sbprov.HubDeviceURI("h.azure-devices.net", c.id)
		wantErr(t, err, sbprov.ErrID, c.fragment)
		_, err = sbprov.HubModuleURI("h.azure-devices.net", "dev", c.id)
		wantErr(t, err, sbprov.ErrID, "module ID")
	}
	for _, id := range []string{"Dev-1", "a.b_c:d+e%f#g*h?i!j(k)l,m=n@o$p'q", strings.Repeat("Z", 128)} {
		if err := sbprov.CheckDeviceID(id); err != nil {
			t.Errorf("CheckDeviceID(%q): %v", id, err)
		}
	}
	for _, host := range []string{"", "https://h.net", "h..net", ".h", "h.", "h/x", "h net", strings.Repeat("h", 254)} {
		_, err := sbprov.HubDeviceURI(host, "dev")
		wantErr(t, err, sbprov.ErrID, "host name")
	}
	for _, scope := range []string{"", "0ne-001", strings.Repeat("0", 65)} {
		_, err := sbprov.DPSRegistrationURI(scope, "dev")
		wantErr(t, err, sbprov.ErrID, "ID scope")
	}
}

func TestErrorsSAS(t *testing.T) {
	uri := "h.azure-devices.net/devices/d"
	_, err := sbprov.SASTokenAt(uri, key64, sbprov.SASExpiryMin-1, "", 0)
	wantErr(t, err, sbprov.ErrExpiry, "before 2020-01-01")
	_, err = sbprov.SASTokenAt(uri, key64, 0, "", 0)
	wantErr(t, err, sbprov.ErrExpiry, "before 2020-01-01")
	_, err = sbprov.SASTokenAt(uri, key64, -5, "", 0)
	wantErr(t, err, sbprov.ErrExpiry, "before 2020-01-01")
	// 2020 itself is accepted; milliseconds are caught by "now", not by the floor.
	if _, err := sbprov.SASTokenAt(uri, key64, sbprov.SASExpiryMin, "", 0); err != nil {
		t.Errorf("expiry of exactly 2020-01-01: %v", err)
	}
	_, err = sbprov.SASTokenAt(uri, key64, 1700000000, "", 1700000000)
	wantErr(t, err, sbprov.ErrExpiry, "not after now")
	_, err = sbprov.SASTokenAt(uri, key64, 1700000000, "", 1700000001)
	wantErr(t, err, sbprov.ErrExpiry, "not after now")
	if _, err := sbprov.SASTokenAt(uri, key64, 1700000001, "", 1700000000); err != nil {
		t.Errorf("expiry one second after now: %v", err)
	}
	_, err = sbprov.SASToken(uri, key64, 1600000000, "")
	wantErr(t, err, sbprov.ErrExpiry, "not after now")
	if _, err := sbprov.SASToken(uri, key64, future, "registration"); err != nil {
		t.Errorf("SASToken with a future expiry: %v", err)
	}

	for _, c := range []struct{ uri, fragment string }{
		{"", "resource URI: empty"},
		{"https://h.net/devices/d", "scheme"},
		{"h.net/devices/my dev", "control character or space (0x20) at position 17"},
		{"h.net/\tx", "(0x09)"},
		{"h.net/\x7fx", "(0x7f)"},
		{strings.Repeat("u", sbprov.ResourceURIMaxLen+1), "2049 bytes, at most 2048"},
	} {
		_, err := sbprov.SASTokenAt(c.uri, key64, future, "", 0)
		wantErr(t, err, sbprov.ErrID, c.fragment)
	}
	for _, policy := range []string{"bad policy", "a/b", "a!", strings.Repeat("p", 129)} {
		_, err := sbprov.SASTokenAt(uri, key64, future, policy, 0)
		wantErr(t, err, sbprov.ErrID, "policy name")
	}
	// Longer than the wrapper's stack buffer: copied to the heap, then refused by C.
	_, err = sbprov.SASTokenAt(uri, key64, future, strings.Repeat("p", 300), 0)
	wantErr(t, err, sbprov.ErrID, "policy name: 300 characters, at most 128")
	_, err = sbprov.DeriveDeviceKey(key64, strings.Repeat("a", 1000))
	wantErr(t, err, sbprov.ErrID, "registration ID: 1000 characters, at most 128")
}

// A string with a NUL byte would reach C cut short; every string argument
// refuses it with ErrInval instead (the message gives the position, never
// the value).
func TestErrorsNUL(t *testing.T) {
	d, err := sbprov.NewDeriver(key64)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	calls := map[string]func() error{
		"CheckRegistrationID": func() error { return sbprov.CheckRegistrationID("abc\x00DEF") },
		"CheckDeviceID":       func() error { return sbprov.CheckDeviceID("abc\x00 x") },
		"DeriveDeviceKey id": func() error {
			_, err := sbprov.DeriveDeviceKey(key64, "abc\x00DEF")
			return err
		},
		"DeriveDeviceKey key": func() error {
			_, err := sbprov.DeriveDeviceKey(key64+"\x00", "abc")
			return err
		},
		"DeriveDeviceKeys": func() error {
			_, err := sbprov.DeriveDeviceKeys(key64, []string{"a", "b\x00"})
			return err
		},
		"NewDeriver": func() error {
			_, err := sbprov.NewDeriver("\x00" + key64)
			return err
		},
		"Deriver.Derive": func() error {
			_, err := d.Derive("abc\x00")
			return err
		},
		"SASToken uri": func() error {
			_, err := sbprov.SASTokenAt("h/devices/d\x00/x", key64, future, "", 0)
			return err
		},
		"SASToken key": func() error {
			_, err := sbprov.SASTokenAt("h/devices/d", key64+"\x00", future, "", 0)
			return err
		},
		"SASToken policy": func() error {
			_, err := sbprov.SASToken("h/devices/d", key64, future, "registration\x00x")
			return err
		},
		"HubDeviceURI": func() error {
			_, err := sbprov.HubDeviceURI("h.net\x00", "d")
			return err
		},
		"HubModuleURI": func() error {
			_, err := sbprov.HubModuleURI("h.net", "d", "m\x00")
			return err
		},
		"DPSRegistrationURI": func() error {
			_, err := sbprov.DPSRegistrationURI("0ne0\x00", "d")
			return err
		},
		"ParseConnectionString": func() error {
			_, err := sbprov.ParseConnectionString("HostName=h.net;DeviceId=d\x00;x509=true")
			return err
		},
		"BuildConnectionString": func() error {
			_, err := sbprov.BuildConnectionString(sbprov.ConnectionString{HostName: "h.net", DeviceID: "d\x00", X509: true})
			return err
		},
	}
	for name, call := range calls {
		err := call()
		if codeOf(t, err) != sbprov.ErrInval || !strings.Contains(err.Error(), "NUL byte at position") {
			t.Errorf("%s: got %v, want ErrInval for the NUL byte", name, err)
		}
	}
	// Bytes are bytes: URLEncode takes NUL like any other.
	if s, err := sbprov.URLEncode([]byte("a\x00b")); err != nil || s != "a%00b" {
		t.Errorf("URLEncode with NUL = %q, %v", s, err)
	}
}

func TestErrorMessagesAreNotStale(t *testing.T) {
	// Each failure reports its own detail, even right after another failure.
	_, err1 := sbprov.DeriveDeviceKey("abc", "dev")
	_, err2 := sbprov.DeriveDeviceKey(key64, "Dev")
	_, err3 := sbprov.GenerateKey(7)
	wantErr(t, err1, sbprov.ErrBase64, "multiple of 4")
	wantErr(t, err2, sbprov.ErrID, "upper-case 'D'")
	wantErr(t, err3, sbprov.ErrKeySize, "key length 7 bytes")
}
