package gateway

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/sitevpn/sitevpn/internal/bird"
	"github.com/sitevpn/sitevpn/internal/check"
	"github.com/sitevpn/sitevpn/internal/fleet"
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
	socket := render.NamesFor(res.Plan).BirdSocket
	if r.Sessions, err = g.sessions(ctx, socket); err != nil {
		r.BirdError = err.Error()
	} else if g.parts.Adjacencies != nil && slices.ContainsFunc(res.Plan.LANs, func(l fleet.LAN) bool { return l.OSPF }) {
		if r.Adjacencies, err = g.parts.Adjacencies(ctx, socket); err != nil {
			r.BirdError = err.Error()
		}
	}
	rep := check.Evaluate(res.Plan, r, time.Now())
	// A DNS endpoint that stopped resolving: the tunnel keeps its last
	// address, and the tunnel's own check says whether that still works.
	rep.Warnings = append(rep.Warnings, g.endpoints.Problems(res.Plan)...)
	return rep
}

// DetailsEvery is how often Check reads the sessions' route counts and
// import-limit hits ("show protocols all", some 550 KB at 1,000
// sessions); the states come from the light "show protocols" every time.
const DetailsEvery = time.Minute

// sessions reads the BGP sessions behind socket: states now, the details
// of the last detailed read (at most DetailsEvery old) merged in.
func (g *Gateway) sessions(ctx context.Context, socket string) (map[string]check.Session, error) {
	detailed := time.Since(g.detailsAt) >= DetailsEvery || g.detailsSocket != socket
	out, err := g.parts.Sessions(ctx, socket, detailed)
	if err != nil {
		return nil, err
	}
	if detailed {
		g.details, g.detailsAt, g.detailsSocket = out, time.Now(), socket
		return out, nil
	}
	for name, s := range out {
		if d, ok := g.details[name]; ok {
			s.Routes, s.LimitHit = d.Routes, d.LimitHit
			out[name] = s
		}
	}
	return out, nil
}

// ReadAdjacencies reads the OSPF neighbors of the BIRD behind socket.
func ReadAdjacencies(ctx context.Context, socket string) ([]check.Adjacency, error) {
	c, err := bird.Dial(ctx, socket)
	if err != nil {
		return nil, fmt.Errorf("BIRD unreachable at %s: %w", socket, err)
	}
	defer c.Close()
	ns, err := c.OSPFNeighbors(ctx)
	if err != nil {
		return nil, fmt.Errorf("reading BIRD's OSPF neighbors: %w", err)
	}
	out := make([]check.Adjacency, len(ns))
	for i, n := range ns {
		state := n.State
		if n.Position != "" {
			state += "/" + n.Position
		}
		out[i] = check.Adjacency{Interface: n.Interface, Protocol: n.Protocol, Neighbor: n.RouterID, State: state, Up: n.Adjacent()}
	}
	return out, nil
}

// ReadSessions reads the BGP sessions of the BIRD behind socket, by
// protocol name (the tunnel's interface name), in one round trip: with
// details, from "show protocols all" (route counts, import-limit hits),
// else from the light "show protocols" (state, since, last error).
func ReadSessions(ctx context.Context, socket string, details bool) (map[string]check.Session, error) {
	c, err := bird.Dial(ctx, socket)
	if err != nil {
		return nil, fmt.Errorf("BIRD unreachable at %s: %w", socket, err)
	}
	defer c.Close()
	out := map[string]check.Session{}
	if !details {
		ps, err := c.Protocols(ctx)
		if err != nil {
			return nil, fmt.Errorf("reading BIRD's protocols: %w", err)
		}
		for _, p := range ps {
			if p.Proto != "BGP" {
				continue
			}
			// Info is the BGP state, then the last error: "Active
			// Socket: Connection refused".
			state, info, _ := strings.Cut(p.Info, " ")
			if state == "" {
				state = "Down"
			}
			out[p.Name] = check.Session{Present: true, State: state, Since: p.Since, Info: strings.TrimSpace(info)}
		}
		return out, nil
	}
	all, err := c.ProtocolDetails(ctx)
	if err != nil {
		return nil, fmt.Errorf("reading BIRD's protocols: %w", err)
	}
	for _, d := range all {
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
