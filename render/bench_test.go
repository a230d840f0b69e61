package render_test

import (
	"fmt"
	"testing"

	"github.com/sitevpn/sitevpn/internal/load"
	"github.com/sitevpn/sitevpn/internal/plan"
	"github.com/sitevpn/sitevpn/internal/testfleet"
	"github.com/sitevpn/sitevpn/render"
)

var sizes = []int{10, 100, 1000}

// BenchmarkPlanRender: plan and render one gateway of generated fleets (two
// gateways per site, full mesh between sites: n-2 tunnels and BGP sessions).
// Target: the 1,000-gateway fleet under 100 ms and 50 MB allocated per op.
// bench/run prints the ratios between sizes (linear growth: about 10x).
func BenchmarkPlanRender(b *testing.B) {
	for _, n := range sizes {
		f, err := testfleet.Parse(load.Source{Name: "gen.hcl", Bytes: testfleet.Generate(n)})
		if err != nil {
			b.Fatal(err)
		}
		me := f.Gateway("g1")
		b.Run(fmt.Sprintf("gateways=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := render.Render(plan.For(f, me)); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkLoadValidate: parse and validate the same fleets, the stages
// before plan that `sitevpn render` also runs, and the 1,101-site
// hub-and-spoke fleet whose import limits validate derives per session.
func BenchmarkLoadValidate(b *testing.B) {
	for _, n := range sizes {
		b.Run(fmt.Sprintf("gateways=%d", n), func(b *testing.B) { loadValidate(b, testfleet.Generate(n)) })
	}
	b.Run("hub-and-spoke/sites=1101", func(b *testing.B) { loadValidate(b, testfleet.GenerateHubAndSpoke(1101, 2)) })
}

func loadValidate(b *testing.B, src []byte) {
	b.ReportAllocs()
	b.SetBytes(int64(len(src)))
	for b.Loop() {
		if _, err := testfleet.Parse(load.Source{Name: "gen.hcl", Bytes: src}); err != nil {
			b.Fatal(err)
		}
	}
}
