package main

import (
	"encoding/json"
	"net/http"
	"strconv"

	"sbprov.test/emulators/emukit"
)

// Fault rules, their matching and their application are emukit's (the
// rule model and JSON field names of the Mender emulator); the Azure
// emulator lets rules name a service ("dps", "hub") and supplies its
// default bodies.

const garbageBody = "{\"operationId\": \"5.\x00\", \"status\": [1, 2,, }}} \xff\xfe<html>"

// faultErrorBody is the default body of a fault status >= 400: the error
// shape of the service the request was meant for, with its error-code header.
func (s *Server) faultErrorBody(h http.Header, rc *reqCtx, status int) string {
	var v interface{}
	if rc.service == svcHub {
		name := hubErrorName(status)
		setRawHeader(h, hdrHubErrorCode, name)
		v = s.hubErrorJSON(rc, name, http.StatusText(status))
	} else {
		code := dpsFaultCode(status)
		setRawHeader(h, hdrDPSErrorCode, strconv.Itoa(code))
		v = s.dpsErrorJSON(rc, code, http.StatusText(status))
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// faultBodies: the service's error JSON for a status >= 400, a truncated
// DPS operation, {"message":"aaaa…"} for oversize.
func (s *Server) faultBodies(rc *reqCtx) emukit.FaultBodies {
	return emukit.FaultBodies{
		Error:         func(h http.Header, status int) string { return s.faultErrorBody(h, rc, status) },
		Garbage:       garbageBody,
		Truncated:     `{"operationId":"` + rc.RequestID + `","status":"assigning"}`,
		OversizeField: "message",
	}
}
