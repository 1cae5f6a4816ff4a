package main

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"sort"
	"sync"
	"time"

	"sbprov.test/emulators/emukit"
)

// Device and auth-set states (DA/model/device.go).
const (
	statusAccepted = "accepted"
	statusRejected = "rejected"
	statusPending  = "pending"
	statusPreauth  = "preauthorized"
	statusNoAuth   = "noauth"
)

var allDeviceStatuses = []string{statusPending, statusRejected, statusAccepted, statusPreauth, statusNoAuth}

// Errors of the device-auth logic, with the real server's messages.
var (
	errDevAuthUnauthorized = errors.New("dev auth: unauthorized")
	errDevAuthBadRequest   = errors.New("dev auth: bad request")
	errDevIDAuthIDMismatch = errors.New("dev auth: dev ID and auth ID mismatch")
	errMaxDevices          = errors.New("maximum number of accepted devices reached")
	errDevNotFound         = errors.New("device not found")
	errAuthSetNotFound     = errors.New("authorization set not found")
	errTokenNotFound       = errors.New("token not found")
)

type authSet struct {
	ID           string
	DeviceID     string
	IdData       string // canonical JSON
	IdDataStruct map[string]interface{}
	PubKey       string // normalized PEM
	Status       string
	TS           time.Time
}

type attribute struct {
	Name        string      `json:"name"`
	Value       interface{} `json:"value"`
	Description *string     `json:"description,omitempty"`
	Scope       string      `json:"scope"`
}

type device struct {
	ID              string
	IdData          string
	IdDataStruct    map[string]interface{}
	Status          string
	Decommissioning bool
	CreatedTS       time.Time
	UpdatedTS       time.Time
	CheckInTime     *time.Time
	AuthSets        []*authSet
	Inventory       []attribute
	InventoryTS     *time.Time
	TokenTTL        time.Duration // 0: server default
	issued          []string      // sha256 of every token issued to the device
	seq             int64
}

type tokenRec struct {
	JTI      string    `json:"jti"`
	DeviceID string    `json:"device_id"`
	Expires  time.Time `json:"exp"`
	Issued   time.Time `json:"iat"`
}

type store struct {
	mu                sync.Mutex
	devices           map[string]*device
	byIdentity        map[string]string // canonical identity -> device id
	authsets          map[string]*authSet
	tokens            map[string]*tokenRec // by jti (= auth set id), as DA's token collection
	expiredTokens     map[string]bool      // sha256(raw token) forced expired
	deployments       map[string]*deployment
	pats              map[string]string // token -> name
	v2next            bool
	maxDevices        int
	expiredStatus     int
	decommissionDelay time.Duration
	globalTokenTTL    time.Duration
	tenantToken       string
	seq               int64
	tokenSeq          int64
}

func newStore(maxDevices int) *store {
	st := &store{maxDevices: maxDevices}
	st.reset()
	return st
}

// reset drops every device, token and deployment; configuration stays.
func (st *store) reset() {
	st.devices = map[string]*device{}
	st.byIdentity = map[string]string{}
	st.authsets = map[string]*authSet{}
	st.tokens = map[string]*tokenRec{}
	st.expiredTokens = map[string]bool{}
	st.deployments = map[string]*deployment{}
	st.pats = map[string]string{}
	st.v2next = false
	st.globalTokenTTL = 0
}

func (st *store) v2Enabled() bool {
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.v2next
}

func tokenHash(raw string) string {
	h := sha256.Sum256([]byte(raw))
	return hex.EncodeToString(h[:])
}

// ts is how Mongo keeps times: UTC, millisecond precision.
func ts(t time.Time) time.Time { return t.UTC().Truncate(time.Millisecond) }

func statusWeight(s string) int {
	switch s {
	case statusAccepted:
		return 4
	case statusPreauth:
		return 3
	case statusPending:
		return 2
	case statusRejected:
		return 1
	}
	return 0
}

// aggregate is DeviceStatusFromAuthSetStatuses over all auth sets.
func aggregate(d *device) string {
	status, w := statusNoAuth, 0
	for _, a := range d.AuthSets {
		if sw := statusWeight(a.Status); sw > w {
			status, w = a.Status, sw
		}
	}
	return status
}

// validateStatusTransition is DA/model/device.go ValidateStatusTransition.
func validateStatusTransition(from, to string) error {
	switch to {
	case statusAccepted:
		if from == statusRejected || from == statusPending {
			return nil
		}
	case statusPending:
		if from != statusPreauth {
			return nil
		}
	case statusRejected:
		if from == statusPending || from == statusAccepted {
			return nil
		}
	}
	return fmt.Errorf("invalid status transition: %s -> %s", from, to)
}

func (st *store) setDeviceStatus(d *device, status string, now time.Time) {
	if d.Status != status {
		d.Status = status
		d.UpdatedTS = ts(now)
	}
}

func (st *store) acceptedCount() int {
	n := 0
	for _, d := range st.devices {
		if d.Status == statusAccepted {
			n++
		}
	}
	return n
}

// canAccept: MaxDevices 0 means unlimited (the real server's -1).
func (st *store) canAccept() bool {
	if st.maxDevices <= 0 {
		return true
	}
	return st.acceptedCount()+1 <= st.maxDevices
}

func (st *store) deleteDeviceTokens(devID string) {
	for jti, t := range st.tokens {
		if t.DeviceID == devID {
			delete(st.tokens, jti)
		}
	}
}

// updateAuthSetStatus is DA updateAuthSetStatus: accepting rejects the
// previously accepted auth set; leaving "accepted" deletes the tokens.
func (st *store) updateAuthSetStatus(a *authSet, status string) {
	if status == statusAccepted {
		if d := st.devices[a.DeviceID]; d != nil {
			for _, o := range d.AuthSets {
				if o != a && o.Status == statusAccepted {
					o.Status = statusRejected
				}
			}
		}
	} else if a.Status == statusAccepted {
		st.deleteDeviceTokens(a.DeviceID)
	}
	a.Status = status
}

func (st *store) newDevice(idData string, idStruct map[string]interface{}, status string, now time.Time) *device {
	st.seq++
	d := &device{
		ID:           emukit.NewUUID(),
		IdData:       idData,
		IdDataStruct: idStruct,
		Status:       status,
		CreatedTS:    ts(now),
		UpdatedTS:    ts(now),
		seq:          st.seq,
	}
	st.devices[d.ID] = d
	st.byIdentity[idData] = d.ID
	return d
}

func (st *store) addAuthSet(d *device, id string, pubkey, status string, now time.Time) *authSet {
	a := &authSet{
		ID:           id,
		DeviceID:     d.ID,
		IdData:       d.IdData,
		IdDataStruct: d.IdDataStruct,
		PubKey:       pubkey,
		Status:       status,
		TS:           ts(now),
	}
	d.AuthSets = append(d.AuthSets, a)
	st.authsets[a.ID] = a
	return a
}

func (d *device) authSetByKey(pubkey string) *authSet {
	for _, a := range d.AuthSets {
		if a.PubKey == pubkey {
			return a
		}
	}
	return nil
}

// submitAuth is DA SubmitAuthRequest after the signature was verified:
// preauthorization first, then normal processing. It returns the auth set
// when it is accepted; errDevAuthUnauthorized or errMaxDevices otherwise.
func (st *store) submitAuth(idData string, idStruct map[string]interface{}, pubkey string, now time.Time) (*authSet, *device, error) {
	// processPreAuthRequest
	if devID, ok := st.byIdentity[idData]; ok {
		d := st.devices[devID]
		if a := d.authSetByKey(pubkey); a != nil && a.Status == statusPreauth {
			if d.Decommissioning {
				return nil, nil, errDevAuthUnauthorized
			}
			if d.Status != statusAccepted && !st.canAccept() {
				return nil, nil, errMaxDevices
			}
			st.updateAuthSetStatus(a, statusAccepted)
			st.setDeviceStatus(d, statusAccepted, now)
			return a, d, nil
		}
	}
	// processAuthRequest
	var d *device
	if devID, ok := st.byIdentity[idData]; ok {
		d = st.devices[devID]
	} else {
		d = st.newDevice(idData, idStruct, statusNoAuth, now)
	}
	if d.Decommissioning {
		return nil, nil, errDevAuthUnauthorized
	}
	a := d.authSetByKey(pubkey)
	if a == nil {
		a = st.addAuthSet(d, emukit.NewUUID(), pubkey, statusPending, now)
	}
	st.setDeviceStatus(d, aggregate(d), now)
	if a.Status != statusAccepted {
		return nil, nil, errDevAuthUnauthorized
	}
	return a, d, nil
}

func (st *store) tokenTTL(d *device, def time.Duration) time.Duration {
	if d.TokenTTL != 0 {
		return d.TokenTTL
	}
	if st.globalTokenTTL != 0 {
		return st.globalTokenTTL
	}
	return def
}

// preauthorize is DA PreauthorizeDevice. It returns the device, whether a
// new auth set was stored (201) and the id for the Location header.
func (st *store) preauthorize(idData string, idStruct map[string]interface{}, pubkey string, force bool, now time.Time) (d *device, created bool, location string) {
	if devID, ok := st.byIdentity[idData]; ok {
		d = st.devices[devID]
		if !force {
			return d, false, ""
		}
		// UpsertAuthSetStatus: the (identity, key) auth set becomes
		// preauthorized; the device status is left alone ("FIXME" upstream).
		if a := d.authSetByKey(pubkey); a != nil {
			if a.Status == statusAccepted {
				st.deleteDeviceTokens(d.ID)
			}
			a.Status = statusPreauth
		} else {
			st.addAuthSet(d, emukit.NewUUID(), pubkey, statusPreauth, now)
		}
		// Quirk kept from the real server: a fresh, unused UUID.
		return d, true, emukit.NewUUID()
	}
	d = st.newDevice(idData, idStruct, statusPreauth, now)
	st.addAuthSet(d, emukit.NewUUID(), pubkey, statusPreauth, now)
	return d, true, d.ID
}

// setAuthSetStatus is DA SetAuthSetStatus.
func (st *store) setAuthSetStatus(devID, aid, status string, now time.Time) error {
	a := st.authsets[aid]
	if a == nil {
		return errAuthSetNotFound
	}
	if a.DeviceID != devID {
		return errDevIDAuthIDMismatch
	}
	if a.Status == status {
		return nil
	}
	if err := validateStatusTransition(a.Status, status); err != nil {
		return errDevAuthBadRequest
	}
	d := st.devices[devID]
	if d == nil {
		return errDevNotFound
	}
	if status == statusAccepted && d.Status != statusAccepted && !st.canAccept() {
		return errMaxDevices
	}
	st.updateAuthSetStatus(a, status)
	st.setDeviceStatus(d, aggregate(d), now)
	return nil
}

func (st *store) removeDevice(devID string) {
	d := st.devices[devID]
	if d == nil {
		return
	}
	for _, a := range d.AuthSets {
		delete(st.authsets, a.ID)
	}
	st.deleteDeviceTokens(devID)
	delete(st.deployments, devID)
	if st.byIdentity[d.IdData] == devID {
		delete(st.byIdentity, d.IdData)
	}
	delete(st.devices, devID)
}

// decommission flags the device and drops its tokens; the device itself
// disappears after decommissionDelay (the real cleanup is an asynchronous
// workflow, hence the documented 409 on an immediate re-preauthorization).
func (st *store) decommission(devID string) error {
	d := st.devices[devID]
	if d == nil {
		return errDevNotFound
	}
	d.Decommissioning = true
	st.deleteDeviceTokens(devID)
	if st.decommissionDelay <= 0 {
		st.removeDevice(devID)
		return nil
	}
	time.AfterFunc(st.decommissionDelay, func() {
		st.mu.Lock()
		defer st.mu.Unlock()
		if cur := st.devices[devID]; cur == d {
			st.removeDevice(devID)
		}
	})
	return nil
}

// deleteAuthSet is DA DeleteAuthSet.
func (st *store) deleteAuthSet(devID, aid string, now time.Time) error {
	a := st.authsets[aid]
	if a == nil || a.DeviceID != devID {
		return errAuthSetNotFound
	}
	d := st.devices[devID]
	delete(st.authsets, aid)
	if a.Status == statusAccepted {
		st.deleteDeviceTokens(devID)
	}
	if d == nil {
		return nil
	}
	kept := d.AuthSets[:0]
	for _, o := range d.AuthSets {
		if o != a {
			kept = append(kept, o)
		}
	}
	d.AuthSets = kept
	newStatus := aggregate(d)
	if a.Status == statusPreauth && newStatus == statusNoAuth {
		st.removeDevice(devID)
		return nil
	}
	st.setDeviceStatus(d, newStatus, now)
	return nil
}

// listDevices filters and sorts by creation (oldest first).
func (st *store) listDevices(statuses, ids []string) []*device {
	want := func(list []string, v string) bool {
		if len(list) == 0 {
			return true
		}
		for _, x := range list {
			if x == v {
				return true
			}
		}
		return false
	}
	var out []*device
	for _, d := range st.devices {
		if want(statuses, d.Status) && want(ids, d.ID) {
			out = append(out, d)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].seq < out[j].seq })
	return out
}

// JSON shapes of DA/model (Device, AuthSet).
type authSetJSON struct {
	ID           string                 `json:"id"`
	IdentityData map[string]interface{} `json:"identity_data"`
	PubKey       string                 `json:"pubkey"`
	TS           *time.Time             `json:"ts"`
	Status       string                 `json:"status"`
}

type deviceJSON struct {
	ID              string                 `json:"id"`
	IdentityData    map[string]interface{} `json:"identity_data"`
	Status          string                 `json:"status"`
	Decommissioning bool                   `json:"decommissioning"`
	CreatedTS       time.Time              `json:"created_ts"`
	UpdatedTS       time.Time              `json:"updated_ts"`
	AuthSets        []authSetJSON          `json:"auth_sets"`
	CheckInTime     *time.Time             `json:"check_in_time,omitempty"`
}

// toJSON renders the device; withAuthSets false gives "auth_sets": null as
// in the 409 answer to a preauthorization (the store lookup used there does
// not load auth sets).
func (d *device) toJSON(withAuthSets bool) deviceJSON {
	out := deviceJSON{
		ID:              d.ID,
		IdentityData:    d.IdDataStruct,
		Status:          d.Status,
		Decommissioning: d.Decommissioning,
		CreatedTS:       d.CreatedTS,
		UpdatedTS:       d.UpdatedTS,
		CheckInTime:     d.CheckInTime,
	}
	if withAuthSets {
		out.AuthSets = []authSetJSON{}
		for _, a := range d.AuthSets {
			t := a.TS
			out.AuthSets = append(out.AuthSets, authSetJSON{
				ID: a.ID, IdentityData: a.IdDataStruct, PubKey: a.PubKey, TS: &t, Status: a.Status,
			})
		}
	}
	return out
}
