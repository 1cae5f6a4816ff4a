package sbprov_test

import (
	"context"
	"errors"
	"log"
	"time"

	sbprov "github.com/sbprov/libsbprov/bindings/go"
)

// A gateway of a group enrollment: derive its key, register with DPS, send
// telemetry to the hub it is assigned to. (Compiled, not run: it needs
// Azure.)
func ExampleProvisioning_Register() {
	const idScope, regID = "0ne00000000", "gw-berlin-0001"
	key, err := sbprov.DeriveDeviceKey(docGroupKey, regID)
	if err != nil {
		log.Fatal(err)
	}
	dps, err := sbprov.NewProvisioning(idScope, regID, key, sbprov.ProvisioningOptions{})
	if err != nil {
		log.Fatal(err)
	}
	defer dps.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	reg, err := dps.Register(ctx, map[string]any{"site": "berlin"})
	switch {
	case errors.Is(err, sbprov.ErrClock):
		log.Fatalf("fix the time first: %v", err)
	case err != nil:
		log.Fatal(err)
	case reg.Status != sbprov.RegistrationAssigned:
		log.Fatalf("not assigned: %s %d %s", reg.Status, reg.ErrorCode, reg.ErrorMessage)
	}

	cs, err := reg.ConnectionString(key)
	if err != nil {
		log.Fatal(err)
	}
	hub, err := sbprov.NewHub(cs, sbprov.HubOptions{})
	if err != nil {
		log.Fatal(err)
	}
	defer hub.Close()
	msgs := []sbprov.Message{
		{Body: []byte(`{"co2_ppm":812}`), Properties: map[string]string{"room": "4.12"}},
		{Body: []byte(`{"co2_ppm":1240}`), Properties: map[string]string{"room": "4.14"}},
	}
	n, err := hub.Send(ctx, msgs...)
	if err != nil {
		// msgs[:n] were accepted; msgs[n:] are to be sent again later.
		log.Printf("%d of %d sent: %v", n, len(msgs), err)
	}
}

// Rotating a device's keys in the identity registry: the current primary
// key becomes the secondary one, so the device keeps working until it
// learns the new key. The etag makes the update fail (ErrConflict) if the
// identity changed meanwhile.
func ExampleRegistry_UpdateDevice() {
	r, err := sbprov.NewRegistry("HostName=myhub.azure-devices.net;SharedAccessKeyName=registryReadWrite;"+
		"SharedAccessKey=MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=", sbprov.HubOptions{})
	if err != nil {
		log.Fatal(err)
	}
	defer r.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	dev, err := r.GetDevice(ctx, "gw-berlin-0001")
	if err != nil {
		log.Fatal(err)
	}
	dev, err = r.UpdateDevice(ctx, dev.ID, &sbprov.SymmetricKeys{Secondary: dev.PrimaryKey}, dev.ETag)
	if errors.Is(err, sbprov.ErrConflict) {
		log.Fatal("changed meanwhile: read it again")
	} else if err != nil {
		log.Fatal(err)
	}
	log.Printf("new etag %s", dev.ETag)
}
