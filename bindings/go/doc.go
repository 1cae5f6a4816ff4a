// Package sbprov is the Go binding of libsbprov, the provisioning core for
// smart-building IoT gateways:
//
//   - Azure IoT: DPS group-enrollment key derivation, SAS tokens, symmetric
//     key generation and IoT Hub connection strings;
//   - device identity as Mender understands it (Identity): gathered from the
//     system, an identity script, key=value text or code; its canonical JSON,
//     digest and registration IDs made from templates;
//   - device key pairs (Key): Ed25519, ECDSA P-256 and RSA keys generated,
//     saved as PKCS#8 files with mode 0600 atomically, loaded from files or
//     OpenSSL store URIs (TPM, PKCS#11), signatures as the Mender server
//     verifies them, PKCS#10 CSRs;
//   - a credential store (Store) of sealed entries;
//   - Mender over HTTPS: the device client (MenderDevice: authentication,
//     until accepted on Mender's schedule with a context, token renewal and
//     storage, inventory, update check) and the management client
//     (MenderManagement: login, preauthorize, devices, accept/reject,
//     decommission), with HTTPOptions for CAs, mutual TLS, proxy and
//     timeouts;
//   - Azure over HTTPS: DPS registration with a symmetric key
//     (Provisioning), IoT Hub device-to-cloud messages (Hub) and the IoT Hub
//     identity registry (Registry), with SAS tokens signed and renewed by
//     the library and a check of the local clock against the servers';
//   - sensor frames (docs/frame-format.md): the records a room's
//     microcontroller sends over a UART or UDP, encoded (EncodeFrame,
//     EncodeRecord, FrameBuilder), decoded from a stream or datagrams with
//     drop counters and per-node sequence tracking (FrameDecoder,
//     ParseFrame), rendered as IoT Hub JSON or SenML (Frame.JSON,
//     Frame.SenML), values kept as exact fixed-point integers;
//   - rooms (docs/air.md): ventilation advice after the UBA / ASR A3.6 CO2
//     steps with a trend and a prediction, occupancy from PIR motion and
//     rising CO2, events with reasons (Room), and buildings of rooms fed by
//     the sensor nodes placed in them (Building).
//
// The package wraps the libsbprov C library (stable ABI, found with
// pkg-config as "sbprov") through cgo; building it needs a C compiler and
// the library's development files, not SWIG. The Azure key, token and
// connection-string functions are pure computation: no network and, except
// SASToken, no clock. Identity probing
// reads sysfs and /etc, identity scripts run a process, and keys read and
// write files; those calls block only the calling goroutine.
//
// # Errors
//
// Every failure is returned as an *Error holding the library's result Code
// and its one-line detail message:
//
//	key, err := sbprov.DeriveDeviceKey(groupKey, "Sensor-1")
//	// err.Error() == "sbprov: registration ID: upper-case 'S' at position 1; ... (ErrID)"
//	if errors.Is(err, sbprov.ErrID) { ... }
//	var e *sbprov.Error
//	if errors.As(err, &e) { log.Print(e.Code, e.Message) }
//
// Strings are passed to C as C strings, so a string argument that contains a
// NUL byte is refused with ErrInval before reaching the library (URLEncode
// takes []byte and encodes any byte).
//
// # Goroutines and threads
//
// Every function may be called from any number of goroutines at once. The
// library keeps the detail message of a failure per OS thread; this package
// reads it on the same thread as the failing call, so each error carries its
// own message. A Deriver, SASSigner, Identity, Key, MenderDevice,
// MenderManagement, Provisioning, Hub, Registry, FrameDecoder, Room or
// Building serialises its own calls;
// use one per goroutine for parallel work. Network calls block only their goroutine; Cancel and
// context cancellation stop them from another goroutine.
//
// # Secrets
//
// Keys and tokens are Go strings, which cannot be wiped; the temporary
// buffers this package uses are zeroed after use, and the C library cleanses
// its own copies. ConnectionString.String redacts keys and signatures.
package sbprov
