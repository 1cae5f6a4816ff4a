package main

import (
	"mime"
	"net/http"
	"strings"
	"time"

	"sbprov.test/emulators/emukit"
)

// Config holds everything the command line sets.
type Config struct {
	TenantToken       string
	Users             map[string]string // lower-case e-mail -> password
	PATs              []string
	JWTTTL            time.Duration // device token lifetime
	UserJWTTTL        time.Duration // management (login) token lifetime
	JWTAlg            string        // "EdDSA" or "RS256"
	MaxDevices        int           // 0 = unlimited
	ExpiredStatus     int           // answer to an expired device token (403 or 401)
	DecommissionDelay time.Duration // how long a decommissioned device lingers
	MaxBody           int64         // request body limit (Mender: 1 MiB)
	LogPath           string
}

// DefaultConfig mirrors the real server's defaults.
func DefaultConfig() Config {
	return Config{
		Users:         map[string]string{},
		JWTTTL:        168 * time.Hour, // DA/config: 604800 s
		UserJWTTTL:    168 * time.Hour,
		JWTAlg:        "EdDSA",
		ExpiredStatus: http.StatusForbidden,
		MaxBody:       1 << 20,
	}
}

// Route kinds: who authenticates the request before the service sees it.
const (
	kindDeviceOpen = iota // device API without a token (auth_requests)
	kindDevice            // device API behind the gateway's devauth forward-auth
	kindMgmtOpen          // management API without a token (login)
	kindMgmt              // management API behind the gateway's userauth forward-auth
)

type handlerFunc func(w http.ResponseWriter, r *http.Request, rc *reqCtx)

type route struct {
	name      string
	segments  []string // ":x" is a parameter
	kind      int
	methods   map[string]handlerFunc
	checkJSON map[string]bool // methods behind contenttype.CheckJSON()
}

// reqCtx is the per-request state shared by the pipeline and the handlers;
// emukit.Call holds what the request log records (request id, route name,
// device id, fault, violations).
type reqCtx struct {
	emukit.Call
	route  *route
	params map[string]string
}

// Server is the emulated Mender API (one http.Handler) plus its control API.
type Server struct {
	cfg    Config
	jwt    *jwtSigner
	st     *store
	faults *emukit.FaultSet
	log    *emukit.RequestLog
	ctl    *emukit.Control
	routes []*route
	now    func() time.Time
}

// NewServer creates the emulator with an empty state.
func NewServer(cfg Config) (*Server, error) {
	if cfg.Users == nil {
		cfg.Users = map[string]string{}
	}
	if cfg.MaxBody <= 0 {
		cfg.MaxBody = 1 << 20
	}
	if cfg.ExpiredStatus == 0 {
		cfg.ExpiredStatus = http.StatusForbidden
	}
	if cfg.JWTTTL == 0 {
		cfg.JWTTTL = 168 * time.Hour
	}
	if cfg.UserJWTTTL == 0 {
		cfg.UserJWTTTL = 168 * time.Hour
	}
	signer, err := newJWTSigner(cfg.JWTAlg)
	if err != nil {
		return nil, err
	}
	rl, err := emukit.NewRequestLog(cfg.LogPath)
	if err != nil {
		return nil, err
	}
	s := &Server{
		cfg:    cfg,
		jwt:    signer,
		st:     newStore(cfg.MaxDevices),
		faults: &emukit.FaultSet{},
		log:    rl,
		now:    time.Now,
	}
	s.ctl = &emukit.Control{Faults: s.faults, Log: rl, JSON: ginJSON, Reset: s.reset}
	s.st.expiredStatus = cfg.ExpiredStatus
	s.st.decommissionDelay = cfg.DecommissionDelay
	s.st.tenantToken = cfg.TenantToken
	s.routes = s.buildRoutes()
	return s, nil
}

// Close releases the request log file.
func (s *Server) Close() error { return s.log.Close() }

func (s *Server) buildRoutes() []*route {
	r := func(name, path string, kind int, methods map[string]handlerFunc, checkJSON ...string) *route {
		cj := map[string]bool{}
		for _, m := range checkJSON {
			cj[m] = true
		}
		return &route{name: name, segments: splitPath(path), kind: kind, methods: methods, checkJSON: cj}
	}
	type m = map[string]handlerFunc
	const (
		get, post, put, patch, del = http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete
	)
	return []*route{
		// deviceauth (DA/api/http/routing.go)
		r("auth_requests", "/api/devices/v1/authentication/auth_requests", kindDeviceOpen,
			m{post: s.handleAuthRequest}, post),
		// inventory (inventory/api/http/routing.go, traefik replacepathregex)
		r("inventory_attributes", "/api/devices/v1/inventory/device/attributes", kindDevice,
			m{put: s.handleInventory, patch: s.handleInventory}, put, patch),
		// deployments (deployments/api/http/routing.go)
		r("deployments_next", "/api/devices/v1/deployments/device/deployments/next", kindDevice,
			m{get: s.handleNextV1, post: s.handleNextV1}, post),
		r("deployments_next_v2", "/api/devices/v2/deployments/device/deployments/next", kindDevice,
			m{post: s.handleNextV2}, post),
		r("deployment_status", "/api/devices/v1/deployments/device/deployments/:id/status", kindDevice,
			m{put: s.handleDeploymentStatus}, put),
		// useradm
		r("useradm_login", "/api/management/v1/useradm/auth/login", kindMgmtOpen,
			m{post: s.handleLogin}, post),
		r("useradm_tokens", "/api/management/v1/useradm/settings/tokens", kindMgmt,
			m{post: s.handleCreatePAT}, post),
		// deviceauth management v2
		r("devauth_count", "/api/management/v2/devauth/devices/count", kindMgmt,
			m{get: s.handleDevicesCount}),
		r("devauth_search", "/api/management/v2/devauth/devices/search", kindMgmt,
			m{post: s.handleDevicesSearch}, post),
		r("devauth_devices", "/api/management/v2/devauth/devices", kindMgmt,
			m{get: s.handleDevicesList, post: s.handlePreauthorize}, post),
		r("devauth_device", "/api/management/v2/devauth/devices/:id", kindMgmt,
			m{get: s.handleDeviceGet, del: s.handleDecommission}),
		r("devauth_authset", "/api/management/v2/devauth/devices/:id/auth/:aid", kindMgmt,
			m{del: s.handleDeleteAuthSet}),
		r("devauth_authset_status", "/api/management/v2/devauth/devices/:id/auth/:aid/status", kindMgmt,
			m{get: s.handleGetAuthSetStatus, put: s.handleSetAuthSetStatus}, put),
		r("devauth_token", "/api/management/v2/devauth/tokens/:id", kindMgmt,
			m{del: s.handleRevokeToken}),
		r("devauth_limits", "/api/management/v2/devauth/limits/:name", kindMgmt,
			m{get: s.handleLimit}),
	}
}

func splitPath(p string) []string {
	return strings.Split(strings.Trim(p, "/"), "/")
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

// lookup finds the route for a path; the first route that matches the path
// and has the method wins, as gin's tree does for literal vs. parameter
// siblings (devices/count vs devices/:id).
func (s *Server) lookup(method, path string) (rt *route, params map[string]string, pathMatched bool) {
	segs := splitPath(path)
	var first *route
	var firstParams map[string]string
	for _, cand := range s.routes {
		p, ok := cand.match(segs)
		if !ok {
			continue
		}
		if first == nil {
			first, firstParams = cand, p
		}
		if _, ok := cand.methods[method]; ok {
			return cand, p, true
		}
	}
	return first, firstParams, first != nil
}

// routeName is what fault rules match and the log shows: the route the
// request is dispatched to ("" when no route has its path; rules can still
// match it by path prefix).
func (s *Server) routeName(method, path string) string {
	if rt, _, _ := s.lookup(method, path); rt != nil {
		return rt.name
	}
	return ""
}

// ServeHTTP is the emulated gateway + service pipeline:
// request id -> faults -> routing -> gateway forward-auth -> request size ->
// Content-Type -> handler. Every request is logged.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := s.now()
	rc := &reqCtx{}
	rc.RequestID = r.Header.Get("X-MEN-RequestID")
	if rc.RequestID == "" {
		rc.RequestID = emukit.NewUUID()
	}
	rec, body := emukit.Capture(w, r)
	rec.Header().Set("X-MEN-RequestID", rc.RequestID)
	defer func() {
		s.log.Add(r, rec, body, start, &rc.Call, nil, nil)
	}()

	rc.RouteName = s.routeName(r.Method, r.URL.Path)
	if rule := s.faults.Match(r.Method, r.URL.Path, rc.RouteName); rule != nil {
		rc.Fault = rule.ID
		if emukit.ApplyFault(rec, r, rule, faultBodies(rc)) {
			return
		}
	}
	s.dispatch(rec, r, rc)
}

func (s *Server) dispatch(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	rt, params, pathMatched := s.lookup(r.Method, r.URL.Path)
	if rt != nil && rt.name == "deployments_next_v2" && !s.st.v2Enabled() {
		// The open-source server has no v2 route: plain gin 404.
		writeError(w, rc, http.StatusNotFound, "not found")
		return
	}
	if !pathMatched {
		reject(w, rc, http.StatusNotFound, vkRoute, "not found")
		return
	}
	h, ok := rt.methods[r.Method]
	if !ok {
		if r.Method == http.MethodOptions {
			// AutogenOptionsRoutes: Allow headers, empty 200.
			for m := range rt.methods {
				w.Header().Add("Allow", m)
			}
			w.WriteHeader(http.StatusOK)
			return
		}
		reject(w, rc, http.StatusMethodNotAllowed, vkMethod, "method not allowed")
		return
	}
	rc.route, rc.params = rt, params

	switch rt.kind {
	case kindDevice:
		if !s.deviceAuth(w, r, rc) {
			return
		}
	case kindMgmt:
		if !s.mgmtAuth(w, r, rc) {
			return
		}
	}

	// requestsize.Middleware
	if r.ContentLength > s.cfg.MaxBody {
		reject(w, rc, http.StatusRequestEntityTooLarge, vkSize, "http: request body too large")
		return
	}
	if r.Body != nil {
		r.Body = http.MaxBytesReader(w, r.Body, s.cfg.MaxBody)
	}
	// contenttype.CheckJSON()
	if rt.checkJSON[r.Method] && r.ContentLength > 0 {
		mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
		if err != nil {
			reject(w, rc, http.StatusBadRequest, vkContentType,
				"Invalid value for Content-Type header: "+err.Error())
			return
		}
		if mt != "application/json" {
			reject(w, rc, http.StatusUnsupportedMediaType, vkContentType,
				"Bad Content-Type, expected 'application/json'")
			return
		}
	}
	h(w, r, rc)
}
