package main

import (
	"encoding/json"
	"errors"
	"net/http"
	"time"
	"unicode/utf8"
)

// deployment is a pending deployment configured through the control API
// for one device, or for every device ("*").
type deployment struct {
	ID           string            `json:"id"`
	DeviceID     string            `json:"device_id"`
	ArtifactID   string            `json:"artifact_id"`
	ArtifactName string            `json:"artifact_name"`
	URI          string            `json:"uri"`
	Expire       time.Time         `json:"expire"`
	DeviceTypes  []string          `json:"device_types_compatible"`
	Statuses     map[string]string `json:"statuses"` // device id -> last reported status
	Finished     map[string]string `json:"finished"` // device id -> final status
}

// Device deployment statuses (deployments devices_v1.yaml DeploymentStatus).
var deploymentStatuses = map[string]bool{
	"installing": true, "pause_before_installing": true, "downloading": true,
	"pause_before_rebooting": true, "rebooting": true, "pause_before_committing": true,
	"success": true, "failure": true, "already-installed": true,
}

var finalDeploymentStatuses = map[string]bool{"success": true, "failure": true, "already-installed": true}

// deploymentInstructions is deployments/model DeploymentInstructions.
type deploymentInstructions struct {
	ID       string `json:"id"`
	Artifact struct {
		ID           string `json:"id"`
		ArtifactName string `json:"artifact_name"`
		Source       struct {
			URI    string    `json:"uri"`
			Expire time.Time `json:"expire"`
		} `json:"source"`
		DeviceTypesCompatible []string `json:"device_types_compatible"`
	} `json:"artifact"`
}

// validateProvides is InstalledDeviceDeployment.Validate (lengthIn1To4096).
func validateProvides(name, typ string) error {
	if name == "" {
		return errors.New("artifact_name: cannot be blank.")
	}
	if utf8.RuneCountInString(name) > 4096 {
		return errors.New("artifact_name: the length must be between 1 and 4096.")
	}
	if typ == "" {
		return errors.New("device_type: cannot be blank.")
	}
	if utf8.RuneCountInString(typ) > 4096 {
		return errors.New("device_type: the length must be between 1 and 4096.")
	}
	return nil
}

// nextFor finds the deployment for a device; an artifact already installed
// or a device type outside the compatible list ends it for that device
// (already-installed / noartifact) and gives no update, as the real server.
func (st *store) nextFor(devID, artifactName, deviceType string) *deployment {
	dep := st.deployments[devID]
	if dep == nil || dep.Finished[devID] != "" {
		dep = st.deployments["*"]
	}
	if dep == nil || dep.Finished[devID] != "" {
		return nil
	}
	if dep.ArtifactName == artifactName {
		dep.Finished[devID] = "already-installed"
		return nil
	}
	if len(dep.DeviceTypes) > 0 {
		ok := false
		for _, t := range dep.DeviceTypes {
			if t == deviceType {
				ok = true
			}
		}
		if !ok {
			dep.Finished[devID] = "noartifact"
			return nil
		}
	}
	return dep
}

func (s *Server) answerNext(w http.ResponseWriter, rc *reqCtx, name, typ string) {
	s.st.mu.Lock()
	defer s.st.mu.Unlock()
	dep := s.st.nextFor(rc.DeviceID, name, typ)
	if dep == nil {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	var out deploymentInstructions
	out.ID = dep.ID
	out.Artifact.ID = dep.ArtifactID
	out.Artifact.ArtifactName = dep.ArtifactName
	out.Artifact.Source.URI = dep.URI
	out.Artifact.Source.Expire = dep.Expire
	out.Artifact.DeviceTypesCompatible = dep.DeviceTypes
	if out.Artifact.DeviceTypesCompatible == nil {
		out.Artifact.DeviceTypesCompatible = []string{}
	}
	writeJSON(w, http.StatusOK, out)
}

// handleNextV1 is GetDeploymentForDevice: GET with the query parameters
// artifact_name and device_type, or POST with
// {"artifact_name","device_type","artifact_provides"}.
func (s *Server) handleNextV1(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	var name, typ string
	if r.Method == http.MethodPost {
		var in struct {
			ArtifactName string            `json:"artifact_name"`
			DeviceType   string            `json:"device_type"`
			Provides     map[string]string `json:"artifact_provides"`
		}
		if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
			reject(w, rc, http.StatusBadRequest, vkSchema, "invalid schema: "+err.Error())
			return
		}
		for k, v := range in.Provides {
			if n := utf8.RuneCountInString(v); n < 1 || n > 4096 {
				reject(w, rc, http.StatusBadRequest, vkSchema,
					"artifact_provides: ("+k+": the length must be between 1 and 4096.).")
				return
			}
		}
		name, typ = in.ArtifactName, in.DeviceType
	} else {
		q := r.URL.Query()
		name, typ = q.Get("artifact_name"), q.Get("device_type")
	}
	if err := validateProvides(name, typ); err != nil {
		reject(w, rc, http.StatusBadRequest, vkSchema, err.Error())
		return
	}
	s.answerNext(w, rc, name, typ)
}

// handleNextV2 answers POST /api/devices/v2/.../next once enabled through
// the control API (hosted/enterprise only): {"device_provides": {...}}.
func (s *Server) handleNextV2(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	var in struct {
		DeviceProvides map[string]interface{} `json:"device_provides"`
	}
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
		reject(w, rc, http.StatusBadRequest, vkSchema, "invalid schema: "+err.Error())
		return
	}
	if in.DeviceProvides == nil {
		reject(w, rc, http.StatusBadRequest, vkSchema, "device_provides: cannot be blank.")
		return
	}
	for k, v := range in.DeviceProvides {
		if _, ok := v.(string); !ok {
			reject(w, rc, http.StatusBadRequest, vkSchema, "device_provides: "+k+" must be a string.")
			return
		}
	}
	name, _ := in.DeviceProvides["artifact_name"].(string)
	typ, _ := in.DeviceProvides["device_type"].(string)
	if err := validateProvides(name, typ); err != nil {
		reject(w, rc, http.StatusBadRequest, vkSchema, err.Error())
		return
	}
	s.answerNext(w, rc, name, typ)
}

// handleDeploymentStatus is PUT .../deployments/{id}/status: 204; 404 for a
// deployment the device does not have; 409 once it is finished.
func (s *Server) handleDeploymentStatus(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	var in struct {
		Status   string  `json:"status"`
		SubState *string `json:"substate"`
	}
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
		reject(w, rc, http.StatusBadRequest, vkSchema, "invalid schema: "+err.Error())
		return
	}
	if !deploymentStatuses[in.Status] {
		reject(w, rc, http.StatusBadRequest, vkSchema, "status: must be a valid value.")
		return
	}
	s.st.mu.Lock()
	defer s.st.mu.Unlock()
	var dep *deployment
	for _, key := range []string{rc.DeviceID, "*"} {
		if d := s.st.deployments[key]; d != nil && d.ID == rc.params["id"] {
			dep = d
			break
		}
	}
	if dep == nil {
		writeError(w, rc, http.StatusNotFound, "Resource not found")
		return
	}
	if dep.Finished[rc.DeviceID] != "" {
		writeError(w, rc, http.StatusConflict, "deployment already finished")
		return
	}
	dep.Statuses[rc.DeviceID] = in.Status
	if finalDeploymentStatuses[in.Status] {
		dep.Finished[rc.DeviceID] = in.Status
	}
	w.WriteHeader(http.StatusNoContent)
}
