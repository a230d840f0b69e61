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
	DefaultMTU           = 1420
	DefaultKeepalive     = 0
	DefaultVRFTable      = 1000
	DefaultMetricsListen = "127.0.0.1:9474"
	// DefaultConfirmWindow (seconds) leaves an Ansible rollout of a few
	// minutes the time to reach a changed tunnel's other end.
	DefaultConfirmWindow = 600
	// MinConfirmWindow and MaxConfirmWindow (seconds) bound a confirm
	// window, the fleet's or apply --confirm's: shorter, no change can
	// bring its tunnels back (or an operator answer) in time.
	MinConfirmWindow = 30
	MaxConfirmWindow = 86400
	DefaultHoldTime  = 6
	// DefaultImportLimit is the least import limit a session gets, per
	// family: a site announces a handful; a peer announcing more floods
	// no table (the rest are dropped, the session stays up).
	DefaultImportLimit = 1000
	// DefaultImportMargin is the room a derived import limit leaves over
	// what a session admits, once that passes DefaultImportLimit.
	DefaultImportMargin = 100
	// BFD: a packet every 100 ms, down after 5 missed: a dead tunnel is
	// detected in 0.5 s.
	DefaultBFDIntervalMS = 100
	DefaultBFDMultiplier = 5
	DefaultTopology      = Mesh
	// DefaultEndpointRefresh (seconds): how often apply re-resolves DNS
	// endpoints; a minute follows a dynamic-DNS change without loading
	// the resolver.
	DefaultEndpointRefresh = 60
	// DefaultNATKeepalive (seconds) is the keepalive of every tunnel of a
	// gateway without an endpoint when the fleet sets none: its peers only
	// know its address from its packets, and 25 s keeps a NAT mapping open.
	DefaultNATKeepalive = 25
)

// The topologies: which gateways have a tunnel between them.
const (
	// Mesh: every two gateways of different sites.
	Mesh = "mesh"
	// HubAndSpoke: gateways of different hub sites, and every spoke
	// gateway with every hub gateway; spokes reach each other through the
	// hubs.
	HubAndSpoke = "hub-and-spoke"
)

// Fleet is the whole validated definition.
type Fleet struct {
	Isolation Isolation
	Namespace string
	PortBase  int
	Transit6  netip.Prefix
	// Transit4 is zero when the fleet sets none: IPv4 routes then ride
	// the IPv6 transit (RFC 8950 extended next hop) and tunnels have no
	// IPv4 address.
	Transit4      netip.Prefix
	MTU           int
	Keepalive     int // seconds, 0 = off
	VRFTable      int
	MetricsListen netip.AddrPort
	// ConfirmWindow: after a change, how long the tunnels it kept have to
	// be up again before the daemon rolls it back; 0 = never.
	ConfirmWindow time.Duration
	// Topology is Mesh or HubAndSpoke.
	Topology string
	// EndpointRefresh is how often apply re-resolves DNS endpoints.
	EndpointRefresh time.Duration
	BGP             BGP
	Sites           []*Site // in definition order
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
	// ImportLimit, when not 0, is the most routes per session and family
	// imported, as written; 0 derives each session's (Limit).
	ImportLimit int
	// ImportMargin is what a derived limit allows over the prefixes a
	// session's policy admits: the more-specifics a site may announce.
	ImportMargin int
}

// Site is a location with its own ASN and prefixes.
type Site struct {
	Name     string
	ASN      uint32
	Prefixes []netip.Prefix
	Gateways []*Gateway
	// Hub: in a hub-and-spoke fleet, a site every spoke has tunnels to
	// and whose gateways carry traffic between the other sites.
	Hub bool
}

// Gateway is one VPN gateway of a site.
type Gateway struct {
	Name string
	Site *Site
	ID   int
	// Endpoint is the public address; its port is 0 unless the HCL set one,
	// in which case it overrides the derived port_base + id. It is the
	// zero AddrPort when the gateway has no endpoint (it connects out) or
	// a DNS one.
	Endpoint netip.AddrPort
	// EndpointHost is a DNS endpoint's name (no port), resolved by apply,
	// never before; "" for an address or no endpoint.
	EndpointHost string
	// EndpointPort is the port written with a DNS endpoint (0: derived,
	// port_base + id), with the same meaning as Endpoint's port.
	EndpointPort uint16
	PublicKey    wgtypes.Key
	RouterID     netip.Addr // derived from ID unless set
	LANs         []LAN
}

// LAN is an interface on the private side of a gateway.
type LAN struct {
	Interface string
	Addresses []netip.Prefix
	OSPF      bool
}

// HasEndpoint reports whether peers can reach g first: it has an
// address or a DNS name. A gateway without one connects out.
func (g *Gateway) HasEndpoint() bool { return g.Endpoint.IsValid() || g.EndpointHost != "" }

// WrittenPort is the port written with g's endpoint, 0 when none was: the
// base peers add their id to instead of port_base.
func (g *Gateway) WrittenPort() uint16 {
	if g.EndpointHost != "" {
		return g.EndpointPort
	}
	return g.Endpoint.Port()
}

// Tunneled reports whether the topology puts tunnels between the gateways
// of sites a and b: in a mesh any two sites, in hub-and-spoke two sites of
// which one at least is a hub. A site has none to itself.
func (f *Fleet) Tunneled(a, b *Site) bool {
	if a == b {
		return false
	}
	return f.Topology != HubAndSpoke || a.Hub || b.Hub
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
