package main

import (
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"
	"time"
)

var (
	errTokenInvalid = errors.New("jwt: token invalid")
	errTokenExpired = errors.New("jwt: token expired")
)

// claims is DA/jwt/claims.go (device tokens) plus the user flag useradm sets.
type claims struct {
	ID        string  `json:"jti,omitempty"`
	Subject   string  `json:"sub,omitempty"`
	Issuer    string  `json:"iss,omitempty"`
	Tenant    string  `json:"mender.tenant,omitempty"`
	ExpiresAt int64   `json:"exp,omitempty"`
	IssuedAt  int64   `json:"iat,omitempty"`
	Device    bool    `json:"mender.device,omitempty"`
	User      bool    `json:"mender.user,omitempty"`
	Plan      string  `json:"mender.plan,omitempty"`
	Trial     bool    `json:"mender.trial"`
	Addons    []addon `json:"mender.addons,omitempty"`
	// EmuSeq numbers every token this emulator issues, so that two tokens
	// for the same auth set issued within one second differ (the real
	// server's would be byte-identical); forced expiry relies on it.
	EmuSeq int64 `json:"emu.seq,omitempty"`
}

type addon struct {
	Name    string `json:"name"`
	Enabled bool   `json:"enabled"`
}

// allAddonsEnabled is MS:backend/pkg/addons AllAddonsEnabled, which the
// open-source server puts into every device token.
var allAddonsEnabled = []addon{{"configure", true}, {"troubleshoot", true}, {"monitor", true}}

// jwtSigner signs with a key generated at start: Ed25519 (EdDSA) or RSA
// 2048 (RS256), as DA/jwt/jwt_ed25519.go and jwt_rsa.go.
type jwtSigner struct {
	alg string
	ed  ed25519.PrivateKey
	rsa *rsa.PrivateKey
}

func newJWTSigner(alg string) (*jwtSigner, error) {
	switch alg {
	case "", "EdDSA":
		_, priv, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			return nil, err
		}
		return &jwtSigner{alg: "EdDSA", ed: priv}, nil
	case "RS256":
		priv, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			return nil, err
		}
		return &jwtSigner{alg: "RS256", rsa: priv}, nil
	}
	return nil, fmt.Errorf("unsupported JWT algorithm %q (EdDSA or RS256)", alg)
}

var b64url = base64.RawURLEncoding

func (j *jwtSigner) sign(c claims) (string, error) {
	hdr, _ := json.Marshal(map[string]string{"alg": j.alg, "typ": "JWT"})
	payload, err := json.Marshal(c)
	if err != nil {
		return "", err
	}
	input := b64url.EncodeToString(hdr) + "." + b64url.EncodeToString(payload)
	var sig []byte
	switch j.alg {
	case "EdDSA":
		sig = ed25519.Sign(j.ed, []byte(input))
	case "RS256":
		h := sha256.Sum256([]byte(input))
		sig, err = rsa.SignPKCS1v15(rand.Reader, j.rsa, crypto.SHA256, h[:])
		if err != nil {
			return "", err
		}
	}
	return input + "." + b64url.EncodeToString(sig), nil
}

// parse checks the signature and the algorithm; it returns the claims
// whatever the expiry (callers decide between invalid and expired).
func (j *jwtSigner) parse(raw string) (*claims, error) {
	parts := strings.Split(raw, ".")
	if len(parts) != 3 {
		return nil, errTokenInvalid
	}
	hb, err := b64url.DecodeString(parts[0])
	if err != nil {
		return nil, errTokenInvalid
	}
	var hdr struct {
		Alg string `json:"alg"`
	}
	if json.Unmarshal(hb, &hdr) != nil || hdr.Alg != j.alg {
		return nil, errTokenInvalid
	}
	sig, err := b64url.DecodeString(parts[2])
	if err != nil {
		return nil, errTokenInvalid
	}
	input := parts[0] + "." + parts[1]
	switch j.alg {
	case "EdDSA":
		if !ed25519.Verify(j.ed.Public().(ed25519.PublicKey), []byte(input), sig) {
			return nil, errTokenInvalid
		}
	case "RS256":
		h := sha256.Sum256([]byte(input))
		if rsa.VerifyPKCS1v15(&j.rsa.PublicKey, crypto.SHA256, h[:], sig) != nil {
			return nil, errTokenInvalid
		}
	}
	pb, err := b64url.DecodeString(parts[1])
	if err != nil {
		return nil, errTokenInvalid
	}
	var c claims
	if err := json.Unmarshal(pb, &c); err != nil {
		return nil, errTokenInvalid
	}
	if c.Issuer == "" || c.ID == "" || c.Subject == "" {
		return nil, errTokenInvalid
	}
	return &c, nil
}

func (c *claims) expired(now time.Time) bool {
	return time.Unix(c.ExpiresAt, 0).Before(now)
}

// publicKeyPEM lets tests verify issued tokens independently.
func (j *jwtSigner) publicKeyPEM() string {
	var pub interface{}
	if j.alg == "EdDSA" {
		pub = j.ed.Public()
	} else {
		pub = &j.rsa.PublicKey
	}
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return ""
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
}
