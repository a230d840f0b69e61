package validate

import (
	"net/netip"

	"github.com/sitevpn/sitevpn/internal/fleet"
	"github.com/sitevpn/sitevpn/internal/load"
)

// Site and gateway names appear in file names, unit names and logs.
const maxName = 63

func (v *validator) site(f *fleet.Fleet, b *load.Site) *fleet.Site {
	s := &fleet.Site{Name: b.Name, Hub: b.Hub.Value}
	if !validName(b.Name, maxName) {
		v.errorf(b.NameRange, "Invalid site name", "site name %q: use 1 to %d letters, digits, '-', '_' or '.', not starting with '-' or '.'.", b.Name, maxName)
	}
	if first, ok := v.seen.siteNames.remember(b.Name, b.NameRange); !ok {
		v.errorf(b.NameRange, "Duplicate site name", "site %q is already defined at %s; give each site its own name.", b.Name, pos(first))
	}
	if b.ASN.Set {
		s.ASN = v.asn(b.ASN)
	}
	if b.Prefixes.Set && len(b.Prefixes.Value) == 0 {
		v.errorf(b.Prefixes.Range, "No site prefixes", "site %q announces no prefix; list the networks behind it, such as [\"2001:db8:a1::/64\", \"10.0.1.0/24\"].", b.Name)
	}
	seen := map[netip.Prefix]bool{}
	for _, a := range b.Prefixes.Value {
		p, ok := v.prefix(a, "site prefix", true)
		if !ok {
			continue
		}
		if seen[p] {
			v.errorf(a.Range, "Duplicate site prefix", "prefix %s is listed twice in site %q; remove one.", p, b.Name)
			continue
		}
		// In a transit pool, the pool's own error says it better.
		if why := notRoutable(p); why != "" && (p.Bits() == 0 || !f.Transit4.Overlaps(p) && !f.Transit6.Overlaps(p)) {
			v.errorf(a.Range, "Invalid site prefix", "prefix %s is %s, not a network a site can announce; list the site's routable networks.", p, why)
			continue
		}
		seen[p] = true
		s.Prefixes = append(s.Prefixes, p)
	}
	if len(b.Gateways) == 0 {
		v.errorf(b.DefRange, "Site without gateway", "site %q has no gateway block; add at least one (two for redundancy), or remove the site.", b.Name)
	}
	for _, gb := range b.Gateways {
		if g := v.gateway(f, s, gb); g != nil {
			s.Gateways = append(s.Gateways, g)
		}
	}
	return s
}

func (v *validator) asn(a load.Attr[int64]) uint32 {
	n := a.Value
	switch {
	case n < 1 || n > 4294967294:
		v.errorf(a.Range, "Invalid asn", "asn is %d; use 1 to 4294967294 (private ranges: 64512-65534, 4200000000-4294967294).", n)
	case n == 23456:
		v.errorf(a.Range, "Invalid asn", "asn 23456 is AS_TRANS, reserved for 4-byte ASN transition; pick another (private: 64512-65534).")
	case n == 65535:
		v.errorf(a.Range, "Invalid asn", "asn 65535 is reserved; pick another (private: 64512-65534).")
	default:
		if first, ok := v.seen.asns.remember(n, a.Range); !ok {
			v.errorf(a.Range, "Duplicate asn", "asn %d is already used at %s; every site needs its own ASN (eBGP between sites).", n, pos(first))
		}
		return uint32(n)
	}
	return 0
}

// prefix parses a CIDR. canonical requires the host bits to be zero (a
// network); otherwise the address is kept (an interface address).
func (v *validator) prefix(a load.Attr[string], what string, canonical bool) (netip.Prefix, bool) {
	p, err := netip.ParsePrefix(a.Value)
	switch {
	case err != nil:
		v.errorf(a.Range, "Invalid "+what, "%q is not a CIDR prefix; write an address and a length, such as \"10.0.1.0/24\" or \"2001:db8:a1::/64\".", a.Value)
	case p.Addr().Zone() != "" || p.Addr().Is4In6():
		v.errorf(a.Range, "Invalid "+what, "%q: write a plain IPv4 or IPv6 prefix, without zone or IPv4-mapped form.", a.Value)
	case canonical && p.Masked() != p:
		v.errorf(a.Range, "Invalid "+what, "%q has host bits set; write %q.", a.Value, p.Masked().String())
	default:
		return p, true
	}
	return netip.Prefix{}, false
}
