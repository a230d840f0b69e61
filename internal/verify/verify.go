package verify

import (
	"fmt"
	"net/netip"
	"strings"

	"github.com/sitevpn/sitevpn/internal/fleet"
)

// Check names what a finding breaks.
type Check string

// The checks, for every single failure.
const (
	// Cut: pairs of sites that had a path keep none.
	Cut Check = "cut"
	// SingleGateway: a prefix of a site with two gateways or more is
	// announced by one of them only.
	SingleGateway Check = "single-gateway"
	// Unannounced: no gateway announces a prefix of its site.
	Unannounced Check = "unannounced"
	// Transit: a site carries traffic between two others that the
	// topology does not make a hub.
	Transit Check = "transit"
)

// Failure is what fails: a gateway, the tunnel between two gateways, a
// whole site; Kind "" is the fleet as it stands.
type Failure struct {
	Kind    string `json:"kind"`
	Site    string `json:"site,omitempty"`
	Gateway string `json:"gateway,omitempty"`
	// Peer is a tunnel's other end, PeerSite its site.
	Peer     string `json:"peer,omitempty"`
	PeerSite string `json:"peer_site,omitempty"`
}

// Finding is one way a single failure hurts, and what would fix it.
type Finding struct {
	Check   Check   `json:"check"`
	Failure Failure `json:"failure"`
	// Pairs are the first pairs of sites it cuts, PairCount all of them.
	Pairs     [][2]string `json:"pairs,omitempty"`
	PairCount int         `json:"pair_count"`
	Prefixes  []string    `json:"prefixes,omitempty"`
	Message   string      `json:"message"`
	Fix       string      `json:"fix"`
	// At is file:line:col of what Fix names, once Locate has run.
	At string `json:"at,omitempty"`
	at ref
}

// ref names the block or attribute a fix points at.
type ref struct {
	site, gateway string
	attr          string // "", "hub" or "prefixes"
}

// Report is every finding, bounded.
type Report struct {
	Findings []Finding `json:"findings"`
	// Omitted counts the findings past the first maxFindings.
	Omitted int `json:"omitted"`
	// Incomplete: the fleet was too large to check every failure in
	// bounded time; the findings are those found before stopping.
	Incomplete bool `json:"incomplete"`
}

const (
	maxFindings = 50
	maxPairs    = 5
)

func (r *Report) add(f Finding) {
	if len(r.Findings) < maxFindings {
		r.Findings = append(r.Findings, f)
	} else {
		r.Omitted++
	}
}

// Fleet verifies f under the policy sitevpn renders for it.
func Fleet(f *fleet.Fleet) *Report { return run(newModel(f, derived(f.Topology))) }

func run(m *model) *Report {
	rep := &Report{Findings: []Finding{}}
	v := &verifier{m: m, rep: rep, intact: make([]reach, len(m.classes)), cut: newPairs(len(m.sites)), scratch: make(reach, len(m.sites))}
	for _, c := range m.classes {
		v.intact[c.idx] = m.propagate(c, intact, nil)
		v.checkTransit(c, v.intact[c.idx])
	}
	v.announcing()
	v.gateways()
	v.hubSites()
	v.tunnels()
	rep.Incomplete = m.exhausted()
	return rep
}

type verifier struct {
	m       *model
	rep     *Report
	intact  []reach
	cut     *pairs
	carried map[int]bool // sites reported for transit
	scratch reach        // the failures' propagation, reused
}

// announcing: the fleet as it stands, prefixes no gateway or a single
// gateway of a larger site announces.
func (v *verifier) announcing() {
	for _, s := range v.m.sites {
		for _, c := range s.classes {
			switch {
			case len(c.origins) == 0:
				v.rep.add(Finding{Check: Unannounced, Failure: Failure{}, Prefixes: texts(c.prefixes),
					Message: fmt.Sprintf("no gateway of site %q announces %s: no other site can reach %s", s.f.Name, list(c.prefixes), them(c.prefixes)),
					Fix:     "give one of its gateways a lan with ospf = true, or a lan address inside it", at: ref{site: s.f.Name, attr: "prefixes"}})
			case len(c.origins) == 1 && len(s.f.Gateways) > 1:
				g := s.f.Gateways[c.origins[0]]
				v.cut.reset()
				v.lostAll(c, s.idx)
				other := s.f.Gateways[0]
				if c.origins[0] == 0 {
					other = s.f.Gateways[1]
				}
				v.report(Finding{Check: SingleGateway, Failure: Failure{Kind: "gateway", Site: s.f.Name, Gateway: g.Name}, Prefixes: texts(c.prefixes),
					Message: fmt.Sprintf("site %q has %d gateways, but only %q announces %s: if it fails, no other site reaches %s", s.f.Name, len(s.f.Gateways), g.Name, list(c.prefixes), them(c.prefixes)),
					Fix:     fmt.Sprintf("announce it from %q too: ospf = true on one of its lans, or a lan address inside it", other.Name), at: ref{site: s.f.Name, gateway: other.Name}})
			}
		}
	}
}

// gateways: a site's only gateway failing cuts the site off, and the
// pairs it carries transit for.
func (v *verifier) gateways() {
	for _, s := range v.m.sites {
		if len(s.f.Gateways) != 1 || v.m.exhausted() {
			continue
		}
		v.cut.reset()
		v.siteDown(s.idx, true)
		hub := ""
		if v.m.carries[s.idx] {
			hub = ", a hub"
		}
		msg := fmt.Sprintf("gateway %q is the only gateway of site %q%s: if it fails, %s lose every path", s.f.Gateways[0].Name, s.f.Name, hub, pairCount(v.cut.n))
		v.report(Finding{Check: Cut, Failure: Failure{Kind: "gateway", Site: s.f.Name, Gateway: s.f.Gateways[0].Name},
			Message: msg, Fix: fmt.Sprintf("add a second gateway to site %q", s.f.Name), at: ref{site: s.f.Name}})
	}
}

// hubSites: a site in transit failing whole (its gateways share a
// building, a power feed) cuts the pairs only it carries.
func (v *verifier) hubSites() {
	for _, x := range v.m.transit {
		s := v.m.sites[x]
		if len(s.f.Gateways) == 1 || v.m.exhausted() {
			continue // its gateway's finding says it
		}
		v.cut.reset()
		v.siteDown(x, false)
		v.report(Finding{Check: Cut, Failure: Failure{Kind: "site", Site: s.f.Name},
			Message: fmt.Sprintf("if site %q fails as a whole, %s of other sites lose every path: it is the only hub between them", s.f.Name, pairCount(v.cut.n)),
			Fix:     "make a second site, in another location, a hub (hub = true)", at: ref{site: s.f.Name, attr: "hub"}})
	}
}

// siteDown marks the pairs cut when site x is gone: with own, the pairs
// of x itself too (its LAN is still there, its gateway is not).
func (v *verifier) siteDown(x int, own bool) {
	for _, c := range v.m.classes {
		if c.site.idx == x {
			if own {
				v.lostAll(c, x)
			}
			continue
		}
		if own && v.intact[c.idx][x] >= 0 {
			v.cut.add(x, c.site.idx)
		}
		if v.m.carries[x] {
			v.diff(c, v.m.propagate(c, outage{dead: x, a: -1, b: -1}, v.scratch), x)
		}
	}
}

// tunnels: between two sites of one gateway each, their one tunnel.
// Elsewhere a site has another gateway with the same tunnels and routes.
func (v *verifier) tunnels() {
	for x, sx := range v.m.sites {
		if len(sx.f.Gateways) != 1 {
			continue
		}
		for y := x + 1; y < len(v.m.sites) && !v.m.exhausted(); y++ {
			sy := v.m.sites[y]
			if len(sy.f.Gateways) != 1 || !v.m.f.Tunneled(sx.f, sy.f) {
				continue
			}
			v.cut.reset()
			v.tunnelDown(x, y)
			gx, gy := sx.f.Gateways[0], sy.f.Gateways[0]
			v.report(Finding{Check: Cut, Failure: Failure{Kind: "tunnel", Site: sx.f.Name, Gateway: gx.Name, Peer: gy.Name, PeerSite: sy.f.Name},
				Message: fmt.Sprintf("the tunnel between %q (site %q) and %q (site %q) is their sites' only one: if it fails, %s lose every path", gx.Name, sx.f.Name, gy.Name, sy.f.Name, pairCount(v.cut.n)),
				Fix:     fmt.Sprintf("add a second gateway to site %q or to site %q", sx.f.Name, sy.f.Name), at: ref{site: sx.f.Name}})
		}
	}
}

// tunnelDown marks the pairs cut when every tunnel between sites x and y
// is down. Only routes that start or end at a site not in transit can
// use its tunnels, so only those are followed again.
func (v *verifier) tunnelDown(x, y int) {
	o := outage{dead: -1, a: x, b: y}
	if v.m.carries[x] && v.m.carries[y] {
		for _, c := range v.m.classes {
			v.diff(c, v.m.propagate(c, o, v.scratch), -1)
		}
		return
	}
	for _, end := range [][2]int{{x, y}, {y, x}} {
		recv, from := end[0], end[1]
		if v.m.carries[recv] {
			continue
		}
		for _, c := range v.m.classes {
			switch {
			case c.site.idx == recv:
				if v.m.carries[from] {
					v.diff(c, v.m.propagate(c, o, v.scratch), -1)
				}
			case v.intact[c.idx][recv] == int32(from) && !v.m.detour(c, v.intact[c.idx], recv, from):
				v.cut.add(recv, c.site.idx)
			}
		}
	}
}

// diff marks the pairs that reached c before and do not in after,
// leaving out site gone.
func (v *verifier) diff(c *class, after reach, gone int) {
	v.checkTransit(c, after)
	for a, was := range v.intact[c.idx] {
		if a != gone && was >= 0 && after[a] < 0 {
			v.cut.add(a, c.site.idx)
		}
	}
}

// lostAll marks every pair that reached c, c's site having lost it.
func (v *verifier) lostAll(c *class, x int) {
	for a, was := range v.intact[c.idx] {
		if a != x && was >= 0 {
			v.cut.add(a, x)
		}
	}
}

// checkTransit reports a site whose routes carry two other sites' traffic
// when the policy does not let it.
func (v *verifier) checkTransit(c *class, r reach) {
	for a := range r {
		if r[a] < 0 {
			continue
		}
		for x := int(r[a]); x != c.site.idx; x = int(r[x]) {
			s := v.m.sites[x].f
			if v.m.policy.mayCarry(s) || v.carried[x] {
				continue
			}
			if v.carried == nil {
				v.carried = map[int]bool{}
			}
			v.carried[x] = true
			v.rep.add(Finding{Check: Transit, Failure: Failure{}, PairCount: 1, Pairs: [][2]string{{v.m.sites[a].f.Name, c.site.f.Name}},
				Message: fmt.Sprintf("site %q carries the traffic between %q and %q, but the %s topology gives it no transit", s.Name, v.m.sites[a].f.Name, c.site.f.Name, v.m.policy.topology),
				Fix:     "a policy that lets it re-export learned routes is a bug: report it", at: ref{site: s.Name}})
		}
	}
}

// report adds f with the pairs cut, if any.
func (v *verifier) report(f Finding) {
	if v.cut.n == 0 {
		return
	}
	f.PairCount = v.cut.n
	for _, p := range v.cut.first {
		f.Pairs = append(f.Pairs, [2]string{v.m.sites[p[0]].f.Name, v.m.sites[p[1]].f.Name})
	}
	v.rep.add(f)
}

func texts(ps []netip.Prefix) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = p.String()
	}
	return out
}

func list(ps []netip.Prefix) string { return strings.Join(texts(ps), ", ") }

func them(ps []netip.Prefix) string {
	if len(ps) == 1 {
		return "it"
	}
	return "them"
}

func pairCount(n int) string {
	if n == 1 {
		return "1 pair of sites"
	}
	return fmt.Sprintf("%d pairs of sites", n)
}
