package sbprov_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"math/rand"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	sbprov "github.com/sbprov/libsbprov/bindings/go"
)

// Independent implementations (Go standard library only) of what libsbprov
// computes, to check the binding against something other than OpenSSL.

// refDerive is Base64(HMAC-SHA256(Base64Decode(groupKey), id)).
func refDerive(t testing.TB, groupKey, id string) string {
	t.Helper()
	s, err := refDeriveErr(groupKey, id)
	if err != nil {
		t.Fatalf("reference: group key does not decode: %v", err)
	}
	return s
}

// refDeriveErr is refDerive for goroutines other than the test's own.
func refDeriveErr(groupKey, id string) (string, error) {
	raw, err := base64.StdEncoding.Strict().DecodeString(groupKey)
	if err != nil {
		return "", err
	}
	m := hmac.New(sha256.New, raw)
	m.Write([]byte(id))
	return base64.StdEncoding.EncodeToString(m.Sum(nil)), nil
}

// refURLEncode keeps A-Z a-z 0-9 - _ . ~ and writes every other byte as %XX.
func refURLEncode(b []byte) string {
	const hex = "0123456789ABCDEF"
	var sb strings.Builder
	for _, c := range b {
		switch {
		case c >= 'A' && c <= 'Z', c >= 'a' && c <= 'z', c >= '0' && c <= '9',
			c == '-', c == '_', c == '.', c == '~':
			sb.WriteByte(c)
		default:
			sb.WriteByte('%')
			sb.WriteByte(hex[c>>4])
			sb.WriteByte(hex[c&15])
		}
	}
	return sb.String()
}

// refSAS builds the token of the published algorithm.
func refSAS(t testing.TB, uri, key string, expiry int64, policy string) string {
	t.Helper()
	raw, err := base64.StdEncoding.Strict().DecodeString(key)
	if err != nil {
		t.Fatalf("reference: key does not decode: %v", err)
	}
	sr := refURLEncode([]byte(uri))
	se := strconv.FormatInt(expiry, 10)
	m := hmac.New(sha256.New, raw)
	m.Write([]byte(sr + "\n" + se))
	sig := base64.StdEncoding.EncodeToString(m.Sum(nil))
	tok := "SharedAccessSignature sr=" + sr + "&sig=" + refURLEncode([]byte(sig)) + "&se=" + se
	if policy != "" {
		tok += "&skn=" + policy
	}
	return tok
}

// randomKey returns the Base64 of n random bytes.
func randomKey(r *rand.Rand, n int) string {
	b := make([]byte, n)
	r.Read(b)
	return base64.StdEncoding.EncodeToString(b)
}

const regIDChars = "abcdefghijklmnopqrstuvwxyz0123456789-._:"
const alnumLower = "abcdefghijklmnopqrstuvwxyz0123456789"

// randomRegID returns a valid registration ID of 1..n characters.
func randomRegID(r *rand.Rand, n int) string {
	l := 1 + r.Intn(n)
	b := make([]byte, l)
	for i := range b {
		b[i] = regIDChars[r.Intn(len(regIDChars))]
	}
	b[0] = alnumLower[r.Intn(len(alnumLower))]
	if c := b[l-1]; c == '.' || c == '_' || c == ':' {
		b[l-1] = alnumLower[r.Intn(len(alnumLower))]
	}
	return string(b)
}

// codeOf returns the Code of an *Error (OK for nil); it fails the test on any
// other error type.
func codeOf(t testing.TB, err error) sbprov.Code {
	t.Helper()
	if err == nil {
		return sbprov.OK
	}
	var e *sbprov.Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v (%T) is not an *sbprov.Error", err, err)
	}
	return e.Code
}

// wantErr checks that err is an *Error with the given code whose message
// contains every fragment.
func wantErr(t testing.TB, err error, code sbprov.Code, fragments ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("got no error, want %v", code)
	}
	var e *sbprov.Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v (%T) is not an *sbprov.Error", err, err)
	}
	if e.Code != code || !errors.Is(err, code) {
		t.Fatalf("got %v, want code %v", err, code)
	}
	for _, f := range fragments {
		if !strings.Contains(e.Message, f) {
			t.Fatalf("message %q does not contain %q", e.Message, f)
		}
	}
}

// vectorsDir is $SBPROV_VECTORS, default /work/shared/vectors.
func vectorsDir() string {
	if d := os.Getenv("SBPROV_VECTORS"); d != "" {
		return d
	}
	return "/work/shared/vectors"
}

// oraclePath is $SBPROV_ORACLE, else $SBPROV_BUILD/tests/sbprov-azure-oracle.
func oraclePath() string {
	if p := os.Getenv("SBPROV_ORACLE"); p != "" {
		return p
	}
	if b := os.Getenv("SBPROV_BUILD"); b != "" {
		return filepath.Join(b, "tests", "sbprov-azure-oracle")
	}
	return ""
}

// testSeed is $SBPROV_SEED, default 20240611, so runs are reproducible.
func testSeed(t testing.TB) int64 {
	seed := int64(20240611)
	if s := os.Getenv("SBPROV_SEED"); s != "" {
		v, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			t.Fatalf("SBPROV_SEED=%q: %v", s, err)
		}
		seed = v
	}
	return seed
}
