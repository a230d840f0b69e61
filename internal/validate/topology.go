package validate

import (
	"fmt"
	"slices"
	"time"

	"github.com/sitevpn/sitevpn/internal/fleet"
	"github.com/sitevpn/sitevpn/internal/load"
)

// topologySettings reads topology and endpoint_refresh into f.
func (v *validator) topologySettings(f *fleet.Fleet, b *load.Fleet) {
	f.Topology = b.Topology.Or(fleet.DefaultTopology)
	switch f.Topology {
	case fleet.Mesh, fleet.HubAndSpoke:
		v.topologyKnown = !b.Topology.Invalid
	default:
		v.errorf(b.Topology.Range, "Invalid topology", "topology is %q; use \"mesh\" (a tunnel between every two gateways of different sites, the default) or \"hub-and-spoke\" (sites with hub = true carry the traffic between the others).", b.Topology.Value)
	}
	refresh := b.EndpointRefresh.Or(fleet.DefaultEndpointRefresh)
	if refresh < 10 || refresh > 86400 {
		v.errorf(b.EndpointRefresh.Range, "Invalid endpoint_refresh", "endpoint_refresh is %d; use 10 to 86400 seconds: how often apply resolves DNS endpoints again (%d, the default, follows a dynamic-DNS change within a minute).", refresh, fleet.DefaultEndpointRefresh)
	}
	f.EndpointRefresh = time.Duration(refresh) * time.Second
}

// hubs checks the hub settings against the topology: hub-and-spoke needs
// a hub; in a mesh, hub = true does nothing and is said so.
func (v *validator) hubs(f *fleet.Fleet, doc *load.Document) {
	if !v.topologyKnown {
		return // the topology's own error says it all
	}
	anyHub, hubUnknown := false, false
	for _, s := range doc.Sites {
		hubUnknown = hubUnknown || s.Hub.Invalid
		if !s.Hub.Value {
			continue
		}
		anyHub = true
		if f.Topology == fleet.Mesh {
			v.warnf(s.Hub.Range, "Hub in a mesh", "site %q has hub = true, but the fleet's topology is mesh, where every site has tunnels to every other and none carries transit: the setting has no effect. Set topology = \"hub-and-spoke\" in the fleet block, or remove hub.", s.Name)
		}
	}
	// A hub written with the wrong type is reported by load: whether the
	// fleet has a hub is then unknown, not false.
	if f.Topology == fleet.HubAndSpoke && !anyHub && !hubUnknown {
		v.errorf(doc.Fleet.Topology.Range, "No hub site", "topology is \"hub-and-spoke\" but no site has hub = true: spokes would have no tunnel at all. Mark the site(s) that carry the traffic between the others (data centres) with hub = true.")
	}
}

// maxPairErrors bounds the "no endpoint at either end" errors: past it,
// one error gives the count, so a fleet of a thousand endpoint-less sites
// gets a screenful, not one error per pair.
const maxPairErrors = 5

// unreachablePairs reports the gateways that the topology joins by a
// tunnel to another while neither has an endpoint: neither can send the
// first packet. Each such gateway is counted in one pass, by how many of
// the endpoint-less gateways before it it must reach (all of other sites
// in a mesh; in hub-and-spoke a hub's, or a spoke's hubs), and only the
// first few get an error of their own.
func (v *validator) unreachablePairs(f *fleet.Fleet, doc *load.Document) {
	if !v.topologyKnown {
		return
	}
	type lonely struct {
		g *fleet.Gateway
		b *load.Gateway
	}
	var none []lonely
	for i, s := range f.Sites {
		for j, g := range s.Gateways {
			if i >= len(doc.Sites) || j >= len(doc.Sites[i].Gateways) {
				return // not the document's fleet: nothing to point at
			}
			// A gateway whose endpoint was written but invalid is reported
			// as such, not as lacking one.
			if b := doc.Sites[i].Gateways[j]; !b.Endpoint.Set && !b.Endpoint.Invalid {
				none = append(none, lonely{g, b})
			}
		}
	}
	before, beforeHubs := 0, 0
	bySite, hubsBySite := map[*fleet.Site]int{}, map[*fleet.Site]int{}
	pairs, reported, more := 0, 0, 0
	var moreAt *load.Gateway
	for i, second := range none {
		s := second.g.Site
		n := before - bySite[s]
		if f.Topology == fleet.HubAndSpoke && !s.Hub {
			n = beforeHubs - hubsBySite[s]
		}
		if n > 0 {
			pairs += n
			switch {
			case reported < maxPairErrors:
				reported++
				first := none[slices.IndexFunc(none[:i], func(o lonely) bool { return f.Tunneled(o.g.Site, s) })]
				others := ""
				if n > 1 {
					others = fmt.Sprintf(" It needs a tunnel to %d more gateway%s without one above it.", n-1, map[bool]string{true: "s"}[n > 2])
				}
				v.errorf(second.b.DefRange, "No endpoint at either end", "gateway %q (site %q) and gateway %q (site %q, %s) both have no endpoint, but the %s topology needs a tunnel between them: each waits for the other to connect first. Give one of them an endpoint (its public address or a DNS name)%s.%s",
					second.g.Name, s.Name, first.g.Name, first.g.Site.Name, pos(first.b.DefRange), f.Topology,
					map[bool]string{true: ", or make both spokes (hub-and-spoke has no tunnel between spokes)", false: ""}[f.Topology == fleet.HubAndSpoke], others)
			case more == 0:
				moreAt = second.b
				fallthrough
			default:
				more++
			}
		}
		before++
		bySite[s]++
		if s.Hub {
			beforeHubs++
			hubsBySite[s]++
		}
	}
	if more > 0 {
		v.errorf(moreAt.DefRange, "No endpoint at either end", "%d more gateways, the first here, have no endpoint and need a tunnel to one that has none either: %d pairs of gateways in all can never connect. Give the gateways of the sites others connect to an endpoint (a public address or a DNS name).", more, pairs)
	}
}
