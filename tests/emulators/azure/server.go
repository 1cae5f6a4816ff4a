package main

import (
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strings"
	"sync"
	"time"

	"sbprov.test/emulators/emukit"
)

// Config holds everything the command line sets.
type Config struct {
	HubHost              string        // IoT Hub host name: SAS sr and DPS assignedHub
	IDScope              string        // the default DPS ID scope
	Groups               []*enrollment // -group
	Individuals          []*enrollment // -enrollment
	Policies             []*policy     // -policy (missing default policies get random keys)
	AssignPolls          int           // 202 "assigning" answers to operation polls before the result
	RetryAfter           int           // Retry-After seconds on DPS 202 answers (0: no header)
	ImmediateAssign      bool          // register answers 200 with the result at once
	Skew                 time.Duration // SAS expiry tolerance
	ClockOffset          time.Duration // the server's clock runs this far off
	MaxTTL               time.Duration // refuse tokens expiring later than now+MaxTTL (0: no limit)
	StrictRegistrationID bool          // registration ids: lowercase alphanumeric and '-' only
	MaxMessageBytes      int64         // D2C message body limit (IoT Hub: 256 KiB)
	MaxBody              int64         // DPS and registry JSON body limit
	LogPath              string
}

// DefaultConfig mirrors the real services' defaults.
func DefaultConfig() Config {
	return Config{
		HubHost:         "sbprov-test-hub.azure-devices.net",
		IDScope:         "0ne00C0FFEE",
		AssignPolls:     1,
		RetryAfter:      3,
		Skew:            5 * time.Minute,
		MaxMessageBytes: 256 * 1024,
		MaxBody:         1 << 20,
	}
}

// Services.
const (
	svcDPS = "dps"
	svcHub = "hub"
)

// serviceHeader is set by nginx on the DPS-only and hub-only endpoints.
const serviceHeader = "X-Emu-Service"

type handlerFunc func(w http.ResponseWriter, r *http.Request, rc *reqCtx)

type route struct {
	name     string
	service  string
	segments []string // ":x" is a parameter
	methods  map[string]handlerFunc
}

// reqCtx is the per-request state shared by the pipeline and the handlers;
// emukit.Call holds what every emulator's request log records (request
// id, route name, device id, fault, violations).
type reqCtx struct {
	emukit.Call
	service        string
	params         map[string]string
	apiVersion     string
	registrationID string
	mu             sync.Mutex // guards auth and authError
	auth           string
	authError      string
}

// logExtra are the Azure fields of a request log entry.
type logExtra struct {
	Service        string `json:"service,omitempty"`
	RegistrationID string `json:"registration_id,omitempty"`
	Auth           string `json:"auth,omitempty"`
	AuthError      string `json:"auth_error,omitempty"`
}

// violationExtra is the Azure field of a violation.
type violationExtra struct {
	Service string `json:"service,omitempty"`
}

func (rc *reqCtx) logExtra() logExtra {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return logExtra{Service: rc.service, RegistrationID: rc.registrationID, Auth: rc.auth, AuthError: rc.authError}
}

// Server is the emulated DPS + IoT Hub API (one http.Handler) plus its
// control API.
type Server struct {
	cfg    Config
	st     *store
	faults *emukit.FaultSet
	log    *emukit.RequestLog
	ctl    *emukit.Control
	routes []*route
	clock  func() time.Time // the real clock (tests replace it)
}

// NewServer checks the configuration and creates the emulator with the
// configured enrollments and policies.
func NewServer(cfg Config) (*Server, error) {
	d := DefaultConfig()
	if cfg.HubHost == "" {
		cfg.HubHost = d.HubHost
	}
	if cfg.IDScope == "" {
		cfg.IDScope = d.IDScope
	}
	if cfg.MaxMessageBytes <= 0 {
		cfg.MaxMessageBytes = d.MaxMessageBytes
	}
	if cfg.MaxBody <= 0 {
		cfg.MaxBody = d.MaxBody
	}
	if cfg.Skew < 0 || cfg.MaxTTL < 0 || cfg.AssignPolls < 0 || cfg.RetryAfter < 0 {
		return nil, errors.New("skew, max-ttl, assign-polls and retry-after must not be negative")
	}
	if !validScope(cfg.IDScope) {
		return nil, fmt.Errorf("id scope %q: want alphanumeric characters", cfg.IDScope)
	}
	if err := validHost(cfg.HubHost); err != nil {
		return nil, err
	}
	// Default policies the command line did not give get random keys now,
	// so that /_emu/reset keeps them.
	have := map[string]bool{}
	for _, p := range cfg.Policies {
		have[p.Name] = true
	}
	cfg.Policies = append([]*policy(nil), cfg.Policies...)
	for _, name := range defaultPolicyOrder {
		if !have[name] {
			cfg.Policies = append(cfg.Policies, &policy{Name: name, PrimaryKey: newKey(32), SecondaryKey: newKey(32),
				Permissions: append([]string(nil), defaultPolicyPermissions[name]...)})
		}
	}
	// Missing secondary enrollment keys are generated now for the same reason.
	for _, list := range []*[]*enrollment{&cfg.Groups, &cfg.Individuals} {
		cp := make([]*enrollment, 0, len(*list))
		for _, e := range *list {
			c := *e
			if c.PrimaryKey == "" {
				c.PrimaryKey = newKey(64)
			}
			if c.SecondaryKey == "" {
				c.SecondaryKey = newKey(64)
			}
			cp = append(cp, &c)
		}
		*list = cp
	}
	rl, err := emukit.NewRequestLog(cfg.LogPath)
	if err != nil {
		return nil, err
	}
	s := &Server{cfg: cfg, st: newStore(), faults: &emukit.FaultSet{}, log: rl, clock: time.Now}
	s.ctl = &emukit.Control{Faults: s.faults, Log: rl, JSON: azureJSON, StrictFaults: true, Reset: s.reset}
	s.routes = s.buildRoutes()
	s.st.mu.Lock()
	err = s.loadConfigured()
	s.st.mu.Unlock()
	if err != nil {
		rl.Close()
		return nil, err
	}
	return s, nil
}

// loadConfigured (under st.mu) puts the command line's settings,
// enrollments and policies in place.
func (s *Server) loadConfigured() error {
	c := s.cfg
	s.st.set = settings{
		HubHost: c.HubHost, IDScope: c.IDScope, AssignPolls: c.AssignPolls, RetryAfter: c.RetryAfter,
		ImmediateAssign: c.ImmediateAssign, ClockOffset: c.ClockOffset, Skew: c.Skew, MaxTTL: c.MaxTTL,
		StrictRegistrationID: c.StrictRegistrationID, MaxMessageBytes: c.MaxMessageBytes,
	}
	now := s.nowLocked()
	for _, list := range [][]*enrollment{c.Groups, c.Individuals} {
		for _, e := range list {
			cp := *e
			if err := s.st.addEnrollment(&cp, now); err != nil {
				return err
			}
		}
	}
	for _, p := range c.Policies {
		cp := *p
		cp.Permissions = append([]string(nil), p.Permissions...)
		if err := cp.normalize(); err != nil {
			return err
		}
		s.st.policies[cp.Name] = &cp
	}
	return nil
}

var hostRE = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)+$`)

func validHost(h string) error {
	if !hostRE.MatchString(h) {
		return fmt.Errorf("hub host name %q: want a DNS name with a dot and no port, e.g. myhub.azure-devices.net", h)
	}
	return nil
}

// Close releases the request log file.
func (s *Server) Close() error { return s.log.Close() }

// now is the server's clock: the real one plus the configured offset.
func (s *Server) now() time.Time {
	s.st.mu.Lock()
	defer s.st.mu.Unlock()
	return s.nowLocked()
}

func (s *Server) nowLocked() time.Time { return s.clock().Add(s.st.set.ClockOffset).UTC() }

func (s *Server) buildRoutes() []*route {
	r := func(name, service, path string, methods map[string]handlerFunc) *route {
		return &route{name: name, service: service, segments: splitPath(path), methods: methods}
	}
	type m = map[string]handlerFunc
	const get, post, put, del = http.MethodGet, http.MethodPost, http.MethodPut, http.MethodDelete
	return []*route{
		// DPS device API (RuntimeRegistration)
		r("dps_register", svcDPS, "/:scope/registrations/:rid/register", m{put: s.handleRegister}),
		r("dps_operation", svcDPS, "/:scope/registrations/:rid/operations/:op", m{get: s.handleOperation}),
		r("dps_status", svcDPS, "/:scope/registrations/:rid", m{post: s.handleStatusLookup}),
		// IoT Hub service API (identity registry) and device API
		r("hub_device", svcHub, "/devices/:id", m{get: s.handleGetDevice, put: s.handlePutDevice, del: s.handleDeleteDevice}),
		r("hub_telemetry", svcHub, "/devices/:id/messages/events", m{post: s.handleTelemetry}),
	}
}

func splitPath(p string) []string {
	return strings.Split(strings.Trim(p, "/"), "/")
}

// pathSegments splits the escaped path and unescapes each segment, so an
// encoded '/' (%2F) stays inside its segment.
func pathSegments(r *http.Request) ([]string, bool) {
	raw := strings.TrimPrefix(r.URL.EscapedPath(), "/")
	parts := strings.Split(raw, "/")
	for i, p := range parts {
		u, err := url.PathUnescape(p)
		if err != nil {
			return nil, false
		}
		parts[i] = u
	}
	return parts, true
}

func (rt *route) match(segs []string) (map[string]string, bool) {
	if len(segs) != len(rt.segments) {
		return nil, false
	}
	params := map[string]string{}
	for i, s := range rt.segments {
		if strings.HasPrefix(s, ":") {
			if segs[i] == "" {
				return nil, false
			}
			params[s[1:]] = segs[i]
		} else if s != segs[i] {
			return nil, false
		}
	}
	return params, true
}

// lookup finds the route for a path: among the routes of the allowed
// service(s), the first that matches the path and has the method; else
// the first that matches the path (405).
func (s *Server) lookup(method string, segs []string, service string) (rt *route, params map[string]string) {
	var first *route
	var firstParams map[string]string
	for _, cand := range s.routes {
		if service != "" && cand.service != service {
			continue
		}
		p, ok := cand.match(segs)
		if !ok {
			continue
		}
		if first == nil {
			first, firstParams = cand, p
		}
		if _, ok := cand.methods[method]; ok {
			return cand, p
		}
	}
	return first, firstParams
}

// guessService: the endpoint's service (nginx header), else the route's,
// else from the path's shape (hub paths start with /devices).
func (s *Server) guessService(endpoint string, rt *route, segs []string) string {
	switch {
	case endpoint != "":
		return endpoint
	case rt != nil:
		return rt.service
	case len(segs) > 0 && segs[0] == "devices":
		return svcHub
	}
	return svcDPS
}

// ServeHTTP is the pipeline: request id and Date -> faults -> routing ->
// api-version -> handler (authorization, Content-Type, body). Every request
// is logged.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	rc := &reqCtx{}
	rc.RequestID = emukit.NewUUID()
	rec, body := emukit.Capture(w, r)
	rec.Stamp = s.stampDate
	setRawHeader(rec.Header(), hdrRequestID, rc.RequestID)
	s.stampDate(rec.Header())
	defer func() {
		s.log.Add(r, rec, body, start, &rc.Call, rc.logExtra(), violationExtra{Service: rc.service})
	}()

	endpoint := strings.ToLower(strings.TrimSpace(r.Header.Get(serviceHeader)))
	if endpoint != svcDPS && endpoint != svcHub {
		endpoint = ""
	}
	segs, okPath := pathSegments(r)
	var rt *route
	var params map[string]string
	if okPath {
		rt, params = s.lookup(r.Method, segs, endpoint)
	}
	rc.service = s.guessService(endpoint, rt, segs)
	if rt != nil {
		rc.RouteName = rt.name
	}
	if rule := s.faults.Match(r.Method, r.URL.Path, rc.RouteName, rc.service); rule != nil {
		rc.Fault = rule.ID
		if emukit.ApplyFault(rec, r, rule, s.faultBodies(rc)) {
			return
		}
	}
	s.dispatch(rec, r, rc, rt, params, endpoint, segs)
}

func (s *Server) notFound(w http.ResponseWriter, rc *reqCtx, msg string) {
	if rc.service == svcHub {
		s.hubReject(w, rc, http.StatusNotFound, "GenericError", vkRoute, msg)
	} else {
		s.dpsReject(w, rc, http.StatusNotFound, dpsNotFound, vkRoute, msg)
	}
}

func (s *Server) dispatch(w http.ResponseWriter, r *http.Request, rc *reqCtx, rt *route, params map[string]string,
	endpoint string, segs []string) {
	if rt == nil {
		msg := "no such route: " + r.URL.Path
		if endpoint != "" {
			if other, _ := s.lookup(r.Method, segs, ""); other != nil {
				msg = fmt.Sprintf("%s is a %s route, sent to the %s endpoint", r.URL.Path, strings.ToUpper(other.service),
					strings.ToUpper(endpoint))
			}
		}
		s.notFound(w, rc, msg)
		return
	}
	h, ok := rt.methods[r.Method]
	if !ok {
		allowed := make([]string, 0, len(rt.methods))
		for m := range rt.methods {
			allowed = append(allowed, m)
		}
		sort.Strings(allowed)
		w.Header().Set("Allow", strings.Join(allowed, ", "))
		msg := fmt.Sprintf("method %s not allowed on %s", r.Method, r.URL.Path)
		if rc.service == svcHub {
			s.hubReject(w, rc, http.StatusMethodNotAllowed, "GenericError", vkMethod, msg)
		} else {
			s.dpsReject(w, rc, http.StatusMethodNotAllowed, dpsMethod, vkMethod, msg)
		}
		return
	}
	rc.params = params
	if rt.service == svcDPS {
		rc.registrationID = params["rid"]
	} else {
		rc.DeviceID = params["id"]
	}
	// api-version is required by both services.
	rc.apiVersion = r.URL.Query().Get("api-version")
	if !apiVersionRE.MatchString(rc.apiVersion) {
		msg := "the api-version query parameter is missing or malformed (want e.g. 2021-10-01 for DPS, 2021-04-12 for IoT Hub)"
		if rc.apiVersion != "" {
			msg = fmt.Sprintf("api-version %q is malformed", rc.apiVersion)
		}
		if rt.service == svcHub {
			s.hubReject(w, rc, http.StatusBadRequest, "InvalidProtocolVersion", vkAPIVersion, msg)
		} else {
			s.dpsReject(w, rc, http.StatusBadRequest, dpsBadRequest, vkAPIVersion, msg)
		}
		return
	}
	h(w, r, rc)
}

var apiVersionRE = regexp.MustCompile(`^[0-9]{4}-[0-9]{2}-[0-9]{2}(-preview)?$`)

// checkJSONType: a request with a body must say Content-Type application/json.
func checkJSONType(r *http.Request) (string, bool) {
	ct := r.Header.Get("Content-Type")
	if ct == "" {
		return "missing Content-Type (want application/json)", false
	}
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		return fmt.Sprintf("unparsable Content-Type %q: %v", ct, err), false
	}
	if mt != "application/json" {
		return fmt.Sprintf("Content-Type %q is not application/json", ct), false
	}
	return "", true
}

// readBody reads at most limit bytes; tooBig is true beyond that.
func readBody(r *http.Request, limit int64) (b []byte, tooBig bool, err error) {
	if r.Body == nil {
		return nil, false, nil
	}
	if r.ContentLength > limit {
		return nil, true, nil
	}
	b, err = io.ReadAll(io.LimitReader(r.Body, limit+1))
	if err != nil {
		return nil, false, err
	}
	if int64(len(b)) > limit {
		return nil, true, nil
	}
	return b, false, nil
}

// stampDate sets the Date header from the server's (possibly offset)
// clock: on every answer, when its header goes out (emukit.Recorder.Stamp).
func (s *Server) stampDate(h http.Header) {
	h.Set("Date", s.now().Format(http.TimeFormat))
}
