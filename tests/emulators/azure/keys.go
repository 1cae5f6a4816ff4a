package main

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"sbprov.test/emulators/emukit"
)

// Key sizes accepted by DPS enrollments and IoT Hub identities (decoded).
const (
	minKeyBytes = 16
	maxKeyBytes = 64
)

// decodeKey is a strict standard Base64 decode ("+/", "=" padding, no
// trailing bits) with the 16..64 byte rule of DPS and IoT Hub.
func decodeKey(b64 string) ([]byte, error) {
	k, err := base64.StdEncoding.Strict().DecodeString(b64)
	if err != nil {
		return nil, fmt.Errorf("not valid Base64: %v", err)
	}
	if len(k) < minKeyBytes || len(k) > maxKeyBytes {
		return nil, fmt.Errorf("key is %d bytes, want %d to %d", len(k), minKeyBytes, maxKeyBytes)
	}
	return k, nil
}

// deriveKey is the DPS group-enrollment device key:
// Base64(HMAC-SHA256(Base64Decode(groupKey), UTF-8 registrationId)).
func deriveKey(groupKeyB64, registrationID string) (string, error) {
	k, err := decodeKey(groupKeyB64)
	if err != nil {
		return "", err
	}
	m := hmac.New(sha256.New, k)
	m.Write([]byte(registrationID))
	return base64.StdEncoding.EncodeToString(m.Sum(nil)), nil
}

// sasSignature is Base64(HMAC-SHA256(Base64Decode(key), srAsSent + "\n" + se)).
func sasSignature(keyB64, srRaw, se string) (string, error) {
	k, err := decodeKey(keyB64)
	if err != nil {
		return "", err
	}
	m := hmac.New(sha256.New, k)
	m.Write([]byte(srRaw + "\n" + se))
	return base64.StdEncoding.EncodeToString(m.Sum(nil)), nil
}

// newKey returns n random bytes, Base64.
func newKey(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return base64.StdEncoding.EncodeToString(b)
}

func randomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b)
}

// newOperationID looks like DPS's: "5.316aac5bdc130deb.b1e02da8-...".
func newOperationID() string {
	return "5." + randomHex(8) + "." + emukit.NewUUID()
}

// dpsETag looks like DPS's: Base64 of a quoted GUID-like string.
func dpsETag() string {
	u := emukit.NewUUID()
	return base64.StdEncoding.EncodeToString([]byte(`"` + u + `"`))
}

// hubETag looks like IoT Hub's device etags: Base64 of a decimal number.
func hubETag(n int64) string {
	return base64.StdEncoding.EncodeToString([]byte(strconv.FormatInt(n, 10)))
}

// splitKeys parses "PRIMARY[,SECONDARY]".
func splitKeys(v string) (primary, secondary string, err error) {
	primary, secondary, _ = strings.Cut(v, ",")
	if _, err := decodeKey(primary); err != nil {
		return "", "", fmt.Errorf("primary key: %v", err)
	}
	if secondary != "" {
		if _, err := decodeKey(secondary); err != nil {
			return "", "", fmt.Errorf("secondary key: %v", err)
		}
	}
	return primary, secondary, nil
}

// parseEnrollmentFlag parses "[SCOPE/]ID=PRIMARY[,SECONDARY]" (-group and
// -enrollment).
func parseEnrollmentFlag(v, defaultScope string) (scope, id, primary, secondary string, err error) {
	left, keys, ok := strings.Cut(v, "=")
	if !ok || left == "" {
		return "", "", "", "", errors.New("want [SCOPE/]ID=PRIMARY[,SECONDARY]")
	}
	scope = defaultScope
	if i := strings.Index(left, "/"); i >= 0 {
		scope, left = left[:i], left[i+1:]
	}
	if scope == "" || left == "" {
		return "", "", "", "", errors.New("want [SCOPE/]ID=PRIMARY[,SECONDARY]")
	}
	primary, secondary, err = splitKeys(keys)
	return scope, left, primary, secondary, err
}

// parsePolicyFlag parses "NAME=PRIMARY[,SECONDARY][@PERM|PERM...]".
func parsePolicyFlag(v string) (*policy, error) {
	name, rest, ok := strings.Cut(v, "=")
	if !ok || name == "" {
		return nil, errors.New("want NAME=PRIMARY[,SECONDARY][@PERM|PERM...]")
	}
	var perms []string
	if i := strings.LastIndex(rest, "@"); i >= 0 {
		for _, p := range strings.Split(rest[i+1:], "|") {
			if p = strings.TrimSpace(p); p != "" {
				perms = append(perms, p)
			}
		}
		rest = rest[:i]
	}
	primary, secondary, err := splitKeys(rest)
	if err != nil {
		return nil, err
	}
	p := &policy{Name: name, PrimaryKey: primary, SecondaryKey: secondary, Permissions: perms}
	if err := p.normalize(); err != nil {
		return nil, err
	}
	return p, nil
}
