// Command mender-emu emulates the parts of a Mender server that a device
// and a provisioning service talk to: device authentication, inventory,
// deployments/next, login and the device-auth management API. It verifies
// signatures with Go's crypto, as the real server does, and has a separate
// control API for tests (state, request log, spec violations, faults).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"
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
// SIGTERM (or until stop is closed, for tests).
func run(args []string, stdout, stderr io.Writer, stop <-chan struct{}) int {
	fs := flag.NewFlagSet("mender-emu", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfg := DefaultConfig()
	var users, pats listFlag
	listen := fs.String("listen", "127.0.0.1:0", "address of the emulated Mender API (plain HTTP)")
	control := fs.String("control", "127.0.0.1:0", "address of the control API (plain HTTP, tests only)")
	addrFile := fs.String("addr-file", "", "write the bound addresses (the two stdout lines) to this file")
	fs.StringVar(&cfg.TenantToken, "tenant-token", "", "require this tenant_token in auth requests (Enterprise behaviour)")
	fs.Var(&users, "user", "EMAIL:PASSWORD accepted by Basic login (repeatable or comma separated)")
	fs.Var(&pats, "pat", "personal access token accepted as Bearer on management routes (repeatable)")
	fs.DurationVar(&cfg.JWTTTL, "jwt-ttl", cfg.JWTTTL, "device token lifetime")
	fs.DurationVar(&cfg.UserJWTTTL, "user-jwt-ttl", cfg.UserJWTTTL, "management (login) token lifetime")
	fs.StringVar(&cfg.JWTAlg, "jwt-alg", cfg.JWTAlg, "token signature: EdDSA or RS256")
	fs.IntVar(&cfg.MaxDevices, "max-devices", 0, "accepted device limit (0 = unlimited)")
	fs.IntVar(&cfg.ExpiredStatus, "expired-status", cfg.ExpiredStatus, "status for an expired device token (403 or 401)")
	fs.DurationVar(&cfg.DecommissionDelay, "decommission-delay", 0, "how long a decommissioned device lingers (0 = removed at once)")
	fs.StringVar(&cfg.LogPath, "log", "", "append one JSON line per request to this file")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "mender-emu: unexpected arguments: %v\n", fs.Args())
		return 2
	}
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
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		fmt.Fprintf(stderr, "mender-emu: %v\n", err)
		return 1
	}
	cln, err := net.Listen("tcp", *control)
	if err != nil {
		ln.Close()
		fmt.Fprintf(stderr, "mender-emu: %v\n", err)
		return 1
	}
	lines := fmt.Sprintf("listening %s\ncontrol %s\n", ln.Addr(), cln.Addr())
	if *addrFile != "" {
		if err := writeFileAtomic(*addrFile, []byte(lines)); err != nil {
			fmt.Fprintf(stderr, "mender-emu: %v\n", err)
			return 1
		}
	}
	fmt.Fprint(stdout, lines)

	api := &http.Server{Handler: srv, ReadHeaderTimeout: 30 * time.Second}
	ctl := &http.Server{Handler: srv.ControlHandler(), ReadHeaderTimeout: 30 * time.Second}
	errc := make(chan error, 2)
	go func() { errc <- api.Serve(ln) }()
	go func() { errc <- ctl.Serve(cln) }()

	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	defer signal.Stop(sig)
	code := 0
	select {
	case <-sig:
	case <-stop:
	case err := <-errc:
		fmt.Fprintf(stderr, "mender-emu: %v\n", err)
		code = 1
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	_ = api.Shutdown(ctx)
	_ = ctl.Shutdown(ctx)
	return code
}

func writeFileAtomic(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".addr-*")
	if err != nil {
		return err
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return err
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	return os.Rename(tmp.Name(), path)
}
