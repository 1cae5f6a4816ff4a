package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Registration ID rules. The current DPS documentation: up to 128
// characters, alphanumeric plus '-', '.', '_', ':', case-insensitive, the
// last character alphanumeric or '-'. The strict rule (-strict-registration-id)
// is the REST path parameter's: lowercase alphanumeric and '-'.
var (
	regIDDocsRE   = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9._:-]{0,126}[A-Za-z0-9-])?$`)
	regIDStrictRE = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,126}[a-z0-9])?$`)
)

func (s *Server) settings() settings {
	s.st.mu.Lock()
	defer s.st.mu.Unlock()
	return s.st.set
}

func (s *Server) checkRegistrationID(rid string) (string, bool) {
	if s.settings().StrictRegistrationID {
		if !regIDStrictRE.MatchString(rid) {
			return fmt.Sprintf("registration ID %q is invalid: want 1 to 128 lowercase alphanumeric characters or '-', "+
				"not starting or ending with '-'", rid), false
		}
		return "", true
	}
	if !regIDDocsRE.MatchString(rid) {
		return fmt.Sprintf("registration ID %q is invalid: want 1 to 128 alphanumeric characters or '-', '.', '_', ':', "+
			"starting with an alphanumeric character and ending with an alphanumeric character or '-'", rid), false
	}
	return "", true
}

// noteAuth records the authorization outcome for the request log.
func (rc *reqCtx) noteAuth(principal, failure string) {
	rc.mu.Lock()
	rc.auth, rc.authError = principal, failure
	rc.mu.Unlock()
}

// dpsAuthFail answers 401 with errorCode 401002; the message carries the
// reason after the service's own "Unauthorized".
func (s *Server) dpsAuthFail(w http.ResponseWriter, rc *reqCtx, f *authFailure) {
	rc.noteAuth("", f.reason)
	if f.kind != "" {
		rc.Violate(f.kind, f.reason)
	}
	s.dpsError(w, rc, http.StatusUnauthorized, dpsUnauthorized, "Unauthorized: "+f.reason)
}

// dpsAuth verifies a device registration SAS token: sr must be
// "{idScope}/registrations/{registrationId}", skn "registration" or absent,
// and the signature must verify with the individual enrollment's key or
// with a key derived from an enrollment group's key. It returns a copy of
// the matching enrollment and which key matched.
func (s *Server) dpsAuth(w http.ResponseWriter, r *http.Request, rc *reqCtx, scope, rid string) (*enrollment, string, bool) {
	fail := func(f *authFailure) (*enrollment, string, bool) {
		s.dpsAuthFail(w, rc, f)
		return nil, "", false
	}
	tok, f := parseSAS(r.Header.Get("Authorization"))
	if f != nil {
		return fail(f)
	}
	if tok.HasSKN && tok.SKN != "" && tok.SKN != "registration" {
		return fail(malformed("skn=%q: device registration tokens use skn=registration (or no skn)", tok.SKN))
	}
	s.st.mu.Lock()
	set := s.st.set
	now := s.nowLocked()
	known := s.st.knownScope(scope)
	var ind *enrollment
	if e := s.st.individual(scope, rid); e != nil {
		cp := *e
		ind = &cp
	}
	var groups []enrollment
	for _, g := range s.st.groups(scope) {
		groups = append(groups, *g)
	}
	s.st.mu.Unlock()

	if f := tok.checkTime(now, set.Skew, set.MaxTTL); f != nil {
		return fail(f)
	}
	want := scope + "/registrations/" + rid
	if !strings.EqualFold(strings.TrimRight(tok.SR, "/"), want) {
		return fail(&authFailure{kind: vkSASScope, reason: fmt.Sprintf(
			"sr=%q (decoded %q) does not name this registration: want the URL-encoded %q", tok.SRRaw, tok.SR, want)})
	}
	if !known {
		return fail(&authFailure{reason: fmt.Sprintf("unknown ID scope %q", scope)})
	}
	keyName := func(i int) string {
		if i == 0 {
			return "primary"
		}
		return "secondary"
	}
	if ind != nil {
		if i := tok.matchKey(ind.PrimaryKey, ind.SecondaryKey); i >= 0 {
			rc.noteAuth("individual:"+ind.RegistrationID+"/"+keyName(i), "")
			return ind, keyName(i), true
		}
		return fail(&authFailure{kind: vkSignature, reason: fmt.Sprintf(
			"the signature does not verify with the primary or secondary key of the individual enrollment %q", ind.RegistrationID)})
	}
	for i := range groups {
		g := &groups[i]
		dp, _ := deriveKey(g.PrimaryKey, rid)
		ds, _ := deriveKey(g.SecondaryKey, rid)
		if k := tok.matchKey(dp, ds); k >= 0 {
			rc.noteAuth("group:"+g.Name+"/"+keyName(k), "")
			return g, keyName(k), true
		}
	}
	if len(groups) == 0 {
		return fail(&authFailure{reason: fmt.Sprintf("no enrollment in ID scope %s for registration ID %q", scope, rid)})
	}
	for _, g := range groups {
		if tok.matchKey(g.PrimaryKey, g.SecondaryKey) >= 0 {
			return fail(&authFailure{kind: vkSignature, reason: fmt.Sprintf(
				"the token is signed with the key of enrollment group %q itself: sign with the derived device key "+
					"Base64(HMAC-SHA256(Base64Decode(groupKey), registrationId))", g.Name)})
		}
	}
	return fail(&authFailure{kind: vkSignature, reason: fmt.Sprintf(
		"the signature does not verify with the key derived for registration ID %q from any enrollment group of scope %s",
		rid, scope)})
}

// readRegistrationBody reads a DeviceRegistration body
// {"registrationId": ..., "payload": ...}; it returns the payload.
func (s *Server) readRegistrationBody(w http.ResponseWriter, r *http.Request, rc *reqCtx, rid string, required bool) (json.RawMessage, bool) {
	b, tooBig, err := readBody(r, s.cfg.MaxBody)
	if tooBig {
		s.dpsReject(w, rc, http.StatusRequestEntityTooLarge, dpsTooLarge, vkSize,
			fmt.Sprintf("request body over %d bytes", s.cfg.MaxBody))
		return nil, false
	}
	if err != nil {
		s.dpsReject(w, rc, http.StatusBadRequest, dpsBadRequest, vkSchema, "cannot read the request body: "+err.Error())
		return nil, false
	}
	if len(b) == 0 {
		if required {
			s.dpsReject(w, rc, http.StatusBadRequest, dpsBadRequest, vkSchema,
				`the request body is required: {"registrationId":"..."}`)
			return nil, false
		}
		return nil, true
	}
	if msg, ok := checkJSONType(r); !ok {
		s.dpsReject(w, rc, http.StatusUnsupportedMediaType, dpsUnsupportedType, vkContentType, msg)
		return nil, false
	}
	var in struct {
		RegistrationID *string          `json:"registrationId"`
		Payload        json.RawMessage  `json:"payload"`
		TPM            *json.RawMessage `json:"tpm"`
		CSR            *json.RawMessage `json:"csr"`
	}
	if err := json.Unmarshal(b, &in); err != nil || b[0] != '{' {
		msg := "the request body is not a JSON object"
		if err != nil {
			msg += ": " + err.Error()
		}
		s.dpsReject(w, rc, http.StatusBadRequest, dpsBadRequest, vkSchema, msg)
		return nil, false
	}
	switch {
	case in.RegistrationID == nil:
		s.dpsReject(w, rc, http.StatusBadRequest, dpsBadRequest, vkSchema, "registrationId is missing from the body")
		return nil, false
	case !strings.EqualFold(*in.RegistrationID, rid):
		s.dpsReject(w, rc, http.StatusBadRequest, dpsBadRequest, vkSchema,
			fmt.Sprintf("registrationId %q in the body differs from %q in the path", *in.RegistrationID, rid))
		return nil, false
	case in.TPM != nil:
		s.dpsReject(w, rc, http.StatusBadRequest, dpsBadRequest, vkSchema, "TPM attestation is not emulated (symmetric keys only)")
		return nil, false
	case in.CSR != nil:
		s.dpsReject(w, rc, http.StatusBadRequest, dpsBadRequest, vkSchema, "certificate issuance (csr) is not emulated")
		return nil, false
	}
	if string(in.Payload) == "null" {
		in.Payload = nil
	}
	return in.Payload, true
}

// regStateJSON is DeviceRegistrationResult.
type regStateJSON struct {
	SymmetricKey           *symKeyRegJSON  `json:"symmetricKey,omitempty"`
	RegistrationID         string          `json:"registrationId"`
	CreatedDateTimeUTC     string          `json:"createdDateTimeUtc,omitempty"`
	AssignedHub            string          `json:"assignedHub,omitempty"`
	DeviceID               string          `json:"deviceId,omitempty"`
	Status                 string          `json:"status"`
	Substatus              string          `json:"substatus,omitempty"`
	ErrorCode              int             `json:"errorCode,omitempty"`
	ErrorMessage           string          `json:"errorMessage,omitempty"`
	LastUpdatedDateTimeUTC string          `json:"lastUpdatedDateTimeUtc,omitempty"`
	ETag                   string          `json:"etag,omitempty"`
	Payload                json.RawMessage `json:"payload,omitempty"`
}

type symKeyRegJSON struct {
	EnrollmentGroupID string `json:"enrollmentGroupId,omitempty"`
}

type operationJSON struct {
	OperationID       string        `json:"operationId"`
	Status            string        `json:"status"`
	RegistrationState *regStateJSON `json:"registrationState,omitempty"`
}

func (reg *registration) stateJSON() *regStateJSON {
	st := &regStateJSON{
		RegistrationID:         reg.RegistrationID,
		CreatedDateTimeUTC:     dotnetTime(reg.Created),
		Status:                 reg.Status,
		LastUpdatedDateTimeUTC: dotnetTime(reg.LastUpdated),
		ETag:                   reg.ETag,
	}
	switch reg.Status {
	case "assigned":
		st.AssignedHub, st.DeviceID, st.Substatus, st.Payload = reg.AssignedHub, reg.DeviceID, reg.Substatus, reg.ReturnPayload
	case "failed":
		st.ErrorCode, st.ErrorMessage = reg.ErrorCode, reg.ErrorMessage
	case "disabled":
		st.CreatedDateTimeUTC = ""
	}
	if reg.EnrollmentGroupID != "" && reg.Status != "disabled" {
		st.SymmetricKey = &symKeyRegJSON{EnrollmentGroupID: reg.EnrollmentGroupID}
	}
	return st
}

// completeLocked (under st.mu) ends an operation: the enrollment decides
// disabled / failed / assigned; on assignment the device is created or
// updated in the hub registry with the enrollment's (derived) keys.
func (s *Server) completeLocked(op *operation, now time.Time) json.RawMessage {
	k := regKey(op.IDScope, op.RegistrationID)
	reg := s.st.registrations[k]
	if reg == nil { // forgotten through the control API meanwhile
		reg = &registration{IDScope: op.IDScope, RegistrationID: op.RegistrationID, Created: now}
		s.st.registrations[k] = reg
	}
	e := op.enroll
	reg.EnrollmentType, reg.EnrollmentGroupID = e.Type, ""
	if e.Type == "group" {
		reg.EnrollmentGroupID = e.Name
	}
	reg.LastUpdated, reg.ETag, reg.KeyUsed = now, dpsETag(), op.keyUsed
	reg.ErrorCode, reg.ErrorMessage, reg.Substatus = 0, "", ""
	switch {
	case e.ProvisioningStatus == "disabled":
		reg.Status = "disabled"
	case e.Failure != nil:
		reg.Status, reg.ErrorCode, reg.ErrorMessage = "failed", e.Failure.ErrorCode, e.Failure.ErrorMessage
	default:
		deviceID := op.RegistrationID
		primary, secondary := e.PrimaryKey, e.SecondaryKey
		if e.Type == "group" {
			primary, _ = deriveKey(e.PrimaryKey, op.RegistrationID)
			secondary, _ = deriveKey(e.SecondaryKey, op.RegistrationID)
		} else if e.DeviceID != "" {
			deviceID = e.DeviceID
		}
		s.st.putDevice(deviceID, func(d *hubDevice) {
			d.AuthType, d.PrimaryKey, d.SecondaryKey = "sas", primary, secondary
			d.PrimaryThumb, d.SecondaryThumb = nil, nil
		}, "dps", now)
		switch {
		case reg.Assignments == 0:
			reg.Substatus = "initialAssignment"
		case !strings.EqualFold(reg.AssignedHub, s.st.set.HubHost):
			reg.Substatus = "deviceDataMigrated"
		default:
			reg.Substatus = "reprovisionedToInitialAssignment"
		}
		reg.Status, reg.DeviceID, reg.AssignedHub, reg.ReturnPayload = "assigned", deviceID, s.st.set.HubHost, e.Payload
		reg.Assignments++
	}
	b, _ := json.Marshal(operationJSON{OperationID: op.ID, Status: reg.Status, RegistrationState: reg.stateJSON()})
	op.Done, op.Result = true, b
	return b
}

func writeRawJSON(w http.ResponseWriter, status int, b []byte) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

func (s *Server) writeAssigning(w http.ResponseWriter, rc *reqCtx, op *operation, retryAfter int) {
	if retryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(retryAfter))
	}
	w.Header().Set("Location", "/"+op.IDScope+"/registrations/"+op.RegistrationID+"/operations/"+op.ID+
		"?api-version="+rc.apiVersion)
	writeJSON(w, http.StatusAccepted, operationJSON{OperationID: op.ID, Status: "assigning"})
}

// handleRegister: PUT /{idScope}/registrations/{registrationId}/register.
func (s *Server) handleRegister(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	scope, rid := rc.params["scope"], rc.params["rid"]
	if msg, ok := s.checkRegistrationID(rid); !ok {
		s.dpsReject(w, rc, http.StatusBadRequest, dpsBadRequest, vkSchema, msg)
		return
	}
	enr, keyUsed, ok := s.dpsAuth(w, r, rc, scope, rid)
	if !ok {
		return
	}
	payload, ok := s.readRegistrationBody(w, r, rc, rid, true)
	if !ok {
		return
	}
	s.st.mu.Lock()
	now := s.nowLocked()
	k := regKey(scope, rid)
	reg := s.st.registrations[k]
	if reg == nil {
		reg = &registration{IDScope: scope, RegistrationID: rid, Created: now}
		s.st.registrations[k] = reg
	}
	reg.Registrations++
	reg.RequestPayload = payload
	reg.Status, reg.LastUpdated = "assigning", now
	op := &operation{ID: newOperationID(), IDScope: scope, RegistrationID: rid, PollsLeft: s.st.set.AssignPolls,
		Created: now, enroll: enr, keyUsed: keyUsed, payload: payload}
	s.st.ops[op.ID] = op
	retry := s.st.set.RetryAfter
	var result json.RawMessage
	if s.st.set.ImmediateAssign {
		result = s.completeLocked(op, now)
	}
	s.st.mu.Unlock()
	if result != nil {
		writeRawJSON(w, http.StatusOK, result)
		return
	}
	s.writeAssigning(w, rc, op, retry)
}

// handleOperation: GET /{idScope}/registrations/{registrationId}/operations/{operationId}.
func (s *Server) handleOperation(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	scope, rid, opID := rc.params["scope"], rc.params["rid"], rc.params["op"]
	if _, _, ok := s.dpsAuth(w, r, rc, scope, rid); !ok {
		return
	}
	s.st.mu.Lock()
	op := s.st.ops[opID]
	if op == nil || !strings.EqualFold(op.IDScope, scope) || !strings.EqualFold(op.RegistrationID, rid) {
		s.st.mu.Unlock()
		s.dpsError(w, rc, http.StatusNotFound, dpsNotFound, fmt.Sprintf("Operation %s not found for registration %s", opID, rid))
		return
	}
	op.Polls++
	if !op.Done && op.PollsLeft > 0 {
		op.PollsLeft--
		retry := s.st.set.RetryAfter
		s.st.mu.Unlock()
		s.writeAssigning(w, rc, op, retry)
		return
	}
	result := op.Result
	if !op.Done {
		result = s.completeLocked(op, s.nowLocked())
	}
	s.st.mu.Unlock()
	writeRawJSON(w, http.StatusOK, result)
}

// handleStatusLookup: POST /{idScope}/registrations/{registrationId}
// (Device Registration Status Lookup).
func (s *Server) handleStatusLookup(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	scope, rid := rc.params["scope"], rc.params["rid"]
	if msg, ok := s.checkRegistrationID(rid); !ok {
		s.dpsReject(w, rc, http.StatusBadRequest, dpsBadRequest, vkSchema, msg)
		return
	}
	if _, _, ok := s.dpsAuth(w, r, rc, scope, rid); !ok {
		return
	}
	if _, ok := s.readRegistrationBody(w, r, rc, rid, false); !ok {
		return
	}
	s.st.mu.Lock()
	reg := s.st.registrations[regKey(scope, rid)]
	var st *regStateJSON
	if reg != nil {
		st = reg.stateJSON()
	}
	s.st.mu.Unlock()
	if st == nil {
		s.dpsError(w, rc, http.StatusNotFound, dpsNotFound, fmt.Sprintf("Registration %s not found", rid))
		return
	}
	writeJSON(w, http.StatusOK, st)
}
