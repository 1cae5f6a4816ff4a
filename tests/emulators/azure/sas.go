package main

import (
	"crypto/hmac"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// sasToken is a parsed "SharedAccessSignature sr=...&sig=...&se=...[&skn=...]".
// It follows the service-side parser of the Azure IoT SDKs
// (Common/Service/Auth/SharedAccessSignature.cs): exactly one whitespace
// after the scheme, fields split on '&' and then '=', field names
// case-insensitive, duplicates refused, sr kept as sent (it is what was
// signed), the other values URL-decoded with '+' as a space.
type sasToken struct {
	SRRaw  string // sr exactly as sent: the signed bytes
	SR     string // sr URL-decoded: the audience
	Sig    string // sig URL-decoded (Base64)
	SE     string // se URL-decoded (decimal seconds)
	Expiry time.Time
	SKN    string
	HasSKN bool
}

// authFailure says why a request was not authorized. kind is the
// violation kind, or "" when the failure depends on state or time (an
// expired token, an unknown device) rather than on a malformed request.
type authFailure struct {
	kind   string
	reason string
}

func (f *authFailure) Error() string { return f.reason }

func malformed(format string, args ...interface{}) *authFailure {
	return &authFailure{kind: vkSASFormat, reason: fmt.Sprintf(format, args...)}
}

// splitEachSpace splits at every whitespace rune without merging runs, as
// .NET's string.Split() does.
func splitEachSpace(s string) []string {
	var out []string
	start := 0
	for i, r := range s {
		if unicode.IsSpace(r) {
			out = append(out, s[start:i])
			start = i + len(string(r))
		}
	}
	return append(out, s[start:])
}

// parseSAS parses an Authorization header value.
func parseSAS(h string) (*sasToken, *authFailure) {
	if h == "" {
		return nil, &authFailure{kind: vkAuthHeader, reason: "the Authorization header is missing"}
	}
	parts := splitEachSpace(h)
	if len(parts) != 2 || parts[0] != "SharedAccessSignature" {
		return nil, malformed("malformed token: want \"SharedAccessSignature sr=...&sig=...&se=...\" with exactly one space")
	}
	t := &sasToken{}
	seen := map[string]bool{}
	var hasSR, hasSig, hasSE bool
	for _, field := range strings.Split(strings.TrimSpace(parts[1]), "&") {
		if field == "" {
			continue
		}
		kv := strings.Split(field, "=")
		if len(kv) < 2 {
			return nil, malformed("malformed token: field %q has no '='", field)
		}
		// As the .NET parser: the value is what lies between the first and
		// the second '=' (an unencoded Base64 '=' padding is cut off).
		name, raw := strings.ToLower(kv[0]), kv[1]
		if seen[name] {
			return nil, malformed("malformed token: field %q appears twice", name)
		}
		seen[name] = true
		if name == "sr" {
			t.SRRaw, hasSR = raw, true
			continue
		}
		val, err := url.QueryUnescape(raw)
		if err != nil {
			return nil, malformed("malformed token: field %q: %v", name, err)
		}
		switch name {
		case "sig":
			t.Sig, hasSig = val, true
		case "se":
			t.SE, hasSE = val, true
		case "skn":
			t.SKN, t.HasSKN = val, true
		}
	}
	switch {
	case !hasSig:
		return nil, malformed("malformed token: missing field: sig")
	case !hasSE:
		return nil, malformed("malformed token: missing field: se")
	case !hasSR:
		return nil, malformed("malformed token: missing field: sr")
	}
	if t.SE == "" || strings.TrimLeft(t.SE, "0123456789") != "" {
		return nil, malformed("se %q is not an integer number of seconds since the epoch", t.SE)
	}
	se, err := strconv.ParseInt(t.SE, 10, 64)
	if err != nil || se > 253402300799 { // 9999-12-31T23:59:59Z, as DateTime
		return nil, malformed("se %q is out of range", t.SE)
	}
	t.Expiry = time.Unix(se, 0).UTC()
	sr, err := url.QueryUnescape(t.SRRaw)
	if err != nil {
		return nil, malformed("malformed token: sr is not URL-encoded correctly: %v", err)
	}
	t.SR = sr
	return t, nil
}

// checkTime applies the 5-minute (configurable) clock skew as the services
// do (ExpiresOn + MaxClockSkew < UtcNow means expired), and an optional
// maximum lifetime.
func (t *sasToken) checkTime(now time.Time, skew, maxTTL time.Duration) *authFailure {
	if t.Expiry.Add(skew).Before(now) {
		return &authFailure{reason: fmt.Sprintf("the SAS token expired at %s (se=%s); server time %s, allowed clock skew %s",
			t.Expiry.Format(time.RFC3339), t.SE, now.UTC().Format(time.RFC3339), skew)}
	}
	if maxTTL > 0 && t.Expiry.After(now.Add(maxTTL+skew)) {
		return &authFailure{reason: fmt.Sprintf("the SAS token expires at %s, more than %s after server time %s",
			t.Expiry.Format(time.RFC3339), maxTTL, now.UTC().Format(time.RFC3339))}
	}
	return nil
}

// matchKey returns the index of the first key whose signature equals sig
// (constant-time comparison of the Base64 text), or -1. Empty or invalid
// keys never match.
func (t *sasToken) matchKey(keys ...string) int {
	for i, k := range keys {
		if k == "" {
			continue
		}
		want, err := sasSignature(k, t.SRRaw, t.SE)
		if err != nil {
			continue
		}
		if hmac.Equal([]byte(want), []byte(t.Sig)) {
			return i
		}
	}
	return -1
}

// covers reports whether the audience covers target by whole path
// segments ("a/b" covers "a/b" and "a/b/c", not "a/bc"), ignoring case and
// a trailing '/' as the services do.
func covers(audience, target string) bool {
	a := strings.ToLower(strings.TrimRight(audience, "/"))
	t := strings.ToLower(target)
	if a == "" {
		return false
	}
	return t == a || strings.HasPrefix(t, a+"/")
}
