//go:build linux

package link

import (
	"context"
	"testing"

	"github.com/sitevpn/sitevpn/internal/kernel"
	"github.com/sitevpn/sitevpn/internal/plan"
)

// BenchmarkChange is the cost of one link action as apply runs it through
// Change, on a tunnel link in the private namespace among 100 others:
// what an apply of many small changes pays per change on top of the
// kernel's own work. On a kernel without WireGuard a veth stands in for
// the netlink actions and set-peer is skipped. Privileged tier.
func BenchmarkChange(b *testing.B) {
	for _, bc := range []struct {
		name      string
		wireGuard bool
		change    func(i int, t plan.Tunnel) kernel.Change
	}{
		// Alternating MTUs: each one is a real change.
		{"op=set-mtu", false, func(i int, t plan.Tunnel) kernel.Change {
			return kernel.Change{Op: kernel.SetMTU, Link: t.Interface, MTU: 1400 + 20*(i%2)}
		}},
		{"op=add-address", false, func(_ int, t plan.Tunnel) kernel.Change {
			return kernel.Change{Op: kernel.AddAddress, Link: t.Interface, Address: t.Local6}
		}},
		{"op=set-peer", true, func(i int, t plan.Tunnel) kernel.Change {
			p := t.Peer
			p.Keepalive = 20 + i%2
			return kernel.Change{Op: kernel.SetPeer, Link: t.Interface, Peer: &p}
		}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			privileged(b)
			k, _, priv := newKernel(b, mustPrivateKey(b), true)
			if !wireGuardIn(priv) {
				if bc.wireGuard {
					b.Skip("this kernel has no WireGuard")
				}
				standIn = "veth"
				b.Cleanup(func() { standIn = "" })
			}
			for remote := 2; remote < 102; remote++ {
				addTunnelLink(b, priv, plan.InterfaceName(remote))
			}
			t := tunnelFor(b, 2)
			ctx := context.Background()
			i := 0
			for b.Loop() {
				if err := k.Change(ctx, bc.change(i, t)); err != nil {
					b.Fatal(err)
				}
				i++
			}
		})
	}
}
