package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"sbprov.test/emulators/emukit"
)

// IoT Hub shared access policy permissions.
const (
	permRegistryRead   = "RegistryRead"
	permRegistryWrite  = "RegistryWrite"
	permServiceConnect = "ServiceConnect"
	permDeviceConnect  = "DeviceConnect"
)

var allPermissions = []string{permRegistryRead, permRegistryWrite, permServiceConnect, permDeviceConnect}

// defaultPolicyPermissions are the permissions of the policies every hub
// is created with (iot-hub-dev-guide-sas.md).
var defaultPolicyPermissions = map[string][]string{
	"iothubowner":       allPermissions,
	"service":           {permServiceConnect},
	"device":            {permDeviceConnect},
	"registryRead":      {permRegistryRead},
	"registryReadWrite": {permRegistryRead, permRegistryWrite},
}

var defaultPolicyOrder = []string{"iothubowner", "service", "device", "registryRead", "registryReadWrite"}

// policy is a hub shared access policy.
type policy struct {
	Name         string   `json:"name"`
	PrimaryKey   string   `json:"primary_key"`
	SecondaryKey string   `json:"secondary_key,omitempty"`
	Permissions  []string `json:"permissions"`
}

// normalize fills in the default permissions of a well-known policy name,
// canonicalizes permission names and checks them.
func (p *policy) normalize() error {
	if p.Name == "" {
		return errors.New("policy name is required")
	}
	if len(p.Permissions) == 0 {
		perms, ok := defaultPolicyPermissions[p.Name]
		if !ok {
			return fmt.Errorf("policy %q is not a default policy: give its permissions (%s)", p.Name,
				strings.Join(allPermissions, "|"))
		}
		p.Permissions = append([]string(nil), perms...)
	}
	var out []string
	for _, want := range p.Permissions {
		found := ""
		for _, known := range allPermissions {
			if strings.EqualFold(want, known) {
				found = known
			}
		}
		if found == "" {
			return fmt.Errorf("unknown permission %q (known: %s)", want, strings.Join(allPermissions, ", "))
		}
		out = append(out, found)
	}
	p.Permissions = out
	if _, err := decodeKey(p.PrimaryKey); err != nil {
		return fmt.Errorf("policy %s primary key: %v", p.Name, err)
	}
	if p.SecondaryKey != "" {
		if _, err := decodeKey(p.SecondaryKey); err != nil {
			return fmt.Errorf("policy %s secondary key: %v", p.Name, err)
		}
	}
	return nil
}

func (p *policy) has(perm string) bool {
	for _, x := range p.Permissions {
		if x == perm || (perm == permRegistryRead && x == permRegistryWrite) {
			return true
		}
	}
	return false
}

// enrollFailure makes a registration end in status "failed".
type enrollFailure struct {
	ErrorCode    int    `json:"error_code"`
	ErrorMessage string `json:"error_message"`
}

// enrollment is a DPS enrollment group or individual enrollment with
// symmetric-key attestation.
type enrollment struct {
	Type               string          `json:"type"` // "group" or "individual"
	IDScope            string          `json:"id_scope"`
	Name               string          `json:"name,omitempty"`            // group: enrollment group id
	RegistrationID     string          `json:"registration_id,omitempty"` // individual
	DeviceID           string          `json:"device_id,omitempty"`       // individual: IoT Hub device id (default: registration id)
	PrimaryKey         string          `json:"primary_key"`
	SecondaryKey       string          `json:"secondary_key"`
	ProvisioningStatus string          `json:"provisioning_status"` // enabled | disabled
	Failure            *enrollFailure  `json:"failure,omitempty"`
	Payload            json.RawMessage `json:"payload,omitempty"` // returned as registrationState.payload
	Created            time.Time       `json:"created"`
}

func (e *enrollment) key() string {
	if e.Type == "group" {
		return strings.ToLower(e.IDScope) + "/" + strings.ToLower(e.Name)
	}
	return strings.ToLower(e.IDScope) + "/" + strings.ToLower(e.RegistrationID)
}

// registration is a DPS registration record (what the status lookup shows).
type registration struct {
	IDScope           string          `json:"id_scope"`
	RegistrationID    string          `json:"registration_id"`
	EnrollmentType    string          `json:"enrollment_type"`
	EnrollmentGroupID string          `json:"enrollment_group_id,omitempty"`
	DeviceID          string          `json:"device_id,omitempty"`
	AssignedHub       string          `json:"assigned_hub,omitempty"`
	Status            string          `json:"status"`
	Substatus         string          `json:"substatus,omitempty"`
	ErrorCode         int             `json:"error_code,omitempty"`
	ErrorMessage      string          `json:"error_message,omitempty"`
	Created           time.Time       `json:"created"`
	LastUpdated       time.Time       `json:"last_updated"`
	ETag              string          `json:"etag"`
	RequestPayload    json.RawMessage `json:"request_payload,omitempty"`
	ReturnPayload     json.RawMessage `json:"return_payload,omitempty"`
	KeyUsed           string          `json:"key_used,omitempty"` // primary | secondary
	Assignments       int             `json:"assignments"`        // times it ended "assigned"
	Registrations     int             `json:"registrations"`      // register requests accepted
}

func regKey(scope, rid string) string { return strings.ToLower(scope) + "/" + strings.ToLower(rid) }

// operation is one DPS register operation.
type operation struct {
	ID             string          `json:"operation_id"`
	IDScope        string          `json:"id_scope"`
	RegistrationID string          `json:"registration_id"`
	PollsLeft      int             `json:"polls_left"`
	Polls          int             `json:"polls"`
	Done           bool            `json:"done"`
	Created        time.Time       `json:"created"`
	Result         json.RawMessage `json:"result,omitempty"` // the final body, once done
	enroll         *enrollment
	keyUsed        string
	payload        json.RawMessage
}

// hubDevice is an IoT Hub identity-registry device.
type hubDevice struct {
	DeviceID       string
	GenerationID   string
	ETag           string
	Status         string // enabled | disabled
	StatusReason   *string
	StatusUpdated  time.Time
	LastActivity   time.Time
	AuthType       string // sas | selfSigned | certificateAuthority | none
	PrimaryKey     string
	SecondaryKey   string
	PrimaryThumb   *string
	SecondaryThumb *string
	IoTEdge        bool
	CreatedBy      string // registry | dps | control
	Created        time.Time
	Telemetry      int
}

type symKeyJSON struct {
	PrimaryKey   *string `json:"primaryKey"`
	SecondaryKey *string `json:"secondaryKey"`
}

type thumbJSON struct {
	PrimaryThumbprint   *string `json:"primaryThumbprint"`
	SecondaryThumbprint *string `json:"secondaryThumbprint"`
}

type authJSON struct {
	SymmetricKey   *symKeyJSON `json:"symmetricKey"`
	X509Thumbprint thumbJSON   `json:"x509Thumbprint"`
	Type           string      `json:"type"`
}

type capJSON struct {
	IoTEdge bool `json:"iotEdge"`
}

// deviceJSON is the registry's Device shape (REST "Devices - Get Identity").
type deviceJSON struct {
	DeviceID                   string   `json:"deviceId"`
	GenerationID               string   `json:"generationId"`
	ETag                       string   `json:"etag"`
	ConnectionState            string   `json:"connectionState"`
	Status                     string   `json:"status"`
	StatusReason               *string  `json:"statusReason"`
	ConnectionStateUpdatedTime string   `json:"connectionStateUpdatedTime"`
	StatusUpdatedTime          string   `json:"statusUpdatedTime"`
	LastActivityTime           string   `json:"lastActivityTime"`
	CloudToDeviceMessageCount  int      `json:"cloudToDeviceMessageCount"`
	Authentication             authJSON `json:"authentication"`
	Capabilities               capJSON  `json:"capabilities"`
}

func strPtr(s string) *string { return &s }

func (d *hubDevice) toJSON() deviceJSON {
	a := authJSON{Type: d.AuthType, X509Thumbprint: thumbJSON{d.PrimaryThumb, d.SecondaryThumb}}
	if d.AuthType == "sas" {
		a.SymmetricKey = &symKeyJSON{strPtr(d.PrimaryKey), strPtr(d.SecondaryKey)}
	} else {
		a.SymmetricKey = &symKeyJSON{}
	}
	return deviceJSON{
		DeviceID:                   d.DeviceID,
		GenerationID:               d.GenerationID,
		ETag:                       d.ETag,
		ConnectionState:            "Disconnected",
		Status:                     d.Status,
		StatusReason:               d.StatusReason,
		ConnectionStateUpdatedTime: dotnetTime(time.Time{}),
		StatusUpdatedTime:          dotnetTime(d.StatusUpdated),
		LastActivityTime:           dotnetTime(d.LastActivity),
		Authentication:             a,
		Capabilities:               capJSON{IoTEdge: d.IoTEdge},
	}
}

// telemetryMsg is one recorded device-to-cloud message.
type telemetryMsg struct {
	Seq                 int64             `json:"seq"`
	Time                string            `json:"time"` // server time (with the clock offset)
	DeviceID            string            `json:"device_id"`
	Auth                string            `json:"auth"` // "device" or "policy:<name>"
	APIVersion          string            `json:"api_version"`
	RequestID           string            `json:"request_id"`
	HTTPContentType     string            `json:"http_content_type,omitempty"`
	HTTPContentEncoding string            `json:"http_content_encoding,omitempty"`
	MessageID           string            `json:"message_id,omitempty"`
	CorrelationID       string            `json:"correlation_id,omitempty"`
	UserID              string            `json:"user_id,omitempty"`
	To                  string            `json:"to,omitempty"`
	ContentType         string            `json:"content_type,omitempty"`
	ContentEncoding     string            `json:"content_encoding,omitempty"`
	CreationTimeUTC     string            `json:"creation_time_utc,omitempty"`
	Properties          map[string]string `json:"properties"`
	SystemHeaders       map[string]string `json:"system_headers"`
	BodyBytes           int               `json:"body_bytes"`
	Body                string            `json:"body,omitempty"`
	BodyB64             string            `json:"body_base64,omitempty"`
}

// settings are the run-time knobs of /_emu/config; reset restores the
// command line's.
type settings struct {
	HubHost              string
	IDScope              string
	AssignPolls          int
	RetryAfter           int
	ImmediateAssign      bool
	ClockOffset          time.Duration
	Skew                 time.Duration
	MaxTTL               time.Duration
	StrictRegistrationID bool
	MaxMessageBytes      int64
}

type store struct {
	mu            sync.Mutex
	set           settings
	policies      map[string]*policy
	enrollments   map[string]*enrollment // group and individual, by key()
	registrations map[string]*registration
	ops           map[string]*operation
	devices       map[string]*hubDevice // by exact device id (case-sensitive)
	telemetry     []telemetryMsg
	telSeq        int64
	etagSeq       int64
}

func newStore() *store {
	st := &store{}
	st.reset()
	return st
}

// reset forgets everything (the caller reloads the configured state).
func (st *store) reset() {
	st.policies = map[string]*policy{}
	st.enrollments = map[string]*enrollment{}
	st.registrations = map[string]*registration{}
	st.ops = map[string]*operation{}
	st.devices = map[string]*hubDevice{}
	st.telemetry = nil
	if st.etagSeq == 0 {
		st.etagSeq = time.Now().Unix()
	}
}

func (st *store) nextETag() string {
	st.etagSeq++
	return hubETag(st.etagSeq)
}

// knownScope: the default ID scope or the scope of an enrollment.
func (st *store) knownScope(scope string) bool {
	if strings.EqualFold(scope, st.set.IDScope) {
		return true
	}
	for _, e := range st.enrollments {
		if strings.EqualFold(e.IDScope, scope) {
			return true
		}
	}
	return false
}

func (st *store) individual(scope, rid string) *enrollment {
	e := st.enrollments[regKey(scope, rid)]
	if e != nil && e.Type == "individual" {
		return e
	}
	return nil
}

// groups of a scope, sorted by name.
func (st *store) groups(scope string) []*enrollment {
	var out []*enrollment
	for _, e := range st.enrollments {
		if e.Type == "group" && strings.EqualFold(e.IDScope, scope) {
			out = append(out, e)
		}
	}
	sort.Slice(out, func(i, j int) bool { return strings.ToLower(out[i].Name) < strings.ToLower(out[j].Name) })
	return out
}

func (st *store) enrollmentList() (groups, individuals []*enrollment) {
	groups, individuals = []*enrollment{}, []*enrollment{}
	for _, e := range st.enrollments {
		if e.Type == "group" {
			groups = append(groups, e)
		} else {
			individuals = append(individuals, e)
		}
	}
	sort.Slice(groups, func(i, j int) bool { return groups[i].key() < groups[j].key() })
	sort.Slice(individuals, func(i, j int) bool { return individuals[i].key() < individuals[j].key() })
	return groups, individuals
}

// addEnrollment validates, fills in defaults (keys generated as DPS does:
// 64 bytes) and stores e, replacing one with the same id.
func (st *store) addEnrollment(e *enrollment, now time.Time) error {
	switch e.Type {
	case "group":
		if e.Name == "" {
			return errors.New("a group enrollment needs a name")
		}
		if e.RegistrationID != "" || e.DeviceID != "" {
			return errors.New("registration_id and device_id are for individual enrollments")
		}
	case "individual":
		if e.RegistrationID == "" {
			return errors.New("an individual enrollment needs a registration_id")
		}
		if e.Name != "" {
			return errors.New("name is for group enrollments")
		}
	default:
		return fmt.Errorf("type must be \"group\" or \"individual\", not %q", e.Type)
	}
	if e.IDScope == "" {
		e.IDScope = st.set.IDScope
	}
	if !validScope(e.IDScope) {
		return fmt.Errorf("id_scope %q: want alphanumeric characters", e.IDScope)
	}
	if e.PrimaryKey == "" {
		e.PrimaryKey = newKey(64)
	}
	if e.SecondaryKey == "" {
		e.SecondaryKey = newKey(64)
	}
	if _, err := decodeKey(e.PrimaryKey); err != nil {
		return fmt.Errorf("primary_key: %v", err)
	}
	if _, err := decodeKey(e.SecondaryKey); err != nil {
		return fmt.Errorf("secondary_key: %v", err)
	}
	switch strings.ToLower(e.ProvisioningStatus) {
	case "", "enabled":
		e.ProvisioningStatus = "enabled"
	case "disabled":
		e.ProvisioningStatus = "disabled"
	default:
		return fmt.Errorf("provisioning_status must be enabled or disabled, not %q", e.ProvisioningStatus)
	}
	if e.Failure != nil && e.Failure.ErrorCode == 0 {
		e.Failure.ErrorCode = 400207
	}
	if e.Failure != nil && e.Failure.ErrorMessage == "" {
		e.Failure.ErrorMessage = "Custom allocation failed with status code: 400"
	}
	if len(e.Payload) > 0 && !json.Valid(e.Payload) {
		return errors.New("payload is not valid JSON")
	}
	e.Created = now
	st.enrollments[e.key()] = e
	return nil
}

func validScope(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

func (st *store) policyList() []*policy {
	out := []*policy{}
	for _, p := range st.policies {
		out = append(out, p)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

func (st *store) deviceList() []*hubDevice {
	out := []*hubDevice{}
	for _, d := range st.devices {
		out = append(out, d)
	}
	sort.Slice(out, func(i, j int) bool {
		return out[i].Created.Before(out[j].Created) || out[i].Created.Equal(out[j].Created) && out[i].DeviceID < out[j].DeviceID
	})
	return out
}

func (st *store) registrationList() []*registration {
	out := []*registration{}
	for _, r := range st.registrations {
		out = append(out, r)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Created.Before(out[j].Created) })
	return out
}

func (st *store) opList() []*operation {
	out := []*operation{}
	for _, o := range st.ops {
		out = append(out, o)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Created.Before(out[j].Created) })
	return out
}

// newGenerationID looks like IoT Hub's (a .NET tick count).
func newGenerationID(now time.Time) string {
	return fmt.Sprintf("%d", now.UnixNano()/100+621355968000000000)
}

// putDevice creates a device (keys generated when empty, 32 bytes as IoT
// Hub does) or updates one in place; it returns the stored device.
func (st *store) putDevice(id string, upd func(d *hubDevice), createdBy string, now time.Time) *hubDevice {
	d := st.devices[id]
	if d == nil {
		d = &hubDevice{DeviceID: id, GenerationID: newGenerationID(now), Status: "enabled", AuthType: "sas",
			CreatedBy: createdBy, Created: now}
		st.devices[id] = d
	}
	old := d.Status
	upd(d)
	if d.AuthType == "sas" {
		if d.PrimaryKey == "" {
			d.PrimaryKey = newKey(32)
		}
		if d.SecondaryKey == "" {
			d.SecondaryKey = newKey(32)
		}
	}
	if d.Status != old || d.StatusUpdated.IsZero() && d.Status == "disabled" {
		d.StatusUpdated = now
	}
	d.ETag = st.nextETag()
	return d
}

func (st *store) addTelemetry(m telemetryMsg) telemetryMsg {
	st.telSeq++
	m.Seq = st.telSeq
	st.telemetry = append(st.telemetry, m)
	if len(st.telemetry) > emukit.LogKeep {
		st.telemetry = append([]telemetryMsg(nil), st.telemetry[len(st.telemetry)-emukit.LogKeep:]...)
	}
	return m
}
