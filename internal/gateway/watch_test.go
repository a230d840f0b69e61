package gateway

import (
	"context"
	"slices"
	"testing"

	"github.com/sitevpn/sitevpn/internal/testfleet"
)

// TestWatchedKernel: with WatchKernel, a link the kernel reports changed
// is signalled and ApplyChanged reads it alone, while Apply reads every
// tunnel; a new key (a new kernel) forgets what was settled.
func TestWatchedKernel(t *testing.T) {
	ctx := context.Background()
	gw, sys := fakeGateway(t)
	gw.WatchKernel()
	keys, err := testfleet.LabKeys()
	if err != nil {
		t.Fatal(err)
	}
	res := result(t, keys["v1-1"], same)
	for range 2 { // the second settles what the first created
		if _, err := gw.ApplyChanged(ctx, res); err != nil {
			t.Fatal(err)
		}
	}
	<-gw.KernelChanged() // the first apply's creations
	delete(sys.Tunnels, "wg5")
	sys.Watcher.Touched([]string{"wg5"})
	select {
	case <-gw.KernelChanged():
	default:
		t.Fatal("a link changed, and KernelChanged says nothing")
	}
	if _, err := gw.ApplyChanged(ctx, res); err != nil {
		t.Fatal(err)
	}
	if q := sys.Queries[len(sys.Queries)-1]; !q.Only || !slices.Equal(q.Tunnels, []string{"wg5"}) {
		t.Errorf("ApplyChanged read %v (only: %v), want wg5 alone", q.Tunnels, q.Only)
	}
	if _, ok := sys.Tunnels["wg5"]; !ok {
		t.Error("wg5 was not made again")
	}
	if _, err := gw.Apply(ctx, res); err != nil {
		t.Fatal(err)
	}
	if q := sys.Queries[len(sys.Queries)-1]; q.Only || len(q.Tunnels) != len(res.Plan.Tunnels) {
		t.Errorf("Apply read %v (only: %v), want every tunnel", q.Tunnels, q.Only)
	}
	other := result(t, keys["v1-2"], same)
	if _, err := gw.ApplyChanged(ctx, other); err != nil {
		t.Fatal(err)
	}
	if q := sys.Queries[len(sys.Queries)-1]; q.Only {
		t.Errorf("with a new key, ApplyChanged read %v alone, want every tunnel", q.Tunnels)
	}
}
