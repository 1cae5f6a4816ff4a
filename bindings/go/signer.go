package sbprov

import (
	"runtime"
	"sync"
	"time"

	"github.com/sbprov/libsbprov/bindings/go/internal/capi"
)

// SASSigner signs many SAS tokens with one key: the key is decoded and keyed
// into HMAC-SHA256 once (a C sbprov_azure_sas_signer), as a daemon renewing
// its tokens or tooling signing many requests with one policy key needs.
//
// Like Deriver, it is safe for concurrent use with calls serialised, and
// Close cleanses the key material at once (a finalizer is only a safety net).
type SASSigner struct {
	mu     sync.Mutex
	handle uintptr // C sbprov_azure_sas_signer *, 0 once closed
}

// NewSASSigner decodes key (strict padded Base64 of 16 to 64 bytes; else
// ErrBase64 or ErrKeySize) and returns a signer for it.
func NewSASSigner(key string) (*SASSigner, error) {
	if err := checkString("key", key); err != nil {
		return nil, err
	}
	var h uintptr
	if err := callStatus(func() int32 { return capi.Sbprov_azure_sas_signer_new(&h, key) }); err != nil {
		return nil, err
	}
	if h == 0 {
		return nil, &Error{Code: ErrGeneric, Message: "sbprov_azure_sas_signer_new succeeded without a handle"}
	}
	s := &SASSigner{handle: h}
	runtime.SetFinalizer(s, (*SASSigner).Close)
	return s, nil
}

// Token is SASToken with this signer's key: it checks that expiry is after
// the current time.
func (s *SASSigner) Token(resourceURI string, expiry int64, policy string) (string, error) {
	return s.TokenAt(resourceURI, expiry, policy, time.Now().Unix())
}

// TokenAt is SASTokenAt with this signer's key (now 0 skips the check
// against the current time). After Close, or on a nil signer, it returns an
// ErrInval error.
func (s *SASSigner) TokenAt(resourceURI string, expiry int64, policy string, now int64) (string, error) {
	if s == nil {
		return "", invalid("SASSigner: nil")
	}
	if err := checkStrings("resource URI", resourceURI, "policy name", policy); err != nil {
		return "", err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.handle == 0 {
		return "", invalid("SASSigner: used after Close")
	}
	h := s.handle
	token, err := callText(sasTokenSize(resourceURI, policy), func(buf []byte, n *int64) int32 {
		return capi.Sbprov_azure_sas_signer_token(buf, n, h, resourceURI, policy, expiry, now)
	})
	// s must stay reachable until the C call is over, or its finalizer could
	// free the handle during the call.
	runtime.KeepAlive(s)
	return token, err
}

// Close frees the C signer and cleanses its key material. It is idempotent
// and always returns nil; any later Token fails with ErrInval.
func (s *SASSigner) Close() error {
	if s == nil {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.handle != 0 {
		capi.Sbprov_azure_sas_signer_free(s.handle)
		s.handle = 0
		runtime.SetFinalizer(s, nil)
	}
	return nil
}
