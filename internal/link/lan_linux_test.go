//go:build linux

package link

import (
	"context"
	"errors"
	"io/fs"
	"net/netip"
	"reflect"
	"testing"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"github.com/sitevpn/sitevpn/internal/kernel"
)

func pfx(ss ...string) []netip.Prefix {
	var out []netip.Prefix
	for _, s := range ss {
		out = append(out, netip.MustParsePrefix(s))
	}
	return out
}

// A LAN's whole life in netns mode: found in main with its address,
// moved (address gone, down), set up, re-addressed, MTU changed.
func TestIntegrationMoveLAN(t *testing.T) {
	privileged(t)
	ctx := context.Background()
	k, main, priv := newKernel(t, mustPrivateKey(t), true)
	l := main.addLink(t, "lan0")
	if err := main.h.AddrAdd(l, nlAddr(netip.MustParsePrefix("192.168.101.11/24"), false)); err != nil {
		t.Fatal(err)
	}
	if err := main.h.LinkSetUp(l); err != nil {
		t.Fatal(err)
	}
	q := kernel.Query{Namespace: priv.name, LANs: []string{"lan0", "absent0"}}

	st, err := k.Observe(ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	if !st.NamespaceExists {
		t.Error("NamespaceExists = false")
	}
	want := map[string]kernel.LAN{
		"lan0":    {Exists: true, InMain: true, Up: true, Addresses: pfx("192.168.101.11/24")},
		"absent0": {},
	}
	if !reflect.DeepEqual(st.LANs, want) {
		t.Errorf("before the move: LANs = %+v, want %+v", st.LANs, want)
	}

	if err := k.MoveLAN(ctx, "lan0"); err != nil {
		t.Fatal(err)
	}
	if main.has(t, "lan0") || !priv.has(t, "lan0") {
		t.Fatal("lan0 not moved")
	}
	st, err = k.Observe(ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	// The kernel drops addresses and sets the link down on a move.
	if got := st.LANs["lan0"]; !reflect.DeepEqual(got, kernel.LAN{Exists: true}) {
		t.Errorf("after the move: %+v, want exists, in the namespace, down, no address", got)
	}
	if err := k.MoveLAN(ctx, "lan0"); err != nil {
		t.Errorf("moving again: %v, want nil (already there)", err)
	}
	if err := k.MoveLAN(ctx, "absent0"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("moving a missing link: %v, want ErrNotExist", err)
	}

	if err := k.SetUp(ctx, "lan0"); err != nil {
		t.Fatal(err)
	}
	for _, p := range pfx("192.168.101.11/24", "2001:db8:a1::11/64", "192.168.101.11/24") { // twice: idempotent
		if err := k.AddAddress(ctx, "lan0", p); err != nil {
			t.Fatal(err)
		}
	}
	if err := k.SetMTU(ctx, "lan0", 1400); err != nil {
		t.Fatal(err)
	}
	st, err = k.Observe(ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	wantLAN := kernel.LAN{Exists: true, Up: true, Addresses: pfx("192.168.101.11/24", "2001:db8:a1::11/64")}
	if got := st.LANs["lan0"]; !reflect.DeepEqual(got, wantLAN) {
		t.Errorf("after set up and addresses: %+v, want %+v", got, wantLAN)
	}
	if l, err := priv.h.LinkByName("lan0"); err != nil || l.Attrs().MTU != 1400 {
		t.Errorf("MTU: %v, %v; want 1400", l, err)
	}
	// LAN addresses keep duplicate address detection: nodad is for tunnels.
	as, err := priv.h.AddrList(mustLink(t, priv, "lan0"), netlink.FAMILY_V6)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range as {
		if a.IP.Equal(netip.MustParseAddr("2001:db8:a1::11").AsSlice()) && a.Flags&unix.IFA_F_NODAD != 0 {
			t.Error("a LAN address was added with nodad")
		}
	}

	for range 2 { // the second time the address is already gone: not an error
		if err := k.DelAddress(ctx, "lan0", netip.MustParsePrefix("2001:db8:a1::11/64")); err != nil {
			t.Fatal(err)
		}
	}
	st, _ = k.Observe(ctx, q)
	if got := st.LANs["lan0"].Addresses; !reflect.DeepEqual(got, pfx("192.168.101.11/24")) {
		t.Errorf("after DelAddress: %v", got)
	}
	// Operations on a missing link say so and name it.
	err = k.SetUp(ctx, "absent0")
	if !errors.Is(err, fs.ErrNotExist) || err.Error() != "link: set up absent0: no such link in namespace "+priv.name {
		t.Errorf("SetUp(absent0) = %v", err)
	}
}

func mustLink(t *testing.T, n *testNS, name string) netlink.Link {
	t.Helper()
	l, err := n.h.LinkByName(name)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// A LAN in the main namespace that holds the gateway's endpoint address
// or a default route is reported as such: apply must never move it.
func TestIntegrationLANCarriesUplink(t *testing.T) {
	privileged(t)
	ctx := context.Background()
	k, main, priv := newKernel(t, mustPrivateKey(t), true)
	up := main.addLink(t, "up0")
	other := main.addLink(t, "lan0")
	for _, l := range []netlink.Link{up, other} {
		if err := main.h.LinkSetUp(l); err != nil {
			t.Fatal(err)
		}
	}
	if err := main.h.AddrAdd(up, nlAddr(netip.MustParsePrefix("192.0.2.10/24"), false)); err != nil {
		t.Fatal(err)
	}
	if err := main.h.AddrAdd(other, nlAddr(netip.MustParsePrefix("2001:db8:1::1/64"), false)); err != nil {
		t.Fatal(err)
	}
	q := kernel.Query{Namespace: priv.name, LANs: []string{"up0", "lan0"}, Endpoint: netip.MustParseAddr("2001:db8:1::1")}
	look := func() map[string]kernel.LAN {
		st, err := k.Observe(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		return st.LANs
	}
	if got := look(); got["up0"].Carries != "" || got["lan0"].Carries != "the gateway's endpoint address 2001:db8:1::1" {
		t.Errorf("before the default route: %+v", got)
	}
	gw := netip.MustParseAddr("192.0.2.1")
	if err := main.h.RouteAdd(&netlink.Route{LinkIndex: up.Attrs().Index, Gw: gw.AsSlice()}); err != nil {
		t.Fatal(err)
	}
	if got := look(); got["up0"].Carries != "the default route" {
		t.Errorf("with a default route through up0: %+v", got)
	}
}

// In vrf mode everything is in the main namespace and nothing moves.
func TestIntegrationVRFMode(t *testing.T) {
	privileged(t)
	ctx := context.Background()
	main := newTestNS(t)
	k := kernelIn(t, main, "", mustPrivateKey(t), false)
	main.addLink(t, "lan0")
	if err := k.AddAddress(ctx, "lan0", netip.MustParsePrefix("10.0.1.1/24")); err != nil {
		t.Fatal(err)
	}
	st, err := k.Observe(ctx, kernel.Query{LANs: []string{"lan0"}, Tunnels: []string{"wg2"}})
	if err != nil {
		t.Fatal(err)
	}
	want := kernel.State{
		Tunnels: map[string]kernel.Tunnel{},
		LANs:    map[string]kernel.LAN{"lan0": {Exists: true, Addresses: pfx("10.0.1.1/24")}},
	}
	if !reflect.DeepEqual(st, want) {
		t.Errorf("Observe = %+v, want %+v", st, want)
	}
	if err := k.MoveLAN(ctx, "lan0"); !errors.Is(err, ErrUnsupported) {
		t.Errorf("MoveLAN in vrf mode: %v", err)
	}
	if err := k.CreateTunnel(ctx, tunnelFor(t, 2)); !errors.Is(err, ErrUnsupported) {
		t.Errorf("CreateTunnel in vrf mode: %v", err)
	}
}
