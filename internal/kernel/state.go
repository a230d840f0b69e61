// Package kernel holds the shapes of a gateway's kernel state: what apply
// asks the kernel to look at (Query) and finds (State), what it asks it to
// change (Change), and what health checks read (PeerStats). It is a
// package of values only, so that the Linux implementation (package link),
// the engine that drives it (apply) and the checks (check) share them
// without importing one another.
package kernel

import (
	"net/netip"
	"time"

	"golang.zx2c4.com/wireguard/wgctrl/wgtypes"
)

// Query says what to observe.
type Query struct {
	// Namespace is the private namespace (netns mode); "" in vrf mode.
	Namespace string
	// Tunnels are looked up in the private namespace and, in netns mode,
	// in the main one too (left there by an interrupted create). Every
	// other wg<N> WireGuard link of the private namespace is reported as
	// well, queried or not, unless Only is set.
	Tunnels []string
	LANs    []string
	// Only: report the queried tunnels alone. An apply that knows the
	// other tunnels are as it left them (apply.Settled) reads just the
	// ones that may differ, so its cost follows what changed.
	Only bool
	// Endpoint is the gateway's public address: a LAN still in the main
	// namespace that holds it is reported (LAN.Carries).
	Endpoint netip.Addr
}

// State is what an observation found; what is missing is absent from the
// maps (LANs: Exists false).
type State struct {
	NamespaceExists bool
	Tunnels         map[string]Tunnel
	LANs            map[string]LAN
}

// Tunnel is one WireGuard link as found.
type Tunnel struct {
	InMain     bool // netns mode: in the main namespace, not the private one
	MTU        int
	Up         bool
	Addresses  []netip.Prefix
	ListenPort int
	PublicKey  wgtypes.Key // of the device's private key
	Peers      []Peer
}

// Peer is one WireGuard peer as found.
type Peer struct {
	PublicKey  wgtypes.Key
	Endpoint   netip.AddrPort
	AllowedIPs []netip.Prefix
	Keepalive  int // seconds
}

// LAN is a LAN interface as found.
type LAN struct {
	Exists    bool
	InMain    bool // netns mode: not yet moved
	Up        bool
	Addresses []netip.Prefix
	// Carries, for a LAN in the main namespace, names what of the
	// gateway's own reachability it holds ("the default route", "the
	// endpoint address ..."): moving it would cut the gateway off.
	Carries string
}

// AllowedIPs of every peer: routing, not WireGuard, decides.
var AllowedIPs = []netip.Prefix{netip.MustParsePrefix("0.0.0.0/0"), netip.MustParsePrefix("::/0")}

// PeerStats is what WireGuard reports about a tunnel's peer, for health.
type PeerStats struct {
	Present       bool // the device exists with its peer
	LastHandshake time.Time
	RxBytes       int64
	TxBytes       int64
}
