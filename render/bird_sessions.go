package render

import (
	"fmt"
	"strings"

	"github.com/sitevpn/sitevpn/internal/plan"
)

// sessionFormat is one tunnel's BGP session in BIRD's configuration. It is
// a format, not part of bird.conf.tmpl, because it repeats once per tunnel:
// at 1,000 tunnels text/template's reflection over every field of every
// session took 9% of `sitevpn render`'s CPU (issue 13); fmt does the same
// work for a fraction. Each protocol's definition depends only on its own
// tunnel, its peer site and the fleet settings (see the template's head).
//
// Arguments: 1 interface, 2 peer gateway, 3 peer site, 4 peer ASN, 5 remote
// IPv6, 6 local IPv6, 7 import limit, 8 IPv6 import, 9 IPv6 export,
// 10 the IPv4 next hop (ipv4NextHop), 11 IPv4 import, 12 IPv4 export.
const sessionFormat = `
# %[1]s: %[2]s (site %[3]s, AS%[4]d)
protocol bgp %[1]s from tunnel {
	description "%[2]s (%[3]s)";
	neighbor %[5]s as %[4]d;
	source address %[6]s;
	interface "%[1]s";
	ipv6 {
		preference 160;
		# A peer announcing more floods no table: the rest are dropped,
		# this session and every other stay up; status shows the hit.
		import limit %[7]d action block;
		import %[8]s;
		export %[9]s;
	};
	ipv4 {
		preference 160;
		import limit %[7]d action block;
		%[10]s;
		import %[11]s;
		export %[12]s;
	};
}
`

// sessions renders the BGP session of every tunnel of g. filters holds
// the import and export filters of each peer site's sessions, by ASN,
// then IPv4 and IPv6 (sessionFilters).
func sessions(g *plan.Gateway, filters map[uint32][2][2]string) string {
	var b strings.Builder
	b.Grow(len(g.Tunnels) * (len(sessionFormat) + 200))
	for _, t := range g.Tunnels {
		f := filters[t.Peer.ASN]
		im, ex := f[0], f[1]
		fmt.Fprintf(&b, sessionFormat, t.Interface, t.Peer.Gateway, t.Peer.Site, t.Peer.ASN,
			t.Remote6.String(), t.Local6.Addr().String(), g.BGP.ImportLimit, im[1], ex[1],
			ipv4NextHop(t), im[0], ex[0])
	}
	return b.String()
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
