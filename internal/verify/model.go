// Package verify reasons over every single failure of the fleet's derived
// topology and policy (a gateway, a tunnel between two gateways, a whole
// site) with no live state, and reports what each would cut.
package verify

import (
	"net/netip"
	"slices"

	"github.com/sitevpn/sitevpn/internal/fleet"
)

// model is the fleet as the verifier sees it: sites joined by the
// topology's tunnels, each site's prefixes grouped by the gateways that
// announce them.
type model struct {
	f       *fleet.Fleet
	policy  policy
	sites   []*site
	classes []*class
	transit []int  // the sites that re-export learned routes, by index
	carries []bool // by site index: in transit
	work    int    // steps taken, bounded by maxWork
	queue   []int  // propagate's, reused
}

type site struct {
	idx     int
	f       *fleet.Site
	classes []*class
}

// class is the prefixes of a site that the same gateways announce: they
// reach, and are cut, together.
type class struct {
	idx      int // in model.classes
	site     *site
	prefixes []netip.Prefix
	// origins: the site's gateways (indices into its Gateways) that
	// announce them.
	origins []int
}

func newModel(f *fleet.Fleet, p policy) *model {
	m := &model{f: f, policy: p}
	for i, s := range f.Sites {
		st := &site{idx: i, f: s}
		for _, pfx := range s.Prefixes {
			origins := announcers(s, pfx)
			j := slices.IndexFunc(st.classes, func(c *class) bool { return slices.Equal(c.origins, origins) })
			if j < 0 {
				st.classes = append(st.classes, &class{idx: len(m.classes), site: st, origins: origins})
				j = len(st.classes) - 1
				m.classes = append(m.classes, st.classes[j])
			}
			st.classes[j].prefixes = append(st.classes[j].prefixes, pfx)
		}
		m.sites = append(m.sites, st)
	}
	m.carries = make([]bool, len(m.sites))
	for _, s := range m.sites {
		if p.reexports(s.f) {
			m.transit = append(m.transit, s.idx)
			m.carries[s.idx] = true
		}
	}
	return m
}

// announcers returns the gateways of s whose BIRD exports pfx: BIRD
// announces a site prefix it has from a LAN, either a LAN's own subnet
// inside pfx (protocol direct) or, with OSPF on a LAN, the site's routes;
// a gateway running OSPF is taken to learn every prefix of its site.
func announcers(s *fleet.Site, pfx netip.Prefix) []int {
	var out []int
	for i, g := range s.Gateways {
		if slices.ContainsFunc(g.LANs, func(l fleet.LAN) bool { return l.OSPF || covers(pfx, l.Addresses) }) {
			out = append(out, i)
		}
	}
	return out
}

func covers(pfx netip.Prefix, addrs []netip.Prefix) bool {
	return slices.ContainsFunc(addrs, func(a netip.Prefix) bool {
		return a.Bits() >= pfx.Bits() && pfx.Contains(a.Addr())
	})
}
