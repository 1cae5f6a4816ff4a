package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"sbprov.test/emulators/emukit"
)

// ControlHandler serves the test-only control API (a separate listener,
// plain HTTP, never behind nginx). See README "Control API".
func (s *Server) ControlHandler() http.Handler {
	mux := s.ctl.Mux() // health, requests, violations, faults, reset
	mux.HandleFunc("/_emu/config", s.ctlConfig)
	mux.HandleFunc("/_emu/enrollments", s.ctlEnrollments)
	mux.HandleFunc("/_emu/registrations", s.ctlRegistrations)
	mux.HandleFunc("/_emu/devices", s.ctlDevices)
	mux.HandleFunc("/_emu/policies", s.ctlPolicies)
	mux.HandleFunc("/_emu/telemetry", s.ctlTelemetry)
	return mux
}

// reset (POST /_emu/reset): forget registrations, operations, hub
// devices and telemetry; enrollments, policies and settings go back to the
// command line's. emukit clears the faults and the logs.
func (s *Server) reset() error {
	s.st.mu.Lock()
	defer s.st.mu.Unlock()
	s.st.reset()
	return s.loadConfigured()
}

// parseDurationJSON accepts a Go duration string ("90s", "-2h") or a
// number of seconds.
func parseDurationJSON(raw json.RawMessage) (time.Duration, error) {
	t := bytes.TrimSpace(raw)
	if len(t) > 0 && t[0] == '"' {
		var s string
		if err := json.Unmarshal(t, &s); err != nil {
			return 0, err
		}
		return time.ParseDuration(s)
	}
	var f float64
	if err := json.Unmarshal(t, &f); err != nil {
		return 0, errors.New("want a duration string such as \"90s\" or a number of seconds")
	}
	return time.Duration(f * float64(time.Second)), nil
}

type ctlConfigJSON struct {
	HubHost              *string         `json:"hub_host"`
	IDScope              *string         `json:"id_scope"`
	AssignPolls          *int            `json:"assign_polls"`
	RetryAfter           *int            `json:"retry_after"`
	ImmediateAssign      *bool           `json:"immediate_assign"`
	ClockOffset          json.RawMessage `json:"clock_offset"`
	Skew                 json.RawMessage `json:"skew"`
	MaxTTL               json.RawMessage `json:"max_ttl"`
	StrictRegistrationID *bool           `json:"strict_registration_id"`
	MaxMessageBytes      *int64          `json:"max_message_bytes"`
}

// ctlConfig: GET shows, POST changes run-time settings (any subset).
func (s *Server) ctlConfig(w http.ResponseWriter, r *http.Request) {
	if !s.ctl.Allow(w, r, http.MethodGet, http.MethodPost) {
		return
	}
	if r.Method == http.MethodPost {
		b, err := emukit.ReadControlBody(r)
		var in ctlConfigJSON
		if err == nil {
			err = emukit.DecodeStrict(b, &in)
		}
		if err != nil {
			s.ctl.Error(w, http.StatusBadRequest, "%v", err)
			return
		}
		s.st.mu.Lock()
		set := s.st.set
		err = applyConfig(&set, &in)
		if err == nil {
			s.st.set = set
		}
		s.st.mu.Unlock()
		if err != nil {
			s.ctl.Error(w, http.StatusBadRequest, "%v", err)
			return
		}
	}
	s.st.mu.Lock()
	set := s.st.set
	now := s.nowLocked()
	s.st.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]interface{}{
		"hub_host":               set.HubHost,
		"id_scope":               set.IDScope,
		"assign_polls":           set.AssignPolls,
		"retry_after":            set.RetryAfter,
		"immediate_assign":       set.ImmediateAssign,
		"clock_offset":           set.ClockOffset.String(),
		"clock_offset_seconds":   set.ClockOffset.Seconds(),
		"skew":                   set.Skew.String(),
		"max_ttl":                set.MaxTTL.String(),
		"strict_registration_id": set.StrictRegistrationID,
		"max_message_bytes":      set.MaxMessageBytes,
		"server_time":            now.Format(time.RFC3339),
		"server_time_unix":       now.Unix(),
	})
}

func applyConfig(set *settings, in *ctlConfigJSON) error {
	if in.HubHost != nil {
		if err := validHost(*in.HubHost); err != nil {
			return err
		}
		set.HubHost = *in.HubHost
	}
	if in.IDScope != nil {
		if !validScope(*in.IDScope) {
			return fmt.Errorf("id_scope %q: want alphanumeric characters", *in.IDScope)
		}
		set.IDScope = *in.IDScope
	}
	if in.AssignPolls != nil {
		if *in.AssignPolls < 0 {
			return errors.New("assign_polls must not be negative")
		}
		set.AssignPolls = *in.AssignPolls
	}
	if in.RetryAfter != nil {
		if *in.RetryAfter < 0 {
			return errors.New("retry_after must not be negative")
		}
		set.RetryAfter = *in.RetryAfter
	}
	if in.ImmediateAssign != nil {
		set.ImmediateAssign = *in.ImmediateAssign
	}
	for _, d := range []struct {
		name string
		raw  json.RawMessage
		dst  *time.Duration
		neg  bool
	}{{"clock_offset", in.ClockOffset, &set.ClockOffset, true}, {"skew", in.Skew, &set.Skew, false},
		{"max_ttl", in.MaxTTL, &set.MaxTTL, false}} {
		if len(d.raw) == 0 {
			continue
		}
		v, err := parseDurationJSON(d.raw)
		if err != nil {
			return fmt.Errorf("%s: %v", d.name, err)
		}
		if v < 0 && !d.neg {
			return fmt.Errorf("%s must not be negative", d.name)
		}
		*d.dst = v
	}
	if in.StrictRegistrationID != nil {
		set.StrictRegistrationID = *in.StrictRegistrationID
	}
	if in.MaxMessageBytes != nil {
		if *in.MaxMessageBytes <= 0 {
			return errors.New("max_message_bytes must be positive")
		}
		set.MaxMessageBytes = *in.MaxMessageBytes
	}
	return nil
}

// ctlEnrollments: GET lists groups and individual enrollments (with keys);
// POST adds (or replaces) one or a list; DELETE removes one
// (?id_scope=&name= or ?id_scope=&registration_id=) or, without
// parameters, all.
func (s *Server) ctlEnrollments(w http.ResponseWriter, r *http.Request) {
	if !s.ctl.Allow(w, r, http.MethodGet, http.MethodPost, http.MethodDelete) {
		return
	}
	switch r.Method {
	case http.MethodGet:
		s.st.mu.Lock()
		g, i := s.st.enrollmentList()
		s.st.mu.Unlock()
		writeJSON(w, http.StatusOK, map[string]interface{}{"groups": g, "individuals": i})
	case http.MethodPost:
		b, err := emukit.ReadControlBody(r)
		var items []interface{}
		if err == nil {
			items, err = emukit.DecodeList(b, func() interface{} { return &enrollment{} })
		}
		if err != nil {
			s.ctl.Error(w, http.StatusBadRequest, "want an enrollment or a list of them: %v", err)
			return
		}
		s.st.mu.Lock()
		now := s.nowLocked()
		out := []*enrollment{}
		for _, it := range items {
			e := it.(*enrollment)
			if e.Type == "" {
				e.Type = "group"
				if e.RegistrationID != "" {
					e.Type = "individual"
				}
			}
			if err = s.st.addEnrollment(e, now); err != nil {
				break
			}
			out = append(out, e)
		}
		s.st.mu.Unlock()
		if err != nil {
			s.ctl.Error(w, http.StatusBadRequest, "%v", err)
			return
		}
		if len(out) == 1 && bytes.TrimSpace(b)[0] == '{' {
			writeJSON(w, http.StatusCreated, out[0])
			return
		}
		writeJSON(w, http.StatusCreated, out)
	case http.MethodDelete:
		q := r.URL.Query()
		s.st.mu.Lock()
		defer s.st.mu.Unlock()
		if q.Get("name") == "" && q.Get("registration_id") == "" {
			s.st.enrollments = map[string]*enrollment{}
			w.WriteHeader(http.StatusNoContent)
			return
		}
		scope := q.Get("id_scope")
		if scope == "" {
			scope = s.st.set.IDScope
		}
		id, typ := q.Get("name"), "group"
		if id == "" {
			id, typ = q.Get("registration_id"), "individual"
		}
		k := regKey(scope, id)
		if e := s.st.enrollments[k]; e == nil || e.Type != typ {
			s.ctl.Error(w, http.StatusNotFound, "no %s enrollment %s in scope %s", typ, id, scope)
			return
		}
		delete(s.st.enrollments, k)
		w.WriteHeader(http.StatusNoContent)
	}
}

// ctlRegistrations: GET the DPS registration records and operations;
// DELETE forgets one (?registration_id=[&id_scope=]) or all, so that the
// next registration is an initial assignment again.
func (s *Server) ctlRegistrations(w http.ResponseWriter, r *http.Request) {
	if !s.ctl.Allow(w, r, http.MethodGet, http.MethodDelete) {
		return
	}
	q := r.URL.Query()
	s.st.mu.Lock()
	defer s.st.mu.Unlock()
	if r.Method == http.MethodGet {
		writeJSON(w, http.StatusOK, map[string]interface{}{
			"registrations": s.st.registrationList(),
			"operations":    s.st.opList(),
		})
		return
	}
	rid := q.Get("registration_id")
	if rid == "" {
		s.st.registrations = map[string]*registration{}
		s.st.ops = map[string]*operation{}
		w.WriteHeader(http.StatusNoContent)
		return
	}
	scope := q.Get("id_scope")
	if scope == "" {
		scope = s.st.set.IDScope
	}
	if s.st.registrations[regKey(scope, rid)] == nil {
		s.ctl.Error(w, http.StatusNotFound, "no registration %s in scope %s", rid, scope)
		return
	}
	delete(s.st.registrations, regKey(scope, rid))
	w.WriteHeader(http.StatusNoContent)
}

type emuDevice struct {
	deviceJSON
	CreatedBy      string `json:"created_by"`
	Created        string `json:"created"`
	TelemetryCount int    `json:"telemetry_count"`
}

func toEmuDevice(d *hubDevice) emuDevice {
	return emuDevice{deviceJSON: d.toJSON(), CreatedBy: d.CreatedBy, Created: dotnetTime(d.Created), TelemetryCount: d.Telemetry}
}

// ctlDevices: GET the hub identity registry (?device_id= one); POST
// creates or replaces a device {"device_id", "primary_key"?,
// "secondary_key"?, "status"?}; DELETE removes one (?device_id=) or all.
func (s *Server) ctlDevices(w http.ResponseWriter, r *http.Request) {
	if !s.ctl.Allow(w, r, http.MethodGet, http.MethodPost, http.MethodDelete) {
		return
	}
	id := r.URL.Query().Get("device_id")
	switch r.Method {
	case http.MethodGet:
		s.st.mu.Lock()
		defer s.st.mu.Unlock()
		out := []emuDevice{}
		for _, d := range s.st.deviceList() {
			if id == "" || d.DeviceID == id {
				out = append(out, toEmuDevice(d))
			}
		}
		writeJSON(w, http.StatusOK, map[string]interface{}{"hub_host": s.st.set.HubHost, "devices": out})
	case http.MethodPost:
		var in struct {
			DeviceID     string `json:"device_id"`
			PrimaryKey   string `json:"primary_key"`
			SecondaryKey string `json:"secondary_key"`
			Status       string `json:"status"`
		}
		b, err := emukit.ReadControlBody(r)
		if err == nil {
			err = emukit.DecodeStrict(b, &in)
		}
		if err == nil && !deviceIDRE.MatchString(in.DeviceID) {
			err = fmt.Errorf("device_id %q is not a valid IoT Hub device id", in.DeviceID)
		}
		if err == nil && in.Status != "" && in.Status != "enabled" && in.Status != "disabled" {
			err = fmt.Errorf("status %q: want enabled or disabled", in.Status)
		}
		for _, k := range []string{in.PrimaryKey, in.SecondaryKey} {
			if err == nil && k != "" {
				_, err = decodeKey(k)
			}
		}
		if err != nil {
			s.ctl.Error(w, http.StatusBadRequest, "%v", err)
			return
		}
		s.st.mu.Lock()
		d := s.st.putDevice(in.DeviceID, func(d *hubDevice) {
			d.AuthType, d.PrimaryKey, d.SecondaryKey = "sas", in.PrimaryKey, in.SecondaryKey
			if in.Status != "" {
				d.Status = in.Status
			}
		}, "control", s.nowLocked())
		out := toEmuDevice(d)
		s.st.mu.Unlock()
		writeJSON(w, http.StatusCreated, out)
	case http.MethodDelete:
		s.st.mu.Lock()
		defer s.st.mu.Unlock()
		if id == "" {
			s.st.devices = map[string]*hubDevice{}
		} else if s.st.devices[id] == nil {
			s.ctl.Error(w, http.StatusNotFound, "no device %s", id)
			return
		}
		delete(s.st.devices, id)
		w.WriteHeader(http.StatusNoContent)
	}
}

// ctlPolicies: GET the hub's shared access policies (with keys); POST
// adds or replaces one {"name", "primary_key"?, "secondary_key"?,
// "permissions"?}; DELETE ?name= removes one.
func (s *Server) ctlPolicies(w http.ResponseWriter, r *http.Request) {
	if !s.ctl.Allow(w, r, http.MethodGet, http.MethodPost, http.MethodDelete) {
		return
	}
	switch r.Method {
	case http.MethodGet:
		s.st.mu.Lock()
		defer s.st.mu.Unlock()
		writeJSON(w, http.StatusOK, s.st.policyList())
	case http.MethodPost:
		var p policy
		b, err := emukit.ReadControlBody(r)
		if err == nil {
			err = emukit.DecodeStrict(b, &p)
		}
		if err == nil {
			if p.PrimaryKey == "" {
				p.PrimaryKey = newKey(32)
			}
			if p.SecondaryKey == "" {
				p.SecondaryKey = newKey(32)
			}
			err = p.normalize()
		}
		if err != nil {
			s.ctl.Error(w, http.StatusBadRequest, "%v", err)
			return
		}
		s.st.mu.Lock()
		s.st.policies[p.Name] = &p
		s.st.mu.Unlock()
		writeJSON(w, http.StatusCreated, p)
	case http.MethodDelete:
		name := r.URL.Query().Get("name")
		s.st.mu.Lock()
		defer s.st.mu.Unlock()
		if s.st.policies[name] == nil {
			s.ctl.Error(w, http.StatusNotFound, "no policy %q", name)
			return
		}
		delete(s.st.policies, name)
		w.WriteHeader(http.StatusNoContent)
	}
}

// ctlTelemetry: GET the recorded device-to-cloud messages
// (?device_id=&since=SEQ); DELETE forgets them.
func (s *Server) ctlTelemetry(w http.ResponseWriter, r *http.Request) {
	if !s.ctl.Allow(w, r, http.MethodGet, http.MethodDelete) {
		return
	}
	s.st.mu.Lock()
	defer s.st.mu.Unlock()
	if r.Method == http.MethodDelete {
		s.st.telemetry = nil
		w.WriteHeader(http.StatusNoContent)
		return
	}
	id, since := r.URL.Query().Get("device_id"), emukit.SinceParam(r)
	out := []telemetryMsg{}
	for _, m := range s.st.telemetry {
		if m.Seq > since && (id == "" || m.DeviceID == id) {
			out = append(out, m)
		}
	}
	writeJSON(w, http.StatusOK, out)
}
