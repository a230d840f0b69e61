package validate

import (
	"time"

	"github.com/sitevpn/sitevpn/internal/fleet"
	"github.com/sitevpn/sitevpn/internal/load"
)

// topologySettings reads topology and endpoint_refresh into f.
func (v *validator) topologySettings(f *fleet.Fleet, b *load.Fleet) {
	f.Topology = b.Topology.Or(fleet.DefaultTopology)
	switch f.Topology {
	case fleet.Mesh, fleet.HubAndSpoke:
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
	anyHub := false
	for _, s := range doc.Sites {
		if !s.Hub.Value {
			continue
		}
		anyHub = true
		if f.Topology == fleet.Mesh {
			v.warnf(s.Hub.Range, "Hub in a mesh", "site %q has hub = true, but the fleet's topology is mesh, where every site has tunnels to every other and none carries transit: the setting has no effect. Set topology = \"hub-and-spoke\" in the fleet block, or remove hub.", s.Name)
		}
	}
	if f.Topology == fleet.HubAndSpoke && !anyHub {
		v.errorf(doc.Fleet.Topology.Range, "No hub site", "topology is \"hub-and-spoke\" but no site has hub = true: spokes would have no tunnel at all. Mark the site(s) that carry the traffic between the others (data centres) with hub = true.")
	}
}

// unreachablePairs reports every two gateways that the topology joins by
// a tunnel while neither has an endpoint: neither can send the first
// packet. Only gateways without an endpoint are compared, so a fleet
// that has few costs little.
func (v *validator) unreachablePairs(f *fleet.Fleet, doc *load.Document) {
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
			if b := doc.Sites[i].Gateways[j]; !b.Endpoint.Set {
				none = append(none, lonely{g, b})
			}
		}
	}
	for i, second := range none {
		for _, first := range none[:i] {
			if !f.Tunneled(first.g.Site, second.g.Site) {
				continue
			}
			v.errorf(second.b.DefRange, "No endpoint at either end", "gateway %q (site %q) and gateway %q (site %q, %s) both have no endpoint, but the %s topology needs a tunnel between them: each waits for the other to connect first. Give one of them an endpoint (its public address or a DNS name)%s.",
				second.g.Name, second.g.Site.Name, first.g.Name, first.g.Site.Name, pos(first.b.DefRange), f.Topology,
				map[bool]string{true: ", or make both spokes (hub-and-spoke has no tunnel between spokes)", false: ""}[f.Topology == fleet.HubAndSpoke])
		}
	}
}
