package sbprov_test

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	sbprov "github.com/sbprov/libsbprov/bindings/go"
)

// Keys are verified with Go's own crypto packages only.

var keyKinds = []struct {
	kind sbprov.KeyType
	bits int
}{{sbprov.KeyEd25519, 255}, {sbprov.KeyECDSAP256, 256}, {sbprov.KeyRSA, 2048}}

func genKey(t testing.TB, kind sbprov.KeyType, rsaBits int) *sbprov.Key {
	t.Helper()
	k, err := sbprov.GenerateKeyPair(kind, rsaBits)
	if err != nil {
		t.Fatalf("GenerateKeyPair(%q, %d): %v", kind, rsaBits, err)
	}
	t.Cleanup(func() { k.Close() })
	return k
}

func rsaBitsFor(kind sbprov.KeyType) int {
	if kind == sbprov.KeyRSA {
		return 2048 // the fast size; 3072 and 4096 are tested separately
	}
	return 0
}

// goPublicKey parses PublicPEM with crypto/x509.
func goPublicKey(t testing.TB, k *sbprov.Key) (crypto.PublicKey, []byte) {
	t.Helper()
	text, err := k.PublicPEM()
	if err != nil {
		t.Fatal(err)
	}
	block, rest := pem.Decode([]byte(text))
	if block == nil || block.Type != "PUBLIC KEY" || len(rest) != 0 {
		t.Fatalf("PublicPEM is not one PUBLIC KEY block: %q", text)
	}
	for _, line := range strings.Split(strings.TrimSuffix(text, "\n"), "\n") {
		if len(line) > 64 {
			t.Fatalf("PEM line longer than 64: %q", line)
		}
	}
	pub, err := x509.ParsePKIXPublicKey(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return pub, block.Bytes
}

// goVerify checks a Base64 signature as the Mender server does.
func goVerify(pub crypto.PublicKey, data []byte, sigB64 string) bool {
	sig, err := base64.StdEncoding.Strict().DecodeString(sigB64)
	if err != nil {
		return false
	}
	digest := sha256.Sum256(data)
	switch p := pub.(type) {
	case ed25519.PublicKey:
		return ed25519.Verify(p, data, sig)
	case *ecdsa.PublicKey:
		return p.Curve == elliptic.P256() && ecdsa.VerifyASN1(p, digest[:], sig)
	case *rsa.PublicKey:
		return rsa.VerifyPKCS1v15(p, crypto.SHA256, digest[:], sig) == nil
	}
	return false
}

func TestGenerateKeyPair(t *testing.T) {
	for _, c := range keyKinds {
		k := genKey(t, c.kind, rsaBitsFor(c.kind))
		if k.Type() != c.kind || k.Bits() != c.bits || !k.HasPrivate() {
			t.Fatalf("%q: type %q bits %d private %v", c.kind, k.Type(), k.Bits(), k.HasPrivate())
		}
		if s := k.String(); s != fmt.Sprintf("%s key (%d bits, private)", c.kind, c.bits) {
			t.Fatalf("String = %q", s)
		}
		pub, der := goPublicKey(t, k)
		switch c.kind {
		case sbprov.KeyEd25519:
			_, ok := pub.(ed25519.PublicKey)
			if !ok {
				t.Fatalf("%T", pub)
			}
		case sbprov.KeyECDSAP256:
			if p, ok := pub.(*ecdsa.PublicKey); !ok || p.Curve != elliptic.P256() {
				t.Fatalf("%T", pub)
			}
		case sbprov.KeyRSA:
			if p, ok := pub.(*rsa.PublicKey); !ok || p.N.BitLen() != 2048 {
				t.Fatalf("%T", pub)
			}
		}
		sum := sha256.Sum256(der)
		if fp, err := k.Fingerprint(); err != nil || fp != hex.EncodeToString(sum[:]) {
			t.Fatalf("Fingerprint %q, %v; want %x", fp, err, sum)
		}
	}
	for _, c := range []struct {
		kind    sbprov.KeyType
		rsaBits int
		want    sbprov.KeyType
		bits    int
	}{
		{"", 0, sbprov.KeyEd25519, 255},
		{"rsa", 0, sbprov.KeyRSA, 3072},
		{"rsa-2048", 0, sbprov.KeyRSA, 2048},
		{"rsa-2048", 2048, sbprov.KeyRSA, 2048},
		{sbprov.KeyRSA, 2050, sbprov.KeyRSA, 2050},
	} {
		k := genKey(t, c.kind, c.rsaBits)
		if k.Type() != c.want || k.Bits() != c.bits {
			t.Errorf("GenerateKeyPair(%q, %d) = %v", c.kind, c.rsaBits, k)
		}
	}
}

func TestGenerateKeyPairErrors(t *testing.T) {
	for _, c := range []struct {
		kind     sbprov.KeyType
		rsaBits  int
		fragment string
	}{
		{"dsa", 0, "unknown"},
		{"RSA", 0, "unknown"},
		{"ed448", 0, "unknown"},
		{"rsa-", 0, "unknown"},
		{"rsa-x", 0, "unknown"},
		{"rsa-02048", 0, "unknown"},
		{"rsa-2048 ", 0, "unknown"},
		{sbprov.KeyRSA, 1024, "must be 2048 to 4096"},
		{sbprov.KeyRSA, 2047, "2047"},
		{sbprov.KeyRSA, 4097, "4097"},
		{sbprov.KeyRSA, -1, "-1"},
		{sbprov.KeyRSA, 1 << 40, "must be 2048 to 4096"},
		{"rsa-1024", 0, "1024"},
		{"rsa-2048", 4096, "disagree"},
		{sbprov.KeyEd25519, 2048, "RSA keys only"},
		{sbprov.KeyECDSAP256, 3072, "RSA keys only"},
	} {
		k, err := sbprov.GenerateKeyPair(c.kind, c.rsaBits)
		if k != nil {
			t.Errorf("%q %d: got a key", c.kind, c.rsaBits)
		}
		wantErr(t, err, sbprov.ErrKey, c.fragment)
	}
}

var messages = [][]byte{nil, {}, []byte("hello"), bytes.Repeat([]byte{0}, 100), bytes.Repeat([]byte("x"), 100000),
	func() []byte {
		b := make([]byte, 256)
		for i := range b {
			b[i] = byte(i)
		}
		return b
	}()}

func TestSignVerifiesWithGoCrypto(t *testing.T) {
	for _, c := range keyKinds {
		k := genKey(t, c.kind, rsaBitsFor(c.kind))
		pub, _ := goPublicKey(t, k)
		for i, data := range messages {
			sig, err := k.Sign(data)
			if err != nil {
				t.Fatalf("%q message %d: %v", c.kind, i, err)
			}
			if !goVerify(pub, data, sig) {
				t.Fatalf("%q message %d: Go does not verify %q", c.kind, i, sig)
			}
			if goVerify(pub, append(append([]byte{}, data...), '!'), sig) {
				t.Fatalf("%q: Go verifies the signature of other data", c.kind)
			}
			if err := k.Verify(data, sig); err != nil {
				t.Fatalf("%q message %d: Verify: %v", c.kind, i, err)
			}
		}
	}
	// Sizes and determinism.
	ed := genKey(t, sbprov.KeyEd25519, 0)
	s1, _ := ed.Sign([]byte("m"))
	s2, _ := ed.Sign([]byte("m"))
	if raw, _ := base64.StdEncoding.DecodeString(s1); s1 != s2 || len(raw) != 64 {
		t.Fatalf("Ed25519 signatures %q %q", s1, s2)
	}
}

// Signatures made by Go verify with libsbprov, and keys written by Go load.
func TestGoMadeKeysAndSignatures(t *testing.T) {
	data := []byte("made by Go")
	digest := sha256.Sum256(data)
	_, edPriv, _ := ed25519.GenerateKey(rand.Reader)
	ecPriv, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	rsaPriv, _ := rsa.GenerateKey(rand.Reader, 2048)
	edSig := ed25519.Sign(edPriv, data)
	ecSig, _ := ecdsa.SignASN1(rand.Reader, ecPriv, digest[:])
	rsaSig, _ := rsa.SignPKCS1v15(rand.Reader, rsaPriv, crypto.SHA256, digest[:])
	dir := t.TempDir()
	for _, c := range []struct {
		kind sbprov.KeyType
		priv crypto.Signer
		sig  []byte
	}{{sbprov.KeyEd25519, edPriv, edSig}, {sbprov.KeyECDSAP256, ecPriv, ecSig}, {sbprov.KeyRSA, rsaPriv, rsaSig}} {
		der, err := x509.MarshalPKIXPublicKey(c.priv.Public())
		if err != nil {
			t.Fatal(err)
		}
		pubPEM := string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
		pub, err := sbprov.KeyFromPublicPEM(pubPEM)
		if err != nil {
			t.Fatal(err)
		}
		defer pub.Close()
		if pub.Type() != c.kind || pub.HasPrivate() {
			t.Fatalf("%v", pub)
		}
		if got, _ := pub.PublicPEM(); got != pubPEM {
			t.Fatalf("PublicPEM %q, want %q", got, pubPEM)
		}
		sigB64 := base64.StdEncoding.EncodeToString(c.sig)
		if err := pub.Verify(data, sigB64); err != nil {
			t.Fatalf("%q: Go's signature does not verify: %v", c.kind, err)
		}
		wantErr(t, pub.Verify([]byte("other"), sigB64), sbprov.ErrSignature)
		_, err = pub.Sign(data)
		wantErr(t, err, sbprov.ErrKey, "public only")

		p8, err := x509.MarshalPKCS8PrivateKey(c.priv)
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(dir, string(c.kind)+".pem")
		if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: p8}), 0o600); err != nil {
			t.Fatal(err)
		}
		k, err := sbprov.LoadKey(path, sbprov.LoadOptions{})
		if err != nil {
			t.Fatal(err)
		}
		defer k.Close()
		if got, _ := k.PublicPEM(); got != pubPEM || !k.HasPrivate() {
			t.Fatalf("loaded %v: %q", k, got)
		}
		if c.kind == sbprov.KeyEd25519 {
			if got, _ := k.Sign(data); got != sigB64 {
				t.Fatalf("Ed25519 signature %q, Go made %q", got, sigB64)
			}
		}
	}
	// PKCS#1 RSA public keys are accepted too, and given back as SPKI.
	pkcs1 := string(pem.EncodeToMemory(&pem.Block{Type: "RSA PUBLIC KEY", Bytes: x509.MarshalPKCS1PublicKey(&rsaPriv.PublicKey)}))
	pub, err := sbprov.KeyFromPublicPEM(pkcs1)
	if err != nil {
		t.Fatal(err)
	}
	defer pub.Close()
	if got, _ := pub.PublicPEM(); !strings.HasPrefix(got, "-----BEGIN PUBLIC KEY-----\n") {
		t.Fatalf("PKCS#1 key given back as %q", got)
	}
	if err := pub.Verify(data, base64.StdEncoding.EncodeToString(rsaSig)); err != nil {
		t.Fatal(err)
	}
}

func TestVerifyFailures(t *testing.T) {
	for _, c := range keyKinds {
		k := genKey(t, c.kind, rsaBitsFor(c.kind))
		data := []byte("payload")
		sig, _ := k.Sign(data)
		raw, _ := base64.StdEncoding.DecodeString(sig)
		raw[len(raw)/2] ^= 1
		wantErr(t, k.Verify(data, base64.StdEncoding.EncodeToString(raw)), sbprov.ErrSignature)
		wantErr(t, k.Verify(append(data, 'x'), sig), sbprov.ErrSignature)
		wantErr(t, k.Verify(data, base64.StdEncoding.EncodeToString(raw[:len(raw)-1])), sbprov.ErrSignature)
		wantErr(t, k.Verify(data, "not base64!"), sbprov.ErrBase64)
		wantErr(t, k.Verify(data, sig[:len(sig)-1]), sbprov.ErrBase64)
		wantErr(t, k.Verify(data, ""), sbprov.ErrBase64)
		wantErr(t, k.Verify(data, sig+"\x00"), sbprov.ErrBase64)
		other := genKey(t, sbprov.KeyEd25519, 0)
		if c.kind == sbprov.KeyEd25519 {
			other = genKey(t, sbprov.KeyECDSAP256, 0)
		}
		wantErr(t, other.Verify(data, sig), sbprov.ErrSignature)
	}
}

func TestKeyFromPublicPEMErrors(t *testing.T) {
	k := genKey(t, sbprov.KeyECDSAP256, 0)
	good, _ := k.PublicPEM()
	lines := strings.Split(good, "\n")
	if lines[1][10] == 'A' {
		lines[1] = lines[1][:10] + "B" + lines[1][11:]
	} else {
		lines[1] = lines[1][:10] + "A" + lines[1][11:]
	}
	p384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	der384, _ := x509.MarshalPKIXPublicKey(&p384.PublicKey)
	for _, text := range []string{"", "garbage", "-----BEGIN PUBLIC KEY-----\n-----END PUBLIC KEY-----\n",
		strings.Join(lines, "\n"), strings.ReplaceAll(good, "PUBLIC KEY", "CERTIFICATE"), good + "\x00",
		strings.Repeat("x", 70000), string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der384}))} {
		pub, err := sbprov.KeyFromPublicPEM(text)
		if pub != nil {
			t.Fatalf("%q gave a key", text)
		}
		wantErr(t, err, sbprov.ErrKey)
	}
}

// ---- files -------------------------------------------------------------------

func TestSaveAndLoad(t *testing.T) {
	dir := t.TempDir()
	for _, c := range keyKinds {
		k := genKey(t, c.kind, rsaBitsFor(c.kind))
		path := filepath.Join(dir, string(c.kind)+".pem")
		if err := k.Save(path, nil, false); err != nil {
			t.Fatal(err)
		}
		st, err := os.Stat(path)
		if err != nil || st.Mode().Perm() != 0o600 {
			t.Fatalf("mode %v, %v", st.Mode(), err)
		}
		text, _ := os.ReadFile(path)
		block, _ := pem.Decode(text)
		if block == nil || block.Type != "PRIVATE KEY" {
			t.Fatalf("not PKCS#8 PEM: %q", text)
		}
		priv, err := x509.ParsePKCS8PrivateKey(block.Bytes)
		if err != nil {
			t.Fatal(err)
		}
		goPub, _ := goPublicKey(t, k)
		if !priv.(interface{ Public() crypto.PublicKey }).Public().(interface{ Equal(crypto.PublicKey) bool }).Equal(goPub) {
			t.Fatal("saved private key does not match the public key")
		}
		loaded, err := sbprov.LoadKey(path, sbprov.LoadOptions{})
		if err != nil {
			t.Fatal(err)
		}
		a, _ := loaded.PublicPEM()
		b, _ := k.PublicPEM()
		sig, _ := loaded.Sign([]byte("m"))
		if a != b || k.Verify([]byte("m"), sig) != nil {
			t.Fatal("loaded key differs")
		}
		loaded.Close()
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != len(keyKinds) {
		t.Fatalf("files left behind: %v", entries)
	}
}

func TestSaveModeIgnoresUmask(t *testing.T) {
	// umask is process-wide; this test runs alone (no t.Parallel).
	old := setUmask(0)
	defer setUmask(old)
	path := filepath.Join(t.TempDir(), "k.pem")
	if err := genKey(t, sbprov.KeyEd25519, 0).Save(path, nil, false); err != nil {
		t.Fatal(err)
	}
	if st, _ := os.Stat(path); st.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v", st.Mode())
	}
}

func TestSaveExistsAndOverwrite(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "k.pem")
	if err := os.WriteFile(path, []byte("old\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	k := genKey(t, sbprov.KeyEd25519, 0)
	wantErr(t, k.Save(path, nil, false), sbprov.ErrExists, "already exists")
	if b, _ := os.ReadFile(path); string(b) != "old\n" {
		t.Fatal("existing file changed")
	}
	if err := k.Save(path, nil, true); err != nil {
		t.Fatal(err)
	}
	if st, _ := os.Stat(path); st.Mode().Perm() != 0o600 {
		t.Fatalf("mode after overwrite %v", st.Mode())
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Fatalf("temporary files left: %v", entries)
	}
}

func TestSaveErrors(t *testing.T) {
	dir := t.TempDir()
	k := genKey(t, sbprov.KeyEd25519, 0)
	wantErr(t, k.Save(filepath.Join(dir, "no", "dir", "k.pem"), nil, false), sbprov.ErrIO, "No such file")
	wantErr(t, k.Save(filepath.Join(dir, "k.pem"), []byte{}, false), sbprov.ErrInval, "empty")
	wantErr(t, k.Save(filepath.Join(dir, "k.pem"), []byte("a\x00b"), false), sbprov.ErrInval, "NUL")
	wantErr(t, k.Save(filepath.Join(dir, "k.pem"), bytes.Repeat([]byte("p"), 1024), false), sbprov.ErrInval, "1023")
	wantErr(t, k.Save(filepath.Join(dir, "k.pem")+"\x00x", nil, false), sbprov.ErrInval, "key path", "NUL")
	text, _ := k.PublicPEM()
	pub, _ := sbprov.KeyFromPublicPEM(text)
	defer pub.Close()
	wantErr(t, pub.Save(filepath.Join(dir, "k.pem"), nil, false), sbprov.ErrKey, "public only")
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Fatalf("files left: %v", entries)
	}
}

func TestEncryptedKeys(t *testing.T) {
	dir := t.TempDir()
	k := genKey(t, sbprov.KeyECDSAP256, 0)
	want, _ := k.PublicPEM()
	for i, pass := range [][]byte{[]byte("correct horse"), []byte("\xffbin\x01ary"), bytes.Repeat([]byte("p"), 1023)} {
		path := filepath.Join(dir, fmt.Sprintf("enc%d.pem", i))
		if err := k.Save(path, pass, false); err != nil {
			t.Fatal(err)
		}
		text, _ := os.ReadFile(path)
		if !bytes.HasPrefix(text, []byte("-----BEGIN ENCRYPTED PRIVATE KEY-----\n")) {
			t.Fatalf("not encrypted: %q", text[:40])
		}
		loaded, err := sbprov.LoadKey(path, sbprov.LoadOptions{Passphrase: pass})
		if err != nil {
			t.Fatal(err)
		}
		if got, _ := loaded.PublicPEM(); got != want {
			t.Fatal("decrypted key differs")
		}
		loaded.Close()
		_, err = sbprov.LoadKey(path, sbprov.LoadOptions{})
		wantErr(t, err, sbprov.ErrPassphrase, "no passphrase")
		_, err = sbprov.LoadKey(path, sbprov.LoadOptions{Passphrase: []byte("wrong")})
		wantErr(t, err, sbprov.ErrPassphrase, "wrong passphrase")
		_, err = sbprov.LoadKey(path, sbprov.LoadOptions{Passphrase: []byte{}})
		wantErr(t, err, sbprov.ErrPassphrase)
	}
	_, err := sbprov.LoadKey(filepath.Join(dir, "enc0.pem"), sbprov.LoadOptions{Passphrase: []byte("a\x00b")})
	wantErr(t, err, sbprov.ErrInval, "NUL")
}

func TestLoadKeyErrors(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	garbage := write("garbage.pem", []byte("garbage\n"))
	p384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	der, _ := x509.MarshalPKCS8PrivateKey(p384)
	p384Path := write("p384.pem", pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
	pubDer, _ := x509.MarshalPKIXPublicKey(&p384.PublicKey)
	pubPath := write("pub.pem", pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDer}))
	good := filepath.Join(dir, "good.pem")
	if err := genKey(t, sbprov.KeyEd25519, 0).Save(good, nil, false); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		uri       string
		opts      sbprov.LoadOptions
		code      sbprov.Code
		fragments []string
	}{
		{filepath.Join(dir, "missing.pem"), sbprov.LoadOptions{}, sbprov.ErrNotFound, []string{"No such file"}},
		{"file:" + filepath.Join(dir, "missing.pem"), sbprov.LoadOptions{}, sbprov.ErrNotFound, nil},
		{garbage, sbprov.LoadOptions{}, sbprov.ErrNotFound, []string{"no private key"}},
		{pubPath, sbprov.LoadOptions{}, sbprov.ErrNotFound, []string{"public key"}},
		{p384Path, sbprov.LoadOptions{}, sbprov.ErrKey, []string{"secp384r1"}},
		{dir, sbprov.LoadOptions{}, sbprov.ErrIO, nil},
		{"", sbprov.LoadOptions{}, sbprov.ErrInval, []string{"empty"}},
		{good + "\x00", sbprov.LoadOptions{}, sbprov.ErrInval, []string{"key URI", "NUL"}},
		{"nosuchscheme:key", sbprov.LoadOptions{}, sbprov.ErrProvider, []string{"nosuchscheme"}},
		{good, sbprov.LoadOptions{Providers: []string{"no-such-provider"}}, sbprov.ErrProvider, []string{"no-such-provider"}},
		{good, sbprov.LoadOptions{OpenSSLConf: filepath.Join(dir, "missing.cnf")}, sbprov.ErrProvider, []string{"missing.cnf"}},
		{good, sbprov.LoadOptions{Providers: []string{"a,b"}}, sbprov.ErrInval, []string{"Providers[0]"}},
		{good, sbprov.LoadOptions{Providers: []string{"default\x00"}}, sbprov.ErrInval, []string{"NUL"}},
		{good, sbprov.LoadOptions{PropQuery: "x\x00"}, sbprov.ErrInval, []string{"PropQuery"}},
	} {
		k, err := sbprov.LoadKey(c.uri, c.opts)
		if k != nil {
			t.Fatalf("%q gave a key", c.uri)
		}
		wantErr(t, err, c.code, c.fragments...)
	}
	// Explicit providers, a property query and file: URIs work.
	for _, opts := range []sbprov.LoadOptions{{Providers: []string{"default"}}, {PropQuery: "provider=default"},
		{Passphrase: []byte("unused")}} {
		for _, uri := range []string{good, "file:" + good} {
			k, err := sbprov.LoadKey(uri, opts)
			if err != nil {
				t.Fatalf("%q %+v: %v", uri, opts, err)
			}
			sig, err := k.Sign([]byte("m"))
			if err != nil || k.Verify([]byte("m"), sig) != nil {
				t.Fatalf("%q: %v", uri, err)
			}
			k.Close()
		}
	}
}

// ---- CSRs --------------------------------------------------------------------

func TestCSR(t *testing.T) {
	for _, c := range keyKinds {
		k := genKey(t, c.kind, rsaBitsFor(c.kind))
		text, err := k.CSR("gw-0001", []string{"DNS:gw1.example", "IP:10.0.0.7", "URI:urn:x", "email:ops@example.com"})
		if err != nil {
			t.Fatal(err)
		}
		block, rest := pem.Decode([]byte(text))
		if block == nil || block.Type != "CERTIFICATE REQUEST" || len(rest) != 0 {
			t.Fatalf("not one CSR PEM block: %q", text)
		}
		csr, err := x509.ParseCertificateRequest(block.Bytes)
		if err != nil {
			t.Fatal(err)
		}
		if err := csr.CheckSignature(); err != nil {
			t.Fatalf("%q: CSR signature: %v", c.kind, err)
		}
		if csr.Subject.CommonName != "gw-0001" || len(csr.DNSNames) != 1 || csr.DNSNames[0] != "gw1.example" ||
			len(csr.IPAddresses) != 1 || !csr.IPAddresses[0].Equal(net.ParseIP("10.0.0.7")) ||
			len(csr.URIs) != 1 || csr.URIs[0].String() != "urn:x" ||
			len(csr.EmailAddresses) != 1 || csr.EmailAddresses[0] != "ops@example.com" {
			t.Fatalf("%q: CSR contents %+v", c.kind, csr)
		}
		goPub, _ := goPublicKey(t, k)
		if !csr.PublicKey.(interface{ Equal(crypto.PublicKey) bool }).Equal(goPub) {
			t.Fatal("CSR public key differs")
		}
		if c.kind == sbprov.KeyRSA && csr.SignatureAlgorithm != x509.SHA256WithRSA ||
			c.kind == sbprov.KeyECDSAP256 && csr.SignatureAlgorithm != x509.ECDSAWithSHA256 ||
			c.kind == sbprov.KeyEd25519 && csr.SignatureAlgorithm != x509.PureEd25519 {
			t.Fatalf("%q: signature algorithm %v", c.kind, csr.SignatureAlgorithm)
		}
		plain, err := k.CSR(strings.Repeat("x", 64), nil)
		if err != nil {
			t.Fatal(err)
		}
		block, _ = pem.Decode([]byte(plain))
		csr, err = x509.ParseCertificateRequest(block.Bytes)
		if err != nil || csr.CheckSignature() != nil || len(csr.Extensions) != 0 {
			t.Fatalf("plain CSR: %v, %d extensions", err, len(csr.Extensions))
		}
	}
}

func TestCSRErrors(t *testing.T) {
	k := genKey(t, sbprov.KeyEd25519, 0)
	for _, c := range []struct {
		cn        string
		sans      []string
		code      sbprov.Code
		fragments []string
	}{
		{"", nil, sbprov.ErrID, []string{"empty"}},
		{strings.Repeat("x", 65), nil, sbprov.ErrID, []string{"64"}},
		{"bad\x01cn", nil, sbprov.ErrID, nil},
		{"gw", []string{"FOO:bar"}, sbprov.ErrID, []string{"FOO:bar"}},
		{"gw", []string{"DNS:"}, sbprov.ErrID, nil},
		{"gw", []string{"DNS:a", "DNS:b,DNS:c"}, sbprov.ErrID, []string{"sans[1]", "','"}},
		{"gw\x00", nil, sbprov.ErrInval, []string{"common name", "NUL"}},
		{"gw", []string{"DNS:a\x00"}, sbprov.ErrInval, []string{"sans[0]", "NUL"}},
	} {
		_, err := k.CSR(c.cn, c.sans)
		wantErr(t, err, c.code, c.fragments...)
	}
	text, _ := k.PublicPEM()
	pub, _ := sbprov.KeyFromPublicPEM(text)
	defer pub.Close()
	_, err := pub.CSR("gw", nil)
	wantErr(t, err, sbprov.ErrKey, "public only")
}

// ---- lifecycle and concurrency -------------------------------------------------

func TestKeyLifecycle(t *testing.T) {
	k, err := sbprov.GenerateKeyPair(sbprov.KeyEd25519, 0)
	if err != nil {
		t.Fatal(err)
	}
	sig, _ := k.Sign([]byte("m"))
	for i := 0; i < 3; i++ {
		if err := k.Close(); err != nil {
			t.Fatal(err)
		}
	}
	_, err = k.Sign([]byte("m"))
	wantErr(t, err, sbprov.ErrInval, "used after Close")
	wantErr(t, k.Verify([]byte("m"), sig), sbprov.ErrInval, "used after Close")
	_, err = k.PublicPEM()
	wantErr(t, err, sbprov.ErrInval, "used after Close")
	_, err = k.Fingerprint()
	wantErr(t, err, sbprov.ErrInval, "used after Close")
	_, err = k.CSR("gw", nil)
	wantErr(t, err, sbprov.ErrInval, "used after Close")
	path := filepath.Join(t.TempDir(), "k.pem")
	wantErr(t, k.Save(path, nil, false), sbprov.ErrInval, "used after Close")
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Fatal("Save after Close wrote a file")
	}
	if k.Type() != sbprov.KeyEd25519 || k.Bits() != 255 || !k.HasPrivate() {
		t.Fatal("Type/Bits/HasPrivate after Close")
	}
	var nilKey *sbprov.Key
	_, err = nilKey.Sign([]byte("m"))
	wantErr(t, err, sbprov.ErrInval, "nil")
	if nilKey.Close() != nil || nilKey.Type() != "" || nilKey.Bits() != 0 || nilKey.HasPrivate() || nilKey.String() != "<nil>" {
		t.Fatal("nil Key")
	}
	// Forgotten keys are freed by their finalizer.
	for i := 0; i < 300; i++ {
		k, _ := sbprov.GenerateKeyPair(sbprov.KeyECDSAP256, 0)
		if _, err := k.Sign([]byte("x")); err != nil {
			t.Fatal(err)
		}
	}
	runtime.GC()
	runtime.GC()
}

// One key shared by many goroutines (serialised by its lock), keys of their
// own, and errors that each carry the message of their own failure.
func TestKeysConcurrent(t *testing.T) {
	shared := genKey(t, sbprov.KeyRSA, 2048)
	goPub, _ := goPublicKey(t, shared)
	const n = 12
	var wg sync.WaitGroup
	errs := make(chan error, 2*n)
	for g := 0; g < n; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			own, err := sbprov.GenerateKeyPair(sbprov.KeyECDSAP256, 0)
			if err != nil {
				errs <- err
				return
			}
			defer own.Close()
			ownPEM, _ := own.PublicPEM()
			ownPub, _ := sbprov.KeyFromPublicPEM(ownPEM)
			defer ownPub.Close()
			for i := 0; i < 20; i++ {
				data := []byte(fmt.Sprintf("g%d-%d", g, i))
				sig, err := shared.Sign(data)
				if err != nil || !goVerify(goPub, data, sig) {
					errs <- fmt.Errorf("goroutine %d: shared Sign: %v", g, err)
					return
				}
				osig, err := own.Sign(data)
				if err != nil || ownPub.Verify(data, osig) != nil {
					errs <- fmt.Errorf("goroutine %d: own Sign: %v", g, err)
					return
				}
				// an error message unique to this goroutine and round
				_, err = shared.CSR(strings.Repeat("x", 65+g+i), nil)
				if err == nil || !strings.Contains(err.Error(), fmt.Sprintf("%d characters", 65+g+i)) {
					errs <- fmt.Errorf("goroutine %d: CSR error %v", g, err)
					return
				}
				if err := ownPub.Verify(data, sig); err == nil || !strings.Contains(err.Error(), "ErrSignature") {
					errs <- fmt.Errorf("goroutine %d: Verify error %v", g, err)
					return
				}
			}
		}(g)
	}
	// Close racing with use: never a crash, only ErrInval afterwards.
	racy := genKey(t, sbprov.KeyEd25519, 0)
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 200; i++ {
				if _, err := racy.Sign([]byte("x")); err != nil {
					if !strings.Contains(err.Error(), "used after Close") {
						errs <- err
					}
					return
				}
			}
		}()
	}
	time.Sleep(time.Millisecond)
	racy.Close()
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// RSA-4096 generation blocks only the goroutine that asked for it.
func TestGenerateRSA4096DoesNotBlockOthers(t *testing.T) {
	if testing.Short() {
		t.Skip("slow")
	}
	done := make(chan *sbprov.Key)
	start := time.Now()
	go func() {
		k, err := sbprov.GenerateKeyPair("rsa-4096", 0)
		if err != nil {
			t.Error(err)
		}
		done <- k
	}()
	ticks, maxGap, last := 0, time.Duration(0), time.Now()
	for {
		select {
		case k := <-done:
			elapsed := time.Since(start)
			if k == nil {
				return
			}
			defer k.Close()
			if k.Bits() != 4096 || ticks < 10 {
				t.Fatalf("bits %d, %d ticks in %v", k.Bits(), ticks, elapsed)
			}
			if maxGap > elapsed/2 && maxGap > 50*time.Millisecond {
				t.Fatalf("this goroutine stalled for %v of %v", maxGap, elapsed)
			}
			return
		case <-time.After(time.Millisecond):
			now := time.Now()
			if gap := now.Sub(last); gap > maxGap {
				maxGap = gap
			}
			last = now
			ticks++
		}
	}
}
