package link

import (
	"net"
	"net/netip"
	"reflect"
	"testing"
	"time"

	"golang.zx2c4.com/wireguard/wgctrl/wgtypes"

	"github.com/sitevpn/sitevpn/internal/kernel"
	"github.com/sitevpn/sitevpn/internal/plan"
)

func TestIsTunnelName(t *testing.T) {
	for name, want := range map[string]bool{
		"wg1": true, "wg42": true, plan.InterfaceName(7): true,
		"wg0": false, "wg01": false, "wg": false, "wg-1": false, "wg1a": false,
		"eth0": false, "wgx": false, "WG1": false, "": false,
	} {
		if got := isTunnelName(name); got != want {
			t.Errorf("isTunnelName(%q) = %v, want %v", name, got, want)
		}
	}
}

func TestPrefixOf(t *testing.T) {
	for _, tc := range []struct {
		in   *net.IPNet
		want string // "" = not ok
	}{
		{&net.IPNet{IP: net.IP{169, 254, 0, 1}, Mask: net.CIDRMask(31, 32)}, "169.254.0.1/31"},
		{&net.IPNet{IP: net.ParseIP("169.254.0.1"), Mask: net.CIDRMask(31, 32)}, "169.254.0.1/31"},          // 16-byte IP
		{&net.IPNet{IP: net.ParseIP("10.0.0.1"), Mask: net.CIDRMask(120, 128)}, "10.0.0.1/24"},              // 16-byte mask
		{&net.IPNet{IP: net.ParseIP("2001:db8:ff::1"), Mask: net.CIDRMask(127, 128)}, "2001:db8:ff::1/127"}, // host bits kept
		{&net.IPNet{IP: net.ParseIP("::"), Mask: net.CIDRMask(0, 128)}, "::/0"},
		{&net.IPNet{IP: net.IP{1, 2, 3}, Mask: net.CIDRMask(24, 32)}, ""},
		{&net.IPNet{IP: net.ParseIP("2001:db8::1"), Mask: net.CIDRMask(24, 32)}, ""},
		{&net.IPNet{IP: net.IP{10, 0, 0, 1}, Mask: net.IPMask{255, 0, 255, 0}}, ""},
		{nil, ""},
	} {
		got, ok := prefixOf(tc.in)
		if tc.want == "" {
			if ok {
				t.Errorf("prefixOf(%v) = %v, want not ok", tc.in, got)
			}
			continue
		}
		if !ok || got != netip.MustParsePrefix(tc.want) {
			t.Errorf("prefixOf(%v) = %v, %v; want %s", tc.in, got, ok, tc.want)
		}
	}
}

func TestIPNetRoundTrip(t *testing.T) {
	for _, s := range []string{"169.254.0.1/31", "2001:db8:ff::1/127", "0.0.0.0/0", "::/0", "192.168.101.11/24"} {
		p := netip.MustParsePrefix(s)
		n := ipNet(p)
		if got, ok := prefixOf(n); !ok || got != p {
			t.Errorf("prefixOf(ipNet(%s)) = %v, %v", s, got, ok)
		}
		if p.Addr().Is4() && len(n.IP) != 4 {
			t.Errorf("ipNet(%s).IP has %d bytes, want 4 (netlink picks the family from it)", s, len(n.IP))
		}
	}
}

func TestEndpoints(t *testing.T) {
	for _, tc := range []struct {
		in   *net.UDPAddr
		want netip.AddrPort
	}{
		{nil, netip.AddrPort{}},
		{&net.UDPAddr{IP: net.ParseIP("192.0.2.1"), Port: 5801}, netip.MustParseAddrPort("192.0.2.1:5801")}, // v4-in-v6 bytes
		{&net.UDPAddr{IP: net.IP{192, 0, 2, 1}, Port: 5801}, netip.MustParseAddrPort("192.0.2.1:5801")},
		{&net.UDPAddr{IP: net.ParseIP("2001:db8:1::1"), Port: 5802}, netip.MustParseAddrPort("[2001:db8:1::1]:5802")},
		{&net.UDPAddr{IP: net.ParseIP("fe80::1"), Port: 5802, Zone: "ens2"}, netip.MustParseAddrPort("[fe80::1]:5802")},
	} {
		if got := endpointOf(tc.in); got != tc.want {
			t.Errorf("endpointOf(%v) = %v, want %v", tc.in, got, tc.want)
		}
	}
	if udpAddr(netip.AddrPort{}) != nil {
		t.Error("udpAddr(zero) != nil")
	}
	ap := netip.MustParseAddrPort("[::ffff:192.0.2.1]:5801")
	if u := udpAddr(ap); len(u.IP) != 4 || u.Port != 5801 {
		t.Errorf("udpAddr(%v) = %v, want a 4-byte IPv4 address", ap, u)
	}
	ap = netip.MustParseAddrPort("[2001:db8:1::1]:5802")
	if got := endpointOf(udpAddr(ap)); got != ap {
		t.Errorf("round trip of %v = %v", ap, got)
	}
}

func mustKey(t *testing.T) wgtypes.Key {
	t.Helper()
	k, err := wgtypes.GeneratePrivateKey()
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestPeerConfig(t *testing.T) {
	pub := mustKey(t).PublicKey()
	p := plan.Peer{Gateway: "v2-1", PublicKey: pub.String(), Endpoint: netip.MustParseAddrPort("[2001:db8:2::1]:5801"), Keepalive: 25}
	pc, err := peerConfig(p)
	if err != nil {
		t.Fatal(err)
	}
	if pc.PublicKey != pub || pc.Remove || pc.UpdateOnly || pc.PresharedKey != nil {
		t.Errorf("peerConfig: key/flags wrong: %+v", pc)
	}
	if !pc.ReplaceAllowedIPs {
		t.Error("ReplaceAllowedIPs = false: AllowedIPs would accumulate")
	}
	if pc.PersistentKeepaliveInterval == nil || *pc.PersistentKeepaliveInterval != 25*time.Second {
		t.Errorf("keepalive = %v, want 25s", pc.PersistentKeepaliveInterval)
	}
	if got := endpointOf(pc.Endpoint); got != p.Endpoint {
		t.Errorf("endpoint = %v, want %v", got, p.Endpoint)
	}
	var allowed []netip.Prefix
	for i := range pc.AllowedIPs {
		a, _ := prefixOf(&pc.AllowedIPs[i])
		allowed = append(allowed, a)
	}
	if !reflect.DeepEqual(allowed, kernel.AllowedIPs) {
		t.Errorf("AllowedIPs = %v, want %v", allowed, kernel.AllowedIPs)
	}

	// Keepalive 0 must be sent (it turns keepalive off), not left nil
	// (which would keep the old value).
	p.Keepalive = 0
	if pc, _ = peerConfig(p); pc.PersistentKeepaliveInterval == nil || *pc.PersistentKeepaliveInterval != 0 {
		t.Errorf("keepalive 0 = %v, want explicit 0", pc.PersistentKeepaliveInterval)
	}

	for _, bad := range []plan.Peer{
		{Gateway: "x", PublicKey: "not a key"},
		{Gateway: "x", PublicKey: pub.String(), Keepalive: -1},
	} {
		if _, err := peerConfig(bad); err == nil {
			t.Errorf("peerConfig(%+v): no error", bad)
		}
	}
}

func TestDeviceState(t *testing.T) {
	priv := mustKey(t)
	k1, k2 := mustKey(t).PublicKey(), mustKey(t).PublicKey()
	_, all4, _ := net.ParseCIDR("0.0.0.0/0")
	_, all6, _ := net.ParseCIDR("::/0")
	d := &wgtypes.Device{
		Name: "wg2", PrivateKey: priv, PublicKey: priv.PublicKey(), ListenPort: 5802,
		Peers: []wgtypes.Peer{
			{PublicKey: k1, Endpoint: &net.UDPAddr{IP: net.ParseIP("192.0.2.2"), Port: 5801},
				PersistentKeepaliveInterval: 25 * time.Second, AllowedIPs: []net.IPNet{*all6, *all4}},
			{PublicKey: k2},
		},
	}
	var s kernel.Tunnel
	deviceState(&s, d)
	if s.ListenPort != 5802 || s.PublicKey != priv.PublicKey() {
		t.Errorf("ListenPort/PublicKey = %d/%v", s.ListenPort, s.PublicKey)
	}
	if len(s.Peers) != 2 {
		t.Fatalf("peers = %+v", s.Peers)
	}
	byKey := map[wgtypes.Key]kernel.Peer{}
	for _, p := range s.Peers {
		byKey[p.PublicKey] = p
	}
	want := kernel.Peer{PublicKey: k1, Endpoint: netip.MustParseAddrPort("192.0.2.2:5801"), AllowedIPs: kernel.AllowedIPs, Keepalive: 25}
	if got := byKey[k1]; !reflect.DeepEqual(got, want) {
		t.Errorf("peer = %+v, want %+v", got, want)
	}
	if got := byKey[k2]; got.Endpoint.IsValid() || got.AllowedIPs != nil || got.Keepalive != 0 {
		t.Errorf("bare peer = %+v", got)
	}
	// Stable order, whatever the kernel's.
	d.Peers[0], d.Peers[1] = d.Peers[1], d.Peers[0]
	var s2 kernel.Tunnel
	deviceState(&s2, d)
	if !reflect.DeepEqual(s, s2) {
		t.Errorf("order depends on the kernel's: %+v vs %+v", s.Peers, s2.Peers)
	}
}
