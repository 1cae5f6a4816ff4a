package sbprov_test

import (
	"strconv"
	"testing"

	sbprov "github.com/sbprov/libsbprov/bindings/go"
)

// Benchmarks (go test -run NONE -bench .): the cost of the binding around
// the C calls, for comparison with the C benchmarks under bench/.

func BenchmarkDeriveDeviceKey(b *testing.B) {
	for i := 0; i < b.N; i++ {
		if _, err := sbprov.DeriveDeviceKey(key64, "sn-007-888-abc-mac-a1-b2-c3-d4-e5-f6"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDeriverDerive(b *testing.B) {
	d, err := sbprov.NewDeriver(key64)
	if err != nil {
		b.Fatal(err)
	}
	defer d.Close()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := d.Derive("sn-007-888-abc-mac-a1-b2-c3-d4-e5-f6"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDeriveDeviceKeys1000(b *testing.B) {
	ids := make([]string, 1000)
	for i := range ids {
		ids[i] = "gateway-" + strconv.Itoa(i)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := sbprov.DeriveDeviceKeys(key64, ids); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSASTokenAt(b *testing.B) {
	for i := 0; i < b.N; i++ {
		if _, err := sbprov.SASTokenAt("MyExampleHub.azure-devices.net/devices/my-symkey-device", key64, 4102444800, "", 0); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDeriveDeviceKeyError(b *testing.B) {
	for i := 0; i < b.N; i++ {
		if _, err := sbprov.DeriveDeviceKey(key64, "Bad-ID"); err == nil {
			b.Fatal("no error")
		}
	}
}
