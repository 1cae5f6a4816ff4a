package main

import (
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"sbprov.test/emulators/emukit"
)

// --- useradm ---------------------------------------------------------------

// handleLogin is useradm AuthLoginHandler: HTTP Basic, optional JSON body
// {"no_expiry": bool}; 200 with the raw JWT as application/jwt.
func (s *Server) handleLogin(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	user, pass, ok := r.BasicAuth()
	if !ok {
		rc.Violate(vkAuthHeader, "login without HTTP Basic authorization")
		writeError(w, rc, http.StatusUnauthorized, "invalid or missing auth header")
		return
	}
	var opts struct {
		NoExpiry bool `json:"no_expiry"`
	}
	if r.ContentLength != 0 && r.Body != nil {
		if err := json.NewDecoder(r.Body).Decode(&opts); err != nil {
			reject(w, rc, http.StatusBadRequest, vkSchema, err.Error())
			return
		}
	}
	want, known := s.cfg.Users[strings.ToLower(user)]
	if !known || subtle.ConstantTimeCompare([]byte(want), []byte(pass)) != 1 {
		writeError(w, rc, http.StatusUnauthorized, "unauthorized")
		return
	}
	now := s.now()
	ttl := s.cfg.UserJWTTTL
	if opts.NoExpiry {
		ttl = 100 * 365 * 24 * time.Hour
	}
	raw, err := s.jwt.sign(claims{
		ID:        emukit.NewUUID(),
		Subject:   userID(strings.ToLower(user)),
		Issuer:    "Mender",
		Tenant:    tenantID(s.cfg.TenantToken),
		ExpiresAt: now.Add(ttl).Unix(),
		IssuedAt:  now.Unix(),
		User:      true,
		Plan:      "enterprise",
	})
	if err != nil {
		writeError(w, rc, http.StatusInternalServerError, "internal error")
		return
	}
	w.Header().Set("Content-Type", "application/jwt")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write([]byte(raw))
}

// userID derives a stable UUID-shaped id from the e-mail.
func userID(email string) string {
	h := tokenHash("user:" + email)
	return h[0:8] + "-" + h[8:12] + "-4" + h[13:16] + "-8" + h[17:20] + "-" + h[20:32]
}

// handleCreatePAT is POST /api/management/v1/useradm/settings/tokens:
// {"name", "expires_in" <= 31536000} -> 200 raw token; 409 on a used name.
func (s *Server) handleCreatePAT(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	var req struct {
		Name      *string `json:"name"`
		ExpiresIn *int64  `json:"expires_in"`
	}
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		reject(w, rc, http.StatusBadRequest, vkSchema, "malformed request body: "+err.Error())
		return
	}
	if req.Name == nil || *req.Name == "" {
		reject(w, rc, http.StatusBadRequest, vkSchema, "name: cannot be blank.")
		return
	}
	if req.ExpiresIn != nil && (*req.ExpiresIn < 0 || *req.ExpiresIn > 31536000) {
		reject(w, rc, http.StatusBadRequest, vkSchema, "expires_in: must be no greater than 31536000.")
		return
	}
	s.st.mu.Lock()
	defer s.st.mu.Unlock()
	for _, n := range s.st.pats {
		if n == *req.Name {
			writeError(w, rc, http.StatusConflict, "Personal Access Token with a given name already exists")
			return
		}
	}
	tok := "pat-" + strings.ReplaceAll(emukit.NewUUID(), "-", "") + strings.ReplaceAll(emukit.NewUUID(), "-", "")
	s.st.pats[tok] = *req.Name
	w.Header().Set("Content-Type", "application/jwt")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write([]byte(tok))
}

// mgmtAuth emulates the gateway's forward-auth to useradm: a configured
// or created PAT, or an unexpired user JWT from login; else JSON 401.
func (s *Server) mgmtAuth(w http.ResponseWriter, r *http.Request, rc *reqCtx) bool {
	h := r.Header.Get("Authorization")
	if h == "" {
		reject(w, rc, http.StatusUnauthorized, vkAuthHeader, "Authorization not present in header")
		return false
	}
	if !strings.HasPrefix(h, "Bearer ") {
		reject(w, rc, http.StatusUnauthorized, vkAuthHeader, "invalid jwt")
		return false
	}
	tok := strings.TrimSpace(strings.TrimPrefix(h, "Bearer "))
	for _, p := range s.cfg.PATs {
		if subtle.ConstantTimeCompare([]byte(p), []byte(tok)) == 1 {
			return true
		}
	}
	s.st.mu.Lock()
	_, isPAT := s.st.pats[tok]
	s.st.mu.Unlock()
	if isPAT {
		return true
	}
	c, err := s.jwt.parse(tok)
	if err != nil || !c.User || c.expired(s.now()) {
		writeError(w, rc, http.StatusUnauthorized, "invalid jwt")
		return false
	}
	return true
}

// --- deviceauth management v2 -----------------------------------------------

type preAuthReq struct {
	Force  bool                   `json:"force"`
	IdData map[string]interface{} `json:"identity_data"`
	PubKey string                 `json:"pubkey"`
}

// handlePreauthorize is PostDevicesV2Handler: 201 + relative Location and
// an empty body; 409 with the conflicting device; 400 on a bad body or key.
func (s *Server) handlePreauthorize(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	const prefix = "failed to decode preauth request: "
	var req preAuthReq
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		reject(w, rc, http.StatusBadRequest, vkSchema, prefix+err.Error())
		return
	}
	if len(req.IdData) == 0 {
		reject(w, rc, http.StatusBadRequest, vkSchema, prefix+"identity_data: cannot be blank.")
		return
	}
	if req.PubKey == "" {
		reject(w, rc, http.StatusBadRequest, vkSchema, prefix+"pubkey: cannot be blank.")
		return
	}
	_, pubkey, err := normalizePubKey(req.PubKey)
	if err != nil {
		reject(w, rc, http.StatusBadRequest, vkSchema, prefix+err.Error())
		return
	}
	enc, err := json.Marshal(req.IdData)
	if err != nil {
		reject(w, rc, http.StatusBadRequest, vkSchema, prefix+err.Error())
		return
	}
	// Same canonical form an auth request's id_data string gets.
	idData, idStruct, err := canonicalIdentity(string(enc))
	if err != nil {
		reject(w, rc, http.StatusBadRequest, vkSchema, prefix+err.Error())
		return
	}
	s.st.mu.Lock()
	defer s.st.mu.Unlock()
	d, created, location := s.st.preauthorize(idData, idStruct, pubkey, req.Force, s.now())
	if !created {
		writeJSON(w, http.StatusConflict, d.toJSON(false))
		return
	}
	w.Header().Set("Location", "devices/"+location)
	w.WriteHeader(http.StatusCreated)
}

// parsePaging is rest.ParsePagingParameters.
func parsePaging(q url.Values) (page, perPage int64, err error) {
	page, perPage = 1, 20
	if v := q.Get("page"); v != "" {
		page, err = strconv.ParseInt(v, 10, 64)
		if err != nil {
			return 0, 0, fmt.Errorf("invalid page query: \"%s\"", v)
		}
		if page < 1 {
			return 0, 0, fmt.Errorf("invalid page query: value must be a non-zero positive integer")
		}
	}
	if v := q.Get("per_page"); v != "" {
		perPage, err = strconv.ParseInt(v, 10, 64)
		if err != nil {
			return 0, 0, fmt.Errorf("invalid per_page query: \"%s\"", v)
		}
		if perPage < 1 {
			return 0, 0, fmt.Errorf("invalid per_page query: value must be a non-zero positive integer")
		}
		if perPage > 500 {
			return 0, 0, fmt.Errorf(`parameter "per_page" above limit (max: %d)`, 500)
		}
	}
	return page, perPage, nil
}

// pagingLinks is rest.MakePagingHeaders with HasNext: first, prev, next.
func pagingLinks(u *url.URL, page, perPage int64, hasNext bool) []string {
	loc := url.URL{Path: u.Path, RawQuery: u.RawQuery}
	q := loc.Query()
	q.Set("per_page", strconv.FormatInt(perPage, 10))
	q.Set("page", "1")
	loc.RawQuery = q.Encode()
	links := []string{fmt.Sprintf("<%s>; rel=\"first\"", loc.String())}
	if page > 1 {
		q.Set("page", strconv.FormatInt(page-1, 10))
		loc.RawQuery = q.Encode()
		links = append(links, fmt.Sprintf("<%s>; rel=\"prev\"", loc.String()))
	}
	if hasNext {
		q.Set("page", strconv.FormatInt(page+1, 10))
		loc.RawQuery = q.Encode()
		links = append(links, fmt.Sprintf("<%s>; rel=\"next\"", loc.String()))
	}
	return links
}

func validStatusFilter(list []string) bool {
	for _, st := range list {
		ok := false
		for _, v := range allDeviceStatuses {
			if st == v {
				ok = true
			}
		}
		if !ok {
			return false
		}
	}
	return true
}

const errStatusFilter = "filter status must be one of: accepted, pending, rejected, preauthorized or noauth"

func (s *Server) listDevices(w http.ResponseWriter, r *http.Request, rc *reqCtx, statuses, ids []string) {
	page, perPage, err := parsePaging(r.URL.Query())
	if err != nil {
		reject(w, rc, http.StatusBadRequest, vkSchema, err.Error())
		return
	}
	if !validStatusFilter(statuses) {
		reject(w, rc, http.StatusBadRequest, vkSchema, errStatusFilter)
		return
	}
	s.st.mu.Lock()
	all := s.st.listDevices(statuses, ids)
	skip := (page - 1) * perPage
	out := []deviceJSON{}
	hasNext := false
	for i := skip; i < int64(len(all)); i++ {
		if int64(len(out)) == perPage {
			hasNext = true
			break
		}
		out = append(out, all[i].toJSON(true))
	}
	s.st.mu.Unlock()
	for _, l := range pagingLinks(r.URL, page, perPage, hasNext) {
		w.Header().Add("Link", l)
	}
	writeJSON(w, http.StatusOK, out)
}

// handleDevicesList is GetDevicesV2Handler (?status=&id=&page=&per_page=).
func (s *Server) handleDevicesList(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	q := r.URL.Query()
	s.listDevices(w, r, rc, q["status"], q["id"])
}

// handleDevicesSearch is SearchDevicesV2Handler with a JSON filter
// {"status": string|[string], "id": string|[string]}.
func (s *Server) handleDevicesSearch(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	var raw struct {
		Status interface{} `json:"status"`
		ID     interface{} `json:"id"`
	}
	body, _ := io.ReadAll(r.Body)
	if len(body) > 0 {
		if err := json.Unmarshal(body, &raw); err != nil {
			reject(w, rc, http.StatusBadRequest, vkSchema, "api: malformed request body: "+err.Error())
			return
		}
	}
	strs := func(v interface{}) ([]string, bool) {
		switch t := v.(type) {
		case nil:
			return nil, true
		case string:
			return []string{t}, true
		case []interface{}:
			out := []string{}
			for _, e := range t {
				s, ok := e.(string)
				if !ok {
					return nil, false
				}
				out = append(out, s)
			}
			return out, true
		}
		return nil, false
	}
	statuses, ok1 := strs(raw.Status)
	ids, ok2 := strs(raw.ID)
	if !ok1 || !ok2 {
		reject(w, rc, http.StatusBadRequest, vkSchema,
			"api: malformed request body: invalid JSON type for 'status' or 'id': must be string or []string")
		return
	}
	s.listDevices(w, r, rc, statuses, ids)
}

// handleDevicesCount is GetDevicesCountHandler.
func (s *Server) handleDevicesCount(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	status := r.URL.Query().Get("status")
	if status != "" && !validStatusFilter([]string{status}) {
		reject(w, rc, http.StatusBadRequest, vkSchema,
			"status must be one of: pending, accepted, rejected, preauthorized, noauth")
		return
	}
	s.st.mu.Lock()
	n := 0
	for _, d := range s.st.devices {
		if status == "" || d.Status == status {
			n++
		}
	}
	s.st.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]int{"count": n})
}

func (s *Server) handleDeviceGet(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	s.st.mu.Lock()
	defer s.st.mu.Unlock()
	d := s.st.devices[rc.params["id"]]
	if d == nil {
		writeError(w, rc, http.StatusNotFound, errDevNotFound.Error())
		return
	}
	writeJSON(w, http.StatusOK, d.toJSON(true))
}

// handleDecommission is DecommissionDeviceHandler: 204, or an empty 404.
func (s *Server) handleDecommission(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	s.st.mu.Lock()
	defer s.st.mu.Unlock()
	if err := s.st.decommission(rc.params["id"]); err != nil {
		w.WriteHeader(http.StatusNotFound)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// handleDeleteAuthSet is DeleteDeviceAuthSetHandler: 204, or an empty 404.
func (s *Server) handleDeleteAuthSet(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	s.st.mu.Lock()
	defer s.st.mu.Unlock()
	if err := s.st.deleteAuthSet(rc.params["id"], rc.params["aid"], s.now()); err != nil {
		w.WriteHeader(http.StatusNotFound)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) handleGetAuthSetStatus(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	s.st.mu.Lock()
	defer s.st.mu.Unlock()
	a := s.st.authsets[rc.params["aid"]]
	if a == nil {
		writeError(w, rc, http.StatusNotFound, errAuthSetNotFound.Error())
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": a.Status})
}

// handleSetAuthSetStatus is UpdateDeviceStatusHandler.
func (s *Server) handleSetAuthSetStatus(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	var req struct {
		Status string `json:"status"`
	}
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		reject(w, rc, http.StatusBadRequest, vkSchema, "failed to decode status data: "+err.Error())
		return
	}
	switch req.Status {
	case statusAccepted, statusRejected, statusPending:
	default:
		reject(w, rc, http.StatusBadRequest, vkSchema, "incorrect device status")
		return
	}
	s.st.mu.Lock()
	defer s.st.mu.Unlock()
	err := s.st.setAuthSetStatus(rc.params["id"], rc.params["aid"], req.Status, s.now())
	switch err {
	case nil:
		w.WriteHeader(http.StatusNoContent)
	case errDevNotFound, errAuthSetNotFound:
		writeError(w, rc, http.StatusNotFound, err.Error())
	case errDevIDAuthIDMismatch, errDevAuthBadRequest:
		writeError(w, rc, http.StatusBadRequest, err.Error())
	case errMaxDevices:
		writeError(w, rc, http.StatusUnprocessableEntity, err.Error())
	default:
		writeError(w, rc, http.StatusInternalServerError, "internal error")
	}
}

// handleRevokeToken is DeleteTokenHandler: 204, or an empty 404.
func (s *Server) handleRevokeToken(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	s.st.mu.Lock()
	defer s.st.mu.Unlock()
	id := rc.params["id"]
	if _, ok := s.st.tokens[id]; !ok {
		w.WriteHeader(http.StatusNotFound)
		return
	}
	delete(s.st.tokens, id)
	w.WriteHeader(http.StatusNoContent)
}

// handleLimit is GetLimitHandler; an unlimited server answers -1.
func (s *Server) handleLimit(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	name := rc.params["name"]
	if name != "max_devices" {
		reject(w, rc, http.StatusBadRequest, vkSchema, "unsupported limit "+name)
		return
	}
	s.st.mu.Lock()
	limit := int64(s.st.maxDevices)
	s.st.mu.Unlock()
	if limit <= 0 {
		limit = -1
	}
	writeJSON(w, http.StatusOK, map[string]int64{"limit": limit})
}
