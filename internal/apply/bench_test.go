package apply

import (
	"context"
	"fmt"
	"testing"

	"github.com/sitevpn/sitevpn/internal/fakesys"
	"github.com/sitevpn/sitevpn/internal/load"
	"github.com/sitevpn/sitevpn/internal/plan"
	"github.com/sitevpn/sitevpn/internal/testfleet"
	"github.com/sitevpn/sitevpn/render"
)

// BenchmarkNoopApply: an apply on a gateway already in its state: read
// the files and the manifest, ask each unit's state, observe the links,
// diff, do nothing. The system is the fake one, so this is sitevpn's own
// cost; the lab measures the real one (D-Bus, netlink). Targets: under
// 5 ms at 1,000 tunnels (tunnels=4 is the example fleet's v1-1).
func BenchmarkNoopApply(b *testing.B) {
	b.Run("tunnels=4", func(b *testing.B) {
		g, tree := desired(b, false)
		e, sys := newEngine(b, b.TempDir())
		benchNoop(b, e, sys, g, tree)
	})
	b.Run("tunnels=1000", func(b *testing.B) {
		f, err := testfleet.Parse(load.Source{Name: "fleet.hcl", Bytes: testfleet.Generate(1002)})
		if err != nil {
			b.Fatal(err)
		}
		g := plan.For(f, f.Gateway("g1"))
		if len(g.Tunnels) != 1000 {
			b.Fatalf("%d tunnels, want 1000", len(g.Tunnels))
		}
		tree, err := render.Render(g)
		if err != nil {
			b.Fatal(err)
		}
		sys := fakesys.New(b.TempDir(), testfleet.KeyFor(1).PublicKey(), "eth1")
		e := &Engine{Root: sys.Root, Units: sys, Kernel: sys, Bird: sys, PublicKey: sys.Me}
		benchNoop(b, e, sys, g, tree)
	})
}

func benchNoop(b *testing.B, e *Engine, sys *fakesys.System, g *plan.Gateway, tree render.Tree) {
	if _, err := e.Apply(context.Background(), g, tree); err != nil {
		b.Fatal(err)
	}
	n := len(sys.Calls)
	b.ReportAllocs()
	for b.Loop() {
		rep, err := e.Apply(context.Background(), g, tree)
		if err != nil || rep.Changed() {
			b.Fatalf("not a no-op: %v %v", err, fmt.Sprint(rep.Actions))
		}
	}
	if len(sys.Calls) != n {
		b.Fatalf("a no-op apply called the system: %v", sys.Calls[n:])
	}
}
