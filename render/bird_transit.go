package render

import (
	"fmt"
	"net/netip"
	"strings"

	"github.com/sitevpn/sitevpn/internal/fleet"
	"github.com/sitevpn/sitevpn/internal/plan"
)

// The hub-and-spoke transit policy. A mesh gives no transit: each session
// carries its two sites' prefixes. In hub-and-spoke the hubs carry the
// spokes' traffic:
//
//   - a spoke exports to a hub its own prefixes, and imports from it
//     every other site's;
//   - a hub exports to a spoke its own prefixes and the BGP routes of
//     every site but that spoke's, and imports from it only that spoke
//     site's prefixes (hijack protection holds);
//   - a hub exports to another hub its own prefixes and the spokes' BGP
//     routes, and imports from it that hub site's prefixes and the
//     spokes'.
//
// eBGP's AS-path loop check keeps a route from coming back. The sessions
// name what grows with the fleet (every other site, every spoke) only
// through functions over sets defined once at the top of the file:
// adding a spoke adds its sessions and changes those sets, never an
// existing session's definition, so BIRD restarts no session.

// Names of the fleet-wide sets and of the functions over them.
const (
	otherSitesSet = "OTHER_SITES"
	spokeSitesSet = "SPOKE_SITES"
	otherSiteFunc = "other_site"
	spokeSiteFunc = "spoke_site"
)

// transitDefinitions is the sets and functions the sessions of a
// hub-and-spoke gateway call: every other site's prefixes on every
// gateway, every spoke's on a hub. A function over a family without
// prefixes returns false (BIRD has no empty set).
func transitDefinitions(g *plan.Gateway) string {
	var others, spokes [2][]netip.Prefix // by family: 0 IPv4, 1 IPv6
	for _, s := range g.Sites {
		others[0] = append(others[0], s.V4...)
		others[1] = append(others[1], s.V6...)
		if !s.Hub {
			spokes[0] = append(spokes[0], s.V4...)
			spokes[1] = append(spokes[1], s.V6...)
		}
	}
	var b strings.Builder
	if g.Site.Hub {
		b.WriteString("# Hub-and-spoke transit: the prefixes of every other site and of every\n# spoke. They grow with the fleet: sessions reach them only through these\n# functions, so adding a spoke changes no session.\n")
	} else {
		b.WriteString("# Hub-and-spoke transit: the prefixes of every other site. They grow with\n# the fleet: sessions reach them only through these functions, so adding a\n# spoke changes no session.\n")
	}
	writeMatch(&b, otherSiteFunc, otherSitesSet, others)
	if g.Site.Hub {
		writeMatch(&b, spokeSiteFunc, spokeSitesSet, spokes)
	}
	writeLimits(&b, g)
	return strings.TrimSuffix(b.String(), "\n")
}

// writeLimits defines the import limits that grow with the fleet (each
// a constant limitConst names): a spoke's one for all its hub sessions,
// a hub's one per other hub.
func writeLimits(b *strings.Builder, g *plan.Gateway) {
	b.WriteString("# Import limits: what the sessions admit (every other site's prefixes, or\n# a hub's and every spoke's) plus import_margin.\n")
	done := map[string]bool{}
	for _, s := range g.Sites {
		if !s.Hub {
			continue
		}
		for i, family := range []string{"V4", "V6"} {
			name := limitConst(g, s, family)
			if name != "" && !done[name] {
				done[name] = true
				fmt.Fprintf(b, "define %s = %d;\n", name, s.ImportLimit[i])
			}
		}
	}
}

// writeMatch defines, per family, the set NAME_V4 / NAME_V6 and the
// function fn_v4() / fn_v6() that tells whether a route is in it.
func writeMatch(b *strings.Builder, fn, set string, byFamily [2][]netip.Prefix) {
	for i, family := range []string{"V4", "V6"} {
		name := set + "_" + family
		body := "return false; # no site of this kind has prefixes of this family"
		if ps := byFamily[i]; len(ps) > 0 {
			b.WriteString("define " + name + " = [ " + setMembers(ps) + " ];\n")
			body = "return net ~ " + name + ";"
		}
		b.WriteString("function " + fn + "_" + strings.ToLower(family) + "() {\n\t" + body + "\n}\n")
	}
}

// transitFilters are the import and export filters of g's sessions to
// the gateways of site peer, by family (0 IPv4, 1 IPv6), for a
// hub-and-spoke fleet.
func transitFilters(g *plan.Gateway, peer plan.Site) (im, ex [2]string) {
	own := [2][]netip.Prefix{g.Site.V4, g.Site.V6}
	theirs := [2][]netip.Prefix{peer.V4, peer.V6}
	for i, family := range []string{"V4", "V6"} {
		fam := "_" + strings.ToLower(family) + "()"
		switch {
		case !g.Site.Hub: // a spoke, to a hub
			im[i] = "where " + otherSiteFunc + fam + " && graceful_shutdown_honoured()"
			ex[i] = exportFilter(g.Site.ASN, own[i], g.Drained)
		case !peer.Hub: // a hub, to a spoke
			im[i] = importFilter(peer.ASN, family, theirs[i])
			transit := "source = RTS_BGP && " + otherSiteFunc + fam
			if len(theirs[i]) > 0 {
				transit += " && net !~ " + setName(peer.ASN, family)
			}
			ex[i] = transitExport(g, own[i], family, transit)
		default: // a hub, to another hub
			accept := spokeSiteFunc + fam
			if len(theirs[i]) > 0 {
				accept = "(net ~ " + setName(peer.ASN, family) + " || " + accept + ")"
			}
			im[i] = "where " + accept + " && graceful_shutdown_honoured()"
			ex[i] = transitExport(g, own[i], family, "source = RTS_BGP && "+spokeSiteFunc+fam)
		}
	}
	return im, ex
}

// transitExport announces a hub's own prefixes (not learned by BGP) and
// the BGP routes transit selects; drained, all with GRACEFUL_SHUTDOWN.
func transitExport(g *plan.Gateway, own []netip.Prefix, family, transit string) string {
	f := "(" + transit + ")"
	if len(own) > 0 {
		f = "(net ~ " + setName(g.Site.ASN, family) + " && source != RTS_BGP) || " + f
	}
	if g.Drained {
		f = "(" + f + ") && graceful_shutdown_announced()"
	}
	return "where " + f
}

// sessionFilters returns the import and export filters of every peer
// site's sessions, by ASN, by family (0 IPv4, 1 IPv6).
func sessionFilters(g *plan.Gateway) map[uint32][2][2]string {
	out := make(map[uint32][2][2]string, len(g.Sites))
	if g.Topology != fleet.HubAndSpoke {
		ex := [2]string{exportFilter(g.Site.ASN, g.Site.V4, g.Drained), exportFilter(g.Site.ASN, g.Site.V6, g.Drained)}
		for _, s := range g.Sites {
			out[s.ASN] = [2][2]string{{importFilter(s.ASN, "V4", s.V4), importFilter(s.ASN, "V6", s.V6)}, ex}
		}
		return out
	}
	for _, s := range g.Sites {
		if g.Site.Hub || s.Hub { // spokes have no session between them
			im, ex := transitFilters(g, s)
			out[s.ASN] = [2][2]string{im, ex}
		}
	}
	return out
}
