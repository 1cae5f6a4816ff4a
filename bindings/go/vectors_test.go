package sbprov_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	sbprov "github.com/sbprov/libsbprov/bindings/go"
)

// publishedVectors mirrors azure-published.json (values from Azure's docs).
type publishedVectors struct {
	Derive []struct {
		GroupKey       string `json:"group_key"`
		RegistrationID string `json:"registration_id"`
		Expect         string `json:"expect"`
	} `json:"derive"`
	SAS []struct {
		ResourceURI string  `json:"resource_uri"`
		Key         string  `json:"key"`
		Expiry      int64   `json:"expiry"`
		Policy      *string `json:"policy"`
		Expect      string  `json:"expect"`
	} `json:"sas"`
	URLEncode []struct {
		In     string `json:"in"`
		Expect string `json:"expect"`
	} `json:"url_encode"`
}

func loadVectors(t *testing.T) publishedVectors {
	t.Helper()
	path := filepath.Join(vectorsDir(), "azure-published.json")
	data, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		t.Skipf("published vectors not found at %s (set SBPROV_VECTORS to the directory holding azure-published.json)", path)
	}
	if err != nil {
		t.Fatal(err)
	}
	var v publishedVectors
	if err := json.Unmarshal(data, &v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	if len(v.Derive) == 0 || len(v.SAS) == 0 || len(v.URLEncode) == 0 {
		t.Fatalf("%s: a section is empty", path)
	}
	return v
}

func TestPublishedDerive(t *testing.T) {
	for _, v := range loadVectors(t).Derive {
		got, err := sbprov.DeriveDeviceKey(v.GroupKey, v.RegistrationID)
		if err != nil || got != v.Expect {
			t.Errorf("DeriveDeviceKey(%q) = %q, %v; want %q", v.RegistrationID, got, err, v.Expect)
		}
		if ref := refDerive(t, v.GroupKey, v.RegistrationID); ref != v.Expect {
			t.Errorf("reference implementation gives %q, vector says %q", ref, v.Expect)
		}

		d, err := sbprov.NewDeriver(v.GroupKey)
		if err != nil {
			t.Fatal(err)
		}
		got, err = d.Derive(v.RegistrationID)
		if err != nil || got != v.Expect {
			t.Errorf("Deriver.Derive(%q) = %q, %v; want %q", v.RegistrationID, got, err, v.Expect)
		}
		d.Close()

		keys, err := sbprov.DeriveDeviceKeys(v.GroupKey, []string{v.RegistrationID, v.RegistrationID})
		if err != nil || len(keys) != 2 || keys[0] != v.Expect || keys[1] != v.Expect {
			t.Errorf("DeriveDeviceKeys = %q, %v; want twice %q", keys, err, v.Expect)
		}
	}
}

func TestPublishedSAS(t *testing.T) {
	for _, v := range loadVectors(t).SAS {
		policy := ""
		if v.Policy != nil {
			policy = *v.Policy
		}
		got, err := sbprov.SASTokenAt(v.ResourceURI, v.Key, v.Expiry, policy, 0)
		if err != nil || got != v.Expect {
			t.Errorf("SASTokenAt(%q, now=0) = %q, %v; want %q", v.ResourceURI, got, err, v.Expect)
		}
		got, err = sbprov.SASTokenAt(v.ResourceURI, v.Key, v.Expiry, policy, v.Expiry-1)
		if err != nil || got != v.Expect {
			t.Errorf("SASTokenAt(%q, now=expiry-1) = %q, %v; want %q", v.ResourceURI, got, err, v.Expect)
		}
		if ref := refSAS(t, v.ResourceURI, v.Key, v.Expiry, policy); ref != v.Expect {
			t.Errorf("reference implementation gives %q, vector says %q", ref, v.Expect)
		}
		// The published expiry is in the past: the clock-checked variant refuses it.
		_, err = sbprov.SASToken(v.ResourceURI, v.Key, v.Expiry, policy)
		wantErr(t, err, sbprov.ErrExpiry, "not after now")
	}
}

func TestPublishedURLEncode(t *testing.T) {
	for _, v := range loadVectors(t).URLEncode {
		got, err := sbprov.URLEncode([]byte(v.In))
		if err != nil || got != v.Expect {
			t.Errorf("URLEncode(%q) = %q, %v; want %q", v.In, got, err, v.Expect)
		}
	}
}
