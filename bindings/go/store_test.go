package sbprov_test

import (
	"bytes"
	"crypto/rand"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"sync"
	"testing"

	sbprov "github.com/sbprov/libsbprov/bindings/go"
)

// newTestStore creates a key file and a key-file store in a temp directory.
func newTestStore(t *testing.T) (*sbprov.Store, string, string) {
	t.Helper()
	tmp := t.TempDir()
	key := filepath.Join(tmp, "store.key")
	if err := sbprov.CreateStoreKeyFile(key); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(tmp, "store")
	s, err := sbprov.OpenStore(dir, sbprov.StoreOptions{KeyFile: key, Create: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s, dir, key
}

func TestStoreRoundTrip(t *testing.T) {
	s, _, _ := newTestStore(t)
	names, err := s.List()
	if err != nil || names == nil || len(names) != 0 {
		t.Fatalf("List of an empty store = %v, %v", names, err)
	}
	binary := append(bytes.Repeat([]byte{0, 1, 0xff}, 100), 0)
	big := make([]byte, sbprov.StoreValueMax)
	if _, err := rand.Read(big); err != nil {
		t.Fatal(err)
	}
	values := map[string][]byte{"b.two": []byte("second"), "a-one": binary, "big": big, "empty": {}}
	for n, v := range values {
		if err := s.Put(n, v); err != nil {
			t.Fatalf("Put(%q): %v", n, err)
		}
	}
	for n, v := range values {
		got, err := s.Get(n)
		if err != nil || !bytes.Equal(got, v) {
			t.Fatalf("Get(%q) = %d bytes, %v", n, len(got), err)
		}
	}
	names, err = s.List()
	if err != nil || !reflect.DeepEqual(names, []string{"a-one", "b.two", "big", "empty"}) {
		t.Fatalf("List = %v, %v", names, err)
	}
	if ok, err := s.Exists("a-one"); !ok || err != nil {
		t.Fatalf("Exists = %v, %v", ok, err)
	}
	if err := s.Delete("a-one"); err != nil {
		t.Fatal(err)
	}
	if ok, err := s.Exists("a-one"); ok || err != nil {
		t.Fatalf("Exists after Delete = %v, %v", ok, err)
	}
	_, err = s.Get("a-one")
	wantErr(t, err, sbprov.ErrNotFound)
	wantErr(t, s.Delete("a-one"), sbprov.ErrNotFound)
	wantErr(t, s.Put("too-big", append(big, 1)), sbprov.ErrInval)
}

func TestStoreSwap(t *testing.T) {
	s, _, _ := newTestStore(t)
	_ = s.Put("primary", []byte("P"))
	_ = s.Put("secondary", []byte("S"))
	if err := s.Swap("primary", "secondary"); err != nil {
		t.Fatal(err)
	}
	p, _ := s.Get("primary")
	q, _ := s.Get("secondary")
	if string(p) != "S" || string(q) != "P" {
		t.Fatalf("after Swap: %q %q", p, q)
	}
	wantErr(t, s.Swap("primary", "missing"), sbprov.ErrNotFound)
	wantErr(t, s.Swap("primary", "primary"), sbprov.ErrInval)
}

func TestStoreBadNames(t *testing.T) {
	s, _, _ := newTestStore(t)
	for _, n := range []string{"", ".", "..", "a/b", "a b", strings.Repeat("x", 129)} {
		wantErr(t, s.Put(n, []byte("v")), sbprov.ErrID)
		_, err := s.Get(n)
		wantErr(t, err, sbprov.ErrID)
	}
	wantErr(t, s.Put("a\x00b", []byte("v")), sbprov.ErrInval, "NUL")
}

func TestStoreOpenErrors(t *testing.T) {
	s, dir, key := newTestStore(t)
	_ = s.Put("k", []byte("v"))
	s.Close()
	tmp := filepath.Dir(dir)

	_, err := sbprov.OpenStore(filepath.Join(tmp, "none"), sbprov.StoreOptions{KeyFile: key})
	wantErr(t, err, sbprov.ErrNotFound)
	other := filepath.Join(tmp, "other.key")
	if err := sbprov.CreateStoreKeyFile(other); err != nil {
		t.Fatal(err)
	}
	wantErr(t, sbprov.CreateStoreKeyFile(other), sbprov.ErrExists)
	_, err = sbprov.OpenStore(dir, sbprov.StoreOptions{KeyFile: other})
	wantErr(t, err, sbprov.ErrKey)
	_, err = sbprov.OpenStore(dir, sbprov.StoreOptions{Plaintext: true})
	wantErr(t, err, sbprov.ErrKey)
	_, err = sbprov.OpenStore(dir, sbprov.StoreOptions{})
	wantErr(t, err, sbprov.ErrInval)

	pdir := filepath.Join(tmp, "pass")
	p, err := sbprov.OpenStore(pdir, sbprov.StoreOptions{Passphrase: []byte("right"), Create: true, ScryptLog2N: 10})
	if err != nil {
		t.Fatal(err)
	}
	p.Close()
	_, err = sbprov.OpenStore(pdir, sbprov.StoreOptions{Passphrase: []byte("wrong")})
	wantErr(t, err, sbprov.ErrPassphrase)

	if err := os.Chmod(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	_, err = sbprov.OpenStore(dir, sbprov.StoreOptions{KeyFile: key})
	wantErr(t, err, sbprov.ErrUnsafe)
	if !errors.Is(err, sbprov.ErrUnsafe) {
		t.Fatal("errors.Is(ErrUnsafe) failed")
	}
	_ = os.Chmod(dir, 0o700)
}

func TestStoreTampered(t *testing.T) {
	s, dir, _ := newTestStore(t)
	_ = s.Put("victim", []byte("value"))
	path := filepath.Join(dir, "e.victim")
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	raw[len(raw)-1] ^= 1
	if err := os.WriteFile(path, raw, 0o600); err != nil {
		t.Fatal(err)
	}
	_, err = s.Get("victim")
	wantErr(t, err, sbprov.ErrTampered)
	if !errors.Is(err, sbprov.ErrTampered) || errors.Is(err, sbprov.ErrFormat) {
		t.Fatal("errors.Is does not follow the code")
	}
}

func TestStoreEnv(t *testing.T) {
	s, dir, key := newTestStore(t)
	tmp := filepath.Dir(dir)
	_ = s.Put("DB_PASSWORD", []byte("p@ss w=rd"))
	_ = s.Put("TOKEN", []byte(`q " $ \ `+"` ü"))
	_ = s.Put("NL", []byte("a\nb"))
	for _, f := range []sbprov.EnvFormat{sbprov.EnvDocker, sbprov.EnvSystemd} {
		out := filepath.Join(tmp, "env."+string(f))
		if err := s.ExportEnv([]string{"TOKEN", "DB_PASSWORD"}, out, f); err != nil {
			t.Fatal(err)
		}
		c, err := sbprov.OpenStore(filepath.Join(tmp, "copy-"+string(f)), sbprov.StoreOptions{KeyFile: key, Create: true})
		if err != nil {
			t.Fatal(err)
		}
		if err := c.ImportEnv(out, f); err != nil {
			t.Fatal(err)
		}
		for _, n := range []string{"TOKEN", "DB_PASSWORD"} {
			a, _ := s.Get(n)
			b, err := c.Get(n)
			if err != nil || !bytes.Equal(a, b) {
				t.Fatalf("%s: %s: %q vs %q (%v)", f, n, a, b, err)
			}
		}
		c.Close()
	}
	out := filepath.Join(tmp, "nl.env")
	wantErr(t, s.ExportEnv([]string{"NL"}, out, sbprov.EnvDocker), sbprov.ErrParse)
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Fatal("a file was written for a value docker cannot carry")
	}
	wantErr(t, s.ExportEnv([]string{"MISSING"}, out, sbprov.EnvDocker), sbprov.ErrNotFound)
	wantErr(t, s.ExportEnv(nil, out, "ini"), sbprov.ErrInval)
}

func TestStoreClosedAndConcurrent(t *testing.T) {
	s, _, _ := newTestStore(t)
	var wg sync.WaitGroup
	for i := 0; i < 4; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			for j := 0; j < 10; j++ {
				n := "g" + string(rune('a'+i)) + string(rune('a'+j))
				if err := s.Put(n, []byte(n)); err != nil {
					t.Error(err)
					return
				}
				if v, err := s.Get(n); err != nil || string(v) != n {
					t.Errorf("Get(%q) = %q, %v", n, v, err)
					return
				}
			}
		}(i)
	}
	wg.Wait()
	if names, _ := s.List(); len(names) != 40 {
		t.Fatalf("%d names", len(names))
	}
	s.Close()
	s.Close()
	_, err := s.Get("ga")
	wantErr(t, err, sbprov.ErrInval)
}

// sealingKeyFile generates a key of kind, saves it and returns its path.
func sealingKeyFile(t *testing.T, kind sbprov.KeyType) string {
	t.Helper()
	k, err := sbprov.GenerateKeyPair(kind, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer k.Close()
	path := filepath.Join(t.TempDir(), string(kind)+".pem")
	if err := k.Save(path, nil, false); err != nil {
		t.Fatal(err)
	}
	return path
}

func loadKey(t *testing.T, path string) *sbprov.Key {
	t.Helper()
	k, err := sbprov.LoadKey(path, sbprov.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { k.Close() })
	return k
}

func TestStoreSealed(t *testing.T) {
	for _, tc := range []struct {
		kind   sbprov.KeyType
		scheme string
	}{{sbprov.KeyECDSAP256, "ecdh-p256"}, {"rsa-2048", "rsa-oaep-sha256"}} {
		t.Run(string(tc.kind), func(t *testing.T) {
			pem := sealingKeyFile(t, tc.kind)
			dir := filepath.Join(t.TempDir(), "sealed")
			k := loadKey(t, pem)
			fp, err := k.Fingerprint()
			if err != nil {
				t.Fatal(err)
			}
			s, err := sbprov.OpenStore(dir, sbprov.StoreOptions{SealingKey: k, Create: true})
			if err != nil {
				t.Fatal(err)
			}
			value := []byte("sealed \x00 secret")
			if err := s.Put("azure.primary", value); err != nil {
				t.Fatal(err)
			}
			s.Close()
			meta, err := os.ReadFile(filepath.Join(dir, ".sbprov-store"))
			if err != nil {
				t.Fatal(err)
			}
			for _, want := range []string{"kdf=sealed\n", "seal=" + tc.scheme + "\n", "seal_key=" + fp + "\n"} {
				if !strings.Contains(string(meta), want) {
					t.Fatalf("metadata lacks %q:\n%s", want, meta)
				}
			}

			// Reopened with the same key loaded again; the Key may be closed
			// once the store is open.
			k2, err := sbprov.LoadKey(pem, sbprov.LoadOptions{})
			if err != nil {
				t.Fatal(err)
			}
			s, err = sbprov.OpenStore(dir, sbprov.StoreOptions{SealingKey: k2})
			k2.Close()
			if err != nil {
				t.Fatal(err)
			}
			got, err := s.Get("azure.primary")
			if err != nil || !bytes.Equal(got, value) {
				t.Fatalf("Get = %q, %v", got, err)
			}
			s.Close()

			// Another key of the same type: ErrKey naming both fingerprints.
			other, err := sbprov.GenerateKeyPair(tc.kind, 0)
			if err != nil {
				t.Fatal(err)
			}
			defer other.Close()
			ofp, _ := other.Fingerprint()
			_, err = sbprov.OpenStore(dir, sbprov.StoreOptions{SealingKey: other})
			wantErr(t, err, sbprov.ErrKey, fp, ofp)

			// Public only: refused for opening and for creating.
			pemText, err := k.PublicPEM()
			if err != nil {
				t.Fatal(err)
			}
			pub, err := sbprov.KeyFromPublicPEM(pemText)
			if err != nil {
				t.Fatal(err)
			}
			defer pub.Close()
			_, err = sbprov.OpenStore(dir, sbprov.StoreOptions{SealingKey: pub})
			wantErr(t, err, sbprov.ErrKey, "no private part")
			_, err = sbprov.OpenStore(filepath.Join(t.TempDir(), "pub"), sbprov.StoreOptions{SealingKey: pub, Create: true})
			wantErr(t, err, sbprov.ErrKey, "no private part")

			// A key file or a passphrase is not the store's key source.
			keyFile := filepath.Join(t.TempDir(), "store.key")
			if err := sbprov.CreateStoreKeyFile(keyFile); err != nil {
				t.Fatal(err)
			}
			_, err = sbprov.OpenStore(dir, sbprov.StoreOptions{KeyFile: keyFile})
			wantErr(t, err, sbprov.ErrKey, "no sealing key was given")
			_, err = sbprov.OpenStore(dir, sbprov.StoreOptions{Passphrase: []byte("pw")})
			wantErr(t, err, sbprov.ErrKey, "no sealing key was given")
		})
	}
}

func TestStoreSealedRefused(t *testing.T) {
	tmp := t.TempDir()
	ed, err := sbprov.GenerateKeyPair(sbprov.KeyEd25519, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer ed.Close()
	_, err = sbprov.OpenStore(filepath.Join(tmp, "ed"), sbprov.StoreOptions{SealingKey: ed, Create: true})
	wantErr(t, err, sbprov.ErrKey, "Ed25519")
	if _, err := os.Stat(filepath.Join(tmp, "ed", ".sbprov-store")); !os.IsNotExist(err) {
		t.Fatalf("a refused store left metadata behind: %v", err)
	}

	k, err := sbprov.GenerateKeyPair(sbprov.KeyECDSAP256, 0)
	if err != nil {
		t.Fatal(err)
	}
	keyFile := filepath.Join(tmp, "store.key")
	if err := sbprov.CreateStoreKeyFile(keyFile); err != nil {
		t.Fatal(err)
	}
	for _, opts := range []sbprov.StoreOptions{
		{SealingKey: k, KeyFile: keyFile, Create: true},
		{SealingKey: k, Passphrase: []byte("pw"), Create: true},
		{SealingKey: k, Plaintext: true, Create: true},
	} {
		_, err = sbprov.OpenStore(filepath.Join(tmp, "x"), opts)
		wantErr(t, err, sbprov.ErrInval, "exactly one of")
	}
	// A key-file store is not opened with a sealing key.
	s, err := sbprov.OpenStore(filepath.Join(tmp, "kf"), sbprov.StoreOptions{KeyFile: keyFile, Create: true})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	_, err = sbprov.OpenStore(filepath.Join(tmp, "kf"), sbprov.StoreOptions{SealingKey: k})
	wantErr(t, err, sbprov.ErrKey)
	// A closed Key.
	k.Close()
	_, err = sbprov.OpenStore(filepath.Join(tmp, "y"), sbprov.StoreOptions{SealingKey: k, Create: true})
	wantErr(t, err, sbprov.ErrInval, "after Close")
}

// One Key shared by goroutines opening sealed stores at once (the Key's lock
// serialises its C handle), with the garbage collector running: nothing
// frees the key under a call.
func TestStoreSealedConcurrent(t *testing.T) {
	k, err := sbprov.GenerateKeyPair(sbprov.KeyECDSAP256, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer k.Close()
	tmp := t.TempDir()
	var wg sync.WaitGroup
	for i := 0; i < 4; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			dir := filepath.Join(tmp, "s"+string(rune('a'+i)))
			for j := 0; j < 3; j++ {
				s, err := sbprov.OpenStore(dir, sbprov.StoreOptions{SealingKey: k, Create: true})
				if err != nil {
					t.Error(err)
					return
				}
				err = s.Put("v", []byte{byte(i), byte(j)})
				s.Close()
				if err != nil {
					t.Error(err)
					return
				}
				runtime.GC()
			}
		}(i)
	}
	wg.Wait()
}
