package bird

import (
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"strings"
)

// Control checks and loads configurations: `bird -p` for a file that is
// not installed yet, the control socket for the running daemon. It is what
// the apply engine uses (apply.BirdControl).
type Control struct {
	// Binary is the bird executable; "bird" (from PATH) when empty.
	Binary string
}

// Check parses the configuration at path as BIRD would, without running
// it. The error carries BIRD's own message, with file:line:column.
func (c Control) Check(ctx context.Context, path string) error {
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
	return cl.WaitReconfigured(ctx)
}
