package sbprov

import (
	"runtime"
	"strconv"
	"strings"
	"sync"

	"github.com/sbprov/libsbprov/bindings/go/internal/capi"
)

// Limits of the credential store (sbprov/store.h).
const (
	StoreNameMax  = 128         // Longest entry name, in characters.
	StoreValueMax = 1024 * 1024 // Largest entry value, in bytes (1 MiB).
	StoreKeySize  = 32          // Size of a store key file, in bytes.
)

// EnvFormat is an env-file dialect of Store.ExportEnv and Store.ImportEnv.
type EnvFormat string

// Env-file formats.
const (
	// EnvDocker is docker/podman --env-file: NAME=value, no quoting; values
	// must be valid UTF-8 without NUL, CR or LF.
	EnvDocker EnvFormat = "docker"
	// EnvSystemd is systemd EnvironmentFile=: NAME="value" with \ " $ `
	// escaped; values must be valid UTF-8 without control characters other
	// than tab and LF.
	EnvSystemd EnvFormat = "systemd"
)

// Values of enum sbprov_env_format.
const (
	envDocker  = 1
	envSystemd = 2
)

func (f EnvFormat) c() (int32, error) {
	switch f {
	case EnvDocker, "":
		return envDocker, nil
	case EnvSystemd:
		return envSystemd, nil
	}
	return 0, invalid("env format " + strconv.Quote(string(f)) + ": unknown (expected docker or systemd)")
}

// StoreOptions are the options of OpenStore. Exactly one of KeyFile,
// Passphrase (non-nil), SealingKey and Plaintext must be given.
type StoreOptions struct {
	KeyFile    string // Path of a key file made by CreateStoreKeyFile.
	Passphrase []byte // Passphrase to derive the key from (scrypt); nil for none.
	Plaintext  bool   // The store keeps values unencrypted (must be asked for explicitly).
	Create     bool   // Create the directory and the store if they do not exist.
	// ScryptLog2N is the scrypt cost log2(N) when creating a passphrase
	// store, 10..22; 0 means 15.
	ScryptLog2N uint32
	// SealingKey is a private EC P-256 or RSA key, e.g. one held in a TPM
	// (LoadKey("handle:0x81000003", LoadOptions{Providers: []string{"tpm2",
	// "default"}}); the TPM key needs the decrypt attribute). A new store
	// gets a random key sealed to it (ECDH or RSA-OAEP), and only this key
	// can open the store again. Used during OpenStore only: the Key may be
	// closed afterwards. nil for none.
	SealingKey *Key
}

// Store is an open credential store (a C sbprov_store): a directory of
// named entries whose values are sealed with AES-256-GCM (unless the store
// was created in plaintext mode), written atomically and durably.
//
// A Store is safe for concurrent use (the library serialises calls on one
// handle; other processes are kept out by a file lock). Call Close when
// done: it wipes the key from memory; a finalizer is only a safety net.
// After Close, methods return ErrInval.
//
// A Store given to NewMenderDevice as its TokenStore stays open inside the
// library until that MenderDevice is closed: Close then makes the Store
// unusable at once (ErrInval), but the C store (and the key it holds in
// memory) is released when the last such MenderDevice is closed.
type Store struct {
	mu     sync.RWMutex // read-held by calls, write-held by Close, retain and release
	handle uintptr      // C sbprov_store *, 0 once freed
	closed bool         // Close was called (the handle may live on for users)
	users  int          // MenderDevices holding the handle (retain/release)
}

// OpenStore opens (with opts.Create, creates) the store in directory dir.
// Opening a passphrase store runs scrypt (a noticeable fraction of a
// second); it does not block other goroutines.
//
// Errors: ErrNotFound (no store and not Create), ErrPassphrase (wrong or
// missing passphrase), ErrKey (wrong or malformed key file; a SealingKey
// other than the store's, the message naming both fingerprints, Ed25519 or
// without a private part; a mode or key source other than the store's),
// ErrProvider (the SealingKey's provider cannot do ECDH or RSA-OAEP with
// it), ErrUnsafe (dir, the key file or a store file is a symlink, not owned
// by the caller, or writable by others; a key file readable by others),
// ErrTampered (corrupt metadata or sealed key), ErrFormat (newer format),
// ErrInval (not exactly one key source, a closed SealingKey), ErrIO.
func OpenStore(dir string, opts StoreOptions) (*Store, error) {
	if err := checkStrings("store directory", dir, "key file", opts.KeyFile); err != nil {
		return nil, err
	}
	hasPassphrase := 0
	if opts.Passphrase != nil {
		hasPassphrase = 1
	}
	var h uintptr
	open := func(sealingKey uintptr) error {
		return callStatus(func() int32 {
			return capi.Gosbprov_store_open(&h, dir, opts.KeyFile, opts.Passphrase, hasPassphrase, sealingKey,
				boolInt(opts.Plaintext), boolInt(opts.Create), uint(opts.ScryptLog2N))
		})
	}
	var err error
	if opts.SealingKey != nil {
		// Under the Key's lock: its C handle is used by one thread at a time
		// and cannot be closed during the call.
		err = opts.SealingKey.use(open)
	} else {
		err = open(0)
	}
	// The Key (and its finalizer) must not go away before the C call is over.
	runtime.KeepAlive(opts.SealingKey)
	if err != nil {
		return nil, err
	}
	if h == 0 {
		return nil, &Error{Code: ErrGeneric, Message: "sbprov_store_open succeeded without a store"}
	}
	s := &Store{handle: h}
	runtime.SetFinalizer(s, (*Store).Close)
	return s, nil
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// CreateStoreKeyFile creates a new store key file: StoreKeySize random
// bytes, mode 0600, written atomically. An existing file is never replaced.
//
// Errors: ErrExists (path exists), ErrIO, ErrRandom, ErrInval (empty path).
func CreateStoreKeyFile(path string) error {
	if err := checkString("path", path); err != nil {
		return err
	}
	return callStatus(func() int32 { return capi.Sbprov_store_create_key_file(path) })
}

// Close closes the store and wipes its key from memory. It waits for calls
// in progress on other goroutines. If an open MenderDevice uses the store
// as its TokenStore, the store is unusable from here on but is released
// only when the last such MenderDevice is closed. Idempotent; always
// returns nil.
func (s *Store) Close() error {
	if s == nil {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	s.freeLocked()
	return nil
}

// freeLocked releases the C store once it is closed and unused. The caller
// holds s.mu for writing.
func (s *Store) freeLocked() {
	if s.closed && s.users == 0 && s.handle != 0 {
		capi.Sbprov_store_free(s.handle)
		s.handle = 0
		runtime.SetFinalizer(s, nil)
	}
}

// retain returns the live handle and keeps it from being freed until the
// matching release, even if Close is called in between (a MenderDevice's
// token store: the C client keeps the pointer).
func (s *Store) retain() (uintptr, error) {
	if s == nil {
		return 0, invalid("store: nil")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed || s.handle == 0 {
		return 0, invalid("store: used after Close")
	}
	s.users++
	return s.handle, nil
}

// release undoes one retain, freeing the store if it was closed meanwhile.
func (s *Store) release() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.users > 0 {
		s.users--
	}
	s.freeLocked()
}

// use runs call with the live handle, read-locked against Close.
func (s *Store) use(call func(h uintptr) error) error {
	if s == nil {
		return invalid("store: nil")
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed || s.handle == 0 {
		return invalid("store: used after Close")
	}
	return call(s.handle)
}

// Put stores value under name, replacing an existing value atomically and
// durably.
//
// Errors: ErrID (bad name), ErrInval (value over StoreValueMax), ErrUnsafe
// (the entry is a symlink), ErrIO (the previous value is intact).
func (s *Store) Put(name string, value []byte) error {
	if err := checkString("name", name); err != nil {
		return err
	}
	if len(value) > StoreValueMax {
		return invalid("value: " + strconv.Itoa(len(value)) + " bytes, more than the limit of " + strconv.Itoa(StoreValueMax))
	}
	return s.use(func(h uintptr) error {
		return callStatus(func() int32 { return capi.Sbprov_store_put(h, name, value) })
	})
}

// Get returns the value of name.
//
// Errors: ErrNotFound (no such entry), ErrTampered (the entry failed
// authentication), ErrFormat, ErrUnsafe, ErrID, ErrIO.
func (s *Store) Get(name string) ([]byte, error) {
	if err := checkString("name", name); err != nil {
		return nil, err
	}
	var out []byte
	err := s.use(func(h uintptr) error {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		buf := make([]byte, 4096)
		for attempt := 0; ; attempt++ {
			var n int64
			rc := capi.Gosbprov_store_get(buf, &n, h, name)
			if rc == 0 {
				if n < 0 || n > int64(len(buf)) {
					wipe(buf)
					return &Error{Code: ErrGeneric, Message: "library reported a value length of " + strconv.FormatInt(n, 10) +
						" for a buffer of " + strconv.Itoa(len(buf)) + " bytes"}
				}
				out = make([]byte, n)
				copy(out, buf[:n])
				wipe(buf)
				return nil
			}
			wipe(buf)
			if Code(rc) == ErrBufs && attempt < 2 && n > int64(len(buf)) && n <= StoreValueMax {
				// The value changed size between calls at most once more.
				buf = make([]byte, n)
				continue
			}
			return lastError(rc)
		}
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// Delete removes name durably.
//
// Errors: ErrNotFound (no such entry), ErrID, ErrIO.
func (s *Store) Delete(name string) error {
	if err := checkString("name", name); err != nil {
		return err
	}
	return s.use(func(h uintptr) error {
		return callStatus(func() int32 { return capi.Sbprov_store_delete(h, name) })
	})
}

// Exists reports whether name exists (its value is not read). A missing
// entry is (false, nil).
//
// Errors: ErrID (bad name), ErrUnsafe (the entry is a symlink), ErrIO.
func (s *Store) Exists(name string) (bool, error) {
	if err := checkString("name", name); err != nil {
		return false, err
	}
	err := s.use(func(h uintptr) error {
		return callStatus(func() int32 { return capi.Sbprov_store_exists(h, name) })
	})
	if err == nil {
		return true, nil
	}
	if e, ok := err.(*Error); ok && e.Code == ErrNotFound {
		return false, nil
	}
	return false, err
}

// List returns the entry names in byte order (an empty store gives an
// empty, non-nil slice).
//
// Errors: ErrIO.
func (s *Store) List() ([]string, error) {
	var text string
	err := s.use(func(h uintptr) error {
		var err error
		text, err = callText(1024, func(buf []byte, outLen *int64) int32 {
			return capi.Sbprov_store_list_names(buf, outLen, h)
		})
		return err
	})
	if err != nil {
		return nil, err
	}
	names := strings.Split(text, "\n")
	return names[:len(names)-1], nil
}

// Swap exchanges the values of entries a and b atomically (e.g. a primary
// and a secondary key at rotation): a crash leaves both old values or both
// new ones.
//
// Errors: ErrNotFound (an entry does not exist), ErrTampered (nothing is
// changed), ErrInval (a equals b), ErrID, ErrIO.
func (s *Store) Swap(a, b string) error {
	if err := checkStrings("a", a, "b", b); err != nil {
		return err
	}
	return s.use(func(h uintptr) error {
		return callStatus(func() int32 { return capi.Sbprov_store_swap(h, a, b) })
	})
}

// ExportEnv writes the entries names (in that order; nil for every entry)
// as an env file at path (mode 0600, atomically; an existing file is
// replaced). The variable name is the entry name, which must match
// [A-Za-z_][A-Za-z0-9_]*.
//
// Errors: ErrParse (a value format cannot carry; no file is written), ErrID
// (not a valid entry or variable name), ErrNotFound, ErrTampered, ErrIO,
// ErrInval (unknown format, an empty non-nil names).
func (s *Store) ExportEnv(names []string, path string, format EnvFormat) error {
	f, err := format.c()
	if err != nil {
		return err
	}
	if err := checkString("path", path); err != nil {
		return err
	}
	joined := ""
	if names != nil {
		if len(names) == 0 {
			return invalid("names: empty (pass nil to export every entry)")
		}
		for i, n := range names {
			if n == "" || strings.ContainsAny(n, ",\x00") {
				return &Error{Code: ErrID, Message: "names[" + strconv.Itoa(i) + "]: " + strconv.Quote(n) +
					" is not a valid entry name"}
			}
		}
		joined = strings.Join(names, ",")
	}
	return s.use(func(h uintptr) error {
		return callStatus(func() int32 { return capi.Sbprov_store_export_env(h, joined, path, f) })
	})
}

// ImportEnv reads an env file of format at path and stores each
// NAME=value (the file is parsed completely before anything is written).
// Blank and comment lines are skipped.
//
// Errors: ErrParse (a malformed line; the message names it), ErrID (a
// variable name that is not a valid entry name), ErrIO, ErrInval.
func (s *Store) ImportEnv(path string, format EnvFormat) error {
	f, err := format.c()
	if err != nil {
		return err
	}
	if err := checkString("path", path); err != nil {
		return err
	}
	return s.use(func(h uintptr) error {
		return callStatus(func() int32 { return capi.Sbprov_store_import_env(h, path, f) })
	})
}
