package validate

import (
	"net/netip"
)

// The ranges no gateway, site, LAN or tunnel address may be in, by what
// they are, each phrase fit after "is" or "overlaps". Documentation
// ranges stay allowed: examples use them.
var (
	special4 = []struct {
		p    netip.Prefix
		what string
	}{
		{netip.MustParsePrefix("0.0.0.0/8"), `"this network" (0.0.0.0/8)`},
		{netip.MustParsePrefix("127.0.0.0/8"), "loopback"},
		{netip.MustParsePrefix("169.254.0.0/16"), "link-local"},
		{netip.MustParsePrefix("224.0.0.0/4"), "multicast"},
		{netip.MustParsePrefix("255.255.255.255/32"), "the broadcast address"},
		{netip.MustParsePrefix("240.0.0.0/4"), "reserved (240.0.0.0/4)"},
	}
	special6 = []struct {
		p    netip.Prefix
		what string
	}{
		{netip.MustParsePrefix("::/128"), "the unspecified address"},
		{netip.MustParsePrefix("::1/128"), "loopback"},
		{netip.MustParsePrefix("::/96"), "IPv4-compatible (::/96, deprecated)"},
		{netip.MustParsePrefix("::ffff:0:0/96"), "IPv4-mapped (::ffff:0:0/96)"},
		{netip.MustParsePrefix("100::/64"), "discard-only (100::/64)"},
		{netip.MustParsePrefix("fe80::/10"), "link-local"},
		{netip.MustParsePrefix("fec0::/10"), "site-local (fec0::/10, deprecated)"},
		{netip.MustParsePrefix("ff00::/8"), "multicast"},
	}
)

// notRoutable says which special range p overlaps ("" when none): no
// site prefix or endpoint may be in one. A default route overlaps them
// all and is named as such.
func notRoutable(p netip.Prefix) string { return special(p, false) }

// notInterfaceAddress is notRoutable for a LAN address, which may be
// link-local (valid on its link).
func notInterfaceAddress(p netip.Prefix) string { return special(p, true) }

func special(p netip.Prefix, linkLocalOK bool) string {
	if p.Bits() == 0 {
		return "a default route"
	}
	ranges := special6
	if p.Addr().Is4() {
		ranges = special4
	}
	for _, s := range ranges {
		if s.p.Overlaps(p) && !(linkLocalOK && s.what == "link-local") {
			return s.what
		}
	}
	return ""
}

// host is a prefix of one address.
func host(a netip.Addr) netip.Prefix { return netip.PrefixFrom(a, a.BitLen()) }

// isSubnetBroadcast: the last address of an IPv4 subnet of two or more
// hosts is its broadcast address, not an interface address.
func isSubnetBroadcast(p netip.Prefix) bool {
	if !p.Addr().Is4() || p.Bits() >= 31 {
		return false
	}
	b := p.Masked().Addr().As4()
	n := uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
	n |= 1<<(32-p.Bits()) - 1
	return p.Addr() == netip.AddrFrom4([4]byte{byte(n >> 24), byte(n >> 16), byte(n >> 8), byte(n)})
}
