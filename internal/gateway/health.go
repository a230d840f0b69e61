package gateway

import (
	"context"
	"fmt"
	"time"

	"github.com/sitevpn/sitevpn/internal/bird"
	"github.com/sitevpn/sitevpn/internal/check"
	"github.com/sitevpn/sitevpn/internal/pipeline"
	"github.com/sitevpn/sitevpn/render"
)

// Check reads WireGuard and BIRD now and judges res's tunnels. It needs
// neither systemd nor the private key.
func (g *Gateway) Check(ctx context.Context, res *pipeline.Result) check.Report {
	g.mu.Lock()
	defer g.mu.Unlock()
	ctx, cancel := context.WithTimeout(ctx, CheckTimeout)
	defer cancel()
	var r check.Readings
	names := make([]string, len(res.Plan.Tunnels))
	for i, t := range res.Plan.Tunnels {
		names[i] = t.Interface
	}
	if k, err := g.kernelFor(res); err != nil {
		r.WireGuardError = "reading WireGuard: " + err.Error()
	} else if r.Peers, err = k.Peers(ctx, names); err != nil {
		r.WireGuardError = "reading WireGuard: " + err.Error()
	}
	var err error
	if r.Sessions, err = g.parts.Sessions(ctx, render.NamesFor(res.Plan).BirdSocket); err != nil {
		r.BirdError = err.Error()
	}
	return check.Evaluate(res.Plan, r, time.Now())
}

// ReadSessions reads every protocol of the BIRD behind socket, in one
// round trip, and returns its BGP sessions by protocol name (the tunnel's
// interface name).
func ReadSessions(ctx context.Context, socket string) (map[string]check.Session, error) {
	c, err := bird.Dial(ctx, socket)
	if err != nil {
		return nil, fmt.Errorf("BIRD unreachable at %s: %w", socket, err)
	}
	defer c.Close()
	details, err := c.ProtocolDetails(ctx)
	if err != nil {
		return nil, fmt.Errorf("reading BIRD's protocols: %w", err)
	}
	out := map[string]check.Session{}
	for _, d := range details {
		if d.BGP == nil {
			continue
		}
		info := d.BGP.LastError
		if info == "" {
			info = d.Message
		}
		s := check.Session{Present: true, State: d.BGP.State, Since: d.Since, Routes: d.Routes().Imported, Info: info}
		for _, c := range d.Channels {
			s.LimitHit = s.LimitHit || c.ImportLimitHit
		}
		out[d.Name] = s
	}
	return out, nil
}
