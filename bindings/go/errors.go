package sbprov

import (
	"strconv"
)

// Code is a libsbprov result code (sbprov_result in C). The values are those
// of enum sbprov_result_code in sbprov/common.h; they are part of the
// library's ABI and never change.
//
// Code implements error, so a Code can be the target of errors.Is:
//
//	if errors.Is(err, sbprov.ErrBase64) { ... }
//
// Functions of this package never return a bare Code; they return *Error,
// which carries a Code and the library's detail message. Being an error, a
// Code prints (with fmt) as its description; String gives its name.
type Code int32

// Result codes, with the values of sbprov/common.h.
const (
	OK          Code = 0   // Success (SBPROV_OK); never carried by an *Error.
	ErrGeneric  Code = -1  // Unclassified failure (SBPROV_ERROR).
	ErrInval    Code = -2  // An argument is invalid (SBPROV_EINVAL), e.g. a string holding a NUL byte or a closed Deriver.
	ErrNoMem    Code = -3  // Out of memory (SBPROV_ENOMEM).
	ErrBufs     Code = -4  // Output buffer too small (SBPROV_EBUFS); this package sizes buffers itself, so it is not expected.
	ErrBase64   Code = -5  // Input is not strict padded standard Base64 (SBPROV_EBASE64).
	ErrKeySize  Code = -6  // A key decodes to a length outside 16..64 bytes (SBPROV_EKEYSIZE).
	ErrID       Code = -7  // An identifier (registration ID, device ID, host name ...) is malformed (SBPROV_EID).
	ErrExpiry   Code = -8  // A token expiry is before 2020 or not after "now" (SBPROV_EEXPIRY).
	ErrConnStr  Code = -9  // A connection string is malformed or contradictory (SBPROV_ECONNSTR).
	ErrCrypto   Code = -10 // The crypto provider (OpenSSL) failed (SBPROV_ECRYPTO).
	ErrInit     Code = -11 // Global initialisation failed or was not done (SBPROV_EINIT).
	ErrNotFound Code = -12 // The requested item does not exist (SBPROV_ENOTFOUND).
	ErrRandom   Code = -13 // The random number generator failed (SBPROV_ERANDOM).

	ErrKey        Code = -14 // A key is malformed, of an unsupported type or size, or cannot do the operation (SBPROV_EKEY).
	ErrSignature  Code = -15 // A signature does not verify (SBPROV_ESIGNATURE).
	ErrIO         Code = -16 // A file-system operation failed; the message names the path and the OS error (SBPROV_EIO).
	ErrProvider   Code = -17 // An OpenSSL provider, configuration or store URI could not be used (SBPROV_EPROVIDER).
	ErrPassphrase Code = -18 // A passphrase is missing or wrong for an encrypted key (SBPROV_EPASSPHRASE).
	ErrScript     Code = -19 // An external (identity) script failed or printed what is not allowed (SBPROV_ESCRIPT).
	ErrTimeout    Code = -20 // An operation did not finish within its time limit (SBPROV_ETIMEOUT).
	ErrParse      Code = -21 // Text input (key=value lines, names, values, templates) is malformed (SBPROV_EPARSE).
	ErrExists     Code = -22 // The target already exists and overwriting was not asked for (SBPROV_EEXISTS).
	ErrTampered   Code = -23 // Stored data failed authentication: modified, truncated, moved or another key (SBPROV_ETAMPERED).
	ErrFormat     Code = -24 // Stored data has an unknown or newer format version (SBPROV_EFORMAT).
	ErrUnsafe     Code = -25 // A file or directory is a symlink, not owned by the caller, or writable by others (SBPROV_EUNSAFE).

	ErrNetwork   Code = -26 // The server could not be reached (DNS, connect, connection reset) (SBPROV_ENETWORK).
	ErrTLS       Code = -27 // The TLS handshake failed (protocol, cipher, client certificate) (SBPROV_ETLS).
	ErrCert      Code = -28 // The server's certificate is not trusted, expired, or for another host (SBPROV_ECERT).
	ErrHTTP      Code = -29 // The server refused the request as malformed (a 4xx status) (SBPROV_EHTTP).
	ErrServer    Code = -30 // The server failed (a 5xx status) (SBPROV_ESERVER).
	ErrResponse  Code = -31 // A response is malformed: too large, truncated, wrong content type, invalid JSON (SBPROV_ERESPONSE).
	ErrAuth      Code = -32 // Authentication or authorization refused (401/403, or a device not accepted) (SBPROV_EAUTH).
	ErrRateLimit Code = -33 // The server asks to slow down (429); retry after the time it gave (SBPROV_ERATELIMIT).
	ErrCanceled  Code = -34 // The operation was cancelled by the caller (SBPROV_ECANCELED).
	ErrClock     Code = -35 // The local clock is too far from the server's (SAS tokens would be expired or not yet valid) (SBPROV_ECLOCK).
	ErrConflict  Code = -36 // The target changed meanwhile: its etag no longer matches (412) (SBPROV_ECONFLICT).
)

// codeInfo holds the Go name and the description of each code; the
// descriptions are those of sbprov_strerror() (a test checks they agree).
var codeInfo = map[Code][2]string{
	OK:          {"OK", "success"},
	ErrGeneric:  {"ErrGeneric", "unclassified failure"},
	ErrInval:    {"ErrInval", "invalid argument"},
	ErrNoMem:    {"ErrNoMem", "out of memory"},
	ErrBufs:     {"ErrBufs", "output buffer too small"},
	ErrBase64:   {"ErrBase64", "not valid padded Base64"},
	ErrKeySize:  {"ErrKeySize", "key length out of range"},
	ErrID:       {"ErrID", "malformed identifier"},
	ErrExpiry:   {"ErrExpiry", "token expiry out of range"},
	ErrConnStr:  {"ErrConnStr", "malformed connection string"},
	ErrCrypto:   {"ErrCrypto", "crypto provider failure"},
	ErrInit:     {"ErrInit", "library initialisation failure"},
	ErrNotFound: {"ErrNotFound", "not found"},
	ErrRandom:   {"ErrRandom", "random generator failure"},

	ErrKey:        {"ErrKey", "unusable key"},
	ErrSignature:  {"ErrSignature", "signature does not verify"},
	ErrIO:         {"ErrIO", "file-system error"},
	ErrProvider:   {"ErrProvider", "OpenSSL provider or store unusable"},
	ErrPassphrase: {"ErrPassphrase", "missing or wrong passphrase"},
	ErrScript:     {"ErrScript", "external script failed"},
	ErrTimeout:    {"ErrTimeout", "timed out"},
	ErrParse:      {"ErrParse", "malformed text input"},
	ErrExists:     {"ErrExists", "already exists"},
	ErrTampered:   {"ErrTampered", "stored data failed authentication"},
	ErrFormat:     {"ErrFormat", "unsupported format version"},
	ErrUnsafe:     {"ErrUnsafe", "unsafe file ownership, permissions or symbolic link"},

	ErrNetwork:   {"ErrNetwork", "network unreachable"},
	ErrTLS:       {"ErrTLS", "TLS handshake failed"},
	ErrCert:      {"ErrCert", "server certificate not trusted"},
	ErrHTTP:      {"ErrHTTP", "request refused by the server"},
	ErrServer:    {"ErrServer", "server error"},
	ErrResponse:  {"ErrResponse", "malformed response"},
	ErrAuth:      {"ErrAuth", "not authorized"},
	ErrRateLimit: {"ErrRateLimit", "rate limited"},
	ErrCanceled:  {"ErrCanceled", "cancelled"},
	ErrClock:     {"ErrClock", "clock too far off"},
	ErrConflict:  {"ErrConflict", "precondition failed (etag)"},
}

// String returns the Go name of the code ("ErrBase64"), or "Code(-99)" for a
// value this package does not know.
func (c Code) String() string {
	if info, ok := codeInfo[c]; ok {
		return info[0]
	}
	return "Code(" + strconv.Itoa(int(c)) + ")"
}

// Error returns the library's static description of the code, as
// sbprov_strerror() gives it ("not valid padded Base64"); unknown codes give
// "unknown error".
func (c Code) Error() string {
	if info, ok := codeInfo[c]; ok {
		return info[1]
	}
	return "unknown error"
}

// Error is the error returned by every function of this package: the result
// code and the one-line detail message that libsbprov recorded for the
// failing call (sbprov_last_error()), or that this package wrote for a
// failure it detected before calling C.
//
// Use errors.Is(err, sbprov.ErrID) to test the code, or errors.As to get at
// the message.
type Error struct {
	Code    Code   // What kind of failure; never OK.
	Message string // Detail naming what was wrong; may be empty.

	// cause is the context error behind ErrCanceled or ErrTimeout of a call
	// that took a context.Context (context.Canceled or
	// context.DeadlineExceeded), the FrameOutcome of a record ParseFrame
	// refused (ErrParse), or nil; Unwrap returns it.
	cause error
}

// Error returns "sbprov: MESSAGE (CODE)", e.g.
// "sbprov: registration ID: upper-case 'A' at position 1; ... (ErrID)".
// Without a detail message the code's description takes its place.
func (e *Error) Error() string {
	msg := e.Message
	if msg == "" {
		msg = e.Code.Error()
	}
	return "sbprov: " + msg + " (" + e.Code.String() + ")"
}

// Is reports whether target is this error's Code, so that
// errors.Is(err, sbprov.ErrBase64) works; it also matches an *Error with the
// same Code and Message.
func (e *Error) Is(target error) bool {
	switch t := target.(type) {
	case Code:
		return e.Code == t
	case *Error:
		return t != nil && e.Code == t.Code && e.Message == t.Message
	}
	return false
}

// Unwrap returns the context error (context.Canceled or
// context.DeadlineExceeded) that ended a call taking a context.Context, so
// that errors.Is(err, context.Canceled) holds as well as
// errors.Is(err, sbprov.ErrCanceled); for an ErrParse of ParseFrame, the
// FrameOutcome saying why the record was refused
// (errors.Is(err, sbprov.FrameDropCRC)); nil for every other error.
func (e *Error) Unwrap() error {
	return e.cause
}

// invalid returns an ErrInval *Error with the given message.
func invalid(msg string) error {
	return &Error{Code: ErrInval, Message: msg}
}
