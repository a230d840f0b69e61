package bird

import (
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"strings"
	"time"
)

// Control checks and loads configurations: `bird -p` for a file that is
// not installed yet, the control socket for the running daemon. It is what
// the apply engine uses (apply.BirdControl).
type Control struct {
	// Binary is the bird executable; "bird" (from PATH) when empty.
	Binary string
}

// dialForCheck bounds how long Check waits for a BIRD that does not answer
// on its socket before it falls back to `bird -p`.
const dialForCheck = 3 * time.Second

// Check parses the configuration at path as BIRD would, without running
// it. When a BIRD answers on socket, that BIRD checks it ("configure
// check"): it is the daemon that will load the file, and no process has to
// be started (on a small or emulated gateway, starting bird costs more
// than the rest of a BIRD-only apply). path must then be readable by it
// (user bird, its unit's sandbox). When none answers (BIRD not started
// yet, stopped, socket empty), `bird -p` checks it. The error carries
// BIRD's own message, with file:line:column.
func (c Control) Check(ctx context.Context, socket, path string) error {
	if socket != "" {
		dctx, cancel := context.WithTimeout(ctx, dialForCheck)
		cl, err := Dial(dctx, socket)
		cancel()
		if err == nil {
			defer cl.Close()
			return cl.configureCheck(ctx, path)
		}
		if ctx.Err() != nil {
			return err
		}
	}
	bin := c.Binary
	if bin == "" {
		bin = "bird"
	}
	var out bytes.Buffer
	cmd := exec.CommandContext(ctx, bin, "-p", "-c", path)
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("bird -p rejects the configuration: %s (%w)", strings.TrimSpace(out.String()), err)
	}
	return nil
}

// Configure makes the BIRD behind socket load conf (a plain, not soft,
// configure: unchanged protocols keep running, changed filters reload their
// channel) and waits until BIRD has finished reconfiguring.
func (c Control) Configure(ctx context.Context, socket, conf string) error {
	cl, err := Dial(ctx, socket)
	if err != nil {
		return err
	}
	defer cl.Close()
	if _, err := cl.Configure(ctx, conf); err != nil {
		return err
	}
	return cl.waitReconfigured(ctx)
}
