package sbprov_test

import (
	"errors"
	"fmt"
	"log"

	sbprov "github.com/sbprov/libsbprov/bindings/go"
)

// The group key, registration ID and derived key of Azure's documentation
// (how-to-legacy-device-symm-key.md).
const (
	docGroupKey = "8isrFI1sGsIlvvFSSFRiMfCNzv21fjbE/+ah/lSh3lF8e2YG1Te7w1KpZhJFFXJrqYKi9yegxkqIChbqOS9Egw=="
	docRegID    = "sn-007-888-abc-mac-a1-b2-c3-d4-e5-f6"
)

func ExampleDeriveDeviceKey() {
	key, err := sbprov.DeriveDeviceKey(docGroupKey, docRegID)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(key)
	// Output: Jsm0lyGpjaVYVP2g3FnmnmG9dI/9qU24wNoykUmermc=
}

func ExampleNewDeriver() {
	d, err := sbprov.NewDeriver(docGroupKey)
	if err != nil {
		log.Fatal(err)
	}
	defer d.Close()
	key, err := d.Derive(docRegID)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(key)
	// Output: Jsm0lyGpjaVYVP2g3FnmnmG9dI/9qU24wNoykUmermc=
}

func ExampleDeriveDeviceKeys() {
	keys, err := sbprov.DeriveDeviceKeys(docGroupKey, []string{docRegID, "Sensor-2"})
	fmt.Println(keys, err)
	keys, err = sbprov.DeriveDeviceKeys(docGroupKey, []string{docRegID})
	fmt.Println(keys, err)
	// Output:
	// [] sbprov: registrationIDs[1]: registration ID: upper-case 'S' at position 1; DPS compares registration IDs case-insensitively, so use lower case (ErrID)
	// [Jsm0lyGpjaVYVP2g3FnmnmG9dI/9qU24wNoykUmermc=] <nil>
}

// The token of Azure's DPS HTTPS documentation (iot-dps-https-sym-key-support.md).
// Its expiry is in the past, so SASTokenAt with now 0 reproduces it.
func ExampleSASTokenAt() {
	token, err := sbprov.SASTokenAt(
		"MyExampleHub.azure-devices.net/devices/my-symkey-device",
		"18RQk/hOPJR9EbsJlk2j8WA6vWaj/yi+oaYg7zmxfQNdOyMSu+SJ8O7TSlZhDJCYmn4rzEiVKIzNiVAWjLxrGA==",
		1663119026, "", 0)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(token)
	// Output: SharedAccessSignature sr=MyExampleHub.azure-devices.net%2Fdevices%2Fmy-symkey-device&sig=f%2BwW8XOKeJOtiPc9Iwjc4OpExvPM7NlhM9qxN2a1aAM%3D&se=1663119026
}

func ExampleSASToken() {
	// A DPS registration token valid until 2100, for a derived device key.
	key, _ := sbprov.DeriveDeviceKey(docGroupKey, docRegID)
	uri, _ := sbprov.DPSRegistrationURI("0ne00111111", docRegID)
	token, err := sbprov.SASToken(uri, key, 4102444800, "registration")
	fmt.Println(uri, err == nil, len(token) > 0)
	_, err = sbprov.SASToken(uri, key, 1663119026, "registration")
	fmt.Println(errors.Is(err, sbprov.ErrExpiry))
	// Output:
	// 0ne00111111/registrations/sn-007-888-abc-mac-a1-b2-c3-d4-e5-f6 true true
	// true
}

func ExampleURLEncode() {
	s, _ := sbprov.URLEncode([]byte("a/b+c=~-._ @#%:é"))
	fmt.Println(s)
	// Output: a%2Fb%2Bc%3D~-._%20%40%23%25%3A%C3%A9
}

func ExampleHubDeviceURI() {
	uri, _ := sbprov.HubDeviceURI("MyExampleHub.azure-devices.net", "my-symkey-device")
	fmt.Println(uri)
	uri, _ = sbprov.HubModuleURI("MyExampleHub.azure-devices.net", "gw#1", "agent")
	fmt.Println(uri)
	// Output:
	// MyExampleHub.azure-devices.net/devices/my-symkey-device
	// MyExampleHub.azure-devices.net/devices/gw%231/modules/agent
}

func ExampleGenerateKeys() {
	primary, secondary, err := sbprov.GenerateKeys(0)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(len(primary), len(secondary), primary != secondary)
	key, _ := sbprov.GenerateKey(64)
	fmt.Println(len(key))
	// Output:
	// 44 44 true
	// 88
}

func ExampleParseConnectionString() {
	cs, err := sbprov.ParseConnectionString(
		"HostName=MyExampleHub.azure-devices.net;DeviceId=my-symkey-device;SharedAccessKey=Jsm0lyGpjaVYVP2g3FnmnmG9dI/9qU24wNoykUmermc=")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(cs.HostName, cs.DeviceID, cs.SharedAccessKey == "Jsm0lyGpjaVYVP2g3FnmnmG9dI/9qU24wNoykUmermc=")
	fmt.Println(cs) // String() redacts the key
	_, err = sbprov.ParseConnectionString("HostName=h.net;DeviceId=d;x509=true;DeviceId=e")
	fmt.Println(err)
	// Output:
	// MyExampleHub.azure-devices.net my-symkey-device true
	// HostName=MyExampleHub.azure-devices.net;DeviceId=my-symkey-device;SharedAccessKey=<redacted>
	// sbprov: DeviceId: given twice (ErrConnStr)
}

func ExampleBuildConnectionString() {
	key, _ := sbprov.DeriveDeviceKey(docGroupKey, docRegID)
	s, err := sbprov.BuildConnectionString(sbprov.ConnectionString{
		HostName:        "MyExampleHub.azure-devices.net",
		DeviceID:        docRegID,
		SharedAccessKey: key,
	})
	fmt.Println(s, err)
	_, err = sbprov.BuildConnectionString(sbprov.ConnectionString{HostName: "h.net", DeviceID: "d", SharedAccessKey: key, X509: true})
	fmt.Println(err)
	// Output:
	// HostName=MyExampleHub.azure-devices.net;DeviceId=sn-007-888-abc-mac-a1-b2-c3-d4-e5-f6;SharedAccessKey=Jsm0lyGpjaVYVP2g3FnmnmG9dI/9qU24wNoykUmermc= <nil>
	// sbprov: x509: contradicts SharedAccessKey; give exactly one credential (ErrConnStr)
}

func ExampleError() {
	_, err := sbprov.DeriveDeviceKey("not-base64!", docRegID)
	fmt.Println(errors.Is(err, sbprov.ErrBase64))
	var e *sbprov.Error
	if errors.As(err, &e) {
		fmt.Println(e.Code.String(), int32(e.Code), "|", e.Message)
	}
	// Output:
	// true
	// ErrBase64 -5 | group key: Base64 length 11 is not a multiple of 4 (missing padding?)
}

func ExampleCheckRegistrationID() {
	fmt.Println(sbprov.CheckRegistrationID("sensor-42"))
	fmt.Println(sbprov.CheckRegistrationID("sensor\x00-42"))
	// Output:
	// <nil>
	// sbprov: registration ID: NUL byte at position 7 (a C string cannot hold one) (ErrInval)
}

func ExampleParseIdentity() {
	id, err := sbprov.ParseIdentity("mac=00:11:22:33:44:55\nserial=SN-1\nserial=SN-2\n")
	if err != nil {
		log.Fatal(err)
	}
	defer id.Close()
	doc, _ := id.CanonicalJSON()
	digest, _ := id.Digest()
	regID, _ := id.RegistrationID("gw-{mac:compact}")
	fmt.Println(doc)
	fmt.Println(digest)
	fmt.Println(regID)
	fmt.Println(id.Names(), id.Values("serial"))
	// Output:
	// {"mac":"00:11:22:33:44:55","serial":["SN-1","SN-2"]}
	// e0f21471289de4a427a1633a8166848a986a3ff5686a6f16d4fd91308dfc3f3d
	// gw-001122334455
	// [mac serial] [SN-1 SN-2]
}

func ExampleGenerateKeyPair() {
	key, err := sbprov.GenerateKeyPair(sbprov.KeyEd25519, 0)
	if err != nil {
		log.Fatal(err)
	}
	defer key.Close()
	sig, err := key.Sign([]byte("auth request body"))
	if err != nil {
		log.Fatal(err)
	}
	pemText, _ := key.PublicPEM()
	pub, err := sbprov.KeyFromPublicPEM(pemText)
	if err != nil {
		log.Fatal(err)
	}
	defer pub.Close()
	fmt.Println(key, pub)
	fmt.Println(pub.Verify([]byte("auth request body"), sig))
	fmt.Println(errors.Is(pub.Verify([]byte("tampered"), sig), sbprov.ErrSignature))
	// Output:
	// ed25519 key (255 bits, private) ed25519 key (255 bits, public)
	// <nil>
	// true
}
