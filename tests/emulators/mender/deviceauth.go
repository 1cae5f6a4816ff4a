package main

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"strings"
)

// authReq is DA/model/authreq.go AuthReq; encoding/json gives the same
// case-insensitive, last-duplicate-wins, unknown-fields-ignored decoding.
type authReq struct {
	IdData      string `json:"id_data"`
	TenantToken string `json:"tenant_token"`
	PubKey      string `json:"pubkey"`
}

// tenantID is what "mender.tenant" carries when a tenant token is set.
func tenantID(token string) string {
	if token == "" {
		return ""
	}
	h := sha256.Sum256([]byte(token))
	return hex.EncodeToString(h[:12])
}

// handleAuthRequest is SubmitAuthRequestHandler in the strict order of the
// current server: decode, validate, signature header, signature, and only
// then anything is recorded.
func (s *Server) handleAuthRequest(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	if r.Body == nil {
		reject(w, rc, http.StatusBadRequest, vkSchema, "failed to decode auth request: empty request body")
		return
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		reject(w, rc, http.StatusBadRequest, vkSchema, "failed to decode auth request: "+err.Error())
		return
	}
	var req authReq
	if err := json.Unmarshal(body, &req); err != nil {
		reject(w, rc, http.StatusBadRequest, vkSchema, "failed to decode auth request: "+err.Error())
		return
	}
	// AuthReq.Validate()
	if req.IdData == "" {
		reject(w, rc, http.StatusBadRequest, vkSchema, "invalid auth request: id_data must be provided")
		return
	}
	if req.PubKey == "" {
		reject(w, rc, http.StatusBadRequest, vkSchema, "invalid auth request: pubkey must be provided")
		return
	}
	key, pubkey, err := normalizePubKey(req.PubKey)
	if err != nil {
		reject(w, rc, http.StatusBadRequest, vkSchema, "invalid auth request: "+err.Error())
		return
	}
	idData, idStruct, err := canonicalIdentity(req.IdData)
	if err != nil {
		reject(w, rc, http.StatusBadRequest, vkSchema, "invalid auth request: "+err.Error())
		return
	}
	sig := r.Header.Get("X-MEN-Signature")
	if sig == "" {
		reject(w, rc, http.StatusBadRequest, vkSchema, "missing request signature header")
		return
	}
	if err := verifyAuthReqSign(sig, key, body); err != nil {
		rc.Violate(vkSignature, err.Error())
		writeError(w, rc, http.StatusUnauthorized, "signature verification failed")
		return
	}

	s.st.mu.Lock()
	defer s.st.mu.Unlock()
	// Enterprise/hosted: the tenant token must name the tenant.
	if s.st.tenantToken != "" && req.TenantToken != s.st.tenantToken {
		writeError(w, rc, http.StatusUnauthorized, errDevAuthUnauthorized.Error())
		return
	}
	now := s.now()
	a, d, err := s.st.submitAuth(idData, idStruct, pubkey, now)
	switch err {
	case nil:
	case errMaxDevices:
		// "error is always set to unauthorized, client does not need to know why"
		writeError(w, rc, http.StatusUnauthorized, "unauthorized")
		return
	default:
		writeError(w, rc, http.StatusUnauthorized, err.Error())
		return
	}
	ttl := s.st.tokenTTL(d, s.cfg.JWTTTL)
	c := claims{
		ID:        a.ID,
		Subject:   d.ID,
		Issuer:    "Mender",
		Tenant:    tenantID(s.st.tenantToken),
		ExpiresAt: now.Add(ttl).Unix(),
		IssuedAt:  now.Unix(),
		Device:    true,
		Plan:      "enterprise",
		Addons:    allAddonsEnabled,
	}
	s.st.tokenSeq++
	c.EmuSeq = s.st.tokenSeq
	raw, err := s.jwt.sign(c)
	if err != nil {
		writeError(w, rc, http.StatusInternalServerError, "internal error")
		return
	}
	s.st.tokens[a.ID] = &tokenRec{JTI: a.ID, DeviceID: d.ID, Expires: ts(now.Add(ttl)), Issued: ts(now)}
	d.issued = append(d.issued, tokenHash(raw))
	t := ts(now)
	d.CheckInTime = &t
	rc.DeviceID = d.ID
	w.Header().Set("Content-Type", "application/jwt")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write([]byte(raw))
}

// extractToken is DA extractToken: strip "Bearer"/"bearer" once, trim.
func extractToken(h string) string {
	t := strings.Replace(h, "Bearer", "", 1)
	t = strings.Replace(t, "bearer", "", 1)
	return strings.TrimSpace(t)
}

// deviceAuth emulates the gateway's forward-auth to
// /api/internal/v1/devauth/tokens/verify: a missing header is a JSON 401;
// an invalid, unknown or revoked token, or a device that is no longer
// accepted, is an empty 401; an expired token an empty 403 (configurable).
func (s *Server) deviceAuth(w http.ResponseWriter, r *http.Request, rc *reqCtx) bool {
	h := r.Header.Get("Authorization")
	if h == "" {
		reject(w, rc, http.StatusUnauthorized, vkAuthHeader, "Authorization not present in header")
		return false
	}
	if !strings.HasPrefix(h, "Bearer ") {
		rc.Violate(vkAuthHeader, "Authorization is not a Bearer token")
	}
	devID, status := s.verifyDeviceToken(extractToken(h))
	if status != 0 {
		w.WriteHeader(status)
		return false
	}
	rc.DeviceID = devID
	return true
}

// verifyDeviceToken is DA VerifyToken; 0 means valid.
func (s *Server) verifyDeviceToken(raw string) (string, int) {
	c, err := s.jwt.parse(raw)
	if err != nil || !c.Device {
		return "", http.StatusUnauthorized
	}
	s.st.mu.Lock()
	defer s.st.mu.Unlock()
	now := s.now()
	if c.expired(now) || s.st.expiredTokens[tokenHash(raw)] {
		return "", s.st.expiredStatus
	}
	if _, ok := s.st.tokens[c.ID]; !ok {
		return "", http.StatusUnauthorized
	}
	a := s.st.authsets[c.ID]
	if a == nil || a.Status != statusAccepted {
		return "", http.StatusUnauthorized
	}
	d := s.st.devices[a.DeviceID]
	if d == nil || d.Decommissioning {
		return "", http.StatusUnauthorized
	}
	t := ts(now)
	d.CheckInTime = &t
	return d.ID, 0
}
