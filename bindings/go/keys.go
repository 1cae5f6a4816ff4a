package sbprov

import (
	"runtime"
	"strconv"
	"strings"
	"sync"

	"github.com/sbprov/libsbprov/bindings/go/internal/capi"
)

// KeyType is a key algorithm: KeyEd25519, KeyECDSAP256 or KeyRSA. It is a
// string type, so GenerateKeyPair also takes the names directly
// (GenerateKeyPair("rsa", 4096)); "rsa-2048", "rsa-3072" and "rsa-4096"
// name an RSA size as well.
type KeyType string

// Key algorithms.
const (
	KeyEd25519   KeyType = "ed25519"    // Ed25519 (the default of current Mender clients).
	KeyECDSAP256 KeyType = "ecdsa-p256" // ECDSA on NIST P-256.
	KeyRSA       KeyType = "rsa"        // RSA, 2048 to 4096 bits (default 3072).
)

// Values of enum sbprov_key_type.
const (
	cKeyEd25519   = 1
	cKeyECDSAP256 = 2
	cKeyRSA       = 3
)

// RSA key sizes accepted, in bits.
const (
	RSAMinBits     = 2048
	RSAMaxBits     = 4096
	RSADefaultBits = 3072
)

// keyTypeFromC maps sbprov_key_type to KeyType ("" for 0 or unknown).
func keyTypeFromC(t int) KeyType {
	switch t {
	case cKeyEd25519:
		return KeyEd25519
	case cKeyECDSAP256:
		return KeyECDSAP256
	case cKeyRSA:
		return KeyRSA
	}
	return ""
}

// Key is a key pair, or a public key only (a C sbprov_key). Get one from
// GenerateKeyPair, LoadKey or KeyFromPublicPEM. A private key may live in
// hardware (a TPM) and never leave it; signing then runs there.
//
// A Key is safe for concurrent use; its calls are serialised (the C handle
// is used by one thread at a time), so give each goroutine its own Key for
// parallel signing. Call Close when done: it frees the key (and OpenSSL
// cleanses private key material) at once; a finalizer is only a safety net.
// After Close, methods that return an error return ErrInval; Type, Bits and
// HasPrivate keep describing the key.
type Key struct {
	mu         sync.Mutex
	handle     uintptr // C sbprov_key *, 0 once closed
	keyType    KeyType
	bits       int
	hasPrivate bool
}

// newKey wraps a handle the library returned.
func newKey(h uintptr, what string) (*Key, error) {
	if h == 0 {
		return nil, &Error{Code: ErrGeneric, Message: what + " succeeded without a key"}
	}
	k := &Key{
		handle:     h,
		keyType:    keyTypeFromC(capi.Gosbprov_key_type(h)),
		bits:       int(capi.Sbprov_key_bits(h)),
		hasPrivate: capi.Sbprov_key_has_private(h) != 0,
	}
	runtime.SetFinalizer(k, (*Key).Close)
	return k, nil
}

// parseKind turns a KeyType and an RSA size into the C type and size.
func parseKind(kind KeyType, rsaBits int) (int32, uint, error) {
	s := string(kind)
	switch {
	case kind == KeyEd25519 || kind == KeyECDSAP256 || kind == "":
		if rsaBits != 0 {
			return 0, 0, &Error{Code: ErrKey, Message: "rsaBits " + strconv.Itoa(rsaBits) + " given for a " +
				string(kind) + " key; it applies to RSA keys only (pass 0)"}
		}
		if kind == KeyECDSAP256 {
			return cKeyECDSAP256, 0, nil
		}
		return cKeyEd25519, 0, nil
	case kind == KeyRSA:
	case strings.HasPrefix(s, "rsa-"):
		n, err := strconv.Atoi(s[4:])
		if err != nil || n <= 0 || strconv.Itoa(n) != s[4:] {
			return 0, 0, unknownKind(kind)
		}
		if rsaBits != 0 && rsaBits != n {
			return 0, 0, &Error{Code: ErrKey, Message: "key type " + strconv.Quote(s) + " and rsaBits " +
				strconv.Itoa(rsaBits) + " disagree"}
		}
		rsaBits = n
	default:
		return 0, 0, unknownKind(kind)
	}
	if rsaBits < 0 || rsaBits > 1<<20 {
		return 0, 0, &Error{Code: ErrKey, Message: "RSA key size " + strconv.Itoa(rsaBits) + " bits: must be " +
			strconv.Itoa(RSAMinBits) + " to " + strconv.Itoa(RSAMaxBits)}
	}
	// 0 means the default (3072); the library checks the range.
	return cKeyRSA, uint(rsaBits), nil
}

func unknownKind(kind KeyType) error {
	return &Error{Code: ErrKey, Message: "key type " + strconv.Quote(string(kind)) +
		": unknown (expected ed25519, ecdsa-p256, rsa, rsa-2048, rsa-3072 or rsa-4096)"}
}

// GenerateKeyPair generates a new key pair in memory with OpenSSL's default
// provider. (GenerateKey, of the Azure module, makes symmetric keys.)
//
// kind is KeyEd25519 (also ""), KeyECDSAP256 or KeyRSA, or one of
// "rsa-2048", "rsa-3072", "rsa-4096". rsaBits is the RSA modulus size,
// 2048 to 4096, 0 for the default (3072, or the size in kind); it must be
// 0 for other kinds. RSA-4096 takes seconds; it does not block other
// goroutines.
//
// Errors: ErrKey (unknown kind, RSA size out of range, rsaBits for a
// non-RSA kind), ErrCrypto (OpenSSL failed).
func GenerateKeyPair(kind KeyType, rsaBits int) (*Key, error) {
	t, bits, err := parseKind(kind, rsaBits)
	if err != nil {
		return nil, err
	}
	var h uintptr
	if err := callStatus(func() int32 { return capi.Gosbprov_key_generate(&h, int(t), bits) }); err != nil {
		return nil, err
	}
	return newKey(h, "sbprov_key_generate")
}

// LoadOptions are the options of LoadKey; the zero value loads an
// unencrypted key with the default providers.
type LoadOptions struct {
	// Passphrase of an encrypted PEM; nil for none.
	Passphrase []byte
	// Providers are OpenSSL providers to load first, e.g. {"tpm2", "default"}.
	Providers []string
	// OpenSSLConf is an OpenSSL configuration file to load first
	// (providers, PKCS#11 modules); "" for none.
	OpenSSLConf string
	// PropQuery is the property query for fetching operations; "" uses the
	// key's own provider.
	PropQuery string
}

// LoadKey loads a private key from a file path or an OpenSSL 3 store URI
// ("file:...", "handle:0x81000001" with the tpm2 provider, "pkcs11:...").
// Signing later runs in the provider that holds the key, so a key in a TPM
// never leaves it.
//
// Errors: ErrNotFound (no such file, or it holds no private key),
// ErrPassphrase (encrypted, and the passphrase is missing or wrong),
// ErrProvider (a provider or the configuration could not be loaded, or the
// URI scheme is unknown), ErrKey (not Ed25519, ECDSA P-256 or RSA
// 2048..4096), ErrIO (the file could not be read), ErrInval (NUL bytes, a
// provider name holding ',').
func LoadKey(uri string, opts LoadOptions) (*Key, error) {
	if err := checkStrings("key URI", uri, "OpenSSLConf", opts.OpenSSLConf, "PropQuery", opts.PropQuery); err != nil {
		return nil, err
	}
	for i, p := range opts.Providers {
		name := "Providers[" + strconv.Itoa(i) + "]"
		if err := checkString(name, p); err != nil {
			return nil, err
		}
		if strings.IndexByte(p, ',') >= 0 {
			return nil, invalid(name + ": " + strconv.Quote(p) + " holds ','")
		}
	}
	providers := strings.Join(opts.Providers, ",")
	has := 0
	if opts.Passphrase != nil {
		has = 1
	}
	var h uintptr
	err := callStatus(func() int32 {
		return capi.Gosbprov_key_load(&h, uri, opts.Passphrase, has, providers, opts.OpenSSLConf, opts.PropQuery)
	})
	if err != nil {
		return nil, err
	}
	return newKey(h, "sbprov_key_load")
}

// KeyFromPublicPEM makes a public-only key, for verifying signatures, from
// a PEM public key: SPKI ("BEGIN PUBLIC KEY") or PKCS#1 RSA ("BEGIN RSA
// PUBLIC KEY"). Anything else, or a key of an unsupported type, is ErrKey.
func KeyFromPublicPEM(pem string) (*Key, error) {
	var h uintptr
	if err := callStatus(func() int32 { return capi.Sbprov_key_from_public_pem(&h, pem) }); err != nil {
		return nil, err
	}
	return newKey(h, "sbprov_key_from_public_pem")
}

// Type returns the key's algorithm ("" for a nil Key).
func (k *Key) Type() KeyType {
	if k == nil {
		return ""
	}
	return k.keyType
}

// Bits returns the key size: 255 for Ed25519, 256 for P-256, the modulus
// size for RSA (0 for a nil Key).
func (k *Key) Bits() int {
	if k == nil {
		return 0
	}
	return k.bits
}

// HasPrivate reports whether the key can sign: it has a private part, in
// memory or in a provider.
func (k *Key) HasPrivate() bool {
	return k != nil && k.hasPrivate
}

// String describes the key ("ed25519 key (255 bits, private)"); it never
// contains key material.
func (k *Key) String() string {
	if k == nil {
		return "<nil>"
	}
	part := "public"
	if k.hasPrivate {
		part = "private"
	}
	return string(k.keyType) + " key (" + strconv.Itoa(k.bits) + " bits, " + part + ")"
}

// use runs call with the live handle, holding the Key's lock.
func (k *Key) use(call func(h uintptr) error) error {
	if k == nil {
		return invalid("Key: nil")
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.handle == 0 {
		return invalid("Key: used after Close")
	}
	err := call(k.handle)
	// k must stay reachable until the C call is over, or its finalizer
	// could free the handle during the call.
	runtime.KeepAlive(k)
	return err
}

// text runs a text-producing call with the live handle.
func (k *Key) text(size int, call func(h uintptr, buf []byte, n *int64) int32) (string, error) {
	var s string
	err := k.use(func(h uintptr) error {
		var err error
		s, err = callText(size, func(buf []byte, n *int64) int32 { return call(h, buf, n) })
		return err
	})
	return s, err
}

// PublicPEM returns the public key as SPKI PEM ("-----BEGIN PUBLIC
// KEY-----", 64-character lines, final newline), as Mender expects; RSA keys
// are never given as PKCS#1.
func (k *Key) PublicPEM() (string, error) {
	return k.text(1024, func(h uintptr, buf []byte, n *int64) int32 { return capi.Sbprov_key_public_pem(buf, n, h) })
}

// Fingerprint returns the SHA-256 of the DER SubjectPublicKeyInfo as 64
// lower-case hex digits.
func (k *Key) Fingerprint() (string, error) {
	return k.text(65, func(h uintptr, buf []byte, n *int64) int32 { return capi.Sbprov_key_fingerprint(buf, n, h) })
}

// Sign signs data exactly as the Mender server verifies: RSA PKCS#1 v1.5
// over SHA-256, ECDSA over SHA-256 with an ASN.1 DER signature, pure
// Ed25519 over the raw message. It returns standard padded Base64.
//
// Errors: ErrKey (no private part), ErrProvider (the provider holding the
// key failed to sign), ErrCrypto.
func (k *Key) Sign(data []byte) (string, error) {
	return k.text(1024, func(h uintptr, buf []byte, n *int64) int32 { return capi.Sbprov_key_sign(buf, n, h, data) })
}

// Verify checks a Base64 signature of data made as Sign makes it: nil if it
// is valid, ErrSignature if it does not verify, ErrBase64 if signature is
// not strict padded Base64.
func (k *Key) Verify(data []byte, signature string) error {
	return k.use(func(h uintptr) error {
		return callStatus(func() int32 { return capi.Sbprov_key_verify(h, data, signature) })
	})
}

// CSR returns a PKCS#10 certificate signing request for the key, PEM
// encoded and signed with it: subject CN=cn (1 to 64 characters), and a
// subjectAltName extension with sans in OpenSSL's syntax ("DNS:gw1.example",
// "IP:10.0.0.7", "URI:urn:x", "email:a@b") when sans is not empty.
//
// Errors: ErrID (a malformed common name or SAN, a SAN holding ','), ErrKey
// (no private part), ErrInval (NUL bytes).
func (k *Key) CSR(cn string, sans []string) (string, error) {
	if err := checkString("common name", cn); err != nil {
		return "", err
	}
	for i, san := range sans {
		name := "sans[" + strconv.Itoa(i) + "]"
		if err := checkString(name, san); err != nil {
			return "", err
		}
		if strings.IndexByte(san, ',') >= 0 {
			return "", &Error{Code: ErrID, Message: name + ": " + strconv.Quote(san) + " holds ','"}
		}
	}
	joined := strings.Join(sans, ",")
	return k.text(2048, func(h uintptr, buf []byte, n *int64) int32 {
		return capi.Sbprov_key_csr(buf, n, h, cn, joined)
	})
}

// Save writes the private key to path as PKCS#8 PEM, with mode 0600,
// atomically (a temporary file in the same directory, fsynced and renamed
// over the target): no other user can read it at any moment, and a crash
// leaves the old file or the new one. With a non-nil passphrase (1 to 1023
// bytes, no NUL) the file is encrypted (AES-256-CBC, PBKDF2); nil writes it
// unencrypted (an empty non-nil passphrase is ErrInval, never "no
// encryption").
//
// Errors: ErrExists (path exists and overwrite is false), ErrKey (no
// private part that can leave its provider), ErrIO (creating, writing,
// syncing or renaming failed), ErrInval.
func (k *Key) Save(path string, passphrase []byte, overwrite bool) error {
	if err := checkString("key path", path); err != nil {
		return err
	}
	has, ow := 0, 0
	if passphrase != nil {
		has = 1
	}
	if overwrite {
		ow = 1
	}
	return k.use(func(h uintptr) error {
		return callStatus(func() int32 { return capi.Gosbprov_key_save(h, path, passphrase, has, ow) })
	})
}

// Close frees the C key. It is idempotent and always returns nil.
func (k *Key) Close() error {
	if k == nil {
		return nil
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.handle != 0 {
		capi.Sbprov_key_free(k.handle)
		k.handle = 0
		runtime.SetFinalizer(k, nil)
	}
	return nil
}
