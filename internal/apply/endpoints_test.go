package apply

import (
	"context"
	"errors"
	"net/netip"
	"strings"
	"sync"
	"testing"

	"github.com/sitevpn/sitevpn/internal/kernel"
	"github.com/sitevpn/sitevpn/internal/plan"
)

// fakeResolver answers from a table it may be told to change, and counts
// lookups.
type fakeResolver struct {
	mu      sync.Mutex
	answers map[string][]netip.Addr
	fail    map[string]error
	lookups int
}

func (r *fakeResolver) LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.lookups++
	if network != "ip" {
		return nil, errors.New("unexpected network " + network)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := r.fail[host]; err != nil {
		return nil, err
	}
	a, ok := r.answers[host]
	if !ok {
		return nil, errors.New("no such host")
	}
	return a, nil
}

func (r *fakeResolver) set(host string, addrs ...string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.answers[host] = nil
	for _, a := range addrs {
		r.answers[host] = append(r.answers[host], netip.MustParseAddr(a))
	}
}

// withName gives the peer of g's tunnel iface a DNS endpoint instead of
// its address, as plan does for `endpoint = "name"`.
func withName(g *plan.Gateway, iface, name string) {
	for i := range g.Tunnels {
		if g.Tunnels[i].Interface == iface {
			g.Tunnels[i].Peer.Endpoint = netip.AddrPort{}
			g.Tunnels[i].Peer.EndpointName = name
		}
	}
}

func peerEndpoint(t *testing.T, k *kernel.Tunnel) netip.AddrPort {
	t.Helper()
	if k == nil || len(k.Peers) != 1 {
		t.Fatalf("tunnel %+v: want one peer", k)
	}
	return k.Peers[0].Endpoint
}

// A DNS endpoint is resolved at apply and its address put on the peer; a
// refresh that finds the same address (even among others) changes
// nothing; a new address is changed in place on that peer alone; a name
// that stops resolving keeps its address and says so.
func TestDNSEndpoint(t *testing.T) {
	ctx := context.Background()
	g, tree := desired(t, false)
	withName(g, "wg3", "vpn.berlin.example.net:51821")
	e, sys := newEngine(t, t.TempDir())
	res := &fakeResolver{answers: map[string][]netip.Addr{}, fail: map[string]error{}}
	res.set("vpn.berlin.example.net", "2001:db8:2::1")
	e.Endpoints = NewEndpoints(res)
	if _, err := e.Apply(ctx, g, tree); err != nil {
		t.Fatal(err)
	}
	if got := peerEndpoint(t, sys.Tunnels["wg3"]); got != netip.MustParseAddrPort("[2001:db8:2::1]:51821") {
		t.Fatalf("wg3's endpoint after the first apply: %s", got)
	}
	for _, tu := range g.Tunnels {
		if tu.Interface == "wg3" && tu.Peer.Endpoint.IsValid() {
			t.Error("Resolve changed the plan it was given")
		}
	}
	lookups := res.lookups
	if rep, err := e.Apply(ctx, g, tree); err != nil || rep.Changed() {
		t.Fatalf("second apply: %v, %v", rep.Actions, err)
	}
	if res.lookups != lookups {
		t.Errorf("an apply looked a name up again (%d lookups, then %d): only Refresh should", lookups, res.lookups)
	}

	res.set("vpn.berlin.example.net", "2001:db8:9::9", "2001:db8:2::1")
	if e.Endpoints.Refresh(ctx, g) {
		t.Error("a refresh that still finds the address in force reported a change")
	}
	res.set("vpn.berlin.example.net", "2001:db8:9::9")
	if !e.Endpoints.Refresh(ctx, g) {
		t.Fatal("a refresh that finds a new address reported no change")
	}
	rep, err := e.Apply(ctx, g, tree)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Actions) != 1 || rep.Actions[0].Target != "wg3" {
		t.Fatalf("after the address changed, want one change to wg3's peer, got %v", rep.Actions)
	}
	if got := peerEndpoint(t, sys.Tunnels["wg3"]); got != netip.MustParseAddrPort("[2001:db8:9::9]:51821") {
		t.Fatalf("wg3's endpoint after the refresh: %s", got)
	}

	res.fail["vpn.berlin.example.net"] = errors.New("server misbehaving")
	if e.Endpoints.Refresh(ctx, g) {
		t.Error("a failed lookup reported a change")
	}
	p := e.Endpoints.Problems(g)
	if len(p) != 1 || !strings.Contains(p[0], "vpn.berlin.example.net:51821 does not resolve") || !strings.Contains(p[0], "keeping [2001:db8:9::9]:51821") {
		t.Errorf("problems: %q", p)
	}
	if rep, err := e.Apply(ctx, g, tree); err != nil || rep.Changed() {
		t.Fatalf("apply after a failed lookup: %v, %v", rep.Actions, err)
	}
}

// A peer with no endpoint (behind NAT) is created without one; the
// endpoint WireGuard learns from its packets is never overwritten with
// nothing by a later apply.
func TestNoEndpointKeepsLearned(t *testing.T) {
	ctx := context.Background()
	g, tree := desired(t, false)
	for i := range g.Tunnels {
		if g.Tunnels[i].Interface == "wg4" {
			g.Tunnels[i].Peer.Endpoint = netip.AddrPort{}
		}
	}
	e, sys := newEngine(t, t.TempDir())
	if _, err := e.Apply(ctx, g, tree); err != nil {
		t.Fatal(err)
	}
	if got := peerEndpoint(t, sys.Tunnels["wg4"]); got.IsValid() {
		t.Fatalf("wg4 created with endpoint %s, want none", got)
	}
	learned := netip.MustParseAddrPort("198.51.100.7:40123")
	sys.Tunnels["wg4"].Peers[0].Endpoint = learned // its first packet arrived
	if rep, err := e.Apply(ctx, g, tree); err != nil || rep.Changed() {
		t.Fatalf("apply after the peer roamed in: %v, %v", rep.Actions, err)
	}
	// Any other change to the peer (its keepalive here) keeps it too.
	for i := range g.Tunnels {
		if g.Tunnels[i].Interface == "wg4" {
			g.Tunnels[i].Peer.Keepalive = 25
		}
	}
	if _, err := e.Apply(ctx, g, tree); err != nil {
		t.Fatal(err)
	}
	if got := peerEndpoint(t, sys.Tunnels["wg4"]); got != learned {
		t.Errorf("wg4's learned endpoint after an apply: %s, want %s", got, learned)
	}
}
