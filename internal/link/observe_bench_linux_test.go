//go:build linux

package link

import (
	"context"
	"fmt"
	"net/netip"
	"testing"

	"github.com/vishvananda/netlink"

	"github.com/sitevpn/sitevpn/internal/kernel"
	"github.com/sitevpn/sitevpn/internal/plan"
)

// BenchmarkObserve reads a private namespace of n tunnel links, each with
// its tunnel's two transit addresses, as apply does at every repair. On a
// kernel without WireGuard, veth links stand in (their device half is not
// read). Targets: 1,000 links under 100 ms, at most 15x the 100-link
// figure (linear: one dump per namespace and kind). Privileged tier.
func BenchmarkObserve(b *testing.B) {
	for _, n := range []int{100, 1000} {
		b.Run(fmt.Sprintf("links=%d", n), func(b *testing.B) { benchObserve(b, n) })
	}
}

func benchObserve(b *testing.B, n int) {
	privileged(b)
	k, _, priv := newKernel(b, mustPrivateKey(b), true)
	if !wireGuardIn(priv) {
		standIn = "veth"
		b.Cleanup(func() { standIn = "" })
	}
	q := kernel.Query{Namespace: priv.name}
	for remote := 2; remote < n+2; remote++ {
		name := plan.InterfaceName(remote)
		l := addTunnelLink(b, priv, name)
		k6, k4 := transit(remote)
		for _, p := range []netip.Prefix{k6, k4} {
			if err := priv.h.AddrAdd(l, nlAddr(p, true)); err != nil {
				b.Fatal(err)
			}
		}
		q.Tunnels = append(q.Tunnels, name)
	}
	ctx := context.Background()
	for b.Loop() {
		st, err := k.Observe(ctx, q)
		if err != nil {
			b.Fatal(err)
		}
		if len(st.Tunnels) != n || len(st.Tunnels[q.Tunnels[0]].Addresses) != 2 {
			b.Fatalf("observed %d tunnels (%+v), want %d with two addresses", len(st.Tunnels), st.Tunnels[q.Tunnels[0]], n)
		}
	}
}

// transit is the pair (1, remote)'s addresses, as plan derives them.
func transit(remote int) (netip.Prefix, netip.Prefix) {
	t := plan.PairIndex(1, remote)
	a6 := netip.MustParseAddr("2001:db8:ff::").As16()
	a6[14], a6[15] = byte(t>>7), byte(t<<1)
	a4 := netip.AddrFrom4([4]byte{169, 254, byte(t >> 7), byte(t << 1)})
	return netip.PrefixFrom(netip.AddrFrom16(a6), 127), netip.PrefixFrom(a4, 31)
}

// wireGuardIn reports whether n's kernel makes wireguard links.
func wireGuardIn(n *testNS) bool {
	attrs := netlink.NewLinkAttrs()
	attrs.Name = "wgprobe"
	if err := n.h.LinkAdd(&netlink.Wireguard{LinkAttrs: attrs}); err != nil {
		return false
	}
	l, _ := n.h.LinkByName("wgprobe")
	_ = n.h.LinkDel(l)
	return true
}

// addTunnelLink adds a WireGuard link named name, or its stand-in.
func addTunnelLink(tb testing.TB, n *testNS, name string) netlink.Link {
	tb.Helper()
	if standIn == "" {
		attrs := netlink.NewLinkAttrs()
		attrs.Name = name
		if err := n.h.LinkAdd(&netlink.Wireguard{LinkAttrs: attrs}); err != nil {
			tb.Fatal(err)
		}
		l, err := n.h.LinkByName(name)
		if err != nil {
			tb.Fatal(err)
		}
		return l
	}
	return n.addLink(tb, name)
}
