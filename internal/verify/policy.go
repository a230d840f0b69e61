package verify

import "github.com/sitevpn/sitevpn/internal/fleet"

// policy is what the rendered BIRD filters let through, as the verifier
// models it: which routes a gateway of one site announces to the gateways
// of another, and which of them those import.
type policy struct {
	topology string
	// exports: a gateway of x announces to y a route to a prefix of
	// origin (x's own, or one it learned over BGP).
	exports func(x, y, origin *fleet.Site) bool
	// imports: a gateway of y accepts from x a route to origin's prefix.
	imports func(y, x, origin *fleet.Site) bool
	// reexports: x may announce a route it learned (x carries transit).
	reexports func(x *fleet.Site) bool
	// mayCarry: x is allowed to carry traffic between two other sites.
	mayCarry func(x *fleet.Site) bool
}

// derived is the policy sitevpn renders (render/bird_transit.go): in a
// mesh each session carries its two sites' prefixes; in hub-and-spoke a
// spoke announces its own, a hub announces to a spoke its own and every
// other site's but that spoke's, and to another hub its own and the
// spokes'. Imports follow fleet.AdmissionOf, the switch render's import
// filters and limits are made from.
func derived(topology string) policy {
	hubAndSpoke := topology == fleet.HubAndSpoke
	return policy{
		topology: topology,
		exports: func(x, y, origin *fleet.Site) bool {
			switch {
			case x == origin:
				return true
			case !hubAndSpoke || !x.Hub:
				return false
			case !y.Hub:
				return origin != y
			default:
				return !origin.Hub
			}
		},
		imports: func(y, x, origin *fleet.Site) bool {
			switch fleet.AdmissionOf(topology, y.Hub, x.Hub) {
			case fleet.OtherSites:
				return origin != y
			case fleet.HubAndSpokes:
				return origin == x || !origin.Hub
			default:
				return origin == x
			}
		},
		reexports: func(x *fleet.Site) bool { return hubAndSpoke && x.Hub },
		mayCarry:  func(x *fleet.Site) bool { return hubAndSpoke && x.Hub },
	}
}

// passes reports whether a route to origin's prefix crosses from x to y.
func (p policy) passes(x, y, origin *fleet.Site) bool {
	return p.exports(x, y, origin) && p.imports(y, x, origin)
}
