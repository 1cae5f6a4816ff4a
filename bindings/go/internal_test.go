package sbprov

import (
	"errors"
	"fmt"
	"testing"

	"github.com/sbprov/libsbprov/bindings/go/internal/capi"
)

// The hand-written Go constants and tables against the C headers and library.

func TestCodesMatchHeader(t *testing.T) {
	pairs := map[Code]capi.Enum_SS_sbprov_result_code{
		OK: capi.SBPROV_OK, ErrGeneric: capi.SBPROV_ERROR, ErrInval: capi.SBPROV_EINVAL,
		ErrNoMem: capi.SBPROV_ENOMEM, ErrBufs: capi.SBPROV_EBUFS, ErrBase64: capi.SBPROV_EBASE64,
		ErrKeySize: capi.SBPROV_EKEYSIZE, ErrID: capi.SBPROV_EID, ErrExpiry: capi.SBPROV_EEXPIRY,
		ErrConnStr: capi.SBPROV_ECONNSTR, ErrCrypto: capi.SBPROV_ECRYPTO, ErrInit: capi.SBPROV_EINIT,
		ErrNotFound: capi.SBPROV_ENOTFOUND, ErrRandom: capi.SBPROV_ERANDOM,
		ErrKey: capi.SBPROV_EKEY, ErrSignature: capi.SBPROV_ESIGNATURE, ErrIO: capi.SBPROV_EIO,
		ErrProvider: capi.SBPROV_EPROVIDER, ErrPassphrase: capi.SBPROV_EPASSPHRASE,
		ErrScript: capi.SBPROV_ESCRIPT, ErrTimeout: capi.SBPROV_ETIMEOUT, ErrParse: capi.SBPROV_EPARSE,
		ErrExists: capi.SBPROV_EEXISTS, ErrTampered: capi.SBPROV_ETAMPERED, ErrFormat: capi.SBPROV_EFORMAT,
		ErrUnsafe:    capi.SBPROV_EUNSAFE,
		ErrNetwork:   capi.SBPROV_ENETWORK,
		ErrTLS:       capi.SBPROV_ETLS,
		ErrCert:      capi.SBPROV_ECERT,
		ErrHTTP:      capi.SBPROV_EHTTP,
		ErrServer:    capi.SBPROV_ESERVER,
		ErrResponse:  capi.SBPROV_ERESPONSE,
		ErrAuth:      capi.SBPROV_EAUTH,
		ErrRateLimit: capi.SBPROV_ERATELIMIT,
		ErrCanceled:  capi.SBPROV_ECANCELED,
		ErrClock:     capi.SBPROV_ECLOCK, ErrConflict: capi.SBPROV_ECONFLICT,
	}
	if len(pairs) != len(codeInfo) {
		t.Fatalf("%d codes checked, %d known", len(pairs), len(codeInfo))
	}
	for goCode, cCode := range pairs {
		if int(goCode) != int(cCode) {
			t.Errorf("%v = %d, C says %d", goCode, int(goCode), int(cCode))
		}
	}
}

func TestDescriptionsMatchStrerror(t *testing.T) {
	for c := Code(1); c >= -40; c-- {
		want, _ := copyOut(64, func(buf []byte) int64 { return capi.Gosbprov_strerror(buf, int32(c)) })
		if c.Error() != want {
			t.Errorf("Code(%d).Error() = %q, sbprov_strerror says %q", int(c), c.Error(), want)
		}
	}
}

func TestFieldNamesMatchLibrary(t *testing.T) {
	for f := int32(0); f <= csFieldCount; f++ {
		name, ok := copyOut(8, func(buf []byte) int64 { return capi.Gosbprov_cs_field_name(buf, f) })
		if f == csFieldCount {
			if ok {
				t.Errorf("library has a field %d (%q) this binding does not know", f, name)
			}
			continue
		}
		if !ok || name != csFieldNames[f] {
			t.Errorf("field %d: library %q (%v), binding %q", f, name, ok, csFieldNames[f])
		}
	}
	if int(capi.SBPROV_AZURE_CS_HOST_NAME) != csHostName || int(capi.SBPROV_AZURE_CS_X509) != csX509 ||
		int(capi.SBPROV_AZURE_CS_SHARED_ACCESS_KEY) != csSharedAccessKey {
		t.Error("field numbers differ from the header")
	}
}

func TestLimitsMatchHeader(t *testing.T) {
	if KeyMinBytes != capi.SBPROV_AZURE_KEY_MIN_BYTES || KeyMaxBytes != capi.SBPROV_AZURE_KEY_MAX_BYTES ||
		KeyDefaultBytes != capi.SBPROV_AZURE_KEY_DEFAULT_BYTES || IDMaxLen != capi.SBPROV_AZURE_ID_MAX_LEN ||
		ResourceURIMaxLen != capi.SBPROV_AZURE_RESOURCE_URI_MAX_LEN || SASExpiryMin != capi.SBPROV_AZURE_SAS_EXPIRY_MIN ||
		derivedKeySize != capi.SBPROV_AZURE_DERIVED_KEY_SIZE {
		t.Error("a limit differs from sbprov/azure.h")
	}
	for n := 16; n <= 64; n++ {
		if keyB64Size(n) != (n+2)/3*4+1 {
			t.Fatal("keyB64Size")
		}
	}
}

func TestVersionMatchesNumber(t *testing.T) {
	v := Version()
	n := capi.Sbprov_version_number()
	want := fmt.Sprintf("%d.%d.%d", n>>16&0xff, n>>8&0xff, n&0xff)
	if v == "" || v != want {
		t.Fatalf("Version() = %q, sbprov_version_number() = %#x", v, n)
	}
}

// callText grows its buffer when the library asks for more (SBPROV_EBUFS).
func TestCallTextGrowsBuffer(t *testing.T) {
	calls := 0
	got, err := callText(1, func(buf []byte, n *int64) int32 {
		calls++
		return capi.Sbprov_azure_derive_device_key(buf, n,
			"8isrFI1sGsIlvvFSSFRiMfCNzv21fjbE/+ah/lSh3lF8e2YG1Te7w1KpZhJFFXJrqYKi9yegxkqIChbqOS9Egw==",
			"sn-007-888-abc-mac-a1-b2-c3-d4-e5-f6")
	})
	if err != nil || got != "Jsm0lyGpjaVYVP2g3FnmnmG9dI/9qU24wNoykUmermc=" || calls != 2 {
		t.Fatalf("callText(1) = %q, %v after %d calls", got, err, calls)
	}
	// A library that keeps asking for more gets a clean ErrBufs, not a loop.
	calls = 0
	_, err = callText(8, func(buf []byte, n *int64) int32 {
		calls++
		*n = int64(len(buf)) * 2
		return int32(ErrBufs)
	})
	if !errors.Is(err, ErrBufs) || calls != 2 {
		t.Fatalf("endless EBUFS: %v after %d calls", err, calls)
	}
}

// The raw layer reports EBUFS and the size needed exactly as the C
// convention says, which callText relies on.
func TestRawBufferConvention(t *testing.T) {
	buf := make([]byte, 44) // one short of 44 characters + NUL
	var n int64
	rc := capi.Sbprov_azure_generate_key(buf, &n, 32)
	if Code(rc) != ErrBufs || n != 45 {
		t.Fatalf("generate_key into 44 bytes: rc %d, out_len %d; want EBUFS, 45", rc, n)
	}
	buf = make([]byte, 3)
	rc = capi.Sbprov_azure_url_encode(buf, &n, []byte("a/b"))
	if Code(rc) != ErrBufs || n != 6 {
		t.Fatalf("url_encode into 3 bytes: rc %d, out_len %d; want EBUFS, 6", rc, n)
	}
}

func TestStoreConstantsMatchHeader(t *testing.T) {
	if envDocker != 1 || envSystemd != 2 || StoreNameMax != capi.SBPROV_STORE_NAME_MAX ||
		StoreValueMax != int(capi.SBPROV_STORE_VALUE_MAX) || StoreKeySize != capi.SBPROV_STORE_KEY_SIZE {
		t.Error("store constants differ from the header")
	}
}
