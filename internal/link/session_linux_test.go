//go:build linux

package link

import (
	"context"
	"net/netip"
	"testing"
	"time"

	"github.com/vishvananda/netlink"
	"golang.zx2c4.com/wireguard/wgctrl/wgtypes"

	"github.com/sitevpn/sitevpn/internal/plan"
)

// Two gateways, each with its main and private namespace, their main
// namespaces wired by a veth ("the internet"): a real handshake, then
// every in-place change apply makes on a live tunnel. The session must
// survive all of them: same handshake, counters still growing. With
// ReplacePeers the peer would be re-created (handshake and counters
// reset).
func TestIntegrationPeerUpdateKeepsSession(t *testing.T) {
	privileged(t)
	requireWireGuard(t)
	ctx := context.Background()
	keyA, keyB := mustPrivateKey(t), mustPrivateKey(t)
	ka, mainA, privA := newKernel(t, keyA, true)
	kb, mainB, _ := newKernel(t, keyB, true)

	attrs := netlink.NewLinkAttrs()
	attrs.Name = "pubA"
	if err := mainA.h.LinkAdd(&netlink.Veth{LinkAttrs: attrs, PeerName: "pubB", PeerNamespace: netlink.NsFd(int(mainB.ns))}); err != nil {
		t.Fatal(err)
	}
	for _, side := range []struct {
		n    *testNS
		name string
		addr string
	}{{mainA, "pubA", "10.99.0.1/24"}, {mainB, "pubB", "10.99.0.2/24"}} {
		l := mustLink(t, side.n, side.name)
		if err := side.n.h.AddrAdd(l, nlAddr(netip.MustParsePrefix(side.addr), false)); err != nil {
			t.Fatal(err)
		}
		if err := side.n.h.LinkSetUp(l); err != nil {
			t.Fatal(err)
		}
	}

	tunA := plan.Tunnel{
		Interface: "wg2", ListenPort: 5802, MTU: 1420,
		Peer:   plan.Peer{Gateway: "b", ID: 2, PublicKey: keyB.PublicKey().String(), Endpoint: netip.MustParseAddrPort("10.99.0.2:5801"), Keepalive: 1},
		Local6: netip.MustParsePrefix("2001:db8:ff::/127"), Local4: netip.MustParsePrefix("169.254.0.0/31"),
	}
	tunB := plan.Tunnel{
		Interface: "wg1", ListenPort: 5801, MTU: 1420,
		Peer:   plan.Peer{Gateway: "a", ID: 1, PublicKey: keyA.PublicKey().String(), Endpoint: netip.MustParseAddrPort("10.99.0.1:5802"), Keepalive: 1},
		Local6: netip.MustParsePrefix("2001:db8:ff::1/127"), Local4: netip.MustParsePrefix("169.254.0.1/31"),
	}
	if err := ka.CreateTunnel(ctx, tunA); err != nil {
		t.Fatal(err)
	}
	if err := kb.CreateTunnel(ctx, tunB); err != nil {
		t.Fatal(err)
	}

	peerB := func() wgtypes.Peer {
		for _, p := range device(t, privA, "wg2").Peers {
			if p.PublicKey == keyB.PublicKey() {
				return p
			}
		}
		t.Fatal("peer B is gone")
		return wgtypes.Peer{}
	}
	deadline := time.Now().Add(15 * time.Second)
	for peerB().LastHandshakeTime.IsZero() {
		if time.Now().After(deadline) {
			t.Fatal("no handshake between the two gateways in 15 s")
		}
		time.Sleep(200 * time.Millisecond)
	}
	before := peerB()

	other := tunnelFor(t, 3).Peer
	changed := tunA.Peer
	changed.Keepalive = 2
	for _, step := range []struct {
		what string
		err  error
	}{
		{"add another peer", ka.SetPeer(ctx, "wg2", other)},
		{"update the peer", ka.SetPeer(ctx, "wg2", changed)},
		{"remove the other peer", ka.RemovePeer(ctx, "wg2", mustPublic(t, other.PublicKey))},
		{"configure the device", ka.ConfigureDevice(ctx, "wg2", 5802)},
		{"set the MTU", ka.SetMTU(ctx, "wg2", 1400)},
		{"add an address again", ka.AddAddress(ctx, "wg2", tunA.Local6)},
	} {
		if step.err != nil {
			t.Fatalf("%s: %v", step.what, step.err)
		}
	}
	time.Sleep(3 * time.Second) // a few keepalives from B
	after := peerB()
	if !after.LastHandshakeTime.Equal(before.LastHandshakeTime) {
		t.Errorf("handshake %v -> %v: the session was reset", before.LastHandshakeTime, after.LastHandshakeTime)
	}
	if after.ReceiveBytes <= before.ReceiveBytes {
		t.Errorf("received %d -> %d bytes: counters reset or the tunnel stopped", before.ReceiveBytes, after.ReceiveBytes)
	}
	if after.PersistentKeepaliveInterval != 2*time.Second {
		t.Errorf("keepalive %v, want 2s", after.PersistentKeepaliveInterval)
	}
}

func mustPublic(t *testing.T, s string) wgtypes.Key {
	t.Helper()
	k, err := wgtypes.ParseKey(s)
	if err != nil {
		t.Fatal(err)
	}
	return k
}
