package render

import (
	"fmt"
	"slices"
	"strconv"

	"github.com/sitevpn/sitevpn/internal/fleet"
	"github.com/sitevpn/sitevpn/internal/plan"
)

// sessionLayout is one tunnel's BGP session in BIRD's configuration. It is
// laid out here, not in bird.conf.tmpl, because it repeats once per
// tunnel: at 1,000 tunnels text/template's reflection over every field of
// every session took 9% of `sitevpn render`'s CPU, and fmt boxing its
// twelve arguments was a third of an edit's allocations at 300 tunnels
// (issue 13). Each protocol's definition depends only on its own tunnel,
// its peer site and the fleet settings (see the template's head).
//
// {name} is replaced with the session's value of that name (sessionArgs).
const sessionLayout = `
# {interface}: {peer} (site {site}, AS{asn})
protocol bgp {interface} from tunnel {
	description "{peer} ({site})";
	neighbor {remote6} as {asn};
	source address {local6};
	interface "{interface}";
	ipv6 {
		preference 160;
		# A peer announcing more floods no table: the rest are dropped,
		# this session and every other stay up; status shows the hit.
		import limit {limit6} action block;
		import {import6};
		export {export6};
	};
	ipv4 {
		preference 160;
		import limit {limit4} action block;
		{nexthop4};
		import {import4};
		export {export4};
	};
}
`

// The values of a session, in sessionArgs' order.
const (
	argInterface = iota
	argPeer
	argSite
	argASN
	argRemote6
	argLocal6
	argLimit6
	argLimit4
	argImport6
	argExport6
	argNextHop4
	argImport4
	argExport4
	sessionArgs
)

var sessionArgNames = [sessionArgs]string{"interface", "peer", "site", "asn", "remote6", "local6", "limit6", "limit4",
	"import6", "export6", "nexthop4", "import4", "export4"}

// layoutPart is a stretch of sessionLayout: literal text, then the value
// of arg (-1 at the end).
type layoutPart struct {
	text string
	arg  int
}

var sessionParts = splitLayout(sessionLayout)

// splitLayout cuts layout at its {name}s once, so that writing a session
// is appending strings. A brace not around a name is BIRD's own. A name
// sessionArgNames lacks is a programming error: it panics at start, in
// every test.
func splitLayout(layout string) []layoutPart {
	var parts []layoutPart
	start := 0 // of the literal text not yet in parts
	for i := 0; i < len(layout); i++ {
		if layout[i] != '{' {
			continue
		}
		j := i + 1
		for j < len(layout) && ('a' <= layout[j] && layout[j] <= 'z' || '0' <= layout[j] && layout[j] <= '9') {
			j++
		}
		if j == i+1 || j == len(layout) || layout[j] != '}' {
			continue
		}
		arg := slices.Index(sessionArgNames[:], layout[i+1:j])
		if arg < 0 {
			panic("render: sessionLayout names an unknown value " + layout[i:j+1])
		}
		parts = append(parts, layoutPart{layout[start:i], arg})
		start, i = j+1, j
	}
	return append(parts, layoutPart{layout[start:], -1})
}

// sessions renders the BGP session of every tunnel of g. filters holds
// the import and export filters of each peer site's sessions, by ASN,
// then IPv4 and IPv6 (sessionFilters).
func sessions(g *plan.Gateway, filters map[uint32][2][2]string) string {
	b := make([]byte, 0, len(g.Tunnels)*(len(sessionLayout)+200))
	limits := sessionLimits(g)
	var args [sessionArgs]string
	for _, t := range g.Tunnels {
		f := filters[t.Peer.ASN]
		im, ex := f[0], f[1]
		lim := limits[t.Peer.ASN]
		args = [sessionArgs]string{
			argInterface: t.Interface, argPeer: t.Peer.Gateway, argSite: t.Peer.Site,
			argASN: strconv.FormatUint(uint64(t.Peer.ASN), 10), argRemote6: t.Remote6.String(),
			argLocal6: t.Local6.Addr().String(), argLimit6: lim[1], argLimit4: lim[0], argImport6: im[1], argExport6: ex[1],
			argNextHop4: ipv4NextHop(t), argImport4: im[0], argExport4: ex[0],
		}
		for _, p := range sessionParts {
			b = append(b, p.text...)
			if p.arg >= 0 {
				b = append(b, args[p.arg]...)
			}
		}
	}
	return string(b)
}

// ipv4NextHop is how the session gives IPv4 routes a next hop: the
// tunnel's IPv4 transit address, or, without a transit4 pool, its IPv6 one
// (RFC 8950 extended next hop: Linux routes IPv4 via an IPv6 gateway).
func ipv4NextHop(t plan.Tunnel) string {
	if !t.Local4.IsValid() {
		return "extended next hop on"
	}
	return "next hop address " + t.Local4.Addr().String()
}

// sessionLimits is the import limit of each peer site's sessions, by
// family (0 IPv4, 1 IPv6), as the sessions write it: the number when it
// depends on that site alone, else the constant limitConst names, which
// transitDefinitions defines: it grows with the fleet, and BIRD restarts
// a session whose text changed.
func sessionLimits(g *plan.Gateway) map[uint32][2]string {
	out := make(map[uint32][2]string, len(g.Sites))
	for _, s := range g.Sites {
		var l [2]string
		for i, family := range []string{"V4", "V6"} {
			if l[i] = limitConst(g, s, family); l[i] == "" {
				l[i] = strconv.Itoa(s.ImportLimit[i])
			}
		}
		out[s.ASN] = l
	}
	return out
}

// limitConst names the constant holding the import limit of g's sessions
// to site s, "" when they admit the peer site's own prefixes only
// (fleet.AdmissionOf), a count that does not grow with the fleet.
func limitConst(g *plan.Gateway, s plan.Site, family string) string {
	switch fleet.AdmissionOf(g.Topology, g.Site.Hub, s.Hub) {
	case fleet.OtherSites: // the same over each hub
		return otherSitesSet + "_LIMIT_" + family
	case fleet.HubAndSpokes:
		return fmt.Sprintf("AS%d_LIMIT_%s", s.ASN, family)
	}
	return ""
}
