package sbprov_test

import (
	"encoding/base64"
	"math/rand"
	"strings"
	"testing"

	sbprov "github.com/sbprov/libsbprov/bindings/go"
)

// Checks against crypto/hmac and encoding/base64 on random inputs.

func TestDeriveMatchesCryptoHMAC(t *testing.T) {
	r := rand.New(rand.NewSource(testSeed(t)))
	for i := 0; i < 300; i++ {
		key := randomKey(r, sbprov.KeyMinBytes+r.Intn(sbprov.KeyMaxBytes-sbprov.KeyMinBytes+1))
		id := randomRegID(r, sbprov.IDMaxLen)
		want := refDerive(t, key, id)
		got, err := sbprov.DeriveDeviceKey(key, id)
		if err != nil || got != want {
			t.Fatalf("DeriveDeviceKey(%q, %q) = %q, %v; want %q", key, id, got, err, want)
		}
		if len(got) != 44 {
			t.Fatalf("derived key %q is not 44 characters", got)
		}
	}
}

func TestDeriverMatchesCryptoHMAC(t *testing.T) {
	r := rand.New(rand.NewSource(testSeed(t) + 1))
	for k := 0; k < 10; k++ {
		key := randomKey(r, sbprov.KeyMinBytes+r.Intn(sbprov.KeyMaxBytes-sbprov.KeyMinBytes+1))
		d, err := sbprov.NewDeriver(key)
		if err != nil {
			t.Fatal(err)
		}
		ids := make([]string, 50)
		for i := range ids {
			ids[i] = randomRegID(r, 40)
			want := refDerive(t, key, ids[i])
			got, err := d.Derive(ids[i])
			if err != nil || got != want {
				t.Fatalf("Derive(%q) = %q, %v; want %q", ids[i], got, err, want)
			}
		}
		d.Close()
		keys, err := sbprov.DeriveDeviceKeys(key, ids)
		if err != nil || len(keys) != len(ids) {
			t.Fatalf("DeriveDeviceKeys: %d keys, %v", len(keys), err)
		}
		for i, id := range ids {
			if want := refDerive(t, key, id); keys[i] != want {
				t.Fatalf("DeriveDeviceKeys[%d] (%q) = %q; want %q", i, id, keys[i], want)
			}
		}
	}
	keys, err := sbprov.DeriveDeviceKeys(randomKey(r, 32), nil)
	if err != nil || len(keys) != 0 {
		t.Fatalf("DeriveDeviceKeys(no IDs) = %q, %v; want an empty list", keys, err)
	}
}

// randomURI returns 1..n bytes of printable ASCII (no space) with a few
// UTF-8 letters, as a resource URI may hold; never a scheme ("://").
func randomURI(r *rand.Rand, n int) string {
	var sb strings.Builder
	l := 1 + r.Intn(n)
	for sb.Len() < l {
		if r.Intn(20) == 0 {
			sb.WriteString([]string{"é", "ü", "€", "日"}[r.Intn(4)])
			continue
		}
		sb.WriteByte(byte(0x21 + r.Intn(0x7e-0x21+1)))
	}
	s := sb.String()
	for strings.Contains(s, "://") {
		s = strings.Replace(s, "://", ":/", -1)
	}
	return s
}

const policyChars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-@."

func randomPolicy(r *rand.Rand) string {
	if r.Intn(3) == 0 {
		return ""
	}
	b := make([]byte, 1+r.Intn(20))
	for i := range b {
		b[i] = policyChars[r.Intn(len(policyChars))]
	}
	return string(b)
}

func TestSASMatchesCryptoHMAC(t *testing.T) {
	r := rand.New(rand.NewSource(testSeed(t) + 2))
	for i := 0; i < 300; i++ {
		uri := randomURI(r, 200)
		key := randomKey(r, sbprov.KeyMinBytes+r.Intn(sbprov.KeyMaxBytes-sbprov.KeyMinBytes+1))
		expiry := int64(sbprov.SASExpiryMin) + r.Int63n(2_000_000_000)
		policy := randomPolicy(r)
		want := refSAS(t, uri, key, expiry, policy)
		got, err := sbprov.SASTokenAt(uri, key, expiry, policy, 0)
		if err != nil || got != want {
			t.Fatalf("SASTokenAt(%q, %q, %d, %q) = %q, %v; want %q", uri, key, expiry, policy, got, err, want)
		}
	}
	// Longest URI accepted, all bytes to be encoded.
	uri := strings.Repeat("/", sbprov.ResourceURIMaxLen)
	key := randomKey(r, 64)
	got, err := sbprov.SASTokenAt(uri, key, 4102444800, strings.Repeat("p", 128), 0)
	if want := refSAS(t, uri, key, 4102444800, strings.Repeat("p", 128)); err != nil || got != want {
		t.Fatalf("longest URI: %v; token differs from reference: %v", err, got != want)
	}
}

func TestURLEncodeMatchesReference(t *testing.T) {
	r := rand.New(rand.NewSource(testSeed(t) + 3))
	all := make([]byte, 256)
	for i := range all {
		all[i] = byte(i)
	}
	cases := [][]byte{nil, {}, {0}, all}
	for i := 0; i < 200; i++ {
		b := make([]byte, r.Intn(300))
		r.Read(b)
		cases = append(cases, b)
	}
	for _, b := range cases {
		got, err := sbprov.URLEncode(b)
		if want := refURLEncode(b); err != nil || got != want {
			t.Fatalf("URLEncode(% x) = %q, %v; want %q", b, got, err, want)
		}
	}
}

func TestURIsMatchReference(t *testing.T) {
	got, err := sbprov.HubDeviceURI("myhub.azure-devices.net", "dev(1)@x")
	if want := "myhub.azure-devices.net/devices/" + refURLEncode([]byte("dev(1)@x")); err != nil || got != want {
		t.Errorf("HubDeviceURI = %q, %v; want %q", got, err, want)
	}
	got, err = sbprov.HubModuleURI("myhub.azure-devices.net", "dev-1", "mod#2")
	if want := "myhub.azure-devices.net/devices/dev-1/modules/mod%232"; err != nil || got != want {
		t.Errorf("HubModuleURI = %q, %v; want %q", got, err, want)
	}
	got, err = sbprov.DPSRegistrationURI("0ne00111111", "sn-007")
	if want := "0ne00111111/registrations/sn-007"; err != nil || got != want {
		t.Errorf("DPSRegistrationURI = %q, %v; want %q", got, err, want)
	}
	// Longest IDs, every character encoded: exercises the buffer sizing.
	long := strings.Repeat("%", sbprov.IDMaxLen)
	got, err = sbprov.HubModuleURI(strings.Repeat("h", 253), long, long)
	if want := strings.Repeat("h", 253) + "/devices/" + refURLEncode([]byte(long)) + "/modules/" + refURLEncode([]byte(long)); err != nil || got != want {
		t.Errorf("HubModuleURI(longest) = %q, %v", got, err)
	}
}

func TestGenerateKeys(t *testing.T) {
	strict := base64.StdEncoding.Strict()
	for _, n := range []int{0, 16, 17, 31, 32, 33, 48, 63, 64} {
		want := n
		if n == 0 {
			want = sbprov.KeyDefaultBytes
		}
		k, err := sbprov.GenerateKey(n)
		if err != nil {
			t.Fatalf("GenerateKey(%d): %v", n, err)
		}
		if raw, err := strict.DecodeString(k); err != nil || len(raw) != want {
			t.Fatalf("GenerateKey(%d) = %q: decodes to %d bytes, %v", n, k, len(raw), err)
		}
		p, s, err := sbprov.GenerateKeys(n)
		if err != nil {
			t.Fatalf("GenerateKeys(%d): %v", n, err)
		}
		if p == s {
			t.Fatalf("GenerateKeys(%d): primary equals secondary", n)
		}
		for _, k := range []string{p, s} {
			if raw, err := strict.DecodeString(k); err != nil || len(raw) != want {
				t.Fatalf("GenerateKeys(%d) key %q: decodes to %d bytes, %v", n, k, len(raw), err)
			}
		}
		// A generated key is accepted everywhere a key is.
		if _, err := sbprov.NewDeriver(p); err != nil {
			t.Fatalf("generated key refused: %v", err)
		}
	}
	seen := map[string]bool{}
	for i := 0; i < 100; i++ {
		k, err := sbprov.GenerateKey(16)
		if err != nil || seen[k] {
			t.Fatalf("GenerateKey repeated a key or failed: %v", err)
		}
		seen[k] = true
	}
}

// The library's strict Base64 decoder against Go's strict decoder, on keys
// corrupted at random. (Go's decoder skips '\r' and '\n', which libsbprov
// refuses; those are left out here and tested in TestErrorsBase64.)
func TestBase64StrictnessMatchesGo(t *testing.T) {
	r := rand.New(rand.NewSource(testSeed(t) + 4))
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=-_ !*"
	strict := base64.StdEncoding.Strict()
	accepted, refused := 0, 0
	for i := 0; i < 2000; i++ {
		b := []byte(randomKey(r, 14+r.Intn(54)))
		for j := r.Intn(3); j > 0; j-- {
			switch r.Intn(3) {
			case 0:
				b[r.Intn(len(b))] = alphabet[r.Intn(len(alphabet))]
			case 1:
				b = b[:len(b)-1-r.Intn(2)]
			default:
				b = append(b, '=')
			}
		}
		key := string(b)
		raw, goErr := strict.DecodeString(key)
		goOK := goErr == nil && len(raw) >= sbprov.KeyMinBytes && len(raw) <= sbprov.KeyMaxBytes
		_, err := sbprov.DeriveDeviceKey(key, "id")
		if (err == nil) != goOK {
			t.Fatalf("key %q: libsbprov says %v; Go's strict decoder says %v (%d bytes)", key, err, goErr, len(raw))
		}
		if err == nil {
			accepted++
			if got, want := mustDerive(t, key, "id"), refDerive(t, key, "id"); got != want {
				t.Fatalf("key %q: %q, want %q", key, got, want)
			}
		} else {
			refused++
			if c := codeOf(t, err); c != sbprov.ErrBase64 && c != sbprov.ErrKeySize {
				t.Fatalf("key %q: unexpected code %v", key, c)
			}
			if goErr != nil && codeOf(t, err) != sbprov.ErrBase64 {
				t.Fatalf("key %q is not Base64 for Go (%v) but libsbprov says %v", key, goErr, err)
			}
		}
	}
	if accepted < 100 || refused < 100 {
		t.Fatalf("test did not exercise both sides: %d accepted, %d refused", accepted, refused)
	}
}

func mustDerive(t testing.TB, key, id string) string {
	t.Helper()
	s, err := sbprov.DeriveDeviceKey(key, id)
	if err != nil {
		t.Fatal(err)
	}
	return s
}
