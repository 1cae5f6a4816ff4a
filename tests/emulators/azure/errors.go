package main

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"sbprov.test/emulators/emukit"
)

// Violation kinds recorded for requests that break the documented API (see
// README "Request checks"). A test that drives a client through a scenario
// can assert that GET /_emu/violations is [] afterwards.
const (
	vkSchema      = "schema"       // body, path parameter or header value does not match the API
	vkContentType = "content-type" // wrong or missing Content-Type on a JSON body
	vkSize        = "size"         // body over the limit
	vkRoute       = "route"        // no such route (or a route of the other service)
	vkMethod      = "method"       // route exists, method does not
	vkAPIVersion  = "api-version"  // api-version query parameter missing or malformed
	vkAuthHeader  = "auth-header"  // Authorization header missing
	vkSASFormat   = "sas-format"   // Authorization is not a well-formed SharedAccessSignature
	vkSASScope    = "sas-scope"    // sr does not name the requested resource (host, scope, device)
	vkSignature   = "signature"    // sig does not verify with any key that could apply
	vkETag        = "etag"         // If-Match value that is not a quoted entity tag or "*"
)

// Header names as Azure sends them (lower case). They are stored in the
// header map directly so that Go does not canonicalize them on the wire.
const (
	hdrRequestID    = "x-ms-request-id"
	hdrDPSErrorCode = "x-ms-error-code"
	hdrHubErrorCode = "iothub-errorcode"
)

func setRawHeader(h http.Header, name, value string) {
	h[name] = []string{value}
}

// dpsErrorBody is the Device Provisioning Service error shape
// (ProvisioningServiceErrorDetails): {"errorCode":401002,"trackingId":...,
// "message":...,"timestampUtc":...}.
type dpsErrorBody struct {
	ErrorCode    int    `json:"errorCode"`
	TrackingID   string `json:"trackingId"`
	Message      string `json:"message"`
	TimestampUTC string `json:"timestampUtc"`
}

// hubErrorBody is the IoT Hub REST error shape:
// {"Message":"ErrorCode:<Name>;<text>","ExceptionMessage":"Tracking ID:...-G:0-TimeStamp:MM/dd/yyyy HH:mm:ss"}.
type hubErrorBody struct {
	Message          string `json:"Message"`
	ExceptionMessage string `json:"ExceptionMessage"`
}

// dotnetTime renders a time the way the services' .NET serializer does
// (seven fractional digits, UTC, "Z").
func dotnetTime(t time.Time) string {
	if t.IsZero() {
		return "0001-01-01T00:00:00Z"
	}
	return t.UTC().Format("2006-01-02T15:04:05.0000000Z")
}

// azureJSON renders the services' JSON (with a Content-Length); the control
// API answers the same way.
var azureJSON = emukit.JSONStyle{ContentLength: true, InternalError: `{"message":"internal error"}`}

func writeJSON(w http.ResponseWriter, status int, v interface{}) { azureJSON.Write(w, status, v) }

func (s *Server) dpsErrorJSON(rc *reqCtx, code int, msg string) dpsErrorBody {
	return dpsErrorBody{ErrorCode: code, TrackingID: rc.RequestID, Message: msg, TimestampUTC: dotnetTime(s.now())}
}

// dpsError answers with a DPS error body and the x-ms-error-code header
// (the numeric code as text). Not a violation by itself.
func (s *Server) dpsError(w http.ResponseWriter, rc *reqCtx, status, code int, msg string) {
	setRawHeader(w.Header(), hdrDPSErrorCode, strconv.Itoa(code))
	writeJSON(w, status, s.dpsErrorJSON(rc, code, msg))
}

// dpsReject is dpsError plus a recorded violation.
func (s *Server) dpsReject(w http.ResponseWriter, rc *reqCtx, status, code int, kind, msg string) {
	rc.Violate(kind, msg)
	s.dpsError(w, rc, status, code, msg)
}

func (s *Server) hubErrorJSON(rc *reqCtx, name, msg string) hubErrorBody {
	return hubErrorBody{
		Message: "ErrorCode:" + name + ";" + msg,
		ExceptionMessage: "Tracking ID:" + strings.ReplaceAll(rc.RequestID, "-", "") + "-G:0-TimeStamp:" +
			s.now().UTC().Format("01/02/2006 15:04:05"),
	}
}

// hubError answers with an IoT Hub error body and the iothub-errorcode header.
func (s *Server) hubError(w http.ResponseWriter, rc *reqCtx, status int, name, msg string) {
	setRawHeader(w.Header(), hdrHubErrorCode, name)
	writeJSON(w, status, s.hubErrorJSON(rc, name, msg))
}

func (s *Server) hubReject(w http.ResponseWriter, rc *reqCtx, status int, name, kind, msg string) {
	rc.Violate(kind, msg)
	s.hubError(w, rc, status, name, msg)
}

// Numeric DPS error codes. 401002 is the documented one; the others follow
// the service's "HTTP status * 1000 + n" pattern and are the emulator's
// choice (see README "Differences").
const (
	dpsBadRequest      = 400004
	dpsUnauthorized    = 401002
	dpsNotFound        = 404001
	dpsMethod          = 405000
	dpsUnsupportedType = 415000
	dpsTooLarge        = 413000
	dpsThrottled       = 429001
	dpsInternal        = 500000
)

// hubErrorName maps a status to the IoT Hub error code name used for fault
// bodies.
func hubErrorName(status int) string {
	switch status {
	case 400:
		return "ArgumentInvalid"
	case 401:
		return "IotHubUnauthorizedAccess"
	case 403:
		return "IotHubQuotaExceeded"
	case 404:
		return "DeviceNotFound"
	case 409:
		return "DeviceAlreadyExists"
	case 412:
		return "PreconditionFailed"
	case 413:
		return "MessageTooLarge"
	case 429:
		return "ThrottlingException"
	case 500:
		return "ServerError"
	case 503:
		return "ServiceUnavailable"
	}
	if status >= 500 {
		return "ServerError"
	}
	return "GenericError"
}

// dpsFaultCode maps a status to a numeric DPS code for fault bodies.
func dpsFaultCode(status int) int {
	switch status {
	case 400:
		return dpsBadRequest
	case 401:
		return dpsUnauthorized
	case 404:
		return dpsNotFound
	case 429:
		return dpsThrottled
	case 500:
		return dpsInternal
	}
	return status * 1000
}
