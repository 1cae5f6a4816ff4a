package main

import (
	"encoding/json"
	"net/http"
	"strings"

	"sbprov.test/emulators/emukit"
)

// Fault rules, their matching and their application are emukit's; the
// Mender emulator supplies its default bodies.

const garbageBody = "{\"id\": \"0f\x00\", \"artifact\": {\"source\": [1, 2,, }}} \xff\xfe<html>"

// faultBodies: the Mender error JSON for a status >= 400, a truncated
// error, {"error":"aaaa…"} for oversize.
func faultBodies(rc *reqCtx) emukit.FaultBodies {
	return emukit.FaultBodies{
		Error: func(_ http.Header, status int) string {
			b, _ := json.Marshal(apiError{Err: strings.ToLower(http.StatusText(status)), RequestID: rc.RequestID})
			return string(b)
		},
		Garbage:       garbageBody,
		Truncated:     `{"error":"truncated","request_id":"` + rc.RequestID + `"}`,
		OversizeField: "error",
	}
}
