package sbprov

import (
	"runtime"
	"strconv"
	"strings"

	"github.com/sbprov/libsbprov/bindings/go/internal/capi"
)

// How a C call is made.
//
// libsbprov records the detail of a failure in thread-local storage
// (sbprov_last_error). A goroutine may move to another OS thread between two
// cgo calls, so every failing call and the read of its detail happen with the
// goroutine locked to its thread (runtime.LockOSThread nests, so a caller's
// own lock is kept). The detail is only trusted if the thread's last error
// code is the code just returned; otherwise the code's description is used.

// errMessageSize is the size of libsbprov's thread-local message buffer.
const errMessageSize = 512

// lastError returns the *Error for result code rc, with the calling thread's
// detail message. It must run on the OS thread that made the failing call.
func lastError(rc int32) error {
	msg := ""
	if capi.Sbprov_last_error_code() == rc {
		buf := make([]byte, errMessageSize)
		n := capi.Gosbprov_last_error(buf)
		if n >= int64(len(buf)) {
			buf = make([]byte, n+1)
			n = capi.Gosbprov_last_error(buf)
		}
		if n > 0 && n < int64(len(buf)) {
			msg = string(buf[:n])
		}
	}
	return &Error{Code: Code(rc), Message: msg}
}

// callStatus runs a C call that returns only a result code.
func callStatus(call func() int32) error {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	if rc := call(); rc != 0 {
		return lastError(rc)
	}
	return nil
}

// callText runs a C call that writes text with libsbprov's output-buffer
// convention (buf, buf_size, out_len): size is the first buffer size tried
// (NUL included); on SBPROV_EBUFS the call is repeated once with the size the
// library asked for. The buffer is zeroed after use since it may have held a
// key or a token.
func callText(size int, call func(buf []byte, outLen *int64) int32) (string, error) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	if size < 1 {
		size = 1
	}
	for attempt := 0; ; attempt++ {
		buf := make([]byte, size)
		var n int64
		rc := call(buf, &n)
		if rc == 0 {
			if n < 0 || n >= int64(len(buf)) {
				wipe(buf)
				return "", &Error{Code: ErrGeneric, Message: "library reported an output length of " +
					strconv.FormatInt(n, 10) + " for a buffer of " + strconv.Itoa(len(buf)) + " bytes"}
			}
			s := string(buf[:n])
			wipe(buf)
			return s, nil
		}
		wipe(buf)
		if Code(rc) == ErrBufs && attempt == 0 && n > int64(size) && n <= 1<<30 {
			size = int(n)
			continue
		}
		return "", lastError(rc)
	}
}

// wipe zeroes b.
func wipe(b []byte) {
	for i := range b {
		b[i] = 0
	}
}

// checkString refuses a string holding a NUL byte: C would see it end there
// (SWIG passes NUL-terminated copies), so the call would silently use a
// different value. The message names the argument and the position, never
// the value, which may be a secret.
func checkString(what, s string) error {
	if i := strings.IndexByte(s, 0); i >= 0 {
		return invalid(what + ": NUL byte at position " + strconv.Itoa(i+1) + " (a C string cannot hold one)")
	}
	return nil
}

// checkStrings runs checkString on (name, value) pairs.
func checkStrings(pairs ...string) error {
	for i := 0; i+1 < len(pairs); i += 2 {
		if err := checkString(pairs[i], pairs[i+1]); err != nil {
			return err
		}
	}
	return nil
}

// copyOut reads a string through one of the gosbprov_* copy helpers, which
// return the full length (or -1 for NULL) and truncate to the buffer.
func copyOut(size int, get func(buf []byte) int64) (string, bool) {
	buf := make([]byte, size)
	n := get(buf)
	if n < 0 {
		return "", false
	}
	if n >= int64(len(buf)) {
		buf = make([]byte, n+1)
		n = get(buf)
		if n < 0 || n >= int64(len(buf)) {
			return "", false
		}
	}
	s := string(buf[:n])
	wipe(buf)
	return s, true
}
