package apply

import (
	"context"
	"slices"
	"testing"

	"github.com/sitevpn/sitevpn/internal/fakesys"
	"github.com/sitevpn/sitevpn/internal/kernel"
	"github.com/sitevpn/sitevpn/internal/plan"
	"github.com/sitevpn/sitevpn/render"
)

// settledEngine is newEngine with a Settled kept true by the fake
// kernel's events, as package gateway keeps it with the real ones.
func settledEngine(t *testing.T) (*Engine, *fakesys.System) {
	t.Helper()
	e, sys := newEngine(t, t.TempDir())
	e.Settled = NewSettled()
	sys.Watch(context.Background(), kernel.Changes{
		Touched: func(names []string) { e.Settled.Touched(names...) },
		All:     e.Settled.Forget,
	})
	return e, sys
}

// settle applies g twice: the second settles the tunnels the first
// created (their events came after it began).
func settle(t *testing.T, e *Engine, g *plan.Gateway, tree render.Tree) {
	t.Helper()
	for range 2 {
		if _, err := e.Apply(context.Background(), g, tree); err != nil {
			t.Fatal(err)
		}
	}
}

func lastQuery(sys *fakesys.System) kernel.Query { return sys.Queries[len(sys.Queries)-1] }

// TestEditReadsOnlyWhatChanged: once an apply settled the kernel, adding
// a site reads the new tunnels alone, and an apply that changes nothing
// reads none but those its own creations touched, then none at all.
func TestEditReadsOnlyWhatChanged(t *testing.T) {
	ctx := context.Background()
	g, tree := desired(t, false)
	e, sys := settledEngine(t)
	e.Full = true
	if _, err := e.Apply(ctx, g, tree); err != nil {
		t.Fatal(err)
	}
	if q := lastQuery(sys); q.Only || len(q.Tunnels) != len(g.Tunnels) {
		t.Fatalf("the first apply read %v (only: %v), want every tunnel", q.Tunnels, q.Only)
	}
	// The first apply created every tunnel: their events came after it
	// began, so none is settled yet. The next reads them and settles.
	e.Full = false
	if _, err := e.Apply(ctx, g, tree); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Apply(ctx, g, tree); err != nil {
		t.Fatal(err)
	}
	if q := lastQuery(sys); !q.Only || len(q.Tunnels) != 0 || !slices.Equal(q.LANs, []string{"eth1", "eth2"}) {
		t.Errorf("a settled apply read tunnels %v, LANs %v (only: %v); want no tunnel, every LAN", q.Tunnels, q.LANs, q.Only)
	}
	g4, tree4 := desired(t, true)
	n := len(sys.Calls)
	if _, err := e.Apply(ctx, g4, tree4); err != nil {
		t.Fatal(err)
	}
	if q := lastQuery(sys); !q.Only || !slices.Equal(q.Tunnels, []string{"wg7", "wg8"}) {
		t.Errorf("adding a site read %v (only: %v), want its two tunnels alone", q.Tunnels, q.Only)
	}
	want := []string{"create-tunnel wg7", "create-tunnel wg8", "bird configure /etc/bird/sitevpn-private.conf"}
	if got := sys.Calls[n:]; !slices.Equal(got, want) {
		t.Errorf("calls when a site is added:\n got %q\nwant %q", got, want)
	}
	// Removed: its tunnels are read to be deleted, nothing else.
	if _, err := e.Apply(ctx, g, tree); err != nil {
		t.Fatal(err)
	}
	if q := lastQuery(sys); !slices.Equal(q.Tunnels, []string{"wg7", "wg8"}) {
		t.Errorf("removing the site read %v, want its two tunnels alone", q.Tunnels)
	}
	if _, ok := sys.Tunnels["wg7"]; ok {
		t.Error("wg7 was not deleted")
	}
	converged(t, e, sys, g, tree)
}

// TestTouchedTunnelIsRepaired: a tunnel deleted by hand, which the kernel
// reports, is read and made again by the next apply; one changed without
// an event (a peer's endpoint: WireGuard sends none) waits for the full
// repair, which reads everything.
func TestTouchedTunnelIsRepaired(t *testing.T) {
	ctx := context.Background()
	g, tree := desired(t, false)
	e, sys := settledEngine(t)
	settle(t, e, g, tree)
	clean := sys.State()
	delete(sys.Tunnels, "wg3")
	sys.Watcher.Touched([]string{"wg3"})
	sys.Tunnels["wg4"].Peers[0].Endpoint = sys.Tunnels["wg5"].Peers[0].Endpoint
	n := len(sys.Calls)
	if _, err := e.Apply(ctx, g, tree); err != nil {
		t.Fatal(err)
	}
	if got, want := sys.Calls[n:], []string{"create-tunnel wg3"}; !slices.Equal(got, want) {
		t.Errorf("after an event:\n got %q\nwant %q", got, want)
	}
	e.Full = true
	n = len(sys.Calls)
	if _, err := e.Apply(ctx, g, tree); err != nil {
		t.Fatal(err)
	}
	if got, want := sys.Calls[n:], []string{"set-peer wg4 v2-2"}; !slices.Equal(got, want) {
		t.Errorf("the full repair:\n got %q\nwant %q", got, want)
	}
	if sys.State() != clean {
		t.Errorf("state after the repairs:\n%s\nwant:\n%s", sys.State(), clean)
	}
}

// TestStaleLinkByHandIsDeleted: a wg<N> link made by hand in the private
// namespace, reported by its event, is read and deleted though no plan
// names it.
func TestStaleLinkByHandIsDeleted(t *testing.T) {
	ctx := context.Background()
	g, tree := desired(t, false)
	e, sys := settledEngine(t)
	settle(t, e, g, tree)
	sys.Tunnels["wg99"] = &kernel.Tunnel{MTU: 1420}
	sys.Watcher.Touched([]string{"wg99"})
	if _, err := e.Apply(ctx, g, tree); err != nil {
		t.Fatal(err)
	}
	if _, ok := sys.Tunnels["wg99"]; ok {
		t.Errorf("wg99, made by hand and reported, is still there; calls %q", sys.Calls)
	}
}

// TestForgetReadsEverything: after Forget (events lost, a new namespace)
// the next apply reads every tunnel.
func TestForgetReadsEverything(t *testing.T) {
	ctx := context.Background()
	g, tree := desired(t, false)
	e, sys := settledEngine(t)
	settle(t, e, g, tree)
	if e.Settled.Known() != len(g.Tunnels) {
		t.Fatalf("%d tunnels settled, want %d", e.Settled.Known(), len(g.Tunnels))
	}
	e.Settled.Forget()
	if _, err := e.Apply(ctx, g, tree); err != nil {
		t.Fatal(err)
	}
	if q := lastQuery(sys); q.Only || len(q.Tunnels) != len(g.Tunnels) {
		t.Errorf("after Forget the apply read %v (only: %v), want every tunnel", q.Tunnels, q.Only)
	}
}

// TestTouchedDuringApplyIsNotSettled: a link the kernel reports changed
// while an apply runs (after it read the kernel) is read again next time.
func TestTouchedDuringApplyIsNotSettled(t *testing.T) {
	g, _ := desired(t, false)
	s := NewSettled()
	_, _, r := s.narrow(g, QueryFor(g, nil), true)
	s.Touched("wg3")
	r.settle(g)
	_, q, _ := s.narrow(g, QueryFor(g, nil), false)
	if !slices.Equal(q.Tunnels, []string{"wg3"}) {
		t.Errorf("read %v, want wg3 alone", q.Tunnels)
	}
}

// TestTouchedLANIsNoTunnel: a LAN, or any link not named as a tunnel, that
// the kernel reports changed is not queried as a tunnel (Linux refuses a
// query for a tunnel with a LAN's name).
func TestTouchedLANIsNoTunnel(t *testing.T) {
	g, tree := desired(t, false)
	e, sys := settledEngine(t)
	settle(t, e, g, tree)
	sys.Watcher.Touched([]string{"eth1", "lo", "wg3"})
	if _, err := e.Apply(context.Background(), g, tree); err != nil {
		t.Fatal(err)
	}
	if q := lastQuery(sys); !slices.Equal(q.Tunnels, []string{"wg3"}) {
		t.Errorf("read %v, want wg3 alone", q.Tunnels)
	}
}
