package validate

import (
	"fmt"

	"github.com/sitevpn/sitevpn/internal/fleet"
	"github.com/sitevpn/sitevpn/internal/load"
)

// importLimitFits: a written import_limit below what a session's policy
// admits from its peer drops legitimate routes, and some site is
// unreachable with nothing to say so. The worst session of each family
// is named, with how many pairs of sites are short. Each ordered pair of
// tunneled sites is looked at once, only when import_limit is written.
func (v *validator) importLimitFits(f *fleet.Fleet, doc *load.Document) {
	if f.BGP.ImportLimit == 0 || !v.topologyKnown {
		return
	}
	t := f.Totals()
	for fam, family := range []string{"IPv4", "IPv6"} {
		var worstIn, worstPeer *fleet.Site
		worst, short := 0, 0
		for _, in := range f.Sites {
			for _, peer := range f.Sites {
				if !f.Tunneled(in, peer) {
					continue
				}
				n := f.Admitted(in, peer, t)[fam]
				if n > f.BGP.ImportLimit {
					short++
				}
				if n > worst {
					worst, worstIn, worstPeer = n, in, peer
				}
			}
		}
		if short == 0 {
			continue
		}
		others := "no other pair of sites is short"
		if short > 1 {
			others = fmt.Sprintf("%d pairs of sites in all are short", short)
		}
		v.errorf(doc.Fleet.BGP.ImportLimit.Range, "import_limit below what sessions admit", "import_limit %d is below the %d %s prefixes that site %q's sessions to site %q admit (%s); %s. The routes over the limit are dropped and their sites unreachable: raise it to at least %d, or remove import_limit, and each session's limit is what its policy admits plus import_margin (%d), %d at least.",
			f.BGP.ImportLimit, worst, family, worstIn.Name, worstPeer.Name, admittedWhy(f, worstIn, worstPeer), others, worst, f.BGP.ImportMargin, fleet.DefaultImportLimit)
	}
}

// admittedWhy says what in's sessions to peer admit, in words.
func admittedWhy(f *fleet.Fleet, in, peer *fleet.Site) string {
	return map[fleet.Admission]string{
		fleet.PeerOwn:      "the peer site's own prefixes",
		fleet.OtherSites:   "a spoke imports every other site's prefixes from a hub",
		fleet.HubAndSpokes: "a hub imports another hub's prefixes and every spoke's",
	}[fleet.AdmissionOf(f.Topology, in.Hub, peer.Hub)]
}
