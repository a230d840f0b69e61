package bird

import (
	"context"
	"fmt"
	"net/netip"
	"strings"
	"time"
)

// Status is BIRD's answer to "show status".
type Status struct {
	Version  string     // "2.0.12"
	RouterID netip.Addr // BIRD prints router IDs as IPv4 addresses
	Hostname string

	// Times BIRD reports, parsed as described for Protocol.Since; zero
	// when BIRD's "timeformat base" is not an ISO one.
	ServerTime          time.Time
	LastReboot          time.Time
	LastReconfiguration time.Time

	// State is BIRD's last line: "Daemon is up and running",
	// "Reconfiguration in progress" or "Shutdown in progress".
	State string
}

// Reconfiguring reports whether BIRD is still switching to a new
// configuration (after ReconfigurationInProgress or Queued).
func (s *Status) Reconfiguring() bool { return s.State == "Reconfiguration in progress" }

// ShuttingDown reports whether BIRD is shutting down.
func (s *Status) ShuttingDown() bool { return s.State == "Shutdown in progress" }

// Status returns BIRD's version, router ID and state ("show status").
func (c *Client) Status(ctx context.Context) (*Status, error) {
	const cmd = "show status"
	lines, err := c.call(ctx, cmd)
	if err != nil {
		return nil, err
	}
	s, err := parseStatus(lines, time.Now())
	if err != nil {
		return nil, &OpError{Op: cmd, Err: err}
	}
	return s, nil
}

// WaitReconfigured polls "show status" until BIRD is no longer
// reconfiguring, or ctx ends. BIRD sends no notice when a reconfiguration
// finishes, so polling is the only way to know.
func (c *Client) WaitReconfigured(ctx context.Context) error {
	const interval = 50 * time.Millisecond
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		s, err := c.Status(ctx)
		if err != nil {
			return err
		}
		if !s.Reconfiguring() {
			return nil
		}
		select {
		case <-ctx.Done():
			return &OpError{Op: "show status", Err: fmt.Errorf("still reconfiguring: %w", ctx.Err())}
		case <-t.C:
		}
	}
}

func parseStatus(lines []Line, now time.Time) (*Status, error) {
	s := new(Status)
	for _, l := range lines {
		switch l.Code {
		case CodeVersion:
			s.Version = strings.TrimPrefix(l.Text, "BIRD ")
		case CodeUptime:
			k, v, ok := cutAny(l.Text, "Router ID is ", "Hostname is ", "Current server time is ",
				"Last reboot on ", "Last reconfiguration on ")
			if !ok {
				continue // graceful restart lines and whatever later versions add
			}
			switch k {
			case "Router ID is ":
				a, err := netip.ParseAddr(v)
				if err != nil {
					return nil, fmt.Errorf("%w: router id %q", errMalformed, v)
				}
				s.RouterID = a
			case "Hostname is ":
				s.Hostname = v
			case "Current server time is ":
				s.ServerTime, _ = parseTime(v, now)
			case "Last reboot on ":
				s.LastReboot, _ = parseTime(v, now)
			case "Last reconfiguration on ":
				s.LastReconfiguration, _ = parseTime(v, now)
			}
		case CodeStatusReport:
			s.State = l.Text
		}
	}
	if s.Version == "" || s.State == "" {
		return nil, fmt.Errorf("%w: no version or state in status reply", errMalformed)
	}
	return s, nil
}

// cutAny returns the first of prefixes that s starts with, and the rest.
func cutAny(s string, prefixes ...string) (prefix, rest string, ok bool) {
	for _, p := range prefixes {
		if r, ok := strings.CutPrefix(s, p); ok {
			return p, r, true
		}
	}
	return "", "", false
}
