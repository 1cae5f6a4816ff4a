package main

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/asn1"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
)

// parsePubKey is DA/utils/crypto.go ParsePubKey: the first PEM block must be
// of type exactly "PUBLIC KEY" (SPKI); "RSA PUBLIC KEY" is refused.
func parsePubKey(s string) (crypto.PublicKey, error) {
	block, _ := pem.Decode([]byte(s))
	if block == nil || block.Type != "PUBLIC KEY" {
		return nil, errors.New("cannot decode public key")
	}
	key, err := x509.ParsePKIXPublicKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("cannot decode public key: %v", err)
	}
	return key, nil
}

// serializePubKey is SerializePubKey: canonical PEM (64-column lines,
// trailing newline). Only RSA, ECDSA and Ed25519 keys are recognized.
func serializePubKey(key crypto.PublicKey) (string, error) {
	switch key.(type) {
	case *rsa.PublicKey, *ecdsa.PublicKey, ed25519.PublicKey:
	default:
		return "", errors.New("unrecognized public key type")
	}
	der, err := x509.MarshalPKIXPublicKey(key)
	if err != nil {
		return "", err
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})), nil
}

// normalizePubKey parses and re-serializes a PEM public key.
func normalizePubKey(s string) (crypto.PublicKey, string, error) {
	key, err := parsePubKey(s)
	if err != nil {
		return nil, "", err
	}
	norm, err := serializePubKey(key)
	if err != nil {
		return nil, "", err
	}
	return key, norm, nil
}

// verifyAuthReqSign is DA/utils/crypto.go VerifyAuthReqSign over the raw
// body: RSA PKCS#1 v1.5 + SHA-256; ECDSA ASN.1 DER (r,s) over SHA-256
// whatever the curve (trailing bytes after the DER ignored); Ed25519 pure.
// RSA keys under 1024 bits fail as they do in a server built with
// Go >= 1.24, whatever Go builds this emulator.
func verifyAuthReqSign(signature string, pub crypto.PublicKey, body []byte) error {
	sig, err := base64.StdEncoding.DecodeString(signature)
	if err != nil {
		return fmt.Errorf("verification failed: %v", err)
	}
	digest := sha256.Sum256(body)
	switch key := pub.(type) {
	case *rsa.PublicKey:
		if key.N.BitLen() < 1024 {
			return errors.New("verification failed: RSA key under 1024 bits")
		}
		if err := rsa.VerifyPKCS1v15(key, crypto.SHA256, digest[:], sig); err != nil {
			return fmt.Errorf("verification failed: %v", err)
		}
	case *ecdsa.PublicKey:
		var rs struct {
			R *big.Int
			S *big.Int
		}
		if _, err := asn1.Unmarshal(sig, &rs); err != nil {
			return fmt.Errorf("verification failed: %v", err)
		}
		if rs.R == nil || rs.S == nil || !ecdsa.Verify(key, digest[:], rs.R, rs.S) {
			return errors.New("verification failed")
		}
	case ed25519.PublicKey:
		if !ed25519.Verify(key, body, sig) {
			return errors.New("verification failed")
		}
	default:
		return fmt.Errorf("verification failed: public key algorithm (%T) not supported", pub)
	}
	return nil
}

// canonicalIdentity is DA/utils/json_util.go JsonSort: unmarshal into
// map[string]interface{} and re-marshal with encoding/json (sorted keys,
// compact, HTML-escaped, numbers as float64). Unlike the real server a JSON
// null is refused too (the reference requires an object).
func canonicalIdentity(s string) (string, map[string]interface{}, error) {
	var m map[string]interface{}
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		return "", nil, err
	}
	if m == nil {
		return "", nil, errors.New("identity data must be a JSON object, not null")
	}
	b, err := json.Marshal(m)
	if err != nil {
		return "", nil, err
	}
	return string(b), m, nil
}
