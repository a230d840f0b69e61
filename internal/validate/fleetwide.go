package validate

import (
	"fmt"
	"math/big"
	"net/netip"
	"slices"
	"sort"
	"strconv"

	"github.com/hashicorp/hcl/v2"

	"github.com/sitevpn/sitevpn/internal/fleet"
	"github.com/sitevpn/sitevpn/internal/load"
)

// sourced is a prefix with where it was written and whose it is.
type sourced struct {
	p     netip.Prefix
	r     hcl.Range
	owner string
}

// uniqueness checks what spans sites: no prefix of one site overlaps
// another site's (the BGP import filters would otherwise let a site hijack
// another's traffic), and nothing overlaps the transit pools.
func (v *validator) uniqueness(f *fleet.Fleet, doc *load.Document) {
	var all []sourced
	for _, s := range doc.Sites {
		for _, a := range s.Prefixes.Value {
			// A prefix that is not routable is reported as such alone.
			p, err := netip.ParsePrefix(a.Value)
			if why := notRoutable(p); err == nil && p.Masked() == p && (why == "" || why == "link-local") {
				all = append(all, sourced{p, a.Range, s.Name})
			}
		}
	}
	// Shorter prefixes first: a prefix then meets every prefix containing it
	// in the map, with one lookup per length in use: linear in the number of
	// prefixes.
	sort.SliceStable(all, func(i, j int) bool { return all[i].p.Bits() < all[j].p.Bits() })
	lengths := lengthsInUse(all)
	seen := map[netip.Prefix]sourced{}
	for _, x := range all {
		for _, bits := range lengths.upTo(x.p.Addr(), x.p.Bits()) {
			outer, _ := x.p.Addr().Prefix(bits)
			if o, ok := seen[outer]; ok && o.owner != x.owner {
				v.errorf(x.r, "Overlapping site prefixes", "prefix %s of site %q overlaps %s of site %q (%s); a prefix belongs to one site only.", x.p, x.owner, o.p, o.owner, pos(o.r))
				break
			}
		}
		if _, ok := seen[x.p]; !ok {
			seen[x.p] = x
		}
	}
	for _, x := range all {
		v.outsidePools(f, x.p, x.r, "site prefix")
	}
	// site returns the site prefix holding a, if any: one lookup per
	// prefix length in use.
	site := func(a netip.Addr) (sourced, bool) {
		for _, bits := range lengths.upTo(a, a.BitLen()) {
			outer, _ := a.Prefix(bits)
			if o, ok := seen[outer]; ok {
				return o, true
			}
		}
		return sourced{}, false
	}
	// coveredBy returns a prefix of a site other than owner lying inside
	// q, if any: by address, those are a run found by binary search.
	byAddr := slices.Clone(all)
	slices.SortFunc(byAddr, func(x, y sourced) int { return x.p.Addr().Compare(y.p.Addr()) })
	coveredBy := func(q netip.Prefix, owner string) (sourced, bool) {
		i, _ := slices.BinarySearchFunc(byAddr, q.Addr(), func(x sourced, a netip.Addr) int { return x.p.Addr().Compare(a) })
		for ; i < len(byAddr) && q.Contains(byAddr[i].p.Addr()); i++ {
			if byAddr[i].owner != owner {
				return byAddr[i], true
			}
		}
		return sourced{}, false
	}
	for _, s := range doc.Sites {
		for _, g := range s.Gateways {
			e, why := parseEndpoint(g.Endpoint.Value)
			// The address checks are for address endpoints: a name is
			// never resolved before apply.
			ap, hasEndpoint := e.literal()
			hasEndpoint = hasEndpoint && g.Endpoint.Set && why == ""
			if hasEndpoint {
				v.outsidePools(f, host(ap.Addr()), g.Endpoint.Range, "endpoint")
				switch o, ok := site(ap.Addr()); {
				case ok && o.owner != s.Name:
					v.errorf(g.Endpoint.Range, "Endpoint inside another site", "endpoint %s of gateway %q is inside prefix %s of site %q (%s): its tunnels' packets would be routed into the VPN itself; use the gateway's public address, outside every site prefix.", ap.Addr(), g.Name, o.p, o.owner, pos(o.r))
				case ok:
					v.warnf(g.Endpoint.Range, "Endpoint inside its own site", "endpoint %s of gateway %q is inside its own site's prefix %s (%s): the other sites route that prefix through the tunnels, so the gateway is reachable only while it does not need the tunnels to be reached. Keep public endpoints outside the site prefixes.", ap.Addr(), g.Name, o.p, pos(o.r))
				}
			}
			for _, l := range g.LANs {
				inLAN := map[netip.Addr]bool{} // a repeat within one lan is reported by lan()
				for _, a := range l.Addresses.Value {
					p, err := netip.ParsePrefix(a.Value)
					if err != nil || inLAN[p.Addr()] {
						continue
					}
					inLAN[p.Addr()] = true
					v.outsidePools(f, p.Masked(), a.Range, "lan address")
					switch o, ok := site(p.Addr()); {
					case ok && o.owner != s.Name:
						v.errorf(a.Range, "LAN address inside another site", "lan address %s of gateway %q is inside prefix %s of site %q (%s); a site's LAN uses its own addresses.", p.Addr(), g.Name, o.p, o.owner, pos(o.r))
					case hasEndpoint && p.Addr() == ap.Addr():
						v.errorf(a.Range, "LAN address is the endpoint", "lan address %s of gateway %q is its public endpoint: moved into the private namespace with the LAN, it would cut the tunnels; give the LAN its own address.", p.Addr(), g.Name)
					default:
						// A /0 is reported by lan() already.
						if o, ok := coveredBy(p.Masked(), s.Name); ok && p.Bits() > 0 {
							v.errorf(a.Range, "LAN subnet covers another site", "lan address %s of gateway %q: its subnet %s covers prefix %s of site %q (%s), so the LAN's route would take that site's traffic; write the LAN's own subnet length.", p, g.Name, p.Masked(), o.p, o.owner, pos(o.r))
						}
					}
					// Per site: other sites may reuse private LAN addresses, which
					// no tunnel routes.
					if first, ok := v.seen.lanAddresses.remember(lanAddress{s.Name, p.Addr()}, a.Range); !ok && !p.Addr().IsLinkLocalUnicast() {
						v.errorf(a.Range, "Duplicate lan address", "lan address %s of gateway %q is already used at %s in the same site; every interface of a site needs its own address.", p.Addr(), g.Name, pos(first))
					}
				}
			}
		}
	}
}

// prefixLengths are the prefix lengths the site prefixes use, ascending, by
// family: looking an address up at these lengths only, not at every
// length (129 for IPv6), finds the same prefixes.
type prefixLengths struct{ v4, v6 []int }

// lengthsInUse lists the lengths of all, which is sorted by length.
func lengthsInUse(all []sourced) prefixLengths {
	var l prefixLengths
	for _, x := range all {
		in := &l.v6
		if x.p.Addr().Is4() {
			in = &l.v4
		}
		if n := len(*in); n == 0 || (*in)[n-1] != x.p.Bits() {
			*in = append(*in, x.p.Bits())
		}
	}
	return l
}

// upTo returns the lengths of a's family up to limit bits.
func (l prefixLengths) upTo(a netip.Addr, limit int) []int {
	in := l.v6
	if a.Is4() {
		in = l.v4
	}
	n := 0
	for n < len(in) && in[n] <= limit {
		n++
	}
	return in[:n]
}

func (v *validator) outsidePools(f *fleet.Fleet, p netip.Prefix, r hcl.Range, what string) {
	for _, pool := range []netip.Prefix{f.Transit6, f.Transit4} {
		if pool.IsValid() && pool.Overlaps(p) {
			v.errorf(r, "Overlap with a transit pool", "%s %s overlaps the transit pool %s, whose addresses sitevpn gives to tunnels; use addresses outside it, or move the pool.", what, p, pool)
		}
	}
}

// pools checks that every derived value fits: ListenPorts below 65536 and
// one /127 and one /31 per pair of gateways up to the highest id.
func (v *validator) pools(f *fleet.Fleet, doc *load.Document) {
	b := doc.Fleet
	maxID := 0
	for _, s := range f.Sites {
		for _, g := range s.Gateways {
			if g.ID > maxID && g.ID <= 65535 {
				maxID = g.ID
			}
		}
	}
	if maxID == 0 {
		return
	}
	maxAt := pos(v.seen.ids[maxID])
	if f.PortBase >= 1 && f.PortBase <= 65535 && f.PortBase+maxID > 65535 {
		advice := fmt.Sprintf("lower port_base to at most %d", 65535-maxID)
		if maxID >= 65535 {
			// No port_base is small enough: the ids must come down.
			advice = fmt.Sprintf("no port_base fits an id of %d: give the gateways ids of at most %d with port_base %d", maxID, 65535-f.PortBase, f.PortBase)
		}
		v.errorf(b.PortBase.Range, "port_base too high", "port_base %d plus the highest gateway id %d (%s) passes 65535; %s.", f.PortBase, maxID, maxAt, advice)
	}
	for _, s := range doc.Sites {
		for _, g := range s.Gateways {
			e, why := parseEndpoint(g.Endpoint.Value)
			if !g.Endpoint.Set || why != "" || e.port == 0 || int(e.port)+maxID <= 65535 {
				continue
			}
			written := e.host + ":" + strconv.Itoa(int(e.port))
			if ap, ok := e.literal(); ok {
				written = ap.String()
			}
			advice := fmt.Sprintf("use a port of at most %d", 65535-maxID)
			if maxID >= 65535 {
				advice = fmt.Sprintf("no port fits: lower the ids to at most %d, or leave the port out (peers then use port_base)", 65535-int(e.port))
			}
			v.errorf(g.Endpoint.Range, "Endpoint port too high", "endpoint %s: peers reach this gateway at its port plus their own id, up to %d with the highest id %d (%s), past 65535; %s.", written, int(e.port)+maxID, maxID, maxAt, advice)
		}
	}
	pairs := big.NewInt(int64(maxID) * int64(maxID-1) / 2)
	for _, c := range []struct {
		pool       netip.Prefix
		attr       load.Attr[string]
		name       string
		tunnelBits int
	}{{f.Transit6, b.Transit6, "transit6", 127}, {f.Transit4, b.Transit4, "transit4", 31}} {
		if !c.pool.IsValid() {
			continue
		}
		capacity := new(big.Int).Lsh(big.NewInt(1), uint(c.tunnelBits-c.pool.Bits()))
		if capacity.Cmp(pairs) < 0 {
			// 2^(tunnelBits-need) >= pairs: need = tunnelBits - ceil(log2(pairs)).
			need := c.tunnelBits - new(big.Int).Sub(pairs, big.NewInt(1)).BitLen()
			r := c.attr.Range
			also := ""
			if c.name == "transit4" {
				also = ", or remove transit4: IPv4 routes then ride the IPv6 transit (RFC 8950) and need no pool"
			}
			size := fmt.Sprintf("use a /%d or shorter, or lower the ids", need)
			if need < 1 {
				size = "no " + c.name + " pool holds that many: lower the ids"
			}
			v.errorf(r, "Transit pool too small", "%s %s holds %s tunnels (one /%d each), but the highest gateway id %d (%s) needs %s; %s%s.",
				c.name, c.pool, capacity, c.tunnelBits, maxID, maxAt, pairs, size, also)
		}
	}
}
