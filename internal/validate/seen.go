package validate

import (
	"net/netip"

	"github.com/hashicorp/hcl/v2"
	"golang.zx2c4.com/wireguard/wgctrl/wgtypes"

	"github.com/sitevpn/sitevpn/internal/load"
)

// seen holds where each value that must be unique was first written, for
// "already used at" details and for checks that span the fleet: one map
// per kind of value, sized for the fleet, so that a 3,000-gateway fleet
// neither boxes each key into an interface nor regrows its maps (issue 13).
type seen struct {
	gatewayNames, siteNames firstSeen[string]
	ids                     firstSeen[int]
	publicKeys              firstSeen[wgtypes.Key]
	routerIDs, endpoints    firstSeen[netip.Addr]
	endpointHosts           firstSeen[string] // DNS endpoints, lower case
	asns                    firstSeen[int64]
	lanAddresses            firstSeen[lanAddress] // unique within a site only
}

type lanAddress struct {
	site string
	addr netip.Addr
}

func newSeen(doc *load.Document) seen {
	gateways := 0
	for _, s := range doc.Sites {
		gateways += len(s.Gateways)
	}
	return seen{
		gatewayNames: make(firstSeen[string], gateways),
		siteNames:    make(firstSeen[string], len(doc.Sites)),
		ids:          make(firstSeen[int], gateways),
		publicKeys:   make(firstSeen[wgtypes.Key], gateways),
		routerIDs:    make(firstSeen[netip.Addr], gateways),
		endpoints:    make(firstSeen[netip.Addr], gateways),
		// DNS endpoints are few: the map grows with them.
		endpointHosts: firstSeen[string]{},
		asns:          make(firstSeen[int64], len(doc.Sites)),
		lanAddresses:  make(firstSeen[lanAddress], gateways),
	}
}

// firstSeen maps a value to where it was first written.
type firstSeen[K comparable] map[K]hcl.Range

// remember records where key was first written; it reports false, and the
// first position, when key was seen before. The caller prints the position
// only then: every value of the fleet passes here, few are repeated.
func (m firstSeen[K]) remember(key K, r hcl.Range) (hcl.Range, bool) {
	if first, dup := m[key]; dup {
		return first, false
	}
	m[key] = r
	return r, true
}
