// Package check computes the health of a gateway's tunnels from what
// WireGuard and BIRD report: handshake age and transfer per tunnel, BGP
// session state, uptime and routes. It is pure: the readings come in as
// values (read by package gateway from WireGuard and BIRD), the report
// goes out.
package check

import (
	"fmt"
	"time"

	"github.com/sitevpn/sitevpn/internal/kernel"
	"github.com/sitevpn/sitevpn/internal/plan"
)

// HandshakeTimeout is how old a handshake may be on a live tunnel. A peer
// with traffic (BGP keepalives every hold_time/3) re-handshakes every 2
// minutes; WireGuard drops a session's keys after 3 minutes without one.
const HandshakeTimeout = 180 * time.Second

// Session is what BIRD reports about a tunnel's BGP protocol.
type Session struct {
	Present bool
	State   string    // BGP state: "Established", "Active", "Connect"...
	Since   time.Time // when the state last changed
	Routes  uint32    // imported, both families
	Info    string    // BIRD's last error, when down
	// LimitHit: the peer announced more routes than the import limit;
	// those over it were dropped.
	LimitHit bool
}

// Readings are one round of measurements, by interface name.
type Readings struct {
	Peers    map[string]kernel.PeerStats
	Sessions map[string]Session
	// Adjacencies are BIRD's OSPF neighbors (all LANs).
	Adjacencies []Adjacency
	// Errors reading WireGuard or BIRD as a whole (BIRD not running...).
	WireGuardError, BirdError string
}

// Tunnel is one tunnel's health.
type Tunnel struct {
	Interface      string        `json:"interface"`
	Peer           string        `json:"peer"`
	Site           string        `json:"site"`
	Handshake      time.Time     `json:"last_handshake,omitzero"`
	HandshakeAge   time.Duration `json:"handshake_age_ns"`
	RxBytes        int64         `json:"rx_bytes"`
	TxBytes        int64         `json:"tx_bytes"`
	BGPState       string        `json:"bgp_state"`
	BGPSince       time.Time     `json:"bgp_since,omitzero"`
	Routes         uint32        `json:"routes"`
	Up             bool          `json:"up"`
	ImportLimitHit bool          `json:"import_limit_hit,omitempty"`
	Problem        string        `json:"problem,omitempty"`
	HandshakeFresh bool          `json:"handshake_fresh"`
}

// Report is a gateway's health.
type Report struct {
	Gateway string   `json:"gateway"`
	Tunnels []Tunnel `json:"tunnels"`
	// Problems that are not about one tunnel: invalid configuration, a
	// failed apply, BIRD unreachable.
	Problems []string `json:"problems,omitempty"`
	// Warnings of the configuration in force: risky settings, valid; they
	// do not make the gateway unhealthy.
	Warnings []string `json:"warnings,omitempty"`
	// Endpoints are the DNS endpoints whose last lookup failed (the
	// tunnel keeps its last address; its own check says whether that
	// still works): warnings too.
	Endpoints []string `json:"endpoint_problems,omitempty"`
	// Adjacencies are the OSPF neighbors of the LANs with ospf = true.
	Adjacencies []Adjacency `json:"ospf_adjacencies,omitempty"`
	// DrainedSince: drained for maintenance (sitevpn drain) since then.
	DrainedSince time.Time `json:"drained_since,omitzero"`
	// Configuration is which one is in force, when the daemon says.
	Configuration *Configuration `json:"configuration,omitempty"`
	Healthy       bool           `json:"healthy"`
}

// Evaluate judges gateway g's tunnels from r at time now. A tunnel is up
// when its handshake is fresh and its BGP session Established.
func Evaluate(g *plan.Gateway, r Readings, now time.Time) Report {
	rep := Report{Gateway: g.Name, Tunnels: make([]Tunnel, 0, len(g.Tunnels)), Healthy: true}
	for _, e := range []string{r.WireGuardError, r.BirdError} {
		if e != "" {
			rep.Problems = append(rep.Problems, e)
		}
	}
	for _, t := range g.Tunnels {
		p, s := r.Peers[t.Interface], r.Sessions[t.Interface]
		tu := Tunnel{Interface: t.Interface, Peer: t.Peer.Gateway, Site: t.Peer.Site,
			RxBytes: p.RxBytes, TxBytes: p.TxBytes, BGPState: s.State, BGPSince: s.Since, Routes: s.Routes}
		if !p.LastHandshake.IsZero() {
			tu.Handshake = p.LastHandshake
			tu.HandshakeAge = now.Sub(p.LastHandshake).Truncate(time.Second)
			tu.HandshakeFresh = tu.HandshakeAge <= HandshakeTimeout
		}
		switch {
		case !p.Present:
			tu.Problem = "no WireGuard device"
		case p.LastHandshake.IsZero():
			tu.Problem = "no handshake yet"
		case !tu.HandshakeFresh:
			tu.Problem = fmt.Sprintf("last handshake %s ago", tu.HandshakeAge)
		case !s.Present:
			tu.Problem = "no BGP session"
		case s.State != "Established":
			tu.Problem = "BGP " + s.State
			if s.Info != "" {
				tu.Problem += ": " + s.Info
			}
		default:
			tu.Up = true
		}
		if tu.BGPState == "" {
			tu.BGPState = "-"
		}
		if s.LimitHit {
			// The session stays up; what the peer announced over the limit
			// is not routed.
			tu.ImportLimitHit = true
			rep.Problems = append(rep.Problems, fmt.Sprintf("%s (%s, site %s): the peer announced more routes than import_limit; those over it are dropped", t.Interface, t.Peer.Gateway, t.Peer.Site))
		}
		rep.Healthy = rep.Healthy && tu.Up
		rep.Tunnels = append(rep.Tunnels, tu)
	}
	rep.Adjacencies = adjacencies(g, r)
	rep.Healthy = rep.Healthy && len(rep.Problems) == 0
	return rep
}
