//go:build linux

package link

import (
	"context"
	"errors"
	"io/fs"
	"net"
	"net/netip"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
	"golang.zx2c4.com/wireguard/wgctrl/wgtypes"

	"github.com/sitevpn/sitevpn/internal/kernel"
)

// What needs no WireGuard: tunnel operations around links that are
// missing or not WireGuard, and the all-or-nothing create.
func TestIntegrationTunnelLinks(t *testing.T) {
	privileged(t)
	ctx := context.Background()

	t.Run("no namespace", func(t *testing.T) {
		k, main, priv := newKernel(t, mustPrivateKey(t), false)
		st, err := k.Observe(ctx, kernel.Query{Namespace: priv.name, Tunnels: []string{"wg2"}, LANs: []string{"lan0"}})
		if err != nil {
			t.Fatal(err)
		}
		want := kernel.State{Tunnels: map[string]kernel.Tunnel{}, LANs: map[string]kernel.LAN{"lan0": {}}}
		if !reflect.DeepEqual(st, want) {
			t.Errorf("Observe = %+v, want %+v", st, want)
		}
		if err := k.DeleteTunnel(ctx, "wg2", false); err != nil {
			t.Errorf("DeleteTunnel without namespace: %v", err)
		}
		if err := k.CreateTunnel(ctx, tunnelFor(t, 2)); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("CreateTunnel without namespace: %v, want ErrNotExist", err)
		}
		if main.has(t, "wg2") {
			t.Error("a refused CreateTunnel left wg2 in the main namespace")
		}
		if _, err := k.Observe(ctx, kernel.Query{Namespace: "other"}); err == nil {
			t.Error("Observe of another namespace: no error")
		}
	})

	t.Run("foreign links", func(t *testing.T) {
		k, main, priv := newKernel(t, mustPrivateKey(t), true)
		priv.addLink(t, "wg3")
		main.addLink(t, "wg4")
		priv.addLink(t, "wg9")
		for _, name := range []string{"wg3", "wg4"} {
			_, err := k.Observe(ctx, kernel.Query{Tunnels: []string{name}})
			if err == nil || !strings.Contains(err.Error(), "a veth link has the name of a tunnel") {
				t.Errorf("Observe(%s, a veth): %v", name, err)
			}
		}
		if err := k.DeleteTunnel(ctx, "wg3", false); err == nil || !priv.has(t, "wg3") {
			t.Errorf("DeleteTunnel(veth wg3): %v; still there: %v", err, priv.has(t, "wg3"))
		}
		if err := k.DeleteTunnel(ctx, "wg4", true); err == nil || !main.has(t, "wg4") {
			t.Errorf("DeleteTunnel(veth wg4 in main): %v", err)
		}
		if err := k.CreateTunnel(ctx, tunnelFor(t, 4)); err == nil || !main.has(t, "wg4") {
			t.Errorf("CreateTunnel over a veth wg4 in main: %v", err)
		}
		if err := k.CreateTunnel(ctx, tunnelFor(t, 3)); err == nil {
			t.Errorf("CreateTunnel of a name taken in the namespace: no error")
		}
		// wg9 is not WireGuard: not a stale tunnel, never deleted.
		st, err := k.Observe(ctx, kernel.Query{Tunnels: []string{"wg2"}})
		if err != nil {
			t.Fatal(err)
		}
		if len(st.Tunnels) != 0 {
			t.Errorf("Tunnels = %+v, want none", st.Tunnels)
		}
		for _, inMain := range []bool{false, true} {
			if err := k.DeleteTunnel(ctx, "wg5", inMain); err != nil {
				t.Errorf("DeleteTunnel(missing, inMain %v): %v", inMain, err)
			}
		}
		// On a kernel without WireGuard the create fails at the first
		// step; with it, it succeeds. Either way, nothing half-made.
		err = k.CreateTunnel(ctx, tunnelFor(t, 2))
		if err != nil && (main.has(t, "wg2") || priv.has(t, "wg2")) {
			t.Errorf("CreateTunnel failed (%v) and left wg2 behind", err)
		}
		if err == nil && (main.has(t, "wg2") || !priv.has(t, "wg2")) {
			t.Error("CreateTunnel succeeded but wg2 is not (only) in the namespace")
		}
	})
}

// device reads a WireGuard device the way Observe does, with all its
// counters.
func device(t *testing.T, n *testNS, name string) *wgtypes.Device {
	t.Helper()
	var d *wgtypes.Device
	s := &space{name: n.name, ns: n.ns}
	defer s.dropHandles() // the client withWG may keep; n.ns is n's to close
	err := withWG(s, func(c *wgCall) error {
		var err error
		d, err = c.device(name)
		return err
	})
	if err != nil {
		t.Fatalf("reading %s in %s: %v", name, n.name, err)
	}
	return d
}

// portFree reports whether UDP port can be bound in ns.
func portFree(t *testing.T, n *testNS, port int) bool {
	t.Helper()
	var free bool
	err := inNamespace(n.ns, func() error {
		c, err := net.ListenUDP("udp", &net.UDPAddr{Port: port})
		if err == nil {
			free = true
			return c.Close()
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return free
}

func TestIntegrationCreateTunnel(t *testing.T) {
	privileged(t)
	requireWireGuard(t)
	ctx := context.Background()
	key := mustPrivateKey(t)
	k, main, priv := newKernel(t, key, true)
	tun := tunnelFor(t, 2)
	// Every link event of the main namespace during the create.
	updates := make(chan netlink.LinkUpdate, 64)
	done := make(chan struct{})
	defer close(done)
	if err := netlink.LinkSubscribeWithOptions(updates, done, netlink.LinkSubscribeOptions{Namespace: &main.ns}); err != nil {
		t.Fatal(err)
	}
	if err := k.CreateTunnel(ctx, tun); err != nil {
		t.Fatal(err)
	}
	if main.has(t, "wg2") || !priv.has(t, "wg2") {
		t.Fatal("wg2 is not (only) in the private namespace")
	}
	// The link never showed up in the main namespace, not even for a
	// moment: networkd and udev there never see a tunnel. A marker link
	// added after the create flushes the events before it.
	main.addLink(t, "mark0")
	deadline := time.After(10 * time.Second)
	for marked := false; !marked; {
		select {
		case u := <-updates:
			switch u.Attrs().Name {
			case "wg2":
				t.Errorf("the main namespace had an event for wg2 (message type %d)", u.Header.Type)
			case "mark0":
				marked = true
			}
		case <-deadline:
			t.Fatal("no event for the marker link within 10 s")
		}
	}
	// The design's point: the UDP socket stayed in the main namespace.
	if portFree(t, main, tun.ListenPort) {
		t.Errorf("port %d is free in the main namespace: the socket is not there", tun.ListenPort)
	}
	if !portFree(t, priv, tun.ListenPort) {
		t.Errorf("port %d is taken in the private namespace", tun.ListenPort)
	}

	q := kernel.Query{Namespace: priv.name, Tunnels: []string{"wg2"}}
	st, err := k.Observe(ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	peerKey, _ := wgtypes.ParseKey(tun.Peer.PublicKey)
	want := kernel.Tunnel{
		MTU: 1420, Up: true, Addresses: []netip.Prefix{tun.Local4, tun.Local6},
		ListenPort: 5802, PublicKey: key.PublicKey(),
		Peers: []kernel.Peer{{PublicKey: peerKey, Endpoint: tun.Peer.Endpoint, AllowedIPs: kernel.AllowedIPs, Keepalive: 25}},
	}
	if got := st.Tunnels["wg2"]; !reflect.DeepEqual(got, want) {
		t.Errorf("Observe(wg2) =\n%+v\nwant\n%+v", got, want)
	}
	// Transit addresses are added without duplicate address detection.
	as, err := priv.h.AddrList(mustLink(t, priv, "wg2"), netlink.FAMILY_V6)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range as {
		if a.Scope == unix.RT_SCOPE_UNIVERSE && a.Flags&unix.IFA_F_NODAD == 0 {
			t.Errorf("%v has no nodad flag", a)
		}
	}

	// A second peer, then an in-place update of the first: both stay.
	other := tunnelFor(t, 3).Peer
	if err := k.SetPeer(ctx, "wg2", other); err != nil {
		t.Fatal(err)
	}
	upd := tun.Peer
	upd.Endpoint = netip.MustParseAddrPort("192.0.2.7:5901")
	upd.Keepalive = 0
	if err := k.SetPeer(ctx, "wg2", upd); err != nil {
		t.Fatal(err)
	}
	st, _ = k.Observe(ctx, q)
	peers := map[wgtypes.Key]kernel.Peer{}
	for _, p := range st.Tunnels["wg2"].Peers {
		peers[p.PublicKey] = p
	}
	otherKey, _ := wgtypes.ParseKey(other.PublicKey)
	if len(peers) != 2 || peers[otherKey].Keepalive != 25 {
		t.Errorf("after SetPeer: %+v, want the updated peer and the other one", st.Tunnels["wg2"].Peers)
	}
	if got := peers[peerKey]; got.Endpoint != upd.Endpoint || got.Keepalive != 0 || !reflect.DeepEqual(got.AllowedIPs, kernel.AllowedIPs) {
		t.Errorf("updated peer = %+v", got)
	}

	for range 2 { // removing an absent peer is not an error
		if err := k.RemovePeer(ctx, "wg2", otherKey); err != nil {
			t.Fatal(err)
		}
	}
	if err := k.ConfigureDevice(ctx, "wg2", 5902); err != nil {
		t.Fatal(err)
	}
	st, _ = k.Observe(ctx, q)
	got := st.Tunnels["wg2"]
	if got.ListenPort != 5902 || got.PublicKey != key.PublicKey() || len(got.Peers) != 1 || got.Peers[0].PublicKey != peerKey {
		t.Errorf("after RemovePeer and ConfigureDevice: %+v", got)
	}
	if portFree(t, main, 5902) {
		t.Error("after the port change the socket is not in the main namespace")
	}

	if err := k.SetMTU(ctx, "wg2", 1380); err != nil {
		t.Fatal(err)
	}
	if err := k.DelAddress(ctx, "wg2", tun.Local4); err != nil {
		t.Fatal(err)
	}
	st, _ = k.Observe(ctx, q)
	if got := st.Tunnels["wg2"]; got.MTU != 1380 || !reflect.DeepEqual(got.Addresses, []netip.Prefix{tun.Local6}) {
		t.Errorf("after SetMTU and DelAddress: %+v", got)
	}

	if err := k.DeleteTunnel(ctx, "wg2", false); err != nil {
		t.Fatal(err)
	}
	if priv.has(t, "wg2") {
		t.Error("wg2 still there after DeleteTunnel")
	}
	st, _ = k.Observe(ctx, q)
	if len(st.Tunnels) != 0 {
		t.Errorf("after DeleteTunnel: %+v", st.Tunnels)
	}
	if err := k.SetPeer(ctx, "wg2", tun.Peer); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("SetPeer on a deleted device: %v, want ErrNotExist", err)
	}
}

// A link left in the main namespace by an interrupted create is reported
// InMain and replaced by the next create; unqueried wg<N> links of the
// namespace are reported as stale.
func TestIntegrationTunnelLeftovers(t *testing.T) {
	privileged(t)
	requireWireGuard(t)
	ctx := context.Background()
	k, main, priv := newKernel(t, mustPrivateKey(t), true)
	attrs := netlink.NewLinkAttrs()
	attrs.Name = "wg3"
	if err := main.h.LinkAdd(&netlink.Wireguard{LinkAttrs: attrs}); err != nil {
		t.Fatal(err)
	}
	st, err := k.Observe(ctx, kernel.Query{Tunnels: []string{"wg3"}})
	if err != nil {
		t.Fatal(err)
	}
	if got, ok := st.Tunnels["wg3"]; !ok || !got.InMain || got.Up || got.ListenPort != 0 {
		t.Errorf("leftover = %+v, %v; want InMain, down, unconfigured", got, ok)
	}
	if err := k.CreateTunnel(ctx, tunnelFor(t, 3)); err != nil {
		t.Fatal(err)
	}
	if main.has(t, "wg3") || !priv.has(t, "wg3") {
		t.Error("the create did not replace the leftover")
	}
	if err := k.CreateTunnel(ctx, tunnelFor(t, 2)); err != nil {
		t.Fatal(err)
	}
	priv.addLink(t, "wg7") // not WireGuard: never stale
	st, err = k.Observe(ctx, kernel.Query{Tunnels: []string{"wg2"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(st.Tunnels) != 2 || st.Tunnels["wg3"].InMain || st.Tunnels["wg3"].ListenPort != 5803 {
		t.Errorf("Tunnels = %+v, want wg2 and the stale wg3", st.Tunnels)
	}

	if err := main.h.LinkAdd(&netlink.Wireguard{LinkAttrs: netlink.LinkAttrs{Name: "wg4"}}); err != nil {
		t.Fatal(err)
	}
	if err := k.DeleteTunnel(ctx, "wg4", true); err != nil || main.has(t, "wg4") {
		t.Errorf("DeleteTunnel(wg4, inMain): %v", err)
	}
}
