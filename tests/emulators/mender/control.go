package main

import (
	"io"
	"net/http"
	"sort"
	"time"

	"sbprov.test/emulators/emukit"
)

// ControlHandler serves the test-only control API (a separate listener,
// plain HTTP, never behind nginx). See README "Control API".
func (s *Server) ControlHandler() http.Handler {
	mux := s.ctl.Mux() // health, requests, violations, faults, reset
	mux.HandleFunc("/_emu/devices", s.ctlDevices)
	mux.HandleFunc("/_emu/deployments", s.ctlDeployments)
	mux.HandleFunc("/_emu/v2next", s.ctlV2Next)
	mux.HandleFunc("/_emu/expire-token", s.ctlExpireToken)
	mux.HandleFunc("/_emu/revoke", s.ctlRevoke)
	mux.HandleFunc("/_emu/set-status", s.ctlSetStatus)
	mux.HandleFunc("/_emu/config", s.ctlConfig)
	mux.HandleFunc("/_emu/jwt-key", s.ctlJWTKey)
	return mux
}

type emuToken struct {
	tokenRec
	Expired bool `json:"expired"`
}

type emuDevice struct {
	deviceJSON
	IdentityCanonical string      `json:"identity_canonical"`
	Inventory         []attribute `json:"inventory"`
	InventoryTS       *time.Time  `json:"inventory_updated_ts,omitempty"`
	Tokens            []emuToken  `json:"tokens"`
	TokenTTL          string      `json:"token_ttl,omitempty"`
}

// ctlDevices: GET the whole state (?id= and ?status= filter devices).
func (s *Server) ctlDevices(w http.ResponseWriter, r *http.Request) {
	if !s.ctl.Allow(w, r, http.MethodGet) {
		return
	}
	q := r.URL.Query()
	s.st.mu.Lock()
	defer s.st.mu.Unlock()
	now := s.now()
	devs := []emuDevice{}
	for _, d := range s.st.listDevices(q["status"], q["id"]) {
		ed := emuDevice{
			deviceJSON:        d.toJSON(true),
			IdentityCanonical: d.IdData,
			Inventory:         append([]attribute{}, d.Inventory...),
			InventoryTS:       d.InventoryTS,
			Tokens:            []emuToken{},
		}
		if d.TokenTTL != 0 {
			ed.TokenTTL = d.TokenTTL.String()
		}
		for _, t := range s.st.tokens {
			if t.DeviceID == d.ID {
				ed.Tokens = append(ed.Tokens, emuToken{tokenRec: *t, Expired: t.Expires.Before(now)})
			}
		}
		devs = append(devs, ed)
	}
	deps := []*deployment{}
	for _, d := range s.st.deployments {
		deps = append(deps, d)
	}
	sort.Slice(deps, func(i, j int) bool { return deps[i].DeviceID < deps[j].DeviceID })
	writeJSON(w, http.StatusOK, map[string]interface{}{
		"devices":     devs,
		"deployments": deps,
		"v2next":      s.st.v2next,
		"max_devices": s.st.maxDevices,
		"pats":        len(s.st.pats),
	})
}

// reset (POST /_emu/reset): forget devices, tokens and deployments; the
// run-time configuration goes back to the command line's. emukit clears
// the faults and the logs.
func (s *Server) reset() error {
	s.st.mu.Lock()
	s.st.reset()
	s.st.maxDevices = s.cfg.MaxDevices
	s.st.expiredStatus = s.cfg.ExpiredStatus
	s.st.decommissionDelay = s.cfg.DecommissionDelay
	s.st.tenantToken = s.cfg.TenantToken
	s.st.mu.Unlock()
	return nil
}

// ctlDeployments: POST configures a pending deployment for a device id (or
// "*" for every device); GET lists; DELETE removes (?device_id= one).
func (s *Server) ctlDeployments(w http.ResponseWriter, r *http.Request) {
	if !s.ctl.Allow(w, r, http.MethodGet, http.MethodPost, http.MethodDelete) {
		return
	}
	s.st.mu.Lock()
	defer s.st.mu.Unlock()
	switch r.Method {
	case http.MethodGet:
		deps := []*deployment{}
		for _, d := range s.st.deployments {
			deps = append(deps, d)
		}
		writeJSON(w, http.StatusOK, deps)
	case http.MethodDelete:
		if id := r.URL.Query().Get("device_id"); id != "" {
			delete(s.st.deployments, id)
		} else {
			s.st.deployments = map[string]*deployment{}
		}
		w.WriteHeader(http.StatusNoContent)
	case http.MethodPost:
		var in struct {
			DeviceID     string   `json:"device_id"`
			ID           string   `json:"id"`
			ArtifactID   string   `json:"artifact_id"`
			ArtifactName string   `json:"artifact_name"`
			URI          string   `json:"uri"`
			Expire       string   `json:"expire"`
			DeviceTypes  []string `json:"device_types_compatible"`
		}
		if err := emukit.DecodeBody(r, &in); err != nil {
			s.ctl.Error(w, http.StatusBadRequest, "%v", err)
			return
		}
		if in.DeviceID == "" || in.ArtifactName == "" {
			s.ctl.Error(w, http.StatusBadRequest, "device_id and artifact_name are required")
			return
		}
		dep := &deployment{
			ID: in.ID, DeviceID: in.DeviceID, ArtifactID: in.ArtifactID, ArtifactName: in.ArtifactName,
			URI: in.URI, DeviceTypes: in.DeviceTypes,
			Statuses: map[string]string{}, Finished: map[string]string{},
			Expire: ts(s.now().Add(24 * time.Hour)),
		}
		if dep.ID == "" {
			dep.ID = emukit.NewUUID()
		}
		if dep.ArtifactID == "" {
			dep.ArtifactID = emukit.NewUUID()
		}
		if dep.URI == "" {
			dep.URI = "https://artifacts.invalid/" + dep.ArtifactID
		}
		if in.Expire != "" {
			t, err := time.Parse(time.RFC3339, in.Expire)
			if err != nil {
				s.ctl.Error(w, http.StatusBadRequest, "expire: %v", err)
				return
			}
			dep.Expire = t
		}
		s.st.deployments[in.DeviceID] = dep
		writeJSON(w, http.StatusCreated, dep)
	}
}

// ctlV2Next: POST {"enabled": bool} (no body = enable) turns on the v2
// deployments/next route, which answers 404 otherwise.
func (s *Server) ctlV2Next(w http.ResponseWriter, r *http.Request) {
	if !s.ctl.Allow(w, r, http.MethodPost) {
		return
	}
	in := struct {
		Enabled *bool `json:"enabled"`
	}{}
	if err := emukit.DecodeBody(r, &in); err != nil {
		s.ctl.Error(w, http.StatusBadRequest, "%v", err)
		return
	}
	s.st.mu.Lock()
	s.st.v2next = in.Enabled == nil || *in.Enabled
	on := s.st.v2next
	s.st.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]bool{"enabled": on})
}

func parseDurationField(v string) (time.Duration, error) {
	if v == "" {
		return 0, nil
	}
	return time.ParseDuration(v)
}

// ctlExpireToken: POST {"device_id": ID|"*", "ttl": "2s"} makes future
// tokens of the device (or of all devices) live that long ("0" = the
// -jwt-ttl default; negative = issued already expired); "now": true makes
// every token issued so far to the device count as expired.
func (s *Server) ctlExpireToken(w http.ResponseWriter, r *http.Request) {
	if !s.ctl.Allow(w, r, http.MethodPost) {
		return
	}
	var in struct {
		DeviceID string `json:"device_id"`
		TTL      string `json:"ttl"`
		Now      bool   `json:"now"`
	}
	if err := emukit.DecodeBody(r, &in); err != nil {
		s.ctl.Error(w, http.StatusBadRequest, "%v", err)
		return
	}
	ttl, err := parseDurationField(in.TTL)
	if err != nil {
		s.ctl.Error(w, http.StatusBadRequest, "ttl: %v", err)
		return
	}
	if in.DeviceID == "" {
		s.ctl.Error(w, http.StatusBadRequest, "device_id is required (a device id or \"*\")")
		return
	}
	s.st.mu.Lock()
	defer s.st.mu.Unlock()
	var targets []*device
	if in.DeviceID == "*" {
		if in.TTL != "" {
			s.st.globalTokenTTL = ttl
		}
		for _, d := range s.st.devices {
			targets = append(targets, d)
		}
	} else {
		d := s.st.devices[in.DeviceID]
		if d == nil {
			s.ctl.Error(w, http.StatusNotFound, "no device %s", in.DeviceID)
			return
		}
		if in.TTL != "" {
			d.TokenTTL = ttl
		}
		targets = []*device{d}
	}
	n := 0
	if in.Now {
		for _, d := range targets {
			for _, h := range d.issued {
				s.st.expiredTokens[h] = true
				n++
			}
		}
	}
	writeJSON(w, http.StatusOK, map[string]interface{}{"devices": len(targets), "expired_tokens": n})
}

// ctlRevoke: POST {"device_id"} deletes the device's tokens (then 401).
func (s *Server) ctlRevoke(w http.ResponseWriter, r *http.Request) {
	if !s.ctl.Allow(w, r, http.MethodPost) {
		return
	}
	var in struct {
		DeviceID string `json:"device_id"`
	}
	if err := emukit.DecodeBody(r, &in); err != nil {
		s.ctl.Error(w, http.StatusBadRequest, "%v", err)
		return
	}
	s.st.mu.Lock()
	defer s.st.mu.Unlock()
	if s.st.devices[in.DeviceID] == nil {
		s.ctl.Error(w, http.StatusNotFound, "no device %s", in.DeviceID)
		return
	}
	s.st.deleteDeviceTokens(in.DeviceID)
	w.WriteHeader(http.StatusNoContent)
}

// ctlSetStatus: POST {"device_id", "auth_id"?, "status"} changes an auth
// set's status with the management API's rules, without a login (auth_id
// defaults to the device's newest auth set).
func (s *Server) ctlSetStatus(w http.ResponseWriter, r *http.Request) {
	if !s.ctl.Allow(w, r, http.MethodPost) {
		return
	}
	var in struct {
		DeviceID string `json:"device_id"`
		AuthID   string `json:"auth_id"`
		Status   string `json:"status"`
	}
	if err := emukit.DecodeBody(r, &in); err != nil {
		s.ctl.Error(w, http.StatusBadRequest, "%v", err)
		return
	}
	s.st.mu.Lock()
	defer s.st.mu.Unlock()
	d := s.st.devices[in.DeviceID]
	if d == nil || len(d.AuthSets) == 0 {
		s.ctl.Error(w, http.StatusNotFound, "no device %s with auth sets", in.DeviceID)
		return
	}
	if in.AuthID == "" {
		in.AuthID = d.AuthSets[len(d.AuthSets)-1].ID
	}
	if err := s.st.setAuthSetStatus(in.DeviceID, in.AuthID, in.Status, s.now()); err != nil {
		code := http.StatusBadRequest
		switch err {
		case errAuthSetNotFound, errDevNotFound:
			code = http.StatusNotFound
		case errMaxDevices:
			code = http.StatusUnprocessableEntity
		}
		s.ctl.Error(w, code, "%v", err)
		return
	}
	writeJSON(w, http.StatusOK, d.toJSON(true))
}

type ctlConfigJSON struct {
	MaxDevices        *int    `json:"max_devices,omitempty"`
	TenantToken       *string `json:"tenant_token,omitempty"`
	ExpiredStatus     *int    `json:"expired_status,omitempty"`
	JWTTTL            *string `json:"jwt_ttl,omitempty"`
	DecommissionDelay *string `json:"decommission_delay,omitempty"`
}

// ctlConfig: GET shows, POST changes run-time settings (any subset of
// max_devices, tenant_token, expired_status, jwt_ttl, decommission_delay).
func (s *Server) ctlConfig(w http.ResponseWriter, r *http.Request) {
	if !s.ctl.Allow(w, r, http.MethodGet, http.MethodPost) {
		return
	}
	s.st.mu.Lock()
	defer s.st.mu.Unlock()
	if r.Method == http.MethodPost {
		var in ctlConfigJSON
		if err := emukit.DecodeBody(r, &in); err != nil {
			s.ctl.Error(w, http.StatusBadRequest, "%v", err)
			return
		}
		if in.ExpiredStatus != nil && *in.ExpiredStatus != 401 && *in.ExpiredStatus != 403 {
			s.ctl.Error(w, http.StatusBadRequest, "expired_status must be 401 or 403")
			return
		}
		var ttl, delay time.Duration
		var err error
		if in.JWTTTL != nil {
			if ttl, err = time.ParseDuration(*in.JWTTTL); err != nil {
				s.ctl.Error(w, http.StatusBadRequest, "jwt_ttl: %v", err)
				return
			}
		}
		if in.DecommissionDelay != nil {
			if delay, err = time.ParseDuration(*in.DecommissionDelay); err != nil {
				s.ctl.Error(w, http.StatusBadRequest, "decommission_delay: %v", err)
				return
			}
		}
		if in.MaxDevices != nil {
			s.st.maxDevices = *in.MaxDevices
		}
		if in.TenantToken != nil {
			s.st.tenantToken = *in.TenantToken
		}
		if in.ExpiredStatus != nil {
			s.st.expiredStatus = *in.ExpiredStatus
		}
		if in.JWTTTL != nil {
			s.st.globalTokenTTL = ttl
		}
		if in.DecommissionDelay != nil {
			s.st.decommissionDelay = delay
		}
	}
	ttl := s.cfg.JWTTTL
	if s.st.globalTokenTTL != 0 {
		ttl = s.st.globalTokenTTL
	}
	writeJSON(w, http.StatusOK, map[string]interface{}{
		"max_devices":        s.st.maxDevices,
		"tenant_token":       s.st.tenantToken,
		"expired_status":     s.st.expiredStatus,
		"jwt_ttl":            ttl.String(),
		"jwt_alg":            s.jwt.alg,
		"decommission_delay": s.st.decommissionDelay.String(),
		"v2next":             s.st.v2next,
	})
}

// ctlJWTKey: GET the server's JWT public key (PEM).
func (s *Server) ctlJWTKey(w http.ResponseWriter, r *http.Request) {
	if !s.ctl.Allow(w, r, http.MethodGet) {
		return
	}
	w.Header().Set("Content-Type", "application/x-pem-file")
	_, _ = io.WriteString(w, s.jwt.publicKeyPEM())
}
