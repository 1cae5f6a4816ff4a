// Command mender-emu emulates the parts of a Mender server that a device
// and a provisioning service talk to: device authentication, inventory,
// deployments/next, login and the device-auth management API. It verifies
// signatures with Go's crypto, as the real server does, and has a separate
// control API for tests (state, request log, spec violations, faults).
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"sbprov.test/emulators/emukit"
)

// listFlag collects a repeatable, comma-separated flag.
type listFlag []string

func (l *listFlag) String() string { return strings.Join(*l, ",") }

func (l *listFlag) Set(v string) error {
	for _, p := range strings.Split(v, ",") {
		if p = strings.TrimSpace(p); p != "" {
			*l = append(*l, p)
		}
	}
	return nil
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr, nil))
}

// run parses the flags, starts both listeners and serves until SIGINT or
// SIGTERM (or until stop is closed, for tests); see emukit.Flags.Serve.
func run(args []string, stdout, stderr io.Writer, stop <-chan struct{}) int {
	fs := flag.NewFlagSet("mender-emu", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfg := DefaultConfig()
	var users, pats listFlag
	common := emukit.AddFlags(fs, "address of the emulated Mender API (plain HTTP)")
	fs.StringVar(&cfg.TenantToken, "tenant-token", "", "require this tenant_token in auth requests (Enterprise behaviour)")
	fs.Var(&users, "user", "EMAIL:PASSWORD accepted by Basic login (repeatable or comma separated)")
	fs.Var(&pats, "pat", "personal access token accepted as Bearer on management routes (repeatable)")
	fs.DurationVar(&cfg.JWTTTL, "jwt-ttl", cfg.JWTTTL, "device token lifetime")
	fs.DurationVar(&cfg.UserJWTTTL, "user-jwt-ttl", cfg.UserJWTTTL, "management (login) token lifetime")
	fs.StringVar(&cfg.JWTAlg, "jwt-alg", cfg.JWTAlg, "token signature: EdDSA or RS256")
	fs.IntVar(&cfg.MaxDevices, "max-devices", 0, "accepted device limit (0 = unlimited)")
	fs.IntVar(&cfg.ExpiredStatus, "expired-status", cfg.ExpiredStatus, "status for an expired device token (403 or 401)")
	fs.DurationVar(&cfg.DecommissionDelay, "decommission-delay", 0, "how long a decommissioned device lingers (0 = removed at once)")
	if code, ok := emukit.ParseFlags(fs, args, stderr); !ok {
		return code
	}
	cfg.LogPath = common.Log
	for _, u := range users {
		i := strings.Index(u, ":")
		if i <= 0 {
			fmt.Fprintf(stderr, "mender-emu: -user wants EMAIL:PASSWORD, got %q\n", u)
			return 2
		}
		cfg.Users[strings.ToLower(u[:i])] = u[i+1:]
	}
	cfg.PATs = pats
	if cfg.ExpiredStatus != 401 && cfg.ExpiredStatus != 403 {
		fmt.Fprintln(stderr, "mender-emu: -expired-status must be 401 or 403")
		return 2
	}

	srv, err := NewServer(cfg)
	if err != nil {
		fmt.Fprintf(stderr, "mender-emu: %v\n", err)
		return 1
	}
	defer srv.Close()
	return common.Serve("mender-emu", srv, srv.ControlHandler(), stdout, stderr, stop)
}
