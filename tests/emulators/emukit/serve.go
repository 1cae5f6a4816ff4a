package emukit

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
	"syscall"
	"time"
)

// Flags are the command-line flags every emulator has.
type Flags struct {
	Listen   string // the emulated API
	Control  string // the control API
	AddrFile string // where to write the bound addresses
	Log      string // request log file (JSON lines)
}

// AddFlags registers -listen, -control, -addr-file and -log on fs;
// listenUsage describes the emulated API's listener.
func AddFlags(fs *flag.FlagSet, listenUsage string) *Flags {
	f := &Flags{}
	fs.StringVar(&f.Listen, "listen", "127.0.0.1:0", listenUsage)
	fs.StringVar(&f.Control, "control", "127.0.0.1:0", "address of the control API (plain HTTP, tests only)")
	fs.StringVar(&f.AddrFile, "addr-file", "", "write the bound addresses (the two stdout lines) to this file")
	fs.StringVar(&f.Log, "log", "", "append one JSON line per request to this file")
	return f
}

// ParseFlags parses args into fs (whose output should be stderr). It is
// false, with the exit code, for -help (0), a bad flag (2) or arguments
// that are not flags (2, with a message on stderr).
func ParseFlags(fs *flag.FlagSet, args []string, stderr io.Writer) (int, bool) {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0, false
		}
		return 2, false
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "%s: unexpected arguments: %v\n", fs.Name(), fs.Args())
		return 2, false
	}
	return 0, true
}

// Serve binds both listeners, prints "listening ADDR" and "control ADDR"
// (to stdout and, atomically, to -addr-file) and serves api and ctl until
// SIGINT or SIGTERM, or until stop is closed (tests). It returns the exit
// code; errors go to stderr prefixed with name.
func (f *Flags) Serve(name string, api, ctl http.Handler, stdout, stderr io.Writer, stop <-chan struct{}) int {
	fail := func(err error) int {
		fmt.Fprintf(stderr, "%s: %v\n", name, err)
		return 1
	}
	ln, err := net.Listen("tcp", f.Listen)
	if err != nil {
		return fail(err)
	}
	cln, err := net.Listen("tcp", f.Control)
	if err != nil {
		ln.Close()
		return fail(err)
	}
	lines := fmt.Sprintf("listening %s\ncontrol %s\n", ln.Addr(), cln.Addr())
	if f.AddrFile != "" {
		if err := WriteFileAtomic(f.AddrFile, []byte(lines)); err != nil {
			ln.Close()
			cln.Close()
			return fail(err)
		}
	}
	fmt.Fprint(stdout, lines)

	apiSrv := &http.Server{Handler: api, ReadHeaderTimeout: 30 * time.Second}
	ctlSrv := &http.Server{Handler: ctl, ReadHeaderTimeout: 30 * time.Second}
	errc := make(chan error, 2)
	go func() { errc <- apiSrv.Serve(ln) }()
	go func() { errc <- ctlSrv.Serve(cln) }()

	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	defer signal.Stop(sig)
	code := 0
	select {
	case <-sig:
	case <-stop:
	case err := <-errc:
		code = fail(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	_ = apiSrv.Shutdown(ctx)
	_ = ctlSrv.Shutdown(ctx)
	return code
}

// WriteFileAtomic writes data to a temporary file next to path, then
// renames it: a reader sees all of it or nothing.
func WriteFileAtomic(path string, data []byte) error {
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
