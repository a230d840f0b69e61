package link

import (
	"bytes"
	"fmt"
	"net"
	"net/netip"
	"sort"
	"time"

	"golang.zx2c4.com/wireguard/wgctrl/wgtypes"

	"github.com/sitevpn/sitevpn/internal/kernel"
	"github.com/sitevpn/sitevpn/internal/plan"
)

// Conversions between the kernel libraries' net types and the netip types
// apply works with. Pure, so they are tested without root.

// isTunnelName reports whether name is one plan.InterfaceName can produce
// (wg<positive id>): only such links in the private namespace are reported
// as stale tunnels, so a hand-made "wg0" or "wg-test" is never deleted.
func isTunnelName(name string) bool { return plan.IsInterfaceName(name) }

// prefixOf converts an address as netlink reports it (the interface's
// own address and the prefix length, host bits kept).
func prefixOf(n *net.IPNet) (netip.Prefix, bool) {
	if n == nil {
		return netip.Prefix{}, false
	}
	a, ok := netip.AddrFromSlice(n.IP)
	if !ok {
		return netip.Prefix{}, false
	}
	a = a.Unmap()
	ones, bits := n.Mask.Size()
	// A 16-byte mask on an IPv4 address (net.ParseCIDR style) counts the
	// 96 bits of the v4-in-v6 prefix.
	if a.Is4() && bits == 128 {
		ones, bits = ones-96, 32
	}
	if bits != a.BitLen() || ones < 0 {
		return netip.Prefix{}, false // non-canonical or mismatched mask
	}
	return netip.PrefixFrom(a, ones), true
}

// ipNet is the reverse of prefixOf: the address keeps its host bits, as
// "ip addr add 2001:db8::1/127" does.
func ipNet(p netip.Prefix) *net.IPNet {
	a := p.Addr().Unmap()
	return &net.IPNet{IP: a.AsSlice(), Mask: net.CIDRMask(p.Bits(), a.BitLen())}
}

func sortPrefixes(ps []netip.Prefix) {
	sort.Slice(ps, func(i, j int) bool {
		if c := ps[i].Addr().Compare(ps[j].Addr()); c != 0 {
			return c < 0
		}
		return ps[i].Bits() < ps[j].Bits()
	})
}

// endpointOf converts a peer endpoint as wgctrl reports it; IPv4
// endpoints come back as plain IPv4, never v4-in-v6.
func endpointOf(u *net.UDPAddr) netip.AddrPort {
	if u == nil {
		return netip.AddrPort{}
	}
	ap := u.AddrPort()
	if !ap.Addr().IsValid() {
		return netip.AddrPort{}
	}
	// A zone is an interface name of the main namespace: not something the
	// plan can ask for, so it is dropped to compare equal with it.
	return netip.AddrPortFrom(ap.Addr().Unmap().WithZone(""), ap.Port())
}

// udpAddr converts a planned endpoint; the zero AddrPort means "none"
// (wgctrl then leaves the endpoint alone).
func udpAddr(ap netip.AddrPort) *net.UDPAddr {
	if !ap.IsValid() {
		return nil
	}
	return net.UDPAddrFromAddrPort(netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port()))
}

// peerConfig is the in-place update of one peer: its AllowedIPs are
// replaced (they are always kernel.AllowedIPs), nothing else of the
// device is touched.
func peerConfig(p plan.Peer) (wgtypes.PeerConfig, error) {
	key, err := wgtypes.ParseKey(p.PublicKey)
	if err != nil {
		// The public key is not a secret, but a garbled one is not worth
		// echoing either: the plan validated it, so this is a bug.
		return wgtypes.PeerConfig{}, fmt.Errorf("peer %s: malformed public key: %w", p.Gateway, err)
	}
	if p.Keepalive < 0 {
		return wgtypes.PeerConfig{}, fmt.Errorf("peer %s: negative keepalive %d", p.Gateway, p.Keepalive)
	}
	ka := time.Duration(p.Keepalive) * time.Second // 0 turns keepalive off
	allowed := make([]net.IPNet, 0, len(kernel.AllowedIPs))
	for _, a := range kernel.AllowedIPs {
		allowed = append(allowed, *ipNet(a))
	}
	return wgtypes.PeerConfig{
		PublicKey:                   key,
		Endpoint:                    udpAddr(p.Endpoint),
		PersistentKeepaliveInterval: &ka,
		ReplaceAllowedIPs:           true,
		AllowedIPs:                  allowed,
	}, nil
}

// peerState converts one peer as wgctrl reports it.
func peerState(p wgtypes.Peer) kernel.Peer {
	s := kernel.Peer{
		PublicKey: p.PublicKey,
		Endpoint:  endpointOf(p.Endpoint),
		Keepalive: int(p.PersistentKeepaliveInterval / time.Second),
	}
	for i := range p.AllowedIPs {
		if pf, ok := prefixOf(&p.AllowedIPs[i]); ok {
			s.AllowedIPs = append(s.AllowedIPs, pf)
		}
	}
	sortPrefixes(s.AllowedIPs)
	return s
}

// deviceState fills the WireGuard half of a tunnel's state. The device's
// private key is deliberately not copied anywhere.
func deviceState(s *kernel.Tunnel, d *wgtypes.Device) {
	s.ListenPort = d.ListenPort
	s.PublicKey = d.PublicKey
	s.Peers = nil
	for _, p := range d.Peers {
		s.Peers = append(s.Peers, peerState(p))
	}
	sort.Slice(s.Peers, func(i, j int) bool {
		return bytes.Compare(s.Peers[i].PublicKey[:], s.Peers[j].PublicKey[:]) < 0
	})
}
