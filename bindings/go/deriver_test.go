package sbprov_test

import (
	"runtime"
	"testing"

	sbprov "github.com/sbprov/libsbprov/bindings/go"
)

func TestDeriverLifecycle(t *testing.T) {
	d, err := sbprov.NewDeriver(key64)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.Derive("dev-1"); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		if err := d.Close(); err != nil {
			t.Fatalf("Close #%d: %v", i+1, err)
		}
	}
	_, err = d.Derive("dev-1")
	wantErr(t, err, sbprov.ErrInval, "used after Close")

	var nilDeriver *sbprov.Deriver
	_, err = nilDeriver.Derive("dev-1")
	wantErr(t, err, sbprov.ErrInval, "nil")
	if err := nilDeriver.Close(); err != nil {
		t.Fatalf("Close on nil Deriver: %v", err)
	}
	// A failed NewDeriver returns no Deriver.
	if d, err := sbprov.NewDeriver("bad"); d != nil || err == nil {
		t.Fatalf("NewDeriver(bad) = %v, %v", d, err)
	}
}

// Derivers dropped without Close are freed by their finalizer; this checks
// that doing so (alongside live Derivers) does not crash or corrupt results.
func TestDeriverFinalizer(t *testing.T) {
	live, err := sbprov.NewDeriver(key64)
	if err != nil {
		t.Fatal(err)
	}
	defer live.Close()
	want := refDerive(t, key64, "dev-1")
	for round := 0; round < 5; round++ {
		for i := 0; i < 200; i++ {
			d, err := sbprov.NewDeriver(key16)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := d.Derive("dev-1"); err != nil {
				t.Fatal(err)
			}
		}
		runtime.GC()
		runtime.GC()
		if got, err := live.Derive("dev-1"); err != nil || got != want {
			t.Fatalf("live Deriver after GC: %q, %v", got, err)
		}
	}
}
