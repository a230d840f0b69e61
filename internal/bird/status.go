package bird

import (
	"context"
	"fmt"
	"time"
)

// reconfiguring asks "show status" whether BIRD is still switching to a new
// configuration (after ReconfigurationInProgress or Queued).
func (c *Client) reconfiguring(ctx context.Context) (bool, error) {
	const cmd = "show status"
	lines, err := c.call(ctx, cmd)
	if err != nil {
		return false, err
	}
	state, err := statusState(lines)
	if err != nil {
		return false, &OpError{Op: cmd, Err: err}
	}
	return state == "Reconfiguration in progress", nil
}

// statusState returns the last line of a "show status" reply: "Daemon is up
// and running", "Reconfiguration in progress" or "Shutdown in progress".
func statusState(lines []Line) (string, error) {
	if fin := lines[len(lines)-1]; fin.Code == codeStatusReport && fin.Text != "" {
		return fin.Text, nil
	}
	return "", fmt.Errorf("%w: no state in status reply", errMalformed)
}

// waitReconfigured polls "show status" until BIRD is no longer
// reconfiguring, or ctx ends. BIRD sends no notice when a reconfiguration
// finishes, so polling is the only way to know.
func (c *Client) waitReconfigured(ctx context.Context) error {
	const interval = 50 * time.Millisecond
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		busy, err := c.reconfiguring(ctx)
		if err != nil {
			return err
		}
		if !busy {
			return nil
		}
		select {
		case <-ctx.Done():
			return &OpError{Op: "show status", Err: fmt.Errorf("still reconfiguring: %w", ctx.Err())}
		case <-t.C:
		}
	}
}
