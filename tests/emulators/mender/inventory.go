package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"unicode/utf8"
)

// maxInventoryAttributes is inventory's SettingLimitAttributesDefault.
const maxInventoryAttributes = 100

var errTooManyAttributes = errors.New("the number of attributes in the scope is above the limit")

// validateAttrValue is inventory/model/device.go validateDeviceAttrVal:
// string, number, or a non-mixed array of strings or of numbers.
func validateAttrValue(v interface{}) error {
	switch t := v.(type) {
	case string, float64:
		return nil
	case []interface{}:
		if len(t) == 0 {
			return nil
		}
		kind := ""
		for _, e := range t {
			k := ""
			switch e.(type) {
			case string:
				k = "string"
			case float64:
				k = "float64"
			default:
				if kind == "" {
					return fmt.Errorf("array values must be either string or float64, not: %T", e)
				}
				return errors.New("array values must be of consistent type: string or float64")
			}
			if kind == "" {
				kind = k
			} else if k != kind {
				return errors.New("array values must be of consistent type: string or float64")
			}
		}
		return nil
	}
	return errors.New("supported types are string, float64, and arrays thereof")
}

// parseAttributes is inventory parseAttributes: a JSON array (gin's decoder
// reads the first JSON value) of {name, value, description?}; the scope is
// forced to "inventory".
func parseAttributes(r *http.Request) ([]attribute, error) {
	var in []struct {
		Name        string      `json:"name"`
		Value       interface{} `json:"value"`
		Description *string     `json:"description"`
	}
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
		return nil, fmt.Errorf("failed to decode request body: %v", err)
	}
	out := make([]attribute, 0, len(in))
	for _, a := range in {
		n := utf8.RuneCountInString(a.Name)
		if n == 0 {
			return nil, errors.New("name: cannot be blank.")
		}
		if n > 1024 {
			return nil, errors.New("name: the length must be between 1 and 1024.")
		}
		if err := validateAttrValue(a.Value); err != nil {
			return nil, fmt.Errorf("value: %v.", err)
		}
		out = append(out, attribute{Name: a.Name, Value: a.Value, Description: a.Description, Scope: "inventory"})
	}
	return out, nil
}

// upsertAttrs merges attrs into cur by name (later entries win).
func upsertAttrs(cur, attrs []attribute) []attribute {
	for _, a := range attrs {
		found := false
		for i := range cur {
			if cur[i].Name == a.Name {
				cur[i] = a
				found = true
				break
			}
		}
		if !found {
			cur = append(cur, a)
		}
	}
	return cur
}

// handleInventory is UpdateDeviceAttributesHandler: PUT replaces the
// inventory scope, PATCH upserts; 200 with an empty body.
func (s *Server) handleInventory(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	attrs, err := parseAttributes(r)
	if err != nil {
		reject(w, rc, http.StatusBadRequest, vkSchema, err.Error())
		return
	}
	s.st.mu.Lock()
	defer s.st.mu.Unlock()
	d := s.st.devices[rc.DeviceID]
	if d == nil {
		writeError(w, rc, http.StatusUnauthorized, "unauthorized")
		return
	}
	var next []attribute
	if r.Method == http.MethodPut {
		if len(attrs) > maxInventoryAttributes {
			// A server limit, not an API constraint: no violation.
			writeError(w, rc, http.StatusBadRequest, errTooManyAttributes.Error())
			return
		}
		next = upsertAttrs(nil, attrs)
	} else {
		next = upsertAttrs(append([]attribute(nil), d.Inventory...), attrs)
		if len(next) > maxInventoryAttributes {
			writeError(w, rc, http.StatusBadRequest, errTooManyAttributes.Error())
			return
		}
	}
	d.Inventory = next
	t := ts(s.now())
	d.InventoryTS = &t
	w.WriteHeader(http.StatusOK)
}
