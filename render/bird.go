package render

import (
	"fmt"
	"net/netip"
	"strings"

	"github.com/sitevpn/sitevpn/internal/fleet"
	"github.com/sitevpn/sitevpn/internal/plan"
)

// birdConfig is what bird.conf.tmpl needs, precomputed so the template
// holds layout only.
type birdConfig struct {
	*plan.Gateway
	VRF          bool
	BFD          bool
	BFDInterval  string // "100 ms"
	Sets         []prefixSet
	LANPatterns  string // "eth1", "eth2"
	OSPFPatterns string
	Kernels      []channel
	OSPF         []ospfInstance
	Sessions     string // every tunnel's protocol bgp (bird_sessions.go)
	// Transit holds the sets and functions of a hub-and-spoke gateway's
	// transit policy (bird_transit.go); "" in a mesh.
	Transit string
	// OSPFExport is what goes to the LAN: the routes learned over the
	// tunnels.
	OSPFExport string
}

type prefixSet struct{ Name, Members string }

type channel struct{ Name, Family string }

type ospfInstance struct {
	Version      int
	Name, Family string
}

func birdView(g *plan.Gateway) birdConfig {
	c := birdConfig{
		Gateway:     g,
		VRF:         g.Isolation == fleet.VRF,
		BFD:         g.BGP.BFD,
		BFDInterval: fmt.Sprintf("%d ms", g.BGP.BFDIntervalMS),
		Kernels:     []channel{{"kernel4", "ipv4"}, {"kernel6", "ipv6"}},
	}
	for _, s := range append([]plan.Site{g.Site}, g.Sites...) {
		c.Sets = appendSet(c.Sets, s.ASN, "V4", s.V4)
		c.Sets = appendSet(c.Sets, s.ASN, "V6", s.V6)
	}
	c.OSPFExport = "where source = RTS_BGP"
	if g.Drained {
		c.OSPFExport += " && lan_least_preferred()"
	}
	if g.Topology == fleet.HubAndSpoke {
		c.Transit = transitDefinitions(g)
	}
	var lans, ospf []string
	for _, l := range g.LANs {
		lans = append(lans, quote(l.Interface))
		if l.OSPF {
			ospf = append(ospf, quote(l.Interface))
		}
	}
	c.LANPatterns = strings.Join(lans, ", ")
	c.OSPFPatterns = strings.Join(ospf, ", ")
	if len(ospf) > 0 {
		c.OSPF = []ospfInstance{{2, "ospf4", "ipv4"}, {3, "ospf6", "ipv6"}}
	}
	c.Sessions = sessions(g, sessionFilters(g))
	return c
}

func setName(asn uint32, family string) string { return fmt.Sprintf("AS%d_%s", asn, family) }

// appendSet defines a site's prefix set; BIRD has no empty set literal, so
// a family without prefixes gets no set and its filters read "none".
func appendSet(sets []prefixSet, asn uint32, family string, ps []netip.Prefix) []prefixSet {
	if len(ps) == 0 {
		return sets
	}
	return append(sets, prefixSet{setName(asn, family), setMembers(ps)})
}

// setMembers lists prefixes as a BIRD set's members: each prefix and its
// subnets.
func setMembers(ps []netip.Prefix) string {
	members := make([]string, len(ps))
	for i, p := range ps {
		members[i] = p.String() + "+"
	}
	return strings.Join(members, ", ")
}

// importFilter accepts a site's prefixes, those its gateway announces as
// being drained (RFC 8326) kept as the least preferred.
func importFilter(asn uint32, family string, ps []netip.Prefix) string {
	if len(ps) == 0 {
		return "none"
	}
	return "where net ~ " + setName(asn, family) + " && graceful_shutdown_honoured()"
}

// exportFilter announces this site's own prefixes, never a BGP route (no
// transit); drained, with the GRACEFUL_SHUTDOWN community.
func exportFilter(asn uint32, ps []netip.Prefix, drained bool) string {
	if len(ps) == 0 {
		return "none"
	}
	family := "V6"
	if ps[0].Addr().Is4() {
		family = "V4"
	}
	f := "where net ~ " + setName(asn, family) + " && source != RTS_BGP"
	if drained {
		f += " && graceful_shutdown_announced()"
	}
	return f
}

func quote(s string) string { return `"` + s + `"` }
