package fleet

// Import limits scale with the fleet: each session may import what its
// policy admits from the peer, plus a margin, and never less than
// DefaultImportLimit. A spoke of a hub-and-spoke fleet of 1,101 sites
// imports 1,100 sites' prefixes over each hub session; a flat limit of
// 1,000 would silently leave a hundred of them unreachable.

// Counts are prefix counts by family: 0 IPv4, 1 IPv6.
type Counts [2]int

// Totals are the fleet's prefix counts every session's admitted count is
// made from, counted once (Totals).
type Totals struct {
	All, Spokes Counts
}

// Totals counts the fleet's prefixes: all of them, and the spokes'.
func (f *Fleet) Totals() Totals {
	var t Totals
	for _, s := range f.Sites {
		c := s.Counts()
		t.All = t.All.plus(c)
		if !s.Hub {
			t.Spokes = t.Spokes.plus(c)
		}
	}
	return t
}

// Counts is s's prefixes by family.
func (s *Site) Counts() Counts {
	var c Counts
	for _, p := range s.Prefixes {
		if p.Addr().Is4() {
			c[0]++
		} else {
			c[1]++
		}
	}
	return c
}

func (c Counts) plus(d Counts) Counts  { return Counts{c[0] + d[0], c[1] + d[1]} }
func (c Counts) minus(d Counts) Counts { return Counts{c[0] - d[0], c[1] - d[1]} }

// Admission is what a session admits from its peer, by the transit
// policy's import filters (render/bird_transit.go).
type Admission int

const (
	// PeerOwn: the peer site's own prefixes (a mesh; a hub from a spoke).
	PeerOwn Admission = iota
	// OtherSites: every other site's (a spoke, from a hub).
	OtherSites
	// HubAndSpokes: that hub's and every spoke's (a hub, from another).
	HubAndSpokes
)

// AdmissionOf is what the sessions of a gateway of a site (a hub when
// inHub) admit from a peer site (a hub when peerHub) under topology.
func AdmissionOf(topology string, inHub, peerHub bool) Admission {
	switch {
	case topology != HubAndSpoke || inHub && !peerHub:
		return PeerOwn
	case !inHub:
		return OtherSites
	default:
		return HubAndSpokes
	}
}

// Admitted is how many prefixes of each family the sessions of a gateway
// of site in to the gateways of site peer admit (AdmissionOf).
func (f *Fleet) Admitted(in, peer *Site, t Totals) Counts {
	switch AdmissionOf(f.Topology, in.Hub, peer.Hub) {
	case OtherSites:
		return t.All.minus(in.Counts())
	case HubAndSpokes:
		return peer.Counts().plus(t.Spokes)
	}
	return peer.Counts()
}

// Limit is the import limit of a session that admits n prefixes of a
// family: the operator's import_limit when written, else n plus the
// margin, and DefaultImportLimit at least.
func (b BGP) Limit(n int) int {
	if b.ImportLimit > 0 {
		return b.ImportLimit
	}
	return max(DefaultImportLimit, n+b.ImportMargin)
}
