package daemon

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/sitevpn/sitevpn/internal/check"
	"github.com/sitevpn/sitevpn/internal/fleet"
)

// ControlPath is the daemon's control socket, relative to the root: the
// commands that must go through the one owner of the gateway (apply
// while it runs, confirm, rollback). Only root may connect (0600).
const ControlPath = "run/sitevpn/control.sock"

// ErrNoDaemon: nothing answers on the control socket.
var ErrNoDaemon = errors.New("the sitevpn daemon is not running (systemctl start sitevpn)")

// Request is one command to the daemon.
type Request struct {
	Op string `json:"op"` // "apply", "confirm", "rollback", "drain", "undrain"
	// ConfigDir is the caller's --config: the daemon refuses to apply
	// another directory than its own.
	ConfigDir string `json:"config_dir,omitempty"`
	// Confirm (apply): only `sitevpn confirm` within this keeps the change.
	Confirm time.Duration `json:"confirm,omitempty"`
}

// CheckConfirm refuses an apply --confirm d (when given) that cannot work:
// zero or negative (no deadline at all), too short to check and answer,
// or over a day.
func CheckConfirm(d time.Duration, given bool) error {
	lo, hi := fleet.MinConfirmWindow*time.Second, fleet.MaxConfirmWindow*time.Second
	if given && (d < lo || d > hi) {
		return fmt.Errorf("apply --confirm %s: give %s to %s, the time to check the change and answer \"sitevpn confirm\" before it is rolled back (without --confirm, the daemon judges the change on the fleet's confirm_window)", d, lo, hi)
	}
	return nil
}

// Response is the daemon's answer: what it did, or why it did not.
type Response struct {
	Message string `json:"message,omitempty"`
	Error   string `json:"error,omitempty"`
}

type request struct {
	req   Request
	reply chan Response
}

// handle runs one request in the loop, between its other work.
func (d *Daemon) handle(ctx context.Context, r Request) Response {
	fail := func(format string, a ...any) Response { return Response{Error: fmt.Sprintf(format, a...)} }
	switch r.Op {
	case "apply":
		if abs, _ := filepath.Abs(d.Options.ConfigDir); r.ConfigDir != "" && r.ConfigDir != abs {
			return fail("the daemon applies %s, not %s: edit the files there, or stop the daemon to apply another directory", abs, r.ConfigDir)
		}
		// 0: a plain apply, judged on the fleet's window.
		if err := CheckConfirm(r.Confirm, r.Confirm != 0); err != nil {
			return fail("%v", err)
		}
		rep, err := d.loadFiles(ctx, "sitevpn apply", true, r.Confirm)
		if d.current.ConfigError != "" {
			return fail("%s", d.current.ConfigError)
		}
		if err != nil {
			return fail("%v", err)
		}
		// As `sitevpn apply` prints without a daemon: the actions (or "no
		// changes"), the warnings; then the probation, when there is one.
		var b strings.Builder
		rep.WriteText(&b, &b, false)
		if c := d.current.Configuration; c != nil && c.State != check.Confirmed {
			b.WriteString("configuration " + c.String() + "\n")
		}
		return Response{Message: strings.TrimSuffix(b.String(), "\n")}
	case "confirm":
		ds, ok := d.cs.ConfirmNow()
		if !ok {
			return fail("nothing to confirm: %s", d.configLine())
		}
		gen := d.cs.Probation.Generation
		if err := d.carryOut(ctx, ds); err != nil {
			return fail("%v", err)
		}
		d.publish()
		return Response{Message: fmt.Sprintf("generation %d confirmed", gen)}
	case "rollback":
		ds, ok := d.cs.RollBackNow(d.now())
		if !ok {
			return fail("nothing to roll back: %s (a confirmed change is undone by editing the files)", d.configLine())
		}
		gen := d.cs.Probation.Generation
		if err := d.carryOut(ctx, ds); err != nil {
			return fail("%v", err)
		}
		d.publish()
		return Response{Message: fmt.Sprintf("generation %d rolled back; generation %d is in force, and the files are not applied again until they change", gen, d.cs.Confirmed.Generation)}
	case "drain", "undrain":
		msg, err := d.setDrained(ctx, r.Op == "drain")
		if err != nil {
			return fail("%v", err)
		}
		return Response{Message: msg}
	}
	return fail("unknown request %q", r.Op)
}

func (d *Daemon) configLine() string {
	if c := d.current.Configuration; c != nil {
		return "generation " + strconv.Itoa(c.Generation) + " is " + c.State
	}
	return "no configuration was confirmed yet"
}

// serveControl listens on the control socket until ctx ends or stop is
// called; each connection is one request and its response.
func (d *Daemon) serveControl(ctx context.Context) (stop func(), err error) {
	d.requests = make(chan request)
	if err := os.MkdirAll(filepath.Dir(d.Control), 0o755); err != nil {
		return nil, err
	}
	// Bound under a temporary name, made 0600, then renamed into place:
	// the socket is never reachable with the umask's mode.
	tmp := d.Control + "." + strconv.Itoa(os.Getpid())
	if len(tmp) >= len(syscall.RawSockaddrUnix{}.Path) {
		return nil, fmt.Errorf("control socket %s: the path is too long for a unix socket (under %d bytes): use a shorter --root", d.Control, len(syscall.RawSockaddrUnix{}.Path)-8)
	}
	os.Remove(tmp)
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: tmp, Net: "unix"})
	if err != nil {
		return nil, fmt.Errorf("control socket: %w", err)
	}
	ln.SetUnlinkOnClose(false)
	if err := os.Chmod(tmp, 0o600); err != nil {
		ln.Close()
		return nil, err
	}
	if err := os.Rename(tmp, d.Control); err != nil {
		ln.Close()
		os.Remove(tmp)
		return nil, err
	}
	done := make(chan struct{})
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go d.serveOne(ctx, done, c)
		}
	}()
	return func() {
		close(done)
		ln.Close()
		os.Remove(d.Control)
	}, nil
}

func (d *Daemon) serveOne(ctx context.Context, done <-chan struct{}, c net.Conn) {
	defer c.Close()
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	var r Request
	if err := json.NewDecoder(io.LimitReader(c, 4096)).Decode(&r); err != nil {
		json.NewEncoder(c).Encode(Response{Error: "bad request: " + err.Error()})
		return
	}
	reply := make(chan Response, 1)
	select {
	case d.requests <- request{req: r, reply: reply}:
	case <-done:
		return
	case <-ctx.Done():
		return
	}
	var resp Response
	select {
	case resp = <-reply:
	case <-ctx.Done():
		resp = Response{Error: "the daemon is stopping"}
	}
	c.SetWriteDeadline(time.Now().Add(5 * time.Second))
	json.NewEncoder(c).Encode(resp)
}

// Ask sends r to the daemon listening on socket (ControlPath under the
// root) and returns its answer: ErrNoDaemon when none runs, the daemon's
// refusal as an error.
func Ask(ctx context.Context, socket string, r Request) (string, error) {
	var dialer net.Dialer
	c, err := dialer.DialContext(ctx, "unix", socket)
	if errors.Is(err, os.ErrNotExist) || errors.Is(err, syscall.ECONNREFUSED) {
		return "", ErrNoDaemon
	}
	if err != nil {
		return "", fmt.Errorf("talking to the daemon: %w", err)
	}
	defer c.Close()
	// An apply takes at most its own timeout (2 min) after the work
	// before it in the daemon's loop.
	c.SetDeadline(time.Now().Add(5 * time.Minute))
	if err := json.NewEncoder(c).Encode(r); err != nil {
		return "", fmt.Errorf("talking to the daemon: %w", err)
	}
	var resp Response
	if err := json.NewDecoder(io.LimitReader(c, 1<<20)).Decode(&resp); err != nil {
		return "", fmt.Errorf("the daemon's answer: %w", err)
	}
	if resp.Error != "" {
		return "", errors.New(resp.Error)
	}
	return resp.Message, nil
}
