// Command azure-emu emulates the parts of Azure IoT Hub Device Provisioning
// Service and IoT Hub that a gateway uses over HTTPS: DPS registration with
// symmetric keys (individual and group enrollments, derived device keys),
// the IoT Hub identity registry and device-to-cloud telemetry. It verifies
// SAS tokens with Go's crypto, records telemetry, injects faults, and has a
// separate control API for tests (state, request log, violations, faults).
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"sbprov.test/emulators/emukit"
)

// multiFlag collects a repeatable flag (values are not split on commas).
type multiFlag []string

func (l *multiFlag) String() string { return strings.Join(*l, " ") }

func (l *multiFlag) Set(v string) error {
	*l = append(*l, v)
	return nil
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr, nil))
}

// run parses the flags, starts both listeners and serves until SIGINT or
// SIGTERM (or until stop is closed, for tests); see emukit.Flags.Serve.
func run(args []string, stdout, stderr io.Writer, stop <-chan struct{}) int {
	fs := flag.NewFlagSet("azure-emu", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfg := DefaultConfig()
	var groups, individuals, policies multiFlag
	common := emukit.AddFlags(fs, "address of the emulated DPS + IoT Hub API (plain HTTP)")
	fs.StringVar(&cfg.HubHost, "hub-host", cfg.HubHost, "IoT Hub host name (SAS resource and DPS assignedHub)")
	fs.StringVar(&cfg.IDScope, "id-scope", cfg.IDScope, "default DPS ID scope")
	fs.Var(&groups, "group", "enrollment group [SCOPE/]NAME=PRIMARY[,SECONDARY] (repeatable)")
	fs.Var(&individuals, "enrollment", "individual enrollment [SCOPE/]REGISTRATION_ID=PRIMARY[,SECONDARY] (repeatable)")
	fs.Var(&policies, "policy", "hub shared access policy NAME=PRIMARY[,SECONDARY][@PERM|PERM...] (repeatable)")
	fs.IntVar(&cfg.AssignPolls, "assign-polls", cfg.AssignPolls, "operation polls answered 202 assigning before the result")
	fs.IntVar(&cfg.RetryAfter, "retry-after", cfg.RetryAfter, "Retry-After seconds on DPS 202 answers (0: none)")
	fs.BoolVar(&cfg.ImmediateAssign, "immediate-assign", false, "register answers 200 with the result at once")
	fs.DurationVar(&cfg.Skew, "skew", cfg.Skew, "allowed clock skew for SAS expiry")
	fs.DurationVar(&cfg.ClockOffset, "clock-offset", 0, "run the server clock this far off (Date header and expiry checks)")
	fs.DurationVar(&cfg.MaxTTL, "max-ttl", 0, "refuse SAS tokens that expire later than this from now (0: no limit)")
	fs.BoolVar(&cfg.StrictRegistrationID, "strict-registration-id", false, "registration ids: lowercase alphanumeric and '-' only")
	fs.Int64Var(&cfg.MaxMessageBytes, "max-message-bytes", cfg.MaxMessageBytes, "device-to-cloud message body limit")
	if code, ok := emukit.ParseFlags(fs, args, stderr); !ok {
		return code
	}
	cfg.LogPath = common.Log
	for _, spec := range []struct {
		kind string
		vals multiFlag
		dst  *[]*enrollment
	}{{"group", groups, &cfg.Groups}, {"individual", individuals, &cfg.Individuals}} {
		for _, v := range spec.vals {
			scope, id, primary, secondary, err := parseEnrollmentFlag(v, cfg.IDScope)
			if err != nil {
				fmt.Fprintf(stderr, "azure-emu: -%s %q: %v\n", map[string]string{"group": "group", "individual": "enrollment"}[spec.kind], v, err)
				return 2
			}
			e := &enrollment{Type: spec.kind, IDScope: scope, PrimaryKey: primary, SecondaryKey: secondary}
			if spec.kind == "group" {
				e.Name = id
			} else {
				e.RegistrationID = id
			}
			*spec.dst = append(*spec.dst, e)
		}
	}
	for _, v := range policies {
		p, err := parsePolicyFlag(v)
		if err != nil {
			fmt.Fprintf(stderr, "azure-emu: -policy: %v\n", err)
			return 2
		}
		cfg.Policies = append(cfg.Policies, p)
	}

	srv, err := NewServer(cfg)
	if err != nil {
		fmt.Fprintf(stderr, "azure-emu: %v\n", err)
		return 2
	}
	defer srv.Close()
	return common.Serve("azure-emu", srv, srv.ControlHandler(), stdout, stderr, stop)
}
