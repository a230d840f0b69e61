// Package fleet is the validated fleet definition: typed values with every
// default filled in. Package validate builds it from a load.Document; every
// later stage reads only this.
package fleet

import (
	"net/netip"
	"time"

	"golang.zx2c4.com/wireguard/wgctrl/wgtypes"
)

// Isolation is how clear traffic is kept apart from the public side.
type Isolation string

// The isolation modes.
const (
	NetNS Isolation = "netns" // a private network namespace (the article's design)
	VRF   Isolation = "vrf"   // a VRF in the main namespace, managed by networkd
)

// Defaults of the fleet block, documented in the README's HCL reference.
const (
	DefaultIsolation     = NetNS
	DefaultNamespace     = "private"
	DefaultPortBase      = 51820
	DefaultTransit4      = "169.254.0.0/16"
	DefaultMTU           = 1420
	DefaultKeepalive     = 0
	DefaultVRFTable      = 1000
	DefaultMetricsListen = "127.0.0.1:9474"
	// DefaultConfirmWindow (seconds) leaves an Ansible rollout of a few
	// minutes the time to reach a changed tunnel's other end.
	DefaultConfirmWindow = 600
	DefaultHoldTime      = 6
	// DefaultImportLimit is how many routes of each family one session
	// may import: a site announces a handful; a peer announcing more
	// floods no table (the rest are dropped, the session stays up).
	DefaultImportLimit = 1000
	// BFD: a packet every 100 ms, down after 5 missed: a dead tunnel is
	// detected in 0.5 s.
	DefaultBFDIntervalMS = 100
	DefaultBFDMultiplier = 5
)

// Fleet is the whole validated definition.
type Fleet struct {
	Isolation     Isolation
	Namespace     string
	PortBase      int
	Transit6      netip.Prefix
	Transit4      netip.Prefix
	MTU           int
	Keepalive     int // seconds, 0 = off
	VRFTable      int
	MetricsListen netip.AddrPort
	// ConfirmWindow: after a change, how long the tunnels it kept have to
	// be up again before the daemon rolls it back; 0 = never.
	ConfirmWindow time.Duration
	BGP           BGP
	Sites         []*Site // in definition order
}

// BGP holds the session settings shared by every tunnel.
type BGP struct {
	HoldTime int
	BFD      bool
	// BFD timers, used when BFD is on: the interval at which each side
	// sends (and wants to receive) BFD packets, in milliseconds, and how
	// many intervals without one mean the tunnel is down.
	BFDIntervalMS int
	BFDMultiplier int
	// ImportLimit is the most routes per session and family imported.
	ImportLimit int
}

// Site is a location with its own ASN and prefixes.
type Site struct {
	Name     string
	ASN      uint32
	Prefixes []netip.Prefix
	Gateways []*Gateway
}

// Gateway is one VPN gateway of a site.
type Gateway struct {
	Name string
	Site *Site
	ID   int
	// Endpoint is the public address; its port is 0 unless the HCL set one,
	// in which case it overrides the derived port_base + id.
	Endpoint  netip.AddrPort
	PublicKey wgtypes.Key
	RouterID  netip.Addr // derived from ID unless set
	LANs      []LAN
}

// LAN is an interface on the private side of a gateway.
type LAN struct {
	Interface string
	Addresses []netip.Prefix
	OSPF      bool
}

// Gateways returns every gateway of the fleet, in definition order.
func (f *Fleet) Gateways() []*Gateway {
	var out []*Gateway
	for _, s := range f.Sites {
		out = append(out, s.Gateways...)
	}
	return out
}

// Gateway returns the gateway with this name, or nil.
func (f *Fleet) Gateway(name string) *Gateway {
	for _, s := range f.Sites {
		for _, g := range s.Gateways {
			if g.Name == name {
				return g
			}
		}
	}
	return nil
}

// DefaultRouterID is the router id of a gateway that sets none: its id as a
// 32-bit number, so it is unique across the fleet and never changes.
func DefaultRouterID(id int) netip.Addr {
	return netip.AddrFrom4([4]byte{byte(id >> 24), byte(id >> 16), byte(id >> 8), byte(id)})
}
