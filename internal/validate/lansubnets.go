package validate

import (
	"cmp"
	"net/netip"
	"slices"

	"github.com/hashicorp/hcl/v2"

	"github.com/sitevpn/sitevpn/internal/load"
)

// lanSubnetsApart refuses two lan interfaces of one gateway whose subnets
// overlap: the kernel routes those addresses out of one interface only.
// Sorted by start, a subnet overlaps an earlier one only by lying inside
// it, so a stack of the subnets around the current one finds every case
// in O(n log n).
func (v *validator) lanSubnetsApart(b *load.Gateway) {
	type subnet struct {
		p   netip.Prefix
		lan string
		r   hcl.Range
	}
	var all []subnet
	for _, lb := range b.LANs {
		for _, a := range lb.Addresses.Value {
			p, err := netip.ParsePrefix(a.Value)
			// Link-local subnets are per link: every interface has fe80::/64.
			if err == nil && p.Bits() > 0 && !p.Addr().IsLinkLocalUnicast() {
				all = append(all, subnet{p.Masked(), lb.Name, a.Range})
			}
		}
	}
	slices.SortStableFunc(all, func(x, y subnet) int {
		return cmp.Or(x.p.Addr().Compare(y.p.Addr()), cmp.Compare(x.p.Bits(), y.p.Bits()))
	})
	var around []subnet
	for _, s := range all {
		for len(around) > 0 && !around[len(around)-1].p.Contains(s.p.Addr()) {
			around = around[:len(around)-1]
		}
		for _, o := range around {
			if o.lan != s.lan {
				v.errorf(s.r, "Overlapping lan subnets", "lan %q's subnet %s overlaps lan %q's %s (%s) on gateway %q: the kernel routes those addresses out of one interface only; give each LAN its own subnet.", s.lan, s.p, o.lan, o.p, pos(o.r), b.Name)
				break
			}
		}
		around = append(around, s)
	}
}
