package check

import (
	"context"
	"fmt"

	"github.com/sitevpn/sitevpn/internal/bird"
)

// ReadSessions reads every protocol of the BIRD behind socket, in one round
// trip, and returns its BGP sessions by protocol name (the tunnel's
// interface name).
func ReadSessions(ctx context.Context, socket string) (map[string]Session, error) {
	c, err := bird.Dial(ctx, socket)
	if err != nil {
		return nil, fmt.Errorf("BIRD unreachable at %s: %w", socket, err)
	}
	defer c.Close()
	details, err := c.ProtocolDetails(ctx)
	if err != nil {
		return nil, fmt.Errorf("reading BIRD's protocols: %w", err)
	}
	out := map[string]Session{}
	for _, d := range details {
		if d.BGP == nil {
			continue
		}
		info := d.BGP.LastError
		if info == "" {
			info = d.Message
		}
		out[d.Name] = Session{Present: true, State: d.BGP.State, Since: d.Since, Routes: d.Routes().Imported, Info: info}
	}
	return out, nil
}
