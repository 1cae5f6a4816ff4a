package main

import (
	"net/http"

	"sbprov.test/emulators/emukit"
)

// apiError is the error body every Mender service renders
// (MS:backend/pkg/rest.utils/error.go): {"error": "...", "request_id": "..."}.
type apiError struct {
	Err       string `json:"error"`
	RequestID string `json:"request_id,omitempty"`
}

// Violation kinds recorded for requests that break the published API
// description (see README: "Request checks").
const (
	vkSchema      = "schema"       // body or parameter does not match the OpenAPI schema
	vkContentType = "content-type" // wrong or unparsable Content-Type
	vkSize        = "size"         // body over the 1 MiB limit
	vkRoute       = "route"        // no such route
	vkMethod      = "method"       // route exists, method does not
	vkSignature   = "signature"    // X-MEN-Signature does not verify
	vkAuthHeader  = "auth-header"  // required Authorization header missing or not Bearer
)

// ginJSON renders JSON the way gin's c.JSON does: json.Marshal (HTML-escaping,
// no trailing newline) with Content-Type "application/json; charset=utf-8",
// no Content-Length of its own. The control API answers the same way.
var ginJSON = emukit.JSONStyle{InternalError: `{"error":"internal error"}`}

func writeJSON(w http.ResponseWriter, status int, v interface{}) { ginJSON.Write(w, status, v) }

// writeError renders a Mender error body; it is not a spec violation
// (state-dependent answers such as 401 pending or 404 unknown device).
func writeError(w http.ResponseWriter, rc *reqCtx, status int, msg string) {
	writeJSON(w, status, apiError{Err: msg, RequestID: rc.RequestID})
}

// reject renders a Mender error body and records the request as a
// violation of the published API description.
func reject(w http.ResponseWriter, rc *reqCtx, status int, kind, msg string) {
	rc.Violate(kind, msg)
	writeError(w, rc, status, msg)
}
