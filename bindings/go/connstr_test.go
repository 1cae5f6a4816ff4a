package sbprov_test

import (
	"fmt"
	"strings"
	"testing"

	sbprov "github.com/sbprov/libsbprov/bindings/go"
)

const sasValue = "SharedAccessSignature sr=h.azure-devices.net%2Fdevices%2Fd&sig=abc%3D&se=1900000000"

func TestConnectionStringRoundTrip(t *testing.T) {
	cases := []struct {
		text string
		cs   sbprov.ConnectionString
	}{
		{"HostName=h.azure-devices.net;DeviceId=dev-1;SharedAccessKey=" + key64,
			sbprov.ConnectionString{HostName: "h.azure-devices.net", DeviceID: "dev-1", SharedAccessKey: key64}},
		{"HostName=h.azure-devices.net;DeviceId=dev-1;ModuleId=mod(1);SharedAccessKey=" + key16 + ";GatewayHostName=edge.local",
			sbprov.ConnectionString{HostName: "h.azure-devices.net", DeviceID: "dev-1", ModuleID: "mod(1)", SharedAccessKey: key16, GatewayHostName: "edge.local"}},
		{"HostName=h.azure-devices.net;SharedAccessKeyName=iothubowner;SharedAccessKey=" + key64,
			sbprov.ConnectionString{HostName: "h.azure-devices.net", SharedAccessKeyName: "iothubowner", SharedAccessKey: key64}},
		{"HostName=h.azure-devices.net;DeviceId=d;SharedAccessSignature=" + sasValue,
			sbprov.ConnectionString{HostName: "h.azure-devices.net", DeviceID: "d", SharedAccessSignature: sasValue}},
		{"HostName=h.azure-devices.net;DeviceId=d;x509=true",
			sbprov.ConnectionString{HostName: "h.azure-devices.net", DeviceID: "d", X509: true}},
		{"HostName=h.azure-devices.net;DeviceId=d;GatewayHostName=gw;x509=true",
			sbprov.ConnectionString{HostName: "h.azure-devices.net", DeviceID: "d", GatewayHostName: "gw", X509: true}},
	}
	for _, c := range cases {
		got, err := sbprov.ParseConnectionString(c.text)
		if err != nil || got != c.cs {
			t.Errorf("Parse(%q) = %+v, %v; want %+v", c.text, got, err, c.cs)
			continue
		}
		text, err := sbprov.BuildConnectionString(got)
		if err != nil || text != c.text {
			t.Errorf("Build(%+v) = %q, %v; want %q", got, text, err, c.text)
		}
	}
	// Values longer than the wrapper's stack buffer (256 bytes) take the heap path.
	longSAS := "SharedAccessSignature sr=" + strings.Repeat("h", 300) + "&sig=abc&se=1900000000"
	long := sbprov.ConnectionString{HostName: strings.Repeat("h", 253), DeviceID: strings.Repeat("d", 128), SharedAccessSignature: longSAS}
	text, err := sbprov.BuildConnectionString(long)
	if want := "HostName=" + long.HostName + ";DeviceId=" + long.DeviceID + ";SharedAccessSignature=" + longSAS; err != nil || text != want {
		t.Fatalf("long values: %q, %v", text, err)
	}
	if back, err := sbprov.ParseConnectionString(text); err != nil || back != long {
		t.Fatalf("long values parsed back as %+v, %v", back, err)
	}
	// Fields in another order parse to the same struct and build in canonical order.
	got, err := sbprov.ParseConnectionString("SharedAccessKey=" + key64 + ";DeviceId=dev-1;HostName=h.azure-devices.net")
	if err != nil || got != cases[0].cs {
		t.Fatalf("reordered: %+v, %v", got, err)
	}
	if text, _ := sbprov.BuildConnectionString(got); text != cases[0].text {
		t.Fatalf("reordered rebuilt as %q", text)
	}
}

func TestConnectionStringRedacted(t *testing.T) {
	cs := sbprov.ConnectionString{HostName: "h.net", DeviceID: "d", SharedAccessKey: key64, SharedAccessSignature: sasValue, X509: true}
	for _, s := range []string{cs.String(), fmt.Sprint(cs), fmt.Sprintf("%v", cs), fmt.Sprintf("%+v", cs)} {
		if strings.Contains(s, key64) || strings.Contains(s, "sig=") {
			t.Fatalf("secret printed: %q", s)
		}
	}
	if want := "HostName=h.net;DeviceId=d;SharedAccessKey=<redacted>;SharedAccessSignature=<redacted>;x509=true"; cs.String() != want {
		t.Fatalf("String() = %q; want %q", cs.String(), want)
	}
	if (sbprov.ConnectionString{}).String() != "" {
		t.Fatal("empty ConnectionString does not print as \"\"")
	}
}

func TestConnectionStringParseErrors(t *testing.T) {
	base := "HostName=h.azure-devices.net;DeviceId=d;SharedAccessKey=" + key64
	cases := []struct {
		text     string
		code     sbprov.Code
		fragment string
	}{
		{"", sbprov.ErrConnStr, "empty"},
		{base + ";DeviceId=e", sbprov.ErrConnStr, "DeviceId: given twice"},
		{"HostName=a.net;HostName=a.net;DeviceId=d;x509=true", sbprov.ErrConnStr, "HostName: given twice"},
		{base + ";Foo=bar", sbprov.ErrConnStr, "unknown field at position"},
		{"hostname=h.net;DeviceId=d;x509=true", sbprov.ErrConnStr, "unknown field 'hostname'"},
		{base + ";", sbprov.ErrConnStr, "stray ';'"},
		{";" + base, sbprov.ErrConnStr, "stray ';'"},
		{"HostName=h.net;;DeviceId=d;x509=true", sbprov.ErrConnStr, "stray ';'"},
		{base + ";ModuleId", sbprov.ErrConnStr, "no '='"},
		{"HostName=;DeviceId=d;x509=true", sbprov.ErrConnStr, "HostName: empty value"},
		{"HostName=h.net;DeviceId=d;x509=false", sbprov.ErrConnStr, "only accepted value is 'true'"},
		{"HostName=h.net;DeviceId=d;SharedAccessSignature=sig", sbprov.ErrConnStr, "SharedAccessSignature"},
		// Contradictions and missing fields.
		{"DeviceId=d;x509=true", sbprov.ErrConnStr, "HostName: required"},
		{"HostName=h.net;DeviceId=d", sbprov.ErrConnStr, "SharedAccessKey: required"},
		{"HostName=h.net;SharedAccessKey=" + key64, sbprov.ErrConnStr, "DeviceId: required"},
		{"HostName=h.net;ModuleId=m;SharedAccessKeyName=p;SharedAccessKey=" + key64, sbprov.ErrConnStr, "ModuleId: needs a DeviceId"},
		{"HostName=h.net;GatewayHostName=g;SharedAccessKeyName=p;SharedAccessKey=" + key64, sbprov.ErrConnStr, "GatewayHostName: only device"},
		{"HostName=h.net;SharedAccessKeyName=p", sbprov.ErrConnStr, "SharedAccessKey: required with SharedAccessKeyName"},
		{base + ";SharedAccessKeyName=p", sbprov.ErrConnStr, "SharedAccessKeyName: a policy name does not go with DeviceId"},
		{base + ";x509=true", sbprov.ErrConnStr, "x509: contradicts SharedAccessKey"},
		{base + ";SharedAccessSignature=" + sasValue, sbprov.ErrConnStr, "SharedAccessSignature: contradicts SharedAccessKey"},
		{"HostName=h.net;DeviceId=d;x509=true;SharedAccessSignature=" + sasValue, sbprov.ErrConnStr, "x509: contradicts SharedAccessSignature"},
		// Values with a syntax of their own.
		{"HostName=h.net;DeviceId=d;SharedAccessKey=abc", sbprov.ErrBase64, "SharedAccessKey"},
		{"HostName=h.net;DeviceId=d;SharedAccessKey=" + key15, sbprov.ErrKeySize, "SharedAccessKey"},
		{"HostName=https://h.net;DeviceId=d;x509=true", sbprov.ErrID, "HostName"},
		{"HostName=h.net;DeviceId=d d;x509=true", sbprov.ErrID, "DeviceId"},
		{"HostName=h.net;DeviceId=d;ModuleId=m/1;x509=true", sbprov.ErrID, "ModuleId"},
		{"HostName=h.net;DeviceId=d;GatewayHostName=g..w;x509=true", sbprov.ErrID, "GatewayHostName"},
		{"HostName=h.net;SharedAccessKeyName=p!;SharedAccessKey=" + key64, sbprov.ErrID, "SharedAccessKeyName"},
	}
	for _, c := range cases {
		cs, err := sbprov.ParseConnectionString(c.text)
		wantErr(t, err, c.code, c.fragment)
		if cs != (sbprov.ConnectionString{}) {
			t.Errorf("Parse(%q) failed but returned %+v", c.text, cs)
		}
	}
}

func TestConnectionStringBuildErrors(t *testing.T) {
	cases := []struct {
		cs       sbprov.ConnectionString
		code     sbprov.Code
		fragment string
	}{
		{sbprov.ConnectionString{}, sbprov.ErrConnStr, "HostName: required"},
		{sbprov.ConnectionString{HostName: "h.net", DeviceID: "d"}, sbprov.ErrConnStr, "SharedAccessKey: required"},
		{sbprov.ConnectionString{HostName: "h.net", DeviceID: "d", SharedAccessKey: key64, X509: true}, sbprov.ErrConnStr, "x509: contradicts"},
		{sbprov.ConnectionString{HostName: "h.net", DeviceID: "d", SharedAccessKeyName: "p", SharedAccessKey: key64}, sbprov.ErrConnStr, "SharedAccessKeyName"},
		{sbprov.ConnectionString{HostName: "h.net", ModuleID: "m", X509: true}, sbprov.ErrConnStr, "ModuleId: needs a DeviceId"},
		{sbprov.ConnectionString{HostName: "h.net", DeviceID: "d;e", X509: true}, sbprov.ErrConnStr, "DeviceId: value contains ';'"},
		{sbprov.ConnectionString{HostName: "h.net", DeviceID: "d", SharedAccessKey: "abc"}, sbprov.ErrBase64, "SharedAccessKey"},
		{sbprov.ConnectionString{HostName: "h.net", DeviceID: "d", SharedAccessKey: key65}, sbprov.ErrKeySize, "SharedAccessKey"},
		{sbprov.ConnectionString{HostName: "h net", DeviceID: "d", X509: true}, sbprov.ErrID, "HostName"},
		{sbprov.ConnectionString{HostName: "h.net", DeviceID: "d", SharedAccessSignature: "sig=1", X509: false}, sbprov.ErrConnStr, "SharedAccessSignature"},
	}
	for _, c := range cases {
		s, err := sbprov.BuildConnectionString(c.cs)
		wantErr(t, err, c.code, c.fragment)
		if s != "" {
			t.Errorf("Build(%+v) failed but returned %q", c.cs, s)
		}
	}
}
