// Package plan derives one gateway's desired state from the fleet. It is
// pure: every value is a function of gateway ids (and of the fleet
// settings), so adding or removing a gateway never renames, re-ports or
// re-addresses an existing tunnel.
package plan

import (
	"fmt"
	"net/netip"
	"sort"
	"strconv"

	"github.com/sitevpn/sitevpn/internal/fleet"
)

// Gateway is everything one gateway must have.
type Gateway struct {
	Name      string
	ID        int
	Site      Site // this gateway's own site
	RouterID  netip.Addr
	Isolation fleet.Isolation
	Namespace string
	VRFTable  int
	MTU       int
	BGP       fleet.BGP
	Tunnels   []Tunnel // by remote gateway id
	LANs      []fleet.LAN
	// Sites are the other sites, by ASN: the import policy of their tunnels.
	Sites         []Site
	MetricsListen netip.AddrPort
	// Endpoint is this gateway's own public address: apply never moves
	// the link that holds it into the private namespace. Zero when the
	// gateway has no endpoint or a DNS one.
	Endpoint netip.Addr
	// Topology is the fleet's, fleet.Mesh or fleet.HubAndSpoke: which
	// transit policy the BIRD configuration derives.
	Topology string
	// Drained: the gateway is being drained for maintenance (sitevpn
	// drain). It announces its routes with GRACEFUL_SHUTDOWN and makes
	// itself the LAN's least preferred way out, so traffic leaves it
	// before it goes. Not from the fleet: this gateway's own state.
	Drained bool
}

// Site is a site's routing identity: its ASN and the prefixes it may announce.
type Site struct {
	Name string         `json:"name"`
	ASN  uint32         `json:"asn"`
	V4   []netip.Prefix `json:"-"`
	V6   []netip.Prefix `json:"-"`
	// Hub: a hub site of a hub-and-spoke fleet, which gives the others
	// transit.
	Hub bool `json:"-"`
	// ImportLimit is, by family (0 IPv4, 1 IPv6), the import limit of the
	// sessions to this site's gateways (fleet.BGP.Limit of what they
	// admit); 0 for a site without tunnels to this gateway.
	ImportLimit fleet.Counts `json:"-"`
}

// Tunnel is one WireGuard interface to one remote gateway.
type Tunnel struct {
	Interface  string `json:"interface"`
	ListenPort int    `json:"listen_port"`
	MTU        int    `json:"mtu"`
	Peer       Peer   `json:"peer"`
	// Transit addresses: the lower gateway id takes the first address of
	// the pair's /127 and /31. Without a transit4 pool the IPv4 ones are
	// zero: IPv4 routes have the IPv6 transit address as next hop (RFC
	// 8950).
	Local6  netip.Prefix `json:"local6"`
	Remote6 netip.Addr   `json:"remote6"`
	Local4  netip.Prefix `json:"local4,omitzero"`
	Remote4 netip.Addr   `json:"remote4,omitzero"`
}

// Addresses are the tunnel's own transit addresses: IPv6, and IPv4 when
// the fleet has a transit4 pool.
func (t *Tunnel) Addresses() []netip.Prefix {
	if !t.Local4.IsValid() {
		return []netip.Prefix{t.Local6}
	}
	return []netip.Prefix{t.Local6, t.Local4}
}

// Peer is the remote end of a tunnel.
type Peer struct {
	Gateway   string `json:"gateway"`
	ID        int    `json:"id"`
	Site      string `json:"site"`
	ASN       uint32 `json:"asn"`
	PublicKey string `json:"public_key"`
	// Endpoint is where to send to the peer; zero when the peer has no
	// endpoint (it connects out: WireGuard learns its address from its
	// packets) or a DNS one.
	Endpoint netip.AddrPort `json:"endpoint"`
	// EndpointName is a DNS endpoint, "host:port" with the port derived
	// as for an address endpoint, resolved by apply (never before).
	EndpointName string `json:"endpoint_name,omitempty"`
	Keepalive    int    `json:"keepalive"`
	// Hub: the peer's site is a hub of a hub-and-spoke fleet, which
	// decides the session's transit policy (render). Not in the tunnel
	// table: it shapes routing, not the WireGuard link.
	Hub bool `json:"-"`
}

// InterfaceName is the tunnel interface towards the gateway with id remote.
func InterfaceName(remote int) string { return fmt.Sprintf("wg%d", remote) }

// IsInterfaceName reports whether name is one InterfaceName gives: "wg"
// and an id, without a leading zero.
func IsInterfaceName(name string) bool {
	if len(name) < 3 || name[:2] != "wg" || name[2] == '0' {
		return false
	}
	for _, c := range name[2:] {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// PairIndex numbers the unordered pairs of ids a != b densely from 0:
// (1,2)=0, (1,3)=1, (2,3)=2, (1,4)=3 ... A new highest id only appends.
func PairIndex(a, b int) int {
	if a > b {
		a, b = b, a
	}
	return (b-1)*(b-2)/2 + (a - 1)
}

// For derives the desired state of gateway me.
func For(f *fleet.Fleet, me *fleet.Gateway) *Gateway {
	g := &Gateway{
		Name:          me.Name,
		ID:            me.ID,
		Site:          siteOf(me.Site),
		RouterID:      me.RouterID,
		Isolation:     f.Isolation,
		Namespace:     f.Namespace,
		VRFTable:      f.VRFTable,
		MTU:           f.MTU,
		BGP:           f.BGP,
		LANs:          me.LANs,
		MetricsListen: f.MetricsListen,
		Endpoint:      me.Endpoint.Addr(),
		Topology:      f.Topology,
	}
	totals := f.Totals()
	for _, s := range f.Sites {
		if s == me.Site {
			continue
		}
		// Every other site, tunneled or not: a spoke's routes to another
		// spoke come through the hubs and are checked against its prefixes.
		site := siteOf(s)
		if !f.Tunneled(me.Site, s) {
			g.Sites = append(g.Sites, site)
			continue
		}
		n := f.Admitted(me.Site, s, totals)
		site.ImportLimit = fleet.Counts{f.BGP.Limit(n[0]), f.BGP.Limit(n[1])}
		g.Sites = append(g.Sites, site)
		for _, remote := range s.Gateways {
			g.Tunnels = append(g.Tunnels, tunnel(f, me, remote))
		}
	}
	sort.Slice(g.Tunnels, func(i, j int) bool { return g.Tunnels[i].Peer.ID < g.Tunnels[j].Peer.ID })
	sort.Slice(g.Sites, func(i, j int) bool { return g.Sites[i].ASN < g.Sites[j].ASN })
	return g
}

func siteOf(s *fleet.Site) Site {
	out := Site{Name: s.Name, ASN: s.ASN, Hub: s.Hub}
	for _, p := range s.Prefixes {
		if p.Addr().Is4() {
			out.V4 = append(out.V4, p)
		} else {
			out.V6 = append(out.V6, p)
		}
	}
	return out
}

func tunnel(f *fleet.Fleet, me, remote *fleet.Gateway) Tunnel {
	k := PairIndex(me.ID, remote.ID)
	lo6, hi6 := pairAddrs(f.Transit6, k)
	var lo4, hi4 netip.Addr
	if f.Transit4.IsValid() {
		lo4, hi4 = pairAddrs(f.Transit4, k)
	}
	l6, r6, l4, r4 := lo6, hi6, lo4, hi4
	if me.ID > remote.ID {
		l6, r6, l4, r4 = hi6, lo6, hi4, lo4
	}
	// The remote listens for us on port_base + our id; an endpoint written
	// with a port moves that base for the remote (a NAT forwarding a range).
	base := f.PortBase
	if p := remote.WrittenPort(); p != 0 {
		base = int(p)
	}
	port := uint16(base + me.ID)
	var ep netip.AddrPort
	var name string
	switch {
	case remote.Endpoint.IsValid():
		ep = netip.AddrPortFrom(remote.Endpoint.Addr(), port)
	case remote.EndpointHost != "":
		name = remote.EndpointHost + ":" + strconv.Itoa(int(port))
	}
	// A gateway without an endpoint is known to its peers only by its
	// packets: it keeps sending, so they keep its address and its NAT
	// keeps the mapping.
	keepalive := f.Keepalive
	if !me.HasEndpoint() && keepalive == 0 {
		keepalive = fleet.DefaultNATKeepalive
	}
	return Tunnel{
		Interface:  InterfaceName(remote.ID),
		ListenPort: f.PortBase + remote.ID,
		MTU:        f.MTU,
		Peer: Peer{
			Gateway:      remote.Name,
			ID:           remote.ID,
			Site:         remote.Site.Name,
			ASN:          remote.Site.ASN,
			PublicKey:    remote.PublicKey.String(),
			Endpoint:     ep,
			EndpointName: name,
			Keepalive:    keepalive,
			Hub:          remote.Site.Hub,
		},
		Local6:  netip.PrefixFrom(l6, 127),
		Remote6: r6,
		Local4:  prefixOf(l4, 31),
		Remote4: r4,
	}
}

// prefixOf is a's prefix of bits, or zero for a zero address.
func prefixOf(a netip.Addr, bits int) netip.Prefix {
	if !a.IsValid() {
		return netip.Prefix{}
	}
	return netip.PrefixFrom(a, bits)
}

// pairAddrs returns the two addresses of the k-th two-address block of pool
// (a /127 of an IPv6 pool, a /31 of an IPv4 one). Validation guarantees k fits.
func pairAddrs(pool netip.Prefix, k int) (netip.Addr, netip.Addr) {
	b := pool.Addr().AsSlice()
	carry := uint64(k) * 2
	for i := len(b) - 1; i >= 0 && carry > 0; i-- {
		sum := uint64(b[i]) + carry&0xff
		b[i] = byte(sum)
		carry = carry>>8 + sum>>8
	}
	lo, _ := netip.AddrFromSlice(b)
	return lo, lo.Next()
}
