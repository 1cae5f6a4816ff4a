package sbprov

import (
	"strings"

	"github.com/sbprov/libsbprov/bindings/go/internal/capi"
)

// ConnectionString holds the fields of an IoT Hub connection string. An
// empty string (or X509 false) means the field is absent.
//
// ParseConnectionString and BuildConnectionString convert between this
// struct and the text "HostName=...;DeviceId=...;SharedAccessKey=...", and
// are inverses of each other: fields are written in the order of this struct.
// Valid combinations: HostName always; a device string has DeviceID
// (optionally ModuleID and GatewayHostName) and exactly one of
// SharedAccessKey, SharedAccessSignature and X509; a service string has
// SharedAccessKeyName and SharedAccessKey and no DeviceID.
type ConnectionString struct {
	HostName              string // HostName: hub host name, e.g. "myhub.azure-devices.net".
	DeviceID              string // DeviceId: device ID (see CheckDeviceID).
	ModuleID              string // ModuleId: module ID; needs DeviceID.
	SharedAccessKeyName   string // SharedAccessKeyName: policy name of a service string.
	SharedAccessKey       string // SharedAccessKey: Base64 symmetric key (a secret).
	SharedAccessSignature string // SharedAccessSignature: a whole SAS token "SharedAccessSignature sr=...".
	GatewayHostName       string // GatewayHostName: host name of an IoT Edge gateway.
	X509                  bool   // x509=true: the device authenticates with a certificate.
}

// Field numbers of enum sbprov_azure_cs_field (ABI: they never change).
const (
	csHostName = iota
	csDeviceID
	csModuleID
	csSharedAccessKeyName
	csSharedAccessKey
	csSharedAccessSignature
	csGatewayHostName
	csX509
	csFieldCount
)

// csFieldNames are the names of the fields in the text, by field number.
var csFieldNames = [csFieldCount]string{
	"HostName", "DeviceId", "ModuleId", "SharedAccessKeyName",
	"SharedAccessKey", "SharedAccessSignature", "GatewayHostName", "x509",
}

// textFields returns pointers to the string fields, by field number.
func (cs *ConnectionString) textFields() [csX509]*string {
	return [csX509]*string{
		&cs.HostName, &cs.DeviceID, &cs.ModuleID, &cs.SharedAccessKeyName,
		&cs.SharedAccessKey, &cs.SharedAccessSignature, &cs.GatewayHostName,
	}
}

// ParseConnectionString parses and validates a connection string: Key=Value
// pairs separated by ';', split at the first '=', keys case-sensitive,
// nothing trimmed. Unknown, duplicate or empty fields and contradictory
// combinations give ErrConnStr; a malformed SharedAccessKey gives ErrBase64
// or ErrKeySize, a malformed host name or ID ErrID. The message names the
// field.
func ParseConnectionString(s string) (ConnectionString, error) {
	var cs ConnectionString
	if err := checkString("connection string", s); err != nil {
		return cs, err
	}
	var h uintptr
	if err := callStatus(func() int32 { return capi.Sbprov_azure_connstr_parse(&h, s) }); err != nil {
		return cs, err
	}
	defer capi.Sbprov_azure_connstr_free(h)
	// Every value is a substring of s, so len(s)+1 bytes always suffice.
	for field, dst := range cs.textFields() {
		f := int32(field)
		*dst, _ = copyOut(len(s)+1, func(buf []byte) int64 { return capi.Gosbprov_connstr_get(buf, h, f) })
	}
	_, cs.X509 = copyOut(len(s)+1, func(buf []byte) int64 { return capi.Gosbprov_connstr_get(buf, h, csX509) })
	return cs, nil
}

// BuildConnectionString checks the fields of cs (each value's syntax, then
// how they combine, with the same errors as ParseConnectionString) and
// returns the connection string text, fields in the order of the struct.
func BuildConnectionString(cs ConnectionString) (string, error) {
	fields := cs.textFields()
	size := 1
	for field, v := range fields {
		if err := checkString(csFieldNames[field], *v); err != nil {
			return "", err
		}
		if *v != "" {
			size += len(csFieldNames[field]) + 2 + len(*v)
		}
	}
	if cs.X509 {
		size += len(csFieldNames[csX509]) + 2 + len("true")
	}

	var h uintptr
	if err := callStatus(func() int32 { return capi.Sbprov_azure_connstr_new(&h) }); err != nil {
		return "", err
	}
	defer capi.Sbprov_azure_connstr_free(h)
	set := func(field int32, value string) error {
		return callStatus(func() int32 { return capi.Sbprov_azure_connstr_set(h, field, value) })
	}
	for field, v := range fields {
		if *v == "" {
			continue
		}
		if err := set(int32(field), *v); err != nil {
			return "", err
		}
	}
	if cs.X509 {
		if err := set(csX509, "true"); err != nil {
			return "", err
		}
	}
	return callText(size, func(buf []byte, n *int64) int32 {
		return capi.Sbprov_azure_connstr_build(buf, n, h)
	})
}

// String returns the connection string as text with the secrets
// (SharedAccessKey, SharedAccessSignature) replaced by "<redacted>", so that
// printing or logging a ConnectionString does not leak them. It does not
// validate anything; use BuildConnectionString for the real text.
func (cs ConnectionString) String() string {
	var b strings.Builder
	for field, v := range cs.textFields() {
		if *v == "" {
			continue
		}
		if b.Len() > 0 {
			b.WriteByte(';')
		}
		b.WriteString(csFieldNames[field])
		b.WriteByte('=')
		if field == csSharedAccessKey || field == csSharedAccessSignature {
			b.WriteString("<redacted>")
		} else {
			b.WriteString(*v)
		}
	}
	if cs.X509 {
		if b.Len() > 0 {
			b.WriteByte(';')
		}
		b.WriteString("x509=true")
	}
	return b.String()
}
