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
	"github.com/sitevpn/sitevpn/internal/kernel"
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
	var err error
	socket := render.NamesFor(res.Plan).BirdSocket
	if r.Sessions, err = g.sessions(ctx, socket); err != nil {
		r.BirdError = err.Error()
	} else if g.parts.Adjacencies != nil && slices.ContainsFunc(res.Plan.LANs, func(l fleet.LAN) bool { return l.OSPF }) {
		if r.Adjacencies, err = g.parts.Adjacencies(ctx, socket); err != nil {
			r.BirdError = err.Error()
		}
	}
	now := time.Now()
	if k, err := g.kernelFor(res); err != nil {
		r.WireGuardError = "reading WireGuard: " + err.Error()
	} else if r.Peers, err = g.peers(ctx, k, res, r.Sessions, now); err != nil {
		r.WireGuardError = "reading WireGuard: " + err.Error()
	}
	rep := check.Evaluate(res.Plan, r, now)
	rep.Endpoints = g.endpoints.Problems(res.Plan)
	return rep
}

// ReadPeersEvery makes Check read every tunnel's WireGuard device only
// every d (0: at every check, the default), and in between only the
// tunnels whose BGP session came up or went down since their last reading,
// or that are Established without a fresh handshake in it. A tunnel that
// works needs no reading to be known to work: its BGP keepalives cross it,
// and BFD or the hold time takes the session down within seconds if it
// stops, which triggers a reading; a tunnel that is down stays down until
// its session comes up, which does too. WireGuard offers no read of all
// devices at once: a gateway with 1,000 tunnels pays 1,000 requests per
// reading, which the daemon's check every 10 s made most of its idle CPU
// (issue 13). Handshake ages and transfer counters are then up to d old.
func (g *Gateway) ReadPeersEvery(d time.Duration) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.peersEvery = d
}

// peers reads the WireGuard peers of res's tunnels, all of them every
// peersEvery, else only those not known to work (see ReadPeersEvery),
// the others from the last reading.
func (g *Gateway) peers(ctx context.Context, k Kernel, res *pipeline.Result, sessions map[string]check.Session, now time.Time) (map[string]kernel.PeerStats, error) {
	all := g.peersEvery <= 0 || now.Sub(g.peersAt) >= g.peersEvery || g.peersKernel != k
	// A handshake read up to peersEvery ago must still be fresh when
	// judged: WireGuard renews it every 2 minutes while traffic flows.
	fresh := max(check.HandshakeTimeout-g.peersEvery, check.HandshakeTimeout/2)
	names := make([]string, 0, len(res.Plan.Tunnels))
	established := make(map[string]bool, len(res.Plan.Tunnels))
	for _, t := range res.Plan.Tunnels {
		est := sessions[t.Interface].State == "Established"
		established[t.Interface] = est
		last := g.peerCache[t.Interface]
		was, known := g.peerEstablished[t.Interface]
		same := known && was == est && (!est || !last.LastHandshake.IsZero() && now.Sub(last.LastHandshake) < fresh)
		if all || !same {
			names = append(names, t.Interface)
		}
	}
	read, err := k.Peers(ctx, names)
	if err != nil {
		g.peerCache, g.peerEstablished, g.peersKernel = nil, nil, nil
		return read, err
	}
	if all || g.peerEstablished == nil {
		g.peerEstablished = map[string]bool{}
	}
	for _, n := range names {
		g.peerEstablished[n] = established[n]
	}
	out := make(map[string]kernel.PeerStats, len(res.Plan.Tunnels))
	for _, t := range res.Plan.Tunnels {
		if p, ok := g.peerCache[t.Interface]; ok {
			out[t.Interface] = p
		}
	}
	for _, n := range names {
		delete(out, n) // read now: absent means no device
		if p, ok := read[n]; ok {
			out[n] = p
		}
	}
	g.peerCache, g.peersKernel = out, k
	if all {
		g.peersAt = now
	}
	return out, nil
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
