package sbprov_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	sbprov "github.com/sbprov/libsbprov/bindings/go"
)

// attr is one (name, value) pair added to an identity.
type attr struct{ name, value string }

// buildIdentity adds the pairs in order and returns the identity and the
// equivalent Go map (one value as a string, several as []string).
func buildIdentity(t testing.TB, pairs []attr) (*sbprov.Identity, map[string]interface{}) {
	t.Helper()
	id, err := sbprov.NewIdentity()
	if err != nil {
		t.Fatal(err)
	}
	values := map[string][]string{}
	for _, p := range pairs {
		if err := id.Add(p.name, p.value); err != nil {
			t.Fatalf("Add(%q, %q): %v", p.name, p.value, err)
		}
		values[p.name] = append(values[p.name], p.value)
	}
	m := map[string]interface{}{}
	for k, v := range values {
		if len(v) == 1 {
			m[k] = v[0]
		} else {
			m[k] = v
		}
	}
	return id, m
}

// modernEscapes rewrites \u0008 and \u000c as \b and \f, as json.Marshal
// writes them since Go 1.22 (what the Mender server is built with); on a
// newer Go it changes nothing. It walks escapes from their backslash, so an
// escaped backslash followed by "u0008" is left alone.
func modernEscapes(doc []byte) []byte {
	var out bytes.Buffer
	for i := 0; i < len(doc); i++ {
		if doc[i] != '\\' || i+1 >= len(doc) {
			out.WriteByte(doc[i])
			continue
		}
		switch {
		case bytes.HasPrefix(doc[i:], []byte(`\u0008`)):
			out.WriteString(`\b`)
			i += 5
		case bytes.HasPrefix(doc[i:], []byte(`\u000c`)):
			out.WriteString(`\f`)
			i += 5
		default:
			out.Write(doc[i : i+2])
			i++
		}
	}
	return out.Bytes()
}

// serverJSON is what the Mender server stores: the client's json.Marshal of
// the map, unmarshalled into a map[string]interface{} and marshalled again.
func serverJSON(t testing.TB, m map[string]interface{}) (client, server []byte) {
	t.Helper()
	client, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	var back map[string]interface{}
	if err := json.Unmarshal(client, &back); err != nil {
		t.Fatal(err)
	}
	server, err = json.Marshal(back)
	if err != nil {
		t.Fatal(err)
	}
	return modernEscapes(client), modernEscapes(server)
}

// checkCanonical compares CanonicalJSON and Digest with encoding/json.
func checkCanonical(t testing.TB, pairs []attr) {
	t.Helper()
	id, m := buildIdentity(t, pairs)
	defer id.Close()
	got, err := id.CanonicalJSON()
	if err != nil {
		t.Fatalf("%q: %v", pairs, err)
	}
	client, server := serverJSON(t, m)
	valid := true
	for _, p := range pairs {
		valid = valid && utf8.ValidString(p.name) && utf8.ValidString(p.value)
	}
	if valid && got != string(client) {
		t.Fatalf("%q:\n got  %q\n json.Marshal %q", pairs, got, client)
	}
	if got != string(server) {
		t.Fatalf("%q:\n got    %q\n server %q", pairs, got, server)
	}
	sum := sha256.Sum256(server)
	if d, err := id.Digest(); err != nil || d != hex.EncodeToString(sum[:]) {
		t.Fatalf("%q: Digest %q, %v; want %x", pairs, d, err, sum)
	}
}

var trickyIdentities = [][]attr{
	{{"mac", "00:11:22:33:44:55"}},
	{{"b", "2"}, {"a", "1"}, {"c", "3"}, {"c", "4"}},
	{{"sku", "A<B>&C"}},
	{{"v", "\x80\xe2\x82"}},
	{{"q", `say "hi" \ back/slash`}},
	{{"ctl", "\x01\x02\x03\x07\x0b\x0e\x1b\x1f\x7f"}},
	{{"bf", "\b\f\t"}},
	{{"ls", "line\u2028para\u2029end"}},
	{{"astral", "\U0001F600 \U00010000 \U0010FFFF"}},
	{{"bad", "\xed\xa0\x80 \xc0\xaf \xf4\x90\x80\x80 \xff\xfe \xf0\x9f\x98"}},
	{{"empty", ""}},
	{{"Z", "upper"}, {"a", "lower"}, {"_", "under"}, {"a\u00e9", "utf8"}, {"ab", "prefix"}},
	{{"k\xff", "ff"}, {"k\xfe", "fe"}},
	{{"k\ufffd", "real"}, {"k\xff", "invalid"}},
	{{"k\xff", "invalid"}, {"k\ufffd", "real"}},
	{{"multi", "1"}, {"multi", "<2>"}, {"multi", "\x80"}},
	{{"  blanks  ", "  kept  "}},
	{{"\u00fcml\u00e4ut", "\u65e5\u672c\u8a9e"}},
	{{"k", "a=b=c"}},
	{{"k<&>", "v"}, {"\u2028", "\u2029"}},
}

func TestCanonicalJSONTricky(t *testing.T) {
	for _, pairs := range trickyIdentities {
		checkCanonical(t, pairs)
	}
}

func TestCanonicalJSONRandom(t *testing.T) {
	r := rand.New(rand.NewSource(testSeed(t)))
	alphabet := []string{"a", "Z", "0", "<", ">", "&", `"`, `\`, "\t", "\x01", "\x1f", "\x7f", "\b", "\f",
		"/", "\u00e9", "\u2028", "\u2029", "\U0001F600", "\x80", "\xff", "\xe2\x82", "\xed\xa0\x80", "\xc0\xaf", " "}
	word := func(min, max int) string {
		var sb strings.Builder
		for n := min + r.Intn(max-min+1); n > 0; n-- {
			sb.WriteString(alphabet[r.Intn(len(alphabet))])
		}
		return sb.String()
	}
	for i := 0; i < 500; i++ {
		var pairs []attr
		for n := 1 + r.Intn(6); n > 0; n-- {
			name := word(1, 5)
			pairs = append(pairs, attr{name, word(0, 8)})
			if r.Intn(5) == 0 {
				pairs = append(pairs, attr{name, word(0, 3)})
			}
		}
		checkCanonical(t, pairs)
	}
}

func TestCanonicalJSONDocumented(t *testing.T) {
	for text, want := range map[string]string{
		"mac=00:11:22:33:44:55": `{"mac":"00:11:22:33:44:55"}`,
		"b=2\na=1\nc=3\nc=4\n":  `{"a":"1","b":"2","c":["3","4"]}`,
		"sku=A<B>&C":            `{"sku":"A\u003cB\u003e\u0026C"}`,
		"v=\x80\xe2\x82":        "{\"v\":\"\ufffd\ufffd\ufffd\"}",
	} {
		id, err := sbprov.ParseIdentity(text)
		if err != nil {
			t.Fatal(err)
		}
		if got, err := id.CanonicalJSON(); err != nil || got != want {
			t.Errorf("%q: %q, %v; want %q", text, got, err, want)
		}
		id.Close()
	}
	id, _ := sbprov.ParseIdentity("mac=00:11:22:33:44:55")
	defer id.Close()
	if d, _ := id.Digest(); d != "bfdbc2eced48df8a2609a8908dacf1a92d13febe35ff3c4a061caef57d30dc27" {
		t.Errorf("Digest = %q", d)
	}
}

func TestIdentityAccessors(t *testing.T) {
	id, err := sbprov.NewIdentity()
	if err != nil {
		t.Fatal(err)
	}
	defer id.Close()
	if id.Len() != 0 || id.Names() == nil || len(id.Names()) != 0 || id.Values("mac") != nil {
		t.Fatalf("empty identity: %d %v %v", id.Len(), id.Names(), id.Values("mac"))
	}
	_, err = id.CanonicalJSON()
	wantErr(t, err, sbprov.ErrInval, "no attributes")
	_, err = id.Digest()
	wantErr(t, err, sbprov.ErrInval)
	for _, p := range []attr{{"mac", "00:11:22:33:44:55"}, {"serial", "SN-1"}, {"serial", "SN-2"}, {"site", "hq"},
		{"bin\xff", "v\x80"}} {
		if err := id.Add(p.name, p.value); err != nil {
			t.Fatal(err)
		}
	}
	if got := id.Names(); !reflect.DeepEqual(got, []string{"mac", "serial", "site", "bin\xff"}) {
		t.Fatalf("Names = %q", got)
	}
	if got := id.Values("serial"); !reflect.DeepEqual(got, []string{"SN-1", "SN-2"}) {
		t.Fatalf("Values(serial) = %q", got)
	}
	if got := id.Values("bin\xff"); !reflect.DeepEqual(got, []string{"v\x80"}) {
		t.Fatalf("raw bytes not kept: %q", got)
	}
	if v, ok := id.Get("serial"); !ok || v != "SN-1" {
		t.Fatalf("Get(serial) = %q, %v", v, ok)
	}
	if v, ok := id.Get("nope"); ok || v != "" {
		t.Fatalf("Get(nope) = %q, %v", v, ok)
	}
	want := map[string][]string{"mac": {"00:11:22:33:44:55"}, "serial": {"SN-1", "SN-2"}, "site": {"hq"},
		"bin\xff": {"v\x80"}}
	if got := id.Map(); !reflect.DeepEqual(got, want) || id.Len() != 4 {
		t.Fatalf("Map = %q, Len %d", got, id.Len())
	}
	if s := id.String(); !strings.Contains(s, `"serial"="SN-1"; "serial"="SN-2"`) || !strings.HasPrefix(s, "Identity{") {
		t.Fatalf("String = %q", s)
	}
	if s := fmt.Sprint(id); !strings.Contains(s, `"mac"="00:11:22:33:44:55"`) {
		t.Fatalf("fmt = %q", s)
	}
	if got, _ := id.RegistrationID("gw-{mac:compact}-{site}"); got != "gw-001122334455-hq" {
		t.Fatalf("RegistrationID = %q", got)
	}
}

func TestIdentityAddErrors(t *testing.T) {
	id, _ := sbprov.NewIdentity()
	defer id.Close()
	if err := id.Add("ok", "1"); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ name, value, fragment string }{
		{"", "v", "empty"},
		{"a=b", "v", "'='"},
		{"a\nb", "v", ""},
		{"a\rb", "v", ""},
		{"n", "a\nb", ""},
		{"n", "a\rb", ""},
		{strings.Repeat("x", 1025), "v", "1024"},
		{"n", strings.Repeat("v", 4097), "4096"},
	} {
		wantErr(t, id.Add(c.name, c.value), sbprov.ErrParse, c.fragment)
	}
	wantErr(t, id.Add("a\x00b", "v"), sbprov.ErrInval, "attribute name", "NUL")
	wantErr(t, id.Add("n", "v\x00"), sbprov.ErrInval, "attribute value", "NUL")
	if !reflect.DeepEqual(id.Names(), []string{"ok"}) {
		t.Fatalf("failed Adds changed the identity: %q", id.Names())
	}
	if err := id.Add(strings.Repeat("x", 1024), strings.Repeat("v", 4096)); err != nil {
		t.Fatalf("limits refused: %v", err)
	}
	many, _ := sbprov.NewIdentity()
	defer many.Close()
	for i := 0; i < 256; i++ {
		if err := many.Add(fmt.Sprintf("a%d", i), "v"); err != nil {
			t.Fatal(err)
		}
	}
	wantErr(t, many.Add("one-more", "v"), sbprov.ErrParse, "256")
	for i := 1; i < 256; i++ {
		if err := many.Add("a0", fmt.Sprint(i)); err != nil {
			t.Fatal(err)
		}
	}
	wantErr(t, many.Add("a0", "257th"), sbprov.ErrParse, "256")
}

func TestParseIdentity(t *testing.T) {
	id, err := sbprov.ParseIdentity("mac=00:11:22:33:44:55\r\n\nserial=SN=1\nserial=SN-2\n\n")
	if err != nil {
		t.Fatal(err)
	}
	defer id.Close()
	want := map[string][]string{"mac": {"00:11:22:33:44:55"}, "serial": {"SN=1", "SN-2"}}
	if !reflect.DeepEqual(id.Map(), want) || !reflect.DeepEqual(id.Names(), []string{"mac", "serial"}) {
		t.Fatalf("parsed %v", id)
	}
	empty, err := sbprov.ParseIdentity("")
	if err != nil || empty.Len() != 0 {
		t.Fatalf("empty text: %v, %v", empty, err)
	}
	for _, c := range []struct{ text, fragment string }{
		{"a=1\ngarbage\n", "line 2"},
		{"=x\n", "line 1"},
		{"a=1\nb=2\rc\n", "line 2"},
		{"a=1\nb=\x00\n", "line 2"},
		{"k=" + strings.Repeat("v", 4097), "4096"},
	} {
		_, err := sbprov.ParseIdentity(c.text)
		wantErr(t, err, sbprov.ErrParse, c.fragment)
	}
}

func TestRegistrationIDTemplates(t *testing.T) {
	id, _ := sbprov.ParseIdentity("mac=AA:BB:CC:DD:EE:0F\nsite=hq\nserial=SN-123.4\nodd:name=X-Y\n")
	defer id.Close()
	for tmpl, want := range map[string]string{
		"gw-{mac:compact}":        "gw-aabbccddee0f",
		"{site}-{serial:compact}": "hq-sn1234",
		"{serial:lower}":          "sn-123.4",
		"{odd:name:lower}":        "x-y",
	} {
		if got, err := id.RegistrationID(tmpl); err != nil || got != want {
			t.Errorf("%q: %q, %v; want %q", tmpl, got, err, want)
		}
	}
	for _, c := range []struct {
		tmpl     string
		code     sbprov.Code
		fragment string
	}{
		{"{mac}", sbprov.ErrID, ""},
		{"gw-{missing}", sbprov.ErrNotFound, "missing"},
		{"gw-{mac", sbprov.ErrParse, ""},
		{"gw-mac}", sbprov.ErrParse, ""},
		{"gw-{}", sbprov.ErrParse, ""},
		{"gw-{mac:upper}", sbprov.ErrParse, "upper"},
		{"{{x}}", sbprov.ErrID, ""},
		{"", sbprov.ErrID, ""},
		{"gw-{site}" + strings.Repeat("x", 200), sbprov.ErrID, ""},
		{"gw\x00", sbprov.ErrInval, "NUL"},
	} {
		_, err := id.RegistrationID(c.tmpl)
		wantErr(t, err, c.code, c.fragment)
	}
}

func TestIdentityLifecycle(t *testing.T) {
	id, _ := sbprov.ParseIdentity("a=1")
	for i := 0; i < 3; i++ {
		if err := id.Close(); err != nil {
			t.Fatal(err)
		}
	}
	wantErr(t, id.Add("b", "2"), sbprov.ErrInval, "used after Close")
	_, err := id.CanonicalJSON()
	wantErr(t, err, sbprov.ErrInval, "used after Close")
	_, err = id.Digest()
	wantErr(t, err, sbprov.ErrInval, "used after Close")
	_, err = id.RegistrationID("{a}")
	wantErr(t, err, sbprov.ErrInval, "used after Close")
	if id.Len() != 0 || id.Names() != nil || id.Values("a") != nil || id.Map() != nil || id.String() != "<closed>" {
		t.Fatal("a closed identity still shows attributes")
	}
	var nilID *sbprov.Identity
	wantErr(t, nilID.Add("a", "b"), sbprov.ErrInval, "nil")
	_, err = nilID.Digest()
	wantErr(t, err, sbprov.ErrInval, "nil")
	if nilID.Len() != 0 || nilID.Names() != nil || nilID.Close() != nil || nilID.String() != "<nil>" {
		t.Fatal("nil identity")
	}
	// Forgotten identities are freed by their finalizer.
	for i := 0; i < 500; i++ {
		id, _ := sbprov.ParseIdentity("a=1\nb=2")
		if id.Len() != 2 {
			t.Fatal("Len")
		}
	}
	runtime.GC()
	runtime.GC()
}

// ---- IdentityFromSystem on fake sysfs and /etc trees -----------------------

type fakeIf struct {
	name    string
	typ     string // "" for no type file
	ifindex int
	address string
	device  bool
}

func makeSysfs(t *testing.T, ifs ...fakeIf) string {
	t.Helper()
	root := filepath.Join(t.TempDir(), "sys")
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.MkdirAll(filepath.Join(root, "class", "net"), 0o755))
	for _, f := range ifs {
		d := filepath.Join(root, "class", "net", f.name)
		must(os.MkdirAll(d, 0o755))
		if f.typ != "" {
			must(os.WriteFile(filepath.Join(d, "type"), []byte(f.typ+"\n"), 0o644))
		}
		must(os.WriteFile(filepath.Join(d, "ifindex"), []byte(fmt.Sprintf("%d\n", f.ifindex)), 0o644))
		must(os.WriteFile(filepath.Join(d, "address"), []byte(f.address+"\n"), 0o644))
		if f.device {
			target := filepath.Join(root, "devices", "pci-"+f.name)
			must(os.MkdirAll(target, 0o755))
			must(os.Symlink(target, filepath.Join(d, "device")))
		}
	}
	return root
}

func probeMAC(t *testing.T, opts sbprov.ProbeOptions) (string, error) {
	t.Helper()
	id, err := sbprov.IdentityFromSystem(opts)
	if err != nil {
		return "", err
	}
	defer id.Close()
	if names := id.Names(); !reflect.DeepEqual(names, []string{"mac"}) {
		t.Fatalf("names %q", names)
	}
	v, _ := id.Get("mac")
	return v, nil
}

func TestIdentityFromSystemMAC(t *testing.T) {
	root := makeSysfs(t,
		fakeIf{"lo", "772", 1, "00:00:00:00:00:00", false},
		fakeIf{"eth1", "1", 5, "00:1B:21:00:00:05", true},
		fakeIf{"eth0", "1", 3, "00:1B:21:00:00:03", true},
		fakeIf{"veth0", "1", 2, "02:00:00:00:00:02", true},
		fakeIf{"eth7", "1", 1, "00:1b:21:00:00:07", false},
		fakeIf{"wlan0", "1", 4, "00:1b:21:00:00:04", false},
	)
	if err := os.WriteFile(filepath.Join(root, "class", "net", "bonding_masters"), []byte("\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		opts sbprov.ProbeOptions
		want string
	}{
		{sbprov.ProbeOptions{SysfsRoot: root}, "00:1b:21:00:00:03"},
		{sbprov.ProbeOptions{SysfsRoot: root, Sources: sbprov.SourceMAC}, "00:1b:21:00:00:03"},
		{sbprov.ProbeOptions{SysfsRoot: root, PhysicalGlobs: []string{"wlan*"}}, "00:1b:21:00:00:03"},
		{sbprov.ProbeOptions{SysfsRoot: root, PhysicalGlobs: []string{"wlan*", "eth7"}}, "00:1b:21:00:00:07"},
		{sbprov.ProbeOptions{SysfsRoot: root, VirtualGlobs: []string{}}, "02:00:00:00:00:02"},
		{sbprov.ProbeOptions{SysfsRoot: root, VirtualGlobs: []string{}, SkipLocalMAC: true}, "00:1b:21:00:00:03"},
		{sbprov.ProbeOptions{SysfsRoot: root, VirtualGlobs: []string{"eth0"}}, "02:00:00:00:00:02"},
	} {
		got, err := probeMAC(t, c.opts)
		if err != nil || got != c.want {
			t.Errorf("%+v: %q, %v; want %q", c.opts, got, err, c.want)
		}
	}
	_, err := probeMAC(t, sbprov.ProbeOptions{SysfsRoot: root, VirtualGlobs: []string{"eth*", "veth*"}})
	wantErr(t, err, sbprov.ErrNotFound, "eth0: virtual (name matches 'eth*')", "wlan0: virtual (no device link)",
		"lo: type 772, not Ethernet")
	_, err = probeMAC(t, sbprov.ProbeOptions{SysfsRoot: filepath.Join(root, "nowhere")})
	wantErr(t, err, sbprov.ErrIO, "class/net")
	_, err = probeMAC(t, sbprov.ProbeOptions{SysfsRoot: root, PhysicalGlobs: []string{"eth0,eth1"}})
	wantErr(t, err, sbprov.ErrInval, "PhysicalGlobs[0]", "','")
	_, err = probeMAC(t, sbprov.ProbeOptions{SysfsRoot: root, VirtualGlobs: []string{"a", "b\x00"}})
	wantErr(t, err, sbprov.ErrInval, "VirtualGlobs[1]", "NUL")
	_, err = probeMAC(t, sbprov.ProbeOptions{SysfsRoot: root, PhysicalGlobs: []string{strings.Repeat("x", 300)}})
	wantErr(t, err, sbprov.ErrInval, "255")
	_, err = probeMAC(t, sbprov.ProbeOptions{SysfsRoot: root + "\x00"})
	wantErr(t, err, sbprov.ErrInval, "SysfsRoot", "NUL")
	_, err = probeMAC(t, sbprov.ProbeOptions{SysfsRoot: "/" + strings.Repeat("x", 5000)})
	wantErr(t, err, sbprov.ErrInval, "too long")
	_, err = probeMAC(t, sbprov.ProbeOptions{SysfsRoot: root, Sources: 1 << 7})
	wantErr(t, err, sbprov.ErrInval, "unknown source bits")

	// An unreadable "type" (a directory) is ErrIO.
	bad := makeSysfs(t, fakeIf{"eth0", "", 2, "00:11:22:33:44:55", true})
	if err := os.Mkdir(filepath.Join(bad, "class", "net", "eth0", "type"), 0o755); err != nil {
		t.Fatal(err)
	}
	_, err = probeMAC(t, sbprov.ProbeOptions{SysfsRoot: bad})
	wantErr(t, err, sbprov.ErrIO, "eth0/type")
}

func TestIdentityFromSystemAllSources(t *testing.T) {
	root := makeSysfs(t, fakeIf{"eth0", "1", 2, "00:1b:21:0a:0b:0c", true})
	etc := t.TempDir()
	dmi := filepath.Join(root, "class", "dmi", "id")
	for _, err := range []error{
		os.MkdirAll(dmi, 0o755),
		os.MkdirAll(filepath.Join(etc, "etc"), 0o755),
		os.WriteFile(filepath.Join(dmi, "product_serial"), []byte("  SN-42 \n"), 0o644),
		os.WriteFile(filepath.Join(dmi, "product_uuid"), []byte("4c4c4544-0042-3510-8052-b4c04f4e3532\n"), 0o644),
		os.WriteFile(filepath.Join(etc, "etc", "machine-id"), []byte("0123456789abcdef0123456789ABCDEF\n"), 0o644),
	} {
		if err != nil {
			t.Fatal(err)
		}
	}
	all := sbprov.SourceHostname | sbprov.SourceDMIUUID | sbprov.SourceDMISerial | sbprov.SourceMachineID | sbprov.SourceMAC
	id, err := sbprov.IdentityFromSystem(sbprov.ProbeOptions{Sources: all, SysfsRoot: root, EtcRoot: etc})
	if err != nil {
		t.Fatal(err)
	}
	defer id.Close()
	host, _ := os.Hostname()
	if got := id.Names(); !reflect.DeepEqual(got, []string{"mac", "machine_id", "serial", "product_uuid", "hostname"}) {
		t.Fatalf("names %q", got)
	}
	want := map[string][]string{"mac": {"00:1b:21:0a:0b:0c"}, "machine_id": {"0123456789abcdef0123456789ABCDEF"},
		"serial": {"SN-42"}, "product_uuid": {"4c4c4544-0042-3510-8052-b4c04f4e3532"}, "hostname": {host}}
	if got := id.Map(); !reflect.DeepEqual(got, want) {
		t.Fatalf("Map %q", got)
	}

	// Missing attributes: never a partial identity.
	empty := t.TempDir()
	_, err = sbprov.IdentityFromSystem(sbprov.ProbeOptions{Sources: sbprov.SourceMachineID, EtcRoot: empty})
	wantErr(t, err, sbprov.ErrNotFound, "machine-id does not exist")
	_, err = sbprov.IdentityFromSystem(sbprov.ProbeOptions{Sources: sbprov.SourceMAC | sbprov.SourceDMISerial,
		SysfsRoot: makeSysfs(t, fakeIf{"eth0", "1", 2, "00:1b:21:0a:0b:0c", true})})
	wantErr(t, err, sbprov.ErrNotFound, "product_serial")
	if err := os.WriteFile(filepath.Join(etc, "etc", "machine-id"), []byte("uninitialized\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = sbprov.IdentityFromSystem(sbprov.ProbeOptions{Sources: sbprov.SourceMachineID, EtcRoot: etc})
	wantErr(t, err, sbprov.ErrNotFound, "not 32 hex digits")
}

// ---- IdentityFromScript with scripts this test writes ----------------------

func writeScript(t *testing.T, body string, mode os.FileMode) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "identity.sh")
	if err := os.WriteFile(path, []byte("#!/bin/sh\n"+body), mode); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestIdentityFromScript(t *testing.T) {
	path := writeScript(t, "echo mac=00:11:22:33:44:55\necho serial=1\necho serial=2\necho noise >&2\n"+
		"echo \"path=$PATH\"\necho \"home=${HOME:-unset}\"\nread line && echo \"stdin=$line\"\ntrue\n", 0o755)
	id, err := sbprov.IdentityFromScript(path, sbprov.ScriptOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer id.Close()
	want := map[string][]string{"mac": {"00:11:22:33:44:55"}, "serial": {"1", "2"},
		"path": {"/usr/sbin:/usr/bin:/sbin:/bin"}, "home": {"unset"}}
	if got := id.Map(); !reflect.DeepEqual(got, want) {
		t.Fatalf("Map %q", got)
	}
	id2, err := sbprov.IdentityFromScript(path, sbprov.ScriptOptions{Timeout: 5 * time.Second, MaxOutput: 1000})
	if err != nil {
		t.Fatal(err)
	}
	id2.Close()
	// exactly the output limit is fine
	small, err := sbprov.IdentityFromScript(writeScript(t, "echo a=1\n", 0o755), sbprov.ScriptOptions{MaxOutput: 4})
	if err != nil {
		t.Fatal(err)
	}
	small.Close()
}

func TestIdentityFromScriptErrors(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct {
		body     string
		mode     os.FileMode
		opts     sbprov.ScriptOptions
		code     sbprov.Code
		fragment string
	}{
		{"echo a=1\nexit 3\n", 0o755, sbprov.ScriptOptions{}, sbprov.ErrScript, "exited with status 3"},
		{"kill -SEGV $$\n", 0o755, sbprov.ScriptOptions{}, sbprov.ErrScript, "signal 11"},
		{"true\n", 0o755, sbprov.ScriptOptions{}, sbprov.ErrScript, ""},
		{"echo a=1\n", 0o644, sbprov.ScriptOptions{}, sbprov.ErrScript, ""},
		{"echo a=1\necho hello\n", 0o755, sbprov.ScriptOptions{}, sbprov.ErrParse, "line 2"},
		{"i=0\nwhile [ $i -lt 5000 ]; do echo k$i=0123456789abcdef; i=$((i+1)); done\n", 0o755,
			sbprov.ScriptOptions{}, sbprov.ErrScript, "65536"},
		{"echo a=0123456789\n", 0o755, sbprov.ScriptOptions{MaxOutput: 5}, sbprov.ErrScript, "more than 5 bytes"},
		{"yes a=b\n", 0o755, sbprov.ScriptOptions{MaxOutput: 1000}, sbprov.ErrScript, "killed"},
	} {
		path := writeScript(t, c.body, c.mode)
		_, err := sbprov.IdentityFromScript(path, c.opts)
		wantErr(t, err, c.code, c.fragment, path)
	}
	_, err := sbprov.IdentityFromScript(filepath.Join(dir, "missing"), sbprov.ScriptOptions{})
	wantErr(t, err, sbprov.ErrScript, "No such file")

	start := time.Now()
	_, err = sbprov.IdentityFromScript(writeScript(t, "echo a=1\nsleep 30\n", 0o755),
		sbprov.ScriptOptions{Timeout: 300 * time.Millisecond})
	wantErr(t, err, sbprov.ErrTimeout)
	if d := time.Since(start); d < 250*time.Millisecond || d > 10*time.Second {
		t.Fatalf("timeout after %v", d)
	}

	ok := writeScript(t, "echo a=1\n", 0o755)
	for _, opts := range []sbprov.ScriptOptions{{Timeout: -1}, {Timeout: (1 << 32) * time.Millisecond},
		{MaxOutput: -1}, {MaxOutput: 1 << 32}} {
		_, err := sbprov.IdentityFromScript(ok, opts)
		wantErr(t, err, sbprov.ErrInval, "script")
	}
	// sub-millisecond timeouts round up rather than becoming "default"
	_, err = sbprov.IdentityFromScript(writeScript(t, "sleep 5\n", 0o755), sbprov.ScriptOptions{Timeout: time.Microsecond})
	wantErr(t, err, sbprov.ErrTimeout)
	_, err = sbprov.IdentityFromScript(ok+"\x00", sbprov.ScriptOptions{})
	wantErr(t, err, sbprov.ErrInval, "script path", "NUL")
}

// Goroutines running scripts at once each get their own result and the
// message of their own failure.
func TestIdentityConcurrent(t *testing.T) {
	const n = 8
	paths := make([]string, n)
	for i := range paths {
		paths[i] = writeScript(t, fmt.Sprintf("echo n=%d\nexit %d\n", i, i%2*(i+1)), 0o755)
	}
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for g := 0; g < n; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; i < 10; i++ {
				id, err := sbprov.IdentityFromScript(paths[g], sbprov.ScriptOptions{})
				if g%2 == 1 {
					if err == nil || !strings.Contains(err.Error(), fmt.Sprintf("exited with status %d", g+1)) ||
						!strings.Contains(err.Error(), paths[g]) {
						errs <- fmt.Errorf("goroutine %d: %v", g, err)
						return
					}
					continue
				}
				if err != nil {
					errs <- err
					return
				}
				if v, _ := id.Get("n"); v != fmt.Sprint(g) {
					errs <- fmt.Errorf("goroutine %d got n=%q", g, v)
				}
				// a parse error unique to this goroutine and round
				_, perr := sbprov.ParseIdentity(strings.Repeat("a=1\n", g+i+1) + "junk\n")
				if perr == nil || !strings.Contains(perr.Error(), fmt.Sprintf("line %d", g+i+2)) {
					errs <- fmt.Errorf("goroutine %d: parse error %v", g, perr)
				}
				id.Close()
			}
		}(g)
	}
	// One Identity shared by all, too: calls are serialised.
	shared, _ := sbprov.NewIdentity()
	defer shared.Close()
	for g := 0; g < n; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; i < 50; i++ {
				if err := shared.Add(fmt.Sprintf("g%d", g), fmt.Sprint(i)); err != nil {
					errs <- err
					return
				}
				if _, err := shared.CanonicalJSON(); err != nil {
					errs <- err
					return
				}
				_ = shared.Names()
			}
		}(g)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if shared.Len() != n || len(shared.Values("g3")) != 50 {
		t.Fatalf("shared identity: %d names, %d values", shared.Len(), len(shared.Values("g3")))
	}
}
