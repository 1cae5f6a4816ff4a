package sbprov_test

import (
	"errors"
	"fmt"
	"testing"

	sbprov "github.com/sbprov/libsbprov/bindings/go"
)

const (
	s1Key   = "18RQk/hOPJR9EbsJlk2j8WA6vWaj/yi+oaYg7zmxfQNdOyMSu+SJ8O7TSlZhDJCYmn4rzEiVKIzNiVAWjLxrGA=="
	s1URI   = "MyExampleHub.azure-devices.net/devices/my-symkey-device"
	s1Token = "SharedAccessSignature sr=MyExampleHub.azure-devices.net%2Fdevices%2Fmy-symkey-device" +
		"&sig=f%2BwW8XOKeJOtiPc9Iwjc4OpExvPM7NlhM9qxN2a1aAM%3D&se=1663119026"
)

func TestSASSignerMatchesOneShot(t *testing.T) {
	s, err := sbprov.NewSASSigner(s1Key)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if got, err := s.TokenAt(s1URI, 1663119026, "", 0); err != nil || got != s1Token {
		t.Fatalf("TokenAt = %q, %v; want the published token", got, err)
	}
	for i := 0; i < 50; i++ {
		uri := fmt.Sprintf("hub.azure-devices.net/devices/gw-%d", i)
		policy := ""
		if i%2 == 1 {
			policy = "iothubowner"
		}
		want, err := sbprov.SASTokenAt(uri, s1Key, 1800000000+int64(i), policy, 0)
		if err != nil {
			t.Fatal(err)
		}
		if got, err := s.TokenAt(uri, 1800000000+int64(i), policy, 0); err != nil || got != want {
			t.Fatalf("input %d: %q, %v; want %q", i, got, err, want)
		}
	}
}

func TestSASSignerErrorsAndClose(t *testing.T) {
	s, err := sbprov.NewSASSigner(s1Key)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Token(s1URI, 1663119026, ""); !errors.Is(err, sbprov.ErrExpiry) {
		t.Fatalf("expired token: %v, want ErrExpiry", err)
	}
	if _, err := s.TokenAt("https://h/devices/d", 1800000000, "", 0); !errors.Is(err, sbprov.ErrID) {
		t.Fatalf("scheme: %v, want ErrID", err)
	}
	if _, err := s.TokenAt(s1URI, 1663119026, "", 0); err != nil {
		t.Fatalf("signer unusable after errors: %v", err)
	}
	s.Close()
	s.Close()
	if _, err := s.TokenAt(s1URI, 1663119026, "", 0); !errors.Is(err, sbprov.ErrInval) {
		t.Fatalf("after Close: %v, want ErrInval", err)
	}
	var nilSigner *sbprov.SASSigner
	if _, err := nilSigner.TokenAt(s1URI, 1663119026, "", 0); !errors.Is(err, sbprov.ErrInval) {
		t.Fatalf("nil signer: %v, want ErrInval", err)
	}
	if _, err := sbprov.NewSASSigner("AAAA"); !errors.Is(err, sbprov.ErrKeySize) {
		t.Fatalf("short key: %v, want ErrKeySize", err)
	}
	if _, err := sbprov.NewSASSigner("A\x00AA"); !errors.Is(err, sbprov.ErrInval) {
		t.Fatalf("NUL in key: %v, want ErrInval", err)
	}
}
