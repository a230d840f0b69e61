package verify

import (
	"testing"

	"github.com/sitevpn/sitevpn/internal/fleet"
	"github.com/sitevpn/sitevpn/internal/testfleet"
)

// A mesh of 500 two-gateway sites has no finding; a hub-and-spoke fleet
// of 1,101 one-gateway sites (two hubs) has one per gateway (it cuts its
// site off) and one for the tunnel between the hubs (spokes do not carry
// the hubs' traffic), while a hub-to-spoke tunnel cuts nothing (the other
// hub passes both ways on): listed up to the bound, all counted, the
// whole fleet followed.
func TestAtScale(t *testing.T) {
	for _, c := range []struct {
		name     string
		src      []byte
		findings int
	}{
		{"mesh of 1,000 gateways", testfleet.Generate(1000), 0},
		{"hub-and-spoke of 1,101 sites", testfleet.GenerateHubAndSpoke(1101, 2), 1101 + 1},
	} {
		t.Run(c.name, func(t *testing.T) {
			f, _ := parse(t, c.src)
			rep := Fleet(f)
			if rep.Incomplete || len(rep.Findings)+rep.Omitted != c.findings || len(rep.Findings) > maxFindings {
				t.Fatalf("%d findings listed, %d omitted, incomplete %v; want %d in all, at most %d listed", len(rep.Findings), rep.Omitted, rep.Incomplete, c.findings, maxFindings)
			}
			for _, fd := range rep.Findings {
				if fd.Failure.Kind == "tunnel" && (fd.PairCount != 1 || fd.Pairs[0] != [2]string{"s0", "s1"}) {
					t.Errorf("%s, want the pair of hubs only", fd.text())
				}
			}
		})
	}
}

// BenchmarkVerify: every single failure of the fleets TestAtScale checks.
func BenchmarkVerify(b *testing.B) {
	for _, c := range []struct {
		name string
		src  []byte
	}{
		{"mesh/gateways=1000", testfleet.Generate(1000)},
		{"hub-and-spoke/sites=1101", testfleet.GenerateHubAndSpoke(1101, 2)},
	} {
		f, err := testfleet.Parse(sourceOf(c.src))
		if err != nil {
			b.Fatal(err)
		}
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				Fleet(f)
			}
		})
	}
}

// A policy that lets a mesh site re-export what it learns is caught: the
// transit check reads the paths, not the topology's name.
func TestTransitCheckReadsThePaths(t *testing.T) {
	f, _ := parse(t, source(t, testfleet.ExampleSource))
	for _, c := range []struct {
		name    string
		leaky   string // the site that re-exports
		finding string
	}{
		{"derived", "", ""},
		{"berlin re-exports", "berlin", `site "berlin" carries the traffic between "tokyo" and "paris", but the mesh topology gives it no transit`},
	} {
		t.Run(c.name, func(t *testing.T) {
			p := derived(f.Topology)
			if c.leaky != "" {
				exports := p.exports
				p.exports = func(x, y, origin *fleet.Site) bool { return exports(x, y, origin) || x.Name == c.leaky }
				p.imports = func(y, x, origin *fleet.Site) bool { return origin != y }
				p.reexports = func(x *fleet.Site) bool { return x.Name == c.leaky }
			}
			m := newModel(f, p)
			v := &verifier{m: m, rep: &Report{}}
			site := func(name string) int {
				for _, s := range m.sites {
					if s.f.Name == name {
						return s.idx
					}
				}
				t.Fatalf("no site %q", name)
				return -1
			}
			// Every tunnel between paris and tokyo down: their traffic
			// can only cross berlin, if berlin passes it on.
			paris := m.sites[site("paris")].classes[0]
			r := m.propagate(paris, outage{dead: -1, a: site("paris"), b: site("tokyo")}, nil)
			v.checkTransit(paris, r)
			got := ""
			for _, fd := range v.rep.Findings {
				got += fd.Message
			}
			if got != c.finding {
				t.Errorf("transit finding %q, want %q", got, c.finding)
			}
			if reached := r[site("tokyo")] >= 0; reached != (c.leaky != "") {
				t.Errorf("tokyo reaches paris: %v, want %v", reached, c.leaky != "")
			}
		})
	}
}
