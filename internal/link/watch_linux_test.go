//go:build linux

package link

import (
	"context"
	"fmt"
	"net"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"

	"github.com/sitevpn/sitevpn/internal/kernel"
)

// heard collects what a Watch reports.
type heard struct {
	mu      sync.Mutex
	touched []string
	all     int
}

func (h *heard) changes() kernel.Changes {
	return kernel.Changes{
		Touched: func(names []string) { h.mu.Lock(); h.touched = append(h.touched, names...); h.mu.Unlock() },
		All:     func() { h.mu.Lock(); h.all++; h.mu.Unlock() },
	}
}

// waitFor polls cond on what was heard until it holds, or fails after a
// deadline.
func (h *heard) waitFor(t *testing.T, what string, cond func(touched []string, all int) bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		h.mu.Lock()
		ok := cond(slices.Clone(h.touched), h.all)
		got, all := slices.Clone(h.touched), h.all
		h.mu.Unlock()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("waiting for %s: heard %q, All %d times", what, got, all)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestIntegrationWatch: links made, changed, given an address and
// deleted in the private namespace are reported by name, links of the
// main namespace are not (netns mode), and once the private namespace is
// made anew the watch follows it and says All.
func TestIntegrationWatch(t *testing.T) {
	privileged(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	k, main, priv := newKernel(t, mustPrivateKey(t), true)
	h := &heard{}
	k.Watch(ctx, h.changes())

	priv.addLink(t, "wg7")
	h.waitFor(t, "wg7 made", func(touched []string, _ int) bool { return slices.Contains(touched, "wg7") })
	main.addLink(t, "wg9")
	l, err := priv.h.LinkByName("wg7")
	if err != nil {
		t.Fatal(err)
	}
	if err := priv.h.AddrAdd(l, &netlink.Addr{IPNet: &net.IPNet{IP: net.ParseIP("2001:db8:ff::1"), Mask: net.CIDRMask(127, 128)}}); err != nil {
		t.Fatal(err)
	}
	h.mu.Lock()
	h.touched = nil
	h.mu.Unlock()
	if err := priv.h.LinkDel(l); err != nil {
		t.Fatal(err)
	}
	h.waitFor(t, "wg7 deleted", func(touched []string, _ int) bool { return slices.Contains(touched, "wg7") })
	h.mu.Lock()
	if slices.Contains(h.touched, "wg9") {
		t.Error("a link of the main namespace was reported in netns mode")
	}
	h.mu.Unlock()

	// The private namespace made anew: the kernel finds out at its next
	// call, the watch then follows.
	if err := netns.DeleteNamed(priv.name); err != nil {
		t.Fatal(err)
	}
	again := recreate(t, priv.name)
	observe(t, k, kernel.Query{Namespace: priv.name})
	h.waitFor(t, "All once the namespace was made anew", func(_ []string, all int) bool { return all == 1 })
	again.addLink(t, "wg8")
	h.waitFor(t, "wg8 made in the new namespace", func(touched []string, _ int) bool { return slices.Contains(touched, "wg8") })
}

// TestIntegrationWatchWaitsForNamespace: with no private namespace yet,
// the watch begins once the kernel opens it, and says All.
func TestIntegrationWatchWaitsForNamespace(t *testing.T) {
	privileged(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	k, _, priv := newKernel(t, mustPrivateKey(t), false)
	h := &heard{}
	k.Watch(ctx, h.changes())
	n := recreate(t, priv.name)
	observe(t, k, kernel.Query{Namespace: priv.name})
	h.waitFor(t, "All once the namespace exists", func(_ []string, all int) bool { return all == 1 })
	n.addLink(t, "wg3")
	h.waitFor(t, "wg3 made", func(touched []string, _ int) bool { return slices.Contains(touched, "wg3") })
}

// TestIntegrationObserveOnly: with Only, Observe reports the queried
// tunnels alone, not the other wg<N> links of the private namespace it
// would report as stale (veth links stand in for WireGuard here).
func TestIntegrationObserveOnly(t *testing.T) {
	privileged(t)
	standIn = "veth"
	t.Cleanup(func() { standIn = "" })
	k, _, priv := newKernel(t, mustPrivateKey(t), true)
	priv.addLink(t, "wg3")
	priv.addLink(t, "wg4")
	st := observe(t, k, kernel.Query{Namespace: priv.name, Tunnels: []string{"wg3"}})
	if _, ok := st.Tunnels["wg4"]; !ok {
		t.Errorf("without Only, wg4 (stale) is not reported: %v", st.Tunnels)
	}
	st = observe(t, k, kernel.Query{Namespace: priv.name, Tunnels: []string{"wg3", "wg5"}, Only: true})
	if _, ok := st.Tunnels["wg3"]; !ok || len(st.Tunnels) != 1 {
		t.Errorf("with Only: %v, want wg3 alone", st.Tunnels)
	}
	// More names than fewNames: read from one dump, with the same answer.
	many := []string{"wg3"}
	for id := 100; len(many) <= fewNames; id++ {
		many = append(many, fmt.Sprintf("wg%d", id))
	}
	st = observe(t, k, kernel.Query{Namespace: priv.name, Tunnels: many, Only: true})
	if _, ok := st.Tunnels["wg3"]; !ok || len(st.Tunnels) != 1 {
		t.Errorf("with Only and %d names: %v, want wg3 alone", len(many), st.Tunnels)
	}
}

// TestIntegrationWatchSeesNamespaceReplaced: the private namespace deleted
// and made anew with no call to the kernel meanwhile (its unit restarted)
// is found by the watch itself, which says All and follows the new one.
func TestIntegrationWatchSeesNamespaceReplaced(t *testing.T) {
	privileged(t)
	namespaceCheck, watchRetry = 50*time.Millisecond, 50*time.Millisecond
	t.Cleanup(func() { namespaceCheck, watchRetry = 5*time.Second, 5*time.Second })
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	k, _, priv := newKernel(t, mustPrivateKey(t), true)
	h := &heard{}
	k.Watch(ctx, h.changes())
	if err := netns.DeleteNamed(priv.name); err != nil {
		t.Fatal(err)
	}
	again := recreate(t, priv.name)
	h.waitFor(t, "All once the namespace was made anew", func(_ []string, all int) bool { return all >= 1 })
	again.addLink(t, "wg6")
	h.waitFor(t, "wg6 made in the new namespace", func(touched []string, _ int) bool { return slices.Contains(touched, "wg6") })
}
