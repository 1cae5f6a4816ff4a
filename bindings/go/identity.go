package sbprov

import (
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/sbprov/libsbprov/bindings/go/internal/capi"
)

// Identity is a device identity as Mender understands it: an ordered set of
// attributes, each a name with one or more string values (a C
// sbprov_identity). Build one from the system (IdentityFromSystem), from a
// Mender identity script (IdentityFromScript), from key=value text
// (ParseIdentity) or from code (NewIdentity and Add). It gives the canonical
// JSON the Mender server stores (CanonicalJSON), its SHA-256 (Digest, the
// server's id_data_sha256) and registration IDs made from a template
// (RegistrationID).
//
// Names are 1 to 1024 bytes without '=', NUL, CR or LF; values up to 4096
// bytes without NUL, CR or LF; at most 256 attributes of 256 values each.
// Bytes that are not UTF-8 are kept as given (they become U+FFFD only in the
// canonical JSON).
//
// An Identity is safe for concurrent use; its calls are serialised. Call
// Close when done (a finalizer frees a forgotten one eventually). After
// Close, methods return ErrInval errors, and Names, Values, Get and Len
// report an empty identity.
type Identity struct {
	mu     sync.Mutex
	handle uintptr // C sbprov_identity *, 0 once closed
}

// IdentitySource selects the attributes IdentityFromSystem gathers (a bit
// set; the values are those of enum sbprov_identity_source).
type IdentitySource uint32

// Identity sources, in the order their attributes are always added.
const (
	SourceMAC       IdentitySource = 1 << 0 // "mac": MAC of the chosen network interface, aa:bb:cc:dd:ee:ff.
	SourceMachineID IdentitySource = 1 << 1 // "machine_id": /etc/machine-id.
	SourceDMISerial IdentitySource = 1 << 2 // "serial": DMI product serial, where readable.
	SourceDMIUUID   IdentitySource = 1 << 3 // "product_uuid": DMI product UUID, where readable.
	SourceHostname  IdentitySource = 1 << 4 // "hostname": the host name.
)

// IdentityDigestLen is the length of Identity.Digest: 64 hex digits.
const IdentityDigestLen = 64

// ProbeOptions are the options of IdentityFromSystem. The zero value asks
// for the MAC with the library's defaults.
type ProbeOptions struct {
	// Sources to gather; 0 means SourceMAC.
	Sources IdentitySource
	// SkipLocalMAC skips locally administered MACs (randomized Wi-Fi MACs,
	// veth, bridges, macvlan).
	SkipLocalMAC bool
	// PhysicalGlobs are interface-name globs (fnmatch) always treated as
	// physical Ethernet, e.g. {"eth0", "enp*"}; nil or empty for none.
	PhysicalGlobs []string
	// VirtualGlobs replace the library's list of virtual interface names
	// (lo, dummy*, veth*, br*, docker*, ...). nil keeps the default list; a
	// non-nil empty slice empties it (as exec.Cmd.Env distinguishes nil).
	VirtualGlobs []string
	// SysfsRoot is the root of sysfs; "" means /sys (tests use fake trees).
	SysfsRoot string
	// EtcRoot is the root for etc/machine-id; "" means /.
	EtcRoot string
}

// ScriptOptions are the options of IdentityFromScript; the zero value gives
// the library's defaults.
type ScriptOptions struct {
	// Timeout kills the script after this long; 0 means 10 s. It is
	// rounded up to whole milliseconds; at most 2^32-1 ms.
	Timeout time.Duration
	// MaxOutput is the most output accepted, in bytes; 0 means 64 KiB; at
	// most 2^32-1.
	MaxOutput int
}

// newIdentity wraps a handle the library returned.
func newIdentity(h uintptr, what string) (*Identity, error) {
	if h == 0 {
		return nil, &Error{Code: ErrGeneric, Message: what + " succeeded without an identity"}
	}
	id := &Identity{handle: h}
	runtime.SetFinalizer(id, (*Identity).Close)
	return id, nil
}

// NewIdentity returns an empty identity.
func NewIdentity() (*Identity, error) {
	var h uintptr
	if err := callStatus(func() int32 { return capi.Sbprov_identity_new(&h) }); err != nil {
		return nil, err
	}
	return newIdentity(h, "sbprov_identity_new")
}

// ParseIdentity parses key=value lines as a Mender identity script prints
// them: each line is split at its first '=', a repeated key accumulates
// values in order, empty lines are skipped and a CR before the LF is
// removed. A malformed line (no '=', empty name, CR inside, NUL byte) or a
// name or value beyond the limits is ErrParse, with the line number in the
// message. Empty text gives an empty identity.
func ParseIdentity(text string) (*Identity, error) {
	var h uintptr
	if err := callStatus(func() int32 { return capi.Sbprov_identity_parse(&h, text) }); err != nil {
		return nil, err
	}
	return newIdentity(h, "sbprov_identity_parse")
}

// IdentityFromScript runs a Mender identity script and parses its standard
// output as ParseIdentity does. The script is executed directly (no shell:
// it needs its #! line and the execute bit) with an environment of only
// PATH, stdin from /dev/null and stderr discarded. It must exit 0 within
// the timeout and print at most MaxOutput bytes and at least one attribute.
//
// Errors: ErrScript (could not be run, exited non-zero, killed by a signal,
// printed too much or nothing), ErrTimeout (ran too long; it is killed),
// ErrParse (output not key=value lines), ErrInval (options out of range,
// NUL in the path).
func IdentityFromScript(path string, opts ScriptOptions) (*Identity, error) {
	if err := checkString("script path", path); err != nil {
		return nil, err
	}
	if opts.Timeout < 0 {
		return nil, invalid("script timeout: " + opts.Timeout.String() + " is negative")
	}
	ms := (opts.Timeout + time.Millisecond - 1) / time.Millisecond
	if ms > 1<<32-1 {
		return nil, invalid("script timeout: " + opts.Timeout.String() + " is longer than 2^32-1 ms")
	}
	if opts.MaxOutput < 0 || int64(opts.MaxOutput) > 1<<32-1 {
		return nil, invalid("script max output: " + strconv.Itoa(opts.MaxOutput) + " bytes is out of range (0 to 2^32-1)")
	}
	var h uintptr
	err := callStatus(func() int32 {
		return capi.Gosbprov_identity_from_script(&h, path, uint(ms), uint(opts.MaxOutput))
	})
	if err != nil {
		return nil, err
	}
	return newIdentity(h, "sbprov_identity_from_script")
}

// joinGlobs joins globs with commas, refusing a glob that holds one (it
// would split) or a NUL byte.
func joinGlobs(what string, globs []string) (string, error) {
	for i, g := range globs {
		name := what + "[" + strconv.Itoa(i) + "]"
		if err := checkString(name, g); err != nil {
			return "", err
		}
		if strings.IndexByte(g, ',') >= 0 {
			return "", invalid(name + ": " + strconv.Quote(g) + " holds ',', which separates globs")
		}
	}
	return strings.Join(globs, ","), nil
}

// IdentityFromSystem gathers identity attributes from this system, always
// in the order of the IdentitySource bits. The MAC is that of the Ethernet
// interface with the lowest ifindex that is not virtual (see ProbeOptions
// and the library's docs/identity.md).
//
// Errors: ErrNotFound (a requested attribute is not available; the message
// says which and why), ErrIO (sysfs or /etc exists but cannot be read),
// ErrInval (unknown source bits, a glob holding ',' or longer than 255
// bytes, a root that is too long, a NUL byte).
func IdentityFromSystem(opts ProbeOptions) (*Identity, error) {
	sources := opts.Sources
	if sources == 0 {
		sources = SourceMAC
	}
	physical, err := joinGlobs("PhysicalGlobs", opts.PhysicalGlobs)
	if err != nil {
		return nil, err
	}
	virtual, err := joinGlobs("VirtualGlobs", opts.VirtualGlobs)
	if err != nil {
		return nil, err
	}
	if err := checkStrings("SysfsRoot", opts.SysfsRoot, "EtcRoot", opts.EtcRoot); err != nil {
		return nil, err
	}
	skip, defaultVirtual := 0, 0
	if opts.SkipLocalMAC {
		skip = 1
	}
	if opts.VirtualGlobs == nil {
		defaultVirtual = 1
	}
	var h uintptr
	err = callStatus(func() int32 {
		return capi.Gosbprov_identity_probe(&h, uint(sources), skip, physical, virtual, defaultVirtual,
			opts.SysfsRoot, opts.EtcRoot)
	})
	if err != nil {
		return nil, err
	}
	return newIdentity(h, "sbprov_identity_probe")
}

// live returns the handle, or an ErrInval error on a nil or closed
// Identity. The caller holds id.mu.
func (id *Identity) live() (uintptr, error) {
	if id.handle == 0 {
		return 0, invalid("Identity: used after Close")
	}
	return id.handle, nil
}

// use runs call with the live handle, holding the Identity's lock (for
// other types' calls that read the identity, such as NewMenderDevice).
func (id *Identity) use(call func(h uintptr) error) error {
	if id == nil {
		return invalid("Identity: nil")
	}
	id.mu.Lock()
	defer id.mu.Unlock()
	h, err := id.live()
	if err != nil {
		return err
	}
	err = call(h)
	runtime.KeepAlive(id)
	return err
}

// Add adds value to the attribute called name: a new name comes after the
// existing ones, a repeated name accumulates values in order. Names and
// values breaking the rules (empty name, '=', CR, LF, too long, too many)
// are ErrParse and leave the identity as it was; a NUL byte is ErrInval.
func (id *Identity) Add(name, value string) error {
	if id == nil {
		return invalid("Identity: nil")
	}
	if err := checkStrings("attribute name", name, "attribute value", value); err != nil {
		return err
	}
	id.mu.Lock()
	defer id.mu.Unlock()
	h, err := id.live()
	if err != nil {
		return err
	}
	err = callStatus(func() int32 { return capi.Sbprov_identity_add(h, name, value) })
	runtime.KeepAlive(id)
	return err
}

// text runs a text-producing call on the live handle.
func (id *Identity) text(size int, call func(h uintptr, buf []byte, n *int64) int32) (string, error) {
	if id == nil {
		return "", invalid("Identity: nil")
	}
	id.mu.Lock()
	defer id.mu.Unlock()
	h, err := id.live()
	if err != nil {
		return "", err
	}
	s, err := callText(size, func(buf []byte, n *int64) int32 { return call(h, buf, n) })
	// id must stay reachable until the C call is over, or its finalizer
	// could free the handle during the call.
	runtime.KeepAlive(id)
	return s, err
}

// CanonicalJSON returns the identity's canonical JSON, byte for byte what
// the Mender server stores: what encoding/json.Marshal writes for a
// map[string]interface{} of the attributes (one value as a string, several
// as an array), with invalid UTF-8 as the character U+FFFD. An empty
// identity is ErrInval.
func (id *Identity) CanonicalJSON() (string, error) {
	return id.text(256, func(h uintptr, buf []byte, n *int64) int32 {
		return capi.Sbprov_identity_canonical_json(buf, n, h)
	})
}

// Digest returns the SHA-256 of CanonicalJSON as 64 lower-case hex digits
// (the server's id_data_sha256). An empty identity is ErrInval.
func (id *Identity) Digest() (string, error) {
	return id.text(IdentityDigestLen+1, func(h uintptr, buf []byte, n *int64) int32 {
		return capi.Sbprov_identity_digest(buf, n, h)
	})
}

// RegistrationID makes an Azure registration ID from the identity with a
// template: "{name}" is the first value of attribute name, "{name:lower}"
// that value lower-cased, "{name:compact}" lower-cased without ':', '-' and
// '.'; "{{" and "}}" are literal braces. Example: "gw-{mac:compact}".
//
// Errors: ErrNotFound (an attribute the identity lacks), ErrParse (unclosed
// '{', unknown modifier, ...), ErrID (the result is not a valid
// registration ID), ErrInval (NUL byte).
func (id *Identity) RegistrationID(template string) (string, error) {
	if err := checkString("template", template); err != nil {
		return "", err
	}
	return id.text(IDMaxLen+1, func(h uintptr, buf []byte, n *int64) int32 {
		return capi.Sbprov_identity_format_id(buf, n, h, template)
	})
}

// Len returns the number of attributes (0 for a nil or closed Identity).
func (id *Identity) Len() int {
	if id == nil {
		return 0
	}
	id.mu.Lock()
	defer id.mu.Unlock()
	n := capi.Sbprov_identity_count(id.handle) // NULL gives 0
	runtime.KeepAlive(id)
	return int(n)
}

// names returns the attribute names; the caller holds id.mu.
func (id *Identity) names() []string {
	h := id.handle
	count := capi.Sbprov_identity_count(h)
	names := make([]string, 0, count)
	for i := int64(0); i < count; i++ {
		name, ok := copyOut(64, func(buf []byte) int64 { return capi.Gosbprov_identity_name(buf, h, i) })
		if !ok {
			break
		}
		names = append(names, name)
	}
	return names
}

// values returns the values of attribute index; the caller holds id.mu.
func (id *Identity) values(index int64) []string {
	h := id.handle
	count := capi.Sbprov_identity_value_count(h, index)
	values := make([]string, 0, count)
	for j := int64(0); j < count; j++ {
		v, ok := copyOut(64, func(buf []byte) int64 { return capi.Gosbprov_identity_value(buf, h, index, j) })
		if !ok {
			break
		}
		values = append(values, v)
	}
	return values
}

// Names returns the attribute names in the order they were first added
// (nil for a nil or closed Identity).
func (id *Identity) Names() []string {
	if id == nil {
		return nil
	}
	id.mu.Lock()
	defer id.mu.Unlock()
	if id.handle == 0 {
		return nil
	}
	names := id.names()
	runtime.KeepAlive(id)
	return names
}

// Values returns the values of the attribute called name, in the order
// added, or nil if there is no such attribute.
func (id *Identity) Values(name string) []string {
	if id == nil {
		return nil
	}
	id.mu.Lock()
	defer id.mu.Unlock()
	if id.handle == 0 {
		return nil
	}
	for i, n := range id.names() {
		if n == name {
			values := id.values(int64(i))
			runtime.KeepAlive(id)
			return values
		}
	}
	return nil
}

// Get returns the first value of the attribute called name (what "{name}"
// in a template gives) and whether there is such an attribute.
func (id *Identity) Get(name string) (string, bool) {
	values := id.Values(name)
	if len(values) == 0 {
		return "", false
	}
	return values[0], true
}

// Map returns the attributes as a map from names to values (a copy).
func (id *Identity) Map() map[string][]string {
	if id == nil {
		return nil
	}
	id.mu.Lock()
	defer id.mu.Unlock()
	if id.handle == 0 {
		return nil
	}
	names := id.names()
	m := make(map[string][]string, len(names))
	for i, n := range names {
		m[n] = id.values(int64(i))
	}
	runtime.KeepAlive(id)
	return m
}

// String describes the identity for logs (identities are not secret):
// Identity{"mac"="00:11:22:33:44:55"; "serial"="A"; "serial"="B"}, with
// names and values quoted as Go strings; "<closed>" after Close.
func (id *Identity) String() string {
	if id == nil {
		return "<nil>"
	}
	id.mu.Lock()
	defer id.mu.Unlock()
	if id.handle == 0 {
		return "<closed>"
	}
	var sb strings.Builder
	for i, n := range id.names() {
		for _, v := range id.values(int64(i)) {
			if sb.Len() > 0 {
				sb.WriteString("; ")
			}
			sb.WriteString(strconv.Quote(n) + "=" + strconv.Quote(v))
		}
	}
	runtime.KeepAlive(id)
	return "Identity{" + sb.String() + "}"
}

// Close frees the C identity. It is idempotent and always returns nil.
func (id *Identity) Close() error {
	if id == nil {
		return nil
	}
	id.mu.Lock()
	defer id.mu.Unlock()
	if id.handle != 0 {
		capi.Sbprov_identity_free(id.handle)
		id.handle = 0
		runtime.SetFinalizer(id, nil)
	}
	return nil
}
