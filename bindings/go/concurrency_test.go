package sbprov_test

import (
	"fmt"
	"math/rand"
	"runtime"
	"strings"
	"sync"
	"testing"

	sbprov "github.com/sbprov/libsbprov/bindings/go"
)

// Many goroutines at once, each with its own inputs: every result must be
// right and every error must carry the message of its own failure. The C
// library keeps that message per OS thread and goroutines hop between
// threads, so a binding that read it without pinning the thread would hand
// out other goroutines' messages here.

const (
	workers    = 24
	iterations = 300
)

// badID returns a registration ID whose error message is unique to (w, i):
// an upper-case letter at a position that depends on both.
func badID(w, i int) (id string, fragment string) {
	pos := 1 + (w*7+i)%100
	letter := byte('A' + (w+i)%26)
	id = strings.Repeat("a", pos-1) + string(letter) + strings.Repeat("b", 1+i%5)
	return id, fmt.Sprintf("upper-case '%c' at position %d;", letter, pos)
}

// badKey returns a group key whose error message is unique to (w, i): a
// Base64 length that is not a multiple of 4.
func badKey(w, i int) (key string, fragment string) {
	n := 4*(1+(w*13+i)%200) + 1 + i%3
	return strings.Repeat("A", n), fmt.Sprintf("Base64 length %d is not", n)
}

func runWorkers(t *testing.T, work func(w int, r *rand.Rand) error) {
	t.Helper()
	if runtime.GOMAXPROCS(0) < 4 {
		defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(4))
	}
	seed := testSeed(t)
	errs := make(chan error, workers)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			errs <- work(w, rand.New(rand.NewSource(seed+int64(w))))
		}(w)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
}

// checkOwnError verifies err is code with a message containing fragment.
func checkOwnError(what string, err error, code sbprov.Code, fragment string) error {
	e, ok := err.(*sbprov.Error)
	if !ok || e.Code != code || !strings.Contains(e.Message, fragment) {
		return fmt.Errorf("%s: got %v, want %v with %q", what, err, code, fragment)
	}
	return nil
}

func TestConcurrentDerivers(t *testing.T) {
	runWorkers(t, func(w int, r *rand.Rand) error {
		key := randomKey(r, 16+w)
		d, err := sbprov.NewDeriver(key)
		if err != nil {
			return err
		}
		defer d.Close()
		for i := 0; i < iterations; i++ {
			if i%3 == 0 {
				id, fragment := badID(w, i)
				_, err := d.Derive(id)
				if err := checkOwnError(fmt.Sprintf("worker %d, Derive(%q)", w, id), err, sbprov.ErrID, fragment); err != nil {
					return err
				}
			} else {
				id := randomRegID(r, 64)
				got, err := d.Derive(id)
				if want, _ := refDeriveErr(key, id); err != nil || got != want {
					return fmt.Errorf("worker %d: Derive(%q) = %q, %v; want %q", w, id, got, err, want)
				}
			}
			if i%17 == 0 {
				runtime.Gosched()
			}
		}
		return nil
	})
}

func TestConcurrentOneShot(t *testing.T) {
	runWorkers(t, func(w int, r *rand.Rand) error {
		key := randomKey(r, 64-w)
		for i := 0; i < iterations; i++ {
			switch i % 4 {
			case 0:
				id, fragment := badID(w, i)
				_, err := sbprov.DeriveDeviceKey(key, id)
				if err := checkOwnError(fmt.Sprintf("worker %d, id %q", w, id), err, sbprov.ErrID, fragment); err != nil {
					return err
				}
			case 1:
				bad, fragment := badKey(w, i)
				_, err := sbprov.DeriveDeviceKey(bad, "dev")
				if err := checkOwnError(fmt.Sprintf("worker %d, key of %d chars", w, len(bad)), err, sbprov.ErrBase64, fragment); err != nil {
					return err
				}
			case 2:
				expiry := int64(1500000000 + w*1000 + i)
				_, err := sbprov.SASTokenAt("h/devices/d", key, expiry, "", 0)
				if err := checkOwnError(fmt.Sprintf("worker %d, expiry %d", w, expiry), err, sbprov.ErrExpiry, fmt.Sprintf("expiry %d is before", expiry)); err != nil {
					return err
				}
			default:
				id := randomRegID(r, 64)
				got, err := sbprov.DeriveDeviceKey(key, id)
				if want, _ := refDeriveErr(key, id); err != nil || got != want {
					return fmt.Errorf("worker %d: DeriveDeviceKey(%q) = %q, %v; want %q", w, id, got, err, want)
				}
			}
			if i%13 == 0 {
				runtime.Gosched()
			}
		}
		return nil
	})
}

// One Deriver shared by all goroutines: calls are serialised, results right.
func TestConcurrentSharedDeriver(t *testing.T) {
	key := randomKey(rand.New(rand.NewSource(testSeed(t))), 48)
	d, err := sbprov.NewDeriver(key)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	runWorkers(t, func(w int, r *rand.Rand) error {
		for i := 0; i < iterations/3; i++ {
			if i%5 == 0 {
				id, fragment := badID(w, i)
				_, err := d.Derive(id)
				if err := checkOwnError(fmt.Sprintf("worker %d, shared Derive(%q)", w, id), err, sbprov.ErrID, fragment); err != nil {
					return err
				}
				continue
			}
			id := randomRegID(r, 32)
			got, err := d.Derive(id)
			if want, _ := refDeriveErr(key, id); err != nil || got != want {
				return fmt.Errorf("worker %d: shared Derive(%q) = %q, %v; want %q", w, id, got, err, want)
			}
		}
		return nil
	})
}

// Closing a Deriver while other goroutines use it: each call either works or
// fails cleanly with ErrInval; nothing crashes.
func TestConcurrentClose(t *testing.T) {
	key := randomKey(rand.New(rand.NewSource(testSeed(t))), 32)
	for round := 0; round < 20; round++ {
		d, err := sbprov.NewDeriver(key)
		if err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		errs := make(chan error, 8)
		for g := 0; g < 8; g++ {
			wg.Add(1)
			go func(g int) {
				defer wg.Done()
				for i := 0; i < 50; i++ {
					if g == 0 && i == 10 {
						d.Close()
					}
					got, err := d.Derive("dev-1")
					if want, _ := refDeriveErr(key, "dev-1"); err == nil && got != want {
						errs <- fmt.Errorf("wrong key %q", got)
						return
					}
					if err != nil {
						if e := checkOwnError("Derive after Close", err, sbprov.ErrInval, "used after Close"); e != nil {
							errs <- e
							return
						}
					}
				}
			}(g)
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
	}
}

func TestConcurrentMixed(t *testing.T) {
	// Connection strings, URIs and key generation alongside each other.
	runWorkers(t, func(w int, r *rand.Rand) error {
		for i := 0; i < iterations/3; i++ {
			dev := fmt.Sprintf("dev-%d-%d", w, i)
			text := "HostName=h.azure-devices.net;DeviceId=" + dev + ";x509=true"
			cs, err := sbprov.ParseConnectionString(text)
			if err != nil || cs.DeviceID != dev {
				return fmt.Errorf("Parse(%q) = %+v, %v", text, cs, err)
			}
			if back, err := sbprov.BuildConnectionString(cs); err != nil || back != text {
				return fmt.Errorf("Build = %q, %v", back, err)
			}
			dup := text + ";DeviceId=" + dev
			_, err = sbprov.ParseConnectionString(dup)
			if err := checkOwnError("duplicate", err, sbprov.ErrConnStr, "DeviceId: given twice"); err != nil {
				return err
			}
			n := 16 + (w+i)%49
			if _, err := sbprov.GenerateKey(n); err != nil {
				return err
			}
			_, err = sbprov.GenerateKey(65 + w + i)
			if err := checkOwnError("GenerateKey", err, sbprov.ErrKeySize, fmt.Sprintf("key length %d bytes", 65+w+i)); err != nil {
				return err
			}
		}
		return nil
	})
}
