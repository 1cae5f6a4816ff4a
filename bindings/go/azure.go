package sbprov

import (
	"runtime"
	"strconv"
	"time"

	"github.com/sbprov/libsbprov/bindings/go/internal/capi"
)

// Limits of sbprov/azure.h.
const (
	KeyMinBytes       = 16         // Smallest decoded symmetric key accepted, in bytes.
	KeyMaxBytes       = 64         // Largest decoded symmetric key accepted, in bytes (DPS generates 64).
	KeyDefaultBytes   = 32         // Key length GenerateKey and GenerateKeys use for nbytes 0.
	IDMaxLen          = 128        // Longest registration, device or module ID, in characters.
	ResourceURIMaxLen = 2048       // Longest resource URI SASToken accepts, in bytes.
	SASExpiryMin      = 1577836800 // Earliest accepted SAS expiry: 2020-01-01T00:00:00Z.
)

// derivedKeySize is the buffer for a derived key: 44 characters and a NUL.
const derivedKeySize = 45

// keyB64Size is the buffer for the Base64 text of an n-byte key, NUL included.
func keyB64Size(n int) int { return (n+2)/3*4 + 1 }

// Version returns the version of the libsbprov shared library actually
// loaded, "MAJOR.MINOR.PATCH".
func Version() string {
	s, _ := copyOut(32, capi.Gosbprov_version)
	return s
}

// CheckRegistrationID checks a DPS registration ID: 1 to 128 characters of
// a-z 0-9 - . _ :, starting with a letter or digit and ending with a letter,
// digit or '-'. Upper case is refused (ErrID): DPS compares IDs
// case-insensitively while the derived key hashes the exact bytes.
func CheckRegistrationID(registrationID string) error {
	if err := checkString("registration ID", registrationID); err != nil {
		return err
	}
	return callStatus(func() int32 { return capi.Sbprov_azure_check_registration_id(registrationID) })
}

// CheckDeviceID checks an IoT Hub device or module ID: 1 to 128 characters of
// ASCII letters, digits and - . _ : + % # * ? ! ( ) , = @ $ ' (ErrID if not).
func CheckDeviceID(deviceID string) error {
	if err := checkString("device ID", deviceID); err != nil {
		return err
	}
	return callStatus(func() int32 { return capi.Sbprov_azure_check_device_id(deviceID) })
}

// DeriveDeviceKey derives the device key of a DPS group enrollment:
// Base64(HMAC-SHA256(Base64Decode(groupKey), registrationID)), 44
// characters.
//
// The group key must be strict padded standard Base64 (ErrBase64) of 16 to
// 64 bytes (ErrKeySize); the registration ID must pass CheckRegistrationID
// (ErrID). To derive many keys from one group key, use a Deriver or
// DeriveDeviceKeys.
func DeriveDeviceKey(groupKey, registrationID string) (string, error) {
	if err := checkStrings("group key", groupKey, "registration ID", registrationID); err != nil {
		return "", err
	}
	return callText(derivedKeySize, func(buf []byte, n *int64) int32 {
		return capi.Sbprov_azure_derive_device_key(buf, n, groupKey, registrationID)
	})
}

// DeriveDeviceKeys derives the device keys of many registration IDs of one
// group enrollment, in order. The group key is decoded and keyed once (see
// Deriver). It stops at the first invalid ID, returning nil and an *Error
// whose message starts with the ID's index ("registrationIDs[3]: ...").
func DeriveDeviceKeys(groupKey string, registrationIDs []string) ([]string, error) {
	for i, id := range registrationIDs {
		if err := checkString("registrationIDs["+strconv.Itoa(i)+"]", id); err != nil {
			return nil, err
		}
	}
	d, err := NewDeriver(groupKey)
	if err != nil {
		return nil, err
	}
	defer d.Close()
	keys := make([]string, len(registrationIDs))
	for i, id := range registrationIDs {
		if keys[i], err = d.Derive(id); err != nil {
			if e, ok := err.(*Error); ok {
				return nil, &Error{Code: e.Code, Message: "registrationIDs[" + strconv.Itoa(i) + "]: " + e.Message}
			}
			return nil, err
		}
	}
	return keys, nil
}

// URLEncode percent-encodes bytes as SAS tokens need: A-Z a-z 0-9 - _ . ~
// are kept, every other byte becomes %XX with upper-case hex.
func URLEncode(data []byte) (string, error) {
	return callText(3*len(data)+1, func(buf []byte, n *int64) int32 {
		return capi.Sbprov_azure_url_encode(buf, n, data)
	})
}

// SASToken builds a SAS token valid until expiry (seconds since the Unix
// epoch), checking that expiry is after the current time:
//
//	SharedAccessSignature sr=SR&sig=SIG&se=EXPIRY[&skn=POLICY]
//
// SR is URLEncode(resourceURI) and SIG the URL-encoded
// Base64(HMAC-SHA256(Base64Decode(key), SR + "\n" + EXPIRY)). resourceURI has
// no scheme (see HubDeviceURI, HubModuleURI, DPSRegistrationURI); policy is
// the shared access policy name for skn ("registration" for DPS), or "" for
// none. Errors: ErrExpiry (before 2020 or not in the future), ErrBase64 and
// ErrKeySize for the key, ErrID for the URI or policy name.
func SASToken(resourceURI, key string, expiry int64, policy string) (string, error) {
	return SASTokenAt(resourceURI, key, expiry, policy, time.Now().Unix())
}

// SASTokenAt is SASToken with the current time given as now (seconds since
// the epoch): expiry must be later than now. A now of 0 skips that check
// (expiry must still be at least SASExpiryMin), which makes the result
// depend on the arguments only.
func SASTokenAt(resourceURI, key string, expiry int64, policy string, now int64) (string, error) {
	if err := checkStrings("resource URI", resourceURI, "key", key, "policy name", policy); err != nil {
		return "", err
	}
	return callText(sasTokenSize(resourceURI, policy), func(buf []byte, n *int64) int32 {
		return capi.Sbprov_azure_sas_token(buf, n, resourceURI, key, policy, expiry, now)
	})
}

// sasTokenSize is the largest buffer a token for these inputs needs:
// "SharedAccessSignature sr=" URI "&sig=" 44 encoded chars "&se=" 20 digits "&skn=" policy NUL.
func sasTokenSize(resourceURI, policy string) int {
	return 25 + 3*len(resourceURI) + 5 + 3*44 + 4 + 20 + 5 + len(policy) + 1
}

// HubDeviceURI returns the resource URI of an IoT Hub device,
// "HOSTNAME/devices/DEVICE_ID", with the device ID percent-encoded.
// hostName is 1 to 253 letters, digits, '-', '_' and '.'; deviceID must pass
// CheckDeviceID.
func HubDeviceURI(hostName, deviceID string) (string, error) {
	if err := checkStrings("host name", hostName, "device ID", deviceID); err != nil {
		return "", err
	}
	return callText(len(hostName)+9+3*len(deviceID)+1, func(buf []byte, n *int64) int32 {
		return capi.Sbprov_azure_hub_device_uri(buf, n, hostName, deviceID)
	})
}

// HubModuleURI returns the resource URI of an IoT Hub module,
// "HOSTNAME/devices/DEVICE_ID/modules/MODULE_ID", IDs percent-encoded as in
// HubDeviceURI.
func HubModuleURI(hostName, deviceID, moduleID string) (string, error) {
	if err := checkStrings("host name", hostName, "device ID", deviceID, "module ID", moduleID); err != nil {
		return "", err
	}
	return callText(len(hostName)+9+3*len(deviceID)+9+3*len(moduleID)+1, func(buf []byte, n *int64) int32 {
		return capi.Sbprov_azure_hub_module_uri(buf, n, hostName, deviceID, moduleID)
	})
}

// DPSRegistrationURI returns the resource URI of a DPS registration,
// "ID_SCOPE/registrations/REGISTRATION_ID"; sign it with policy
// "registration". idScope is 1 to 64 letters and digits; registrationID must
// pass CheckRegistrationID.
func DPSRegistrationURI(idScope, registrationID string) (string, error) {
	if err := checkStrings("ID scope", idScope, "registration ID", registrationID); err != nil {
		return "", err
	}
	return callText(len(idScope)+15+len(registrationID)+1, func(buf []byte, n *int64) int32 {
		return capi.Sbprov_azure_dps_registration_uri(buf, n, idScope, registrationID)
	})
}

// GenerateKey returns a random symmetric key of nbytes bytes (16 to 64; 0
// means 32) from OpenSSL's CSPRNG, Base64-encoded. Other lengths give
// ErrKeySize.
func GenerateKey(nbytes int) (string, error) {
	if nbytes < 0 {
		return "", keySizeError(nbytes)
	}
	return callText(keyB64Size(KeyMaxBytes), func(buf []byte, n *int64) int32 {
		return capi.Sbprov_azure_generate_key(buf, n, int64(nbytes))
	})
}

// GenerateKeys returns a primary and a different secondary random key of
// nbytes bytes each (16 to 64; 0 means 32), Base64-encoded, as IoT Hub and
// DPS enrollments take them.
func GenerateKeys(nbytes int) (primary, secondary string, err error) {
	if nbytes < 0 {
		return "", "", keySizeError(nbytes)
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	p := make([]byte, keyB64Size(KeyMaxBytes))
	s := make([]byte, keyB64Size(KeyMaxBytes))
	defer wipe(p)
	defer wipe(s)
	var n int64
	if rc := capi.Sbprov_azure_generate_keys(p, s, &n, int64(nbytes)); rc != 0 {
		return "", "", lastError(rc)
	}
	if n < 0 || n >= int64(len(p)) {
		return "", "", &Error{Code: ErrGeneric, Message: "library reported a key length of " + strconv.FormatInt(n, 10)}
	}
	return string(p[:n]), string(s[:n]), nil
}

// keySizeError is the error for a negative key length, worded as the
// library words out-of-range lengths.
func keySizeError(nbytes int) error {
	return &Error{Code: ErrKeySize, Message: "key length " + strconv.Itoa(nbytes) + " bytes: must be " +
		strconv.Itoa(KeyMinBytes) + " to " + strconv.Itoa(KeyMaxBytes)}
}
