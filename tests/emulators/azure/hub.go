package main

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"sort"
	"strings"
	"unicode/utf8"
)

// deviceIDRE: IoT Hub device ids, up to 128 ASCII characters: alphanumeric
// plus - . + % _ # * ? ! ( ) , = @ $ ' (and : ; that older documentation
// and the .NET SDK allow).
var deviceIDRE = regexp.MustCompile(`^[A-Za-z0-9\-:.+%_#*?!(),=@;$']{1,128}$`)

// hubAuthFail answers 401 IotHubUnauthorizedAccess; the message carries
// the reason after the service's own "Unauthorized".
func (s *Server) hubAuthFail(w http.ResponseWriter, rc *reqCtx, f *authFailure) {
	rc.noteAuth("", f.reason)
	if f.kind != "" {
		rc.Violate(f.kind, f.reason)
	}
	s.hubError(w, rc, http.StatusUnauthorized, "IotHubUnauthorizedAccess", "Unauthorized: "+f.reason)
}

// hubAuth verifies an IoT Hub SAS token for the resource
// {hubHost}/devices/{deviceId}{suffix} and the permission the operation
// needs. A token without skn is signed with the device's own key and only
// grants DeviceConnect for that device; a token with skn=<policy> is
// signed with the policy's key and grants the policy's permissions. It
// returns the principal ("device:<key>" or "policy:<name>").
func (s *Server) hubAuth(w http.ResponseWriter, r *http.Request, rc *reqCtx, deviceID, perm, suffix string) (string, bool) {
	fail := func(f *authFailure) (string, bool) {
		s.hubAuthFail(w, rc, f)
		return "", false
	}
	tok, f := parseSAS(r.Header.Get("Authorization"))
	if f != nil {
		return fail(f)
	}
	s.st.mu.Lock()
	set := s.st.set
	now := s.nowLocked()
	var dev *hubDevice
	if d := s.st.devices[deviceID]; d != nil {
		cp := *d
		dev = &cp
	}
	var pol *policy
	if tok.SKN != "" {
		if p := s.st.policies[tok.SKN]; p != nil {
			cp := *p
			pol = &cp
		}
	}
	s.st.mu.Unlock()

	if f := tok.checkTime(now, set.Skew, set.MaxTTL); f != nil {
		return fail(f)
	}
	audience := strings.TrimRight(tok.SR, "/")
	host := audience
	if i := strings.Index(audience, "/"); i >= 0 {
		host = audience[:i]
	}
	if !strings.EqualFold(host, set.HubHost) {
		return fail(&authFailure{kind: vkSASScope, reason: fmt.Sprintf(
			"sr=%q names host %q, not the hub host name %q (the SAS resource uses the hub's host name, "+
				"whatever URL the request is sent to)", tok.SRRaw, host, set.HubHost)})
	}
	target := set.HubHost + "/devices/" + deviceID + suffix
	if !covers(audience, target) {
		return fail(&authFailure{kind: vkSASScope, reason: fmt.Sprintf(
			"sr=%q (decoded %q) does not cover the resource %q", tok.SRRaw, tok.SR, target)})
	}
	if tok.SKN == "" {
		if len(strings.Split(audience, "/")) < 3 {
			return fail(&authFailure{kind: vkSASScope, reason: fmt.Sprintf(
				"a token signed with a device key (no skn) needs sr={hubHost}/devices/{deviceId}, got %q", tok.SR)})
		}
		if perm != permDeviceConnect {
			return fail(&authFailure{reason: fmt.Sprintf(
				"a device token (no skn) grants DeviceConnect only; this operation needs %s from a shared access policy (skn=...)", perm)})
		}
		if dev == nil {
			return fail(&authFailure{reason: fmt.Sprintf("device %q is not registered in the hub", deviceID)})
		}
		if dev.AuthType != "sas" {
			return fail(&authFailure{reason: fmt.Sprintf("device %q uses %s authentication, not symmetric keys", deviceID, dev.AuthType)})
		}
		i := tok.matchKey(dev.PrimaryKey, dev.SecondaryKey)
		if i < 0 {
			return fail(&authFailure{kind: vkSignature, reason: fmt.Sprintf(
				"the signature does not verify with the primary or secondary key of device %q", deviceID)})
		}
		if dev.Status != "enabled" {
			return fail(&authFailure{reason: fmt.Sprintf("device %q is disabled", deviceID)})
		}
		principal := "device:primary"
		if i == 1 {
			principal = "device:secondary"
		}
		rc.noteAuth(principal, "")
		return principal, true
	}
	if pol == nil {
		return fail(&authFailure{reason: fmt.Sprintf("no shared access policy named %q (skn)", tok.SKN)})
	}
	if tok.matchKey(pol.PrimaryKey, pol.SecondaryKey) < 0 {
		return fail(&authFailure{kind: vkSignature, reason: fmt.Sprintf(
			"the signature does not verify with the primary or secondary key of policy %q", pol.Name)})
	}
	if !pol.has(perm) {
		return fail(&authFailure{reason: fmt.Sprintf("policy %q (%s) does not grant %s", pol.Name,
			strings.Join(pol.Permissions, ", "), perm)})
	}
	rc.noteAuth("policy:"+pol.Name, "")
	return "policy:" + pol.Name, true
}

func (s *Server) checkDeviceID(w http.ResponseWriter, rc *reqCtx, id string) bool {
	if !deviceIDRE.MatchString(id) {
		s.hubReject(w, rc, http.StatusBadRequest, "ArgumentInvalid", vkSchema, fmt.Sprintf(
			"device id %q is invalid: want 1 to 128 ASCII alphanumeric characters or - . + %% _ # * ? ! ( ) , = @ $ ' : ;", id))
		return false
	}
	return true
}

func (s *Server) writeDevice(w http.ResponseWriter, d deviceJSON) {
	w.Header().Set("ETag", `"`+d.ETag+`"`)
	writeJSON(w, http.StatusOK, d)
}

// parseIfMatch: "*", or a quoted entity tag ("x" or W/"x"). IoT Hub
// refuses an unquoted etag with 412 "Invalid ETag".
func parseIfMatch(v string) (star bool, etag string, ok bool) {
	v = strings.TrimSpace(v)
	if v == "*" {
		return true, "", true
	}
	v = strings.TrimPrefix(v, "W/")
	if len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' {
		return false, v[1 : len(v)-1], true
	}
	return false, "", false
}

func (s *Server) deviceNotFound(w http.ResponseWriter, rc *reqCtx, id string) {
	s.hubError(w, rc, http.StatusNotFound, "DeviceNotFound", fmt.Sprintf("Device %s not registered", id))
}

// handleGetDevice: GET /devices/{id} (RegistryRead).
func (s *Server) handleGetDevice(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	id := rc.params["id"]
	if !s.checkDeviceID(w, rc, id) {
		return
	}
	if _, ok := s.hubAuth(w, r, rc, id, permRegistryRead, ""); !ok {
		return
	}
	s.st.mu.Lock()
	d := s.st.devices[id]
	var out deviceJSON
	if d != nil {
		out = d.toJSON()
	}
	s.st.mu.Unlock()
	if d == nil {
		s.deviceNotFound(w, rc, id)
		return
	}
	s.writeDevice(w, out)
}

type devicePutJSON struct {
	DeviceID       *string `json:"deviceId"`
	Status         *string `json:"status"`
	StatusReason   *string `json:"statusReason"`
	Authentication *struct {
		Type         *string `json:"type"`
		SymmetricKey *struct {
			PrimaryKey   *string `json:"primaryKey"`
			SecondaryKey *string `json:"secondaryKey"`
		} `json:"symmetricKey"`
		X509Thumbprint *struct {
			PrimaryThumbprint   *string `json:"primaryThumbprint"`
			SecondaryThumbprint *string `json:"secondaryThumbprint"`
		} `json:"x509Thumbprint"`
	} `json:"authentication"`
	Capabilities *struct {
		IoTEdge *bool `json:"iotEdge"`
	} `json:"capabilities"`
}

func nonEmpty(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

// handlePutDevice: PUT /devices/{id} (RegistryWrite), create or update.
func (s *Server) handlePutDevice(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	id := rc.params["id"]
	if !s.checkDeviceID(w, rc, id) {
		return
	}
	if _, ok := s.hubAuth(w, r, rc, id, permRegistryWrite, ""); !ok {
		return
	}
	bad := func(msg string) { s.hubReject(w, rc, http.StatusBadRequest, "ArgumentInvalid", vkSchema, msg) }
	if msg, ok := checkJSONType(r); !ok {
		s.hubReject(w, rc, http.StatusUnsupportedMediaType, "InvalidContentEncodingOrType", vkContentType, msg)
		return
	}
	b, tooBig, err := readBody(r, s.cfg.MaxBody)
	switch {
	case tooBig:
		s.hubReject(w, rc, http.StatusRequestEntityTooLarge, "RequestEntityTooLarge", vkSize,
			fmt.Sprintf("request body over %d bytes", s.cfg.MaxBody))
		return
	case err != nil:
		bad("cannot read the request body: " + err.Error())
		return
	}
	var in devicePutJSON
	if err := json.Unmarshal(b, &in); err != nil || len(b) == 0 || b[0] != '{' {
		msg := "the request body is not a JSON object (a Device)"
		if err != nil {
			msg += ": " + err.Error()
		}
		bad(msg)
		return
	}
	if in.DeviceID == nil {
		bad("deviceId is missing from the body")
		return
	}
	if *in.DeviceID != id {
		bad(fmt.Sprintf("deviceId %q in the body does not match %q in the URL", *in.DeviceID, id))
		return
	}
	status := "enabled"
	if in.Status != nil {
		switch strings.ToLower(*in.Status) {
		case "enabled", "disabled":
			status = strings.ToLower(*in.Status)
		default:
			bad(fmt.Sprintf("status %q: want enabled or disabled", *in.Status))
			return
		}
	}
	authType := "sas"
	var primary, secondary string
	var pThumb, sThumb *string
	if a := in.Authentication; a != nil {
		if t := nonEmpty(a.Type); t != "" {
			found := ""
			for _, k := range []string{"sas", "selfSigned", "certificateAuthority", "none"} {
				if strings.EqualFold(t, k) {
					found = k
				}
			}
			if found == "" {
				bad(fmt.Sprintf("authentication.type %q: want sas, selfSigned, certificateAuthority or none", t))
				return
			}
			authType = found
		}
		if k := a.SymmetricKey; k != nil {
			primary, secondary = nonEmpty(k.PrimaryKey), nonEmpty(k.SecondaryKey)
		}
		if t := a.X509Thumbprint; t != nil {
			pThumb, sThumb = t.PrimaryThumbprint, t.SecondaryThumbprint
		}
	}
	if authType == "sas" {
		if (primary == "") != (secondary == "") {
			bad("Either both primary and secondary keys must be specified or neither one to auto generate")
			return
		}
		for name, k := range map[string]string{"primaryKey": primary, "secondaryKey": secondary} {
			if k == "" {
				continue
			}
			if _, err := decodeKey(k); err != nil {
				bad(fmt.Sprintf("authentication.symmetricKey.%s: %v", name, err))
				return
			}
		}
	}
	if authType == "selfSigned" && nonEmpty(pThumb) == "" {
		bad("authentication.x509Thumbprint.primaryThumbprint is required for selfSigned authentication")
		return
	}
	edge := in.Capabilities != nil && in.Capabilities.IoTEdge != nil && *in.Capabilities.IoTEdge
	_, hasIfMatch := r.Header["If-Match"]
	star, etag, etagOK := parseIfMatch(r.Header.Get("If-Match"))

	s.st.mu.Lock()
	now := s.nowLocked()
	d := s.st.devices[id]
	var fail func()
	switch {
	case hasIfMatch && !etagOK:
		v := r.Header.Get("If-Match")
		fail = func() {
			s.hubReject(w, rc, http.StatusPreconditionFailed, "PreconditionFailed", vkETag,
				fmt.Sprintf("Precondition failed: Invalid ETag (If-Match %q is not \"*\" or a quoted etag)", v))
		}
	case d == nil && hasIfMatch:
		fail = func() { s.deviceNotFound(w, rc, id) }
	case d != nil && !hasIfMatch:
		fail = func() {
			s.hubError(w, rc, http.StatusConflict, "DeviceAlreadyExists",
				fmt.Sprintf("A device with ID '%s' is already registered.", id))
		}
	case d != nil && !star && etag != d.ETag:
		cur := d.ETag
		fail = func() {
			s.hubError(w, rc, http.StatusPreconditionFailed, "PreconditionFailed",
				fmt.Sprintf("Precondition failed: Device version did not match, If-Match etag %q, current etag %q", etag, cur))
		}
	}
	if fail != nil {
		s.st.mu.Unlock()
		fail()
		return
	}
	out := s.st.putDevice(id, func(d *hubDevice) {
		d.Status, d.StatusReason, d.IoTEdge = status, in.StatusReason, edge
		if authType != "sas" || d.AuthType != "sas" || primary != "" {
			// new keys (generated when empty), or none for other types
			d.PrimaryKey, d.SecondaryKey = primary, secondary
		}
		d.AuthType, d.PrimaryThumb, d.SecondaryThumb = authType, pThumb, sThumb
		if authType != "sas" {
			d.PrimaryKey, d.SecondaryKey = "", ""
		}
	}, "registry", now).toJSON()
	s.st.mu.Unlock()
	s.writeDevice(w, out)
}

// handleDeleteDevice: DELETE /devices/{id} (RegistryWrite).
func (s *Server) handleDeleteDevice(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	id := rc.params["id"]
	if !s.checkDeviceID(w, rc, id) {
		return
	}
	if _, ok := s.hubAuth(w, r, rc, id, permRegistryWrite, ""); !ok {
		return
	}
	_, hasIfMatch := r.Header["If-Match"]
	star, etag, etagOK := parseIfMatch(r.Header.Get("If-Match"))
	s.st.mu.Lock()
	d := s.st.devices[id]
	var cur string
	if d != nil {
		cur = d.ETag
	}
	deleted := d != nil && (!hasIfMatch || etagOK && (star || etag == cur))
	if deleted {
		delete(s.st.devices, id)
	}
	s.st.mu.Unlock()
	switch {
	case d == nil:
		s.deviceNotFound(w, rc, id)
	case hasIfMatch && !etagOK:
		s.hubReject(w, rc, http.StatusPreconditionFailed, "PreconditionFailed", vkETag,
			fmt.Sprintf("Precondition failed: Invalid ETag (If-Match %q is not \"*\" or a quoted etag)", r.Header.Get("If-Match")))
	case !deleted:
		s.hubError(w, rc, http.StatusPreconditionFailed, "PreconditionFailed",
			fmt.Sprintf("Precondition failed: Device version did not match, If-Match etag %q, current etag %q", etag, cur))
	default:
		w.WriteHeader(http.StatusNoContent)
	}
}

// System properties sent as HTTP headers (the device SDKs' names).
var systemPropertyHeaders = map[string]string{
	"iothub-messageid":         "message_id",
	"iothub-correlationid":     "correlation_id",
	"iothub-userid":            "user_id",
	"iothub-to":                "to",
	"iothub-contenttype":       "content_type",
	"iothub-contentencoding":   "content_encoding",
	"iothub-creation-time-utc": "creation_time_utc",
}

// handleTelemetry: POST /devices/{id}/messages/events (DeviceConnect).
func (s *Server) handleTelemetry(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	id := rc.params["id"]
	if !s.checkDeviceID(w, rc, id) {
		return
	}
	principal, ok := s.hubAuth(w, r, rc, id, permDeviceConnect, "/messages/events")
	if !ok {
		return
	}
	limit := s.settings().MaxMessageBytes
	b, tooBig, err := readBody(r, limit)
	switch {
	case tooBig:
		s.hubReject(w, rc, http.StatusRequestEntityTooLarge, "MessageTooLarge", vkSize,
			fmt.Sprintf("Message size exceeds the maximum of %d bytes", limit))
		return
	case err != nil:
		s.hubReject(w, rc, http.StatusBadRequest, "ArgumentInvalid", vkSchema, "cannot read the message body: "+err.Error())
		return
	}
	m := telemetryMsg{
		DeviceID: id, Auth: "device", APIVersion: rc.apiVersion, RequestID: rc.RequestID,
		HTTPContentType: r.Header.Get("Content-Type"), HTTPContentEncoding: r.Header.Get("Content-Encoding"),
		Properties: map[string]string{}, SystemHeaders: map[string]string{}, BodyBytes: len(b),
	}
	if strings.HasPrefix(principal, "policy:") {
		m.Auth = principal
	}
	names := make([]string, 0, len(r.Header))
	for k := range r.Header {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		lk, v := strings.ToLower(k), strings.Join(r.Header[k], ",")
		switch {
		case strings.HasPrefix(lk, "iothub-app-"):
			if name := lk[len("iothub-app-"):]; name != "" {
				m.Properties[name] = v
			}
		case strings.HasPrefix(lk, "iothub-"):
			m.SystemHeaders[lk] = v
			switch systemPropertyHeaders[lk] {
			case "message_id":
				m.MessageID = v
			case "correlation_id":
				m.CorrelationID = v
			case "user_id":
				m.UserID = v
			case "to":
				m.To = v
			case "content_type":
				m.ContentType = v
			case "content_encoding":
				m.ContentEncoding = v
			case "creation_time_utc":
				m.CreationTimeUTC = v
			}
		}
	}
	if utf8.Valid(b) {
		m.Body = string(b)
	} else {
		m.BodyB64 = base64.StdEncoding.EncodeToString(b)
	}
	s.st.mu.Lock()
	now := s.nowLocked()
	d := s.st.devices[id]
	var fail func()
	switch {
	case d == nil:
		fail = func() { s.deviceNotFound(w, rc, id) }
	case d.Status != "enabled":
		fail = func() {
			s.hubAuthFail(w, rc, &authFailure{reason: fmt.Sprintf("device %q is disabled", id)})
		}
	default:
		d.LastActivity = now
		d.Telemetry++
		m.Time = now.Format("2006-01-02T15:04:05.000000Z07:00")
		s.st.addTelemetry(m)
	}
	s.st.mu.Unlock()
	if fail != nil {
		fail()
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
