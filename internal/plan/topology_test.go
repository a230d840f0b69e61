package plan_test

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/sitevpn/sitevpn/internal/fleet"
	"github.com/sitevpn/sitevpn/internal/load"
	"github.com/sitevpn/sitevpn/internal/plan"
	"github.com/sitevpn/sitevpn/internal/testfleet"
)

func hubAndSpoke(t *testing.T, edit func(string) string) *fleet.Fleet {
	t.Helper()
	src, err := testfleet.HubAndSpokeSource()
	if err != nil {
		t.Fatal(err)
	}
	f, err := testfleet.Parse(load.Source{Name: "fleet.hcl", Bytes: []byte(edit(string(src)))})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// TestHubAndSpokeTunnels: hubs have tunnels to every gateway of the other
// sites, spokes to the hub gateways only; both ends agree; interface
// names and ports still derive from ids alone.
func TestHubAndSpokeTunnels(t *testing.T) {
	f := hubAndSpoke(t, func(s string) string { return s })
	if f.Topology != fleet.HubAndSpoke || f.EndpointRefresh.Seconds() != 60 {
		t.Fatalf("topology %q, endpoint_refresh %v", f.Topology, f.EndpointRefresh)
	}
	want := map[string]string{
		"h1-1": "wg3 wg4 wg5 wg6 wg7 wg8",
		"h2-2": "wg1 wg2 wg5 wg6 wg7 wg8",
		"s1-1": "wg1 wg2 wg3 wg4",
		"s2-1": "wg1 wg2 wg3 wg4",
	}
	for name, ifaces := range want {
		g := plan.For(f, f.Gateway(name))
		var got []string
		for _, tu := range g.Tunnels {
			got = append(got, tu.Interface)
			if tu.ListenPort != f.PortBase+tu.Peer.ID {
				t.Errorf("%s %s: ListenPort %d", name, tu.Interface, tu.ListenPort)
			}
			if tu.Peer.Hub != f.Gateway(tu.Peer.Gateway).Site.Hub {
				t.Errorf("%s %s: Peer.Hub %v", name, tu.Interface, tu.Peer.Hub)
			}
		}
		if strings.Join(got, " ") != ifaces {
			t.Errorf("%s: tunnels %v, want %s", name, got, ifaces)
		}
		if g.Topology != fleet.HubAndSpoke || len(g.Sites) != 5 {
			t.Errorf("%s: topology %q, %d other sites, want hub-and-spoke and 5", name, g.Topology, len(g.Sites))
		}
	}
}

// TestEndpointsWithoutAddress: a peer without endpoint has none in the
// plan (WireGuard learns it); a DNS one is a name with the derived port,
// for apply to resolve; the gateway without endpoint keeps every tunnel
// alive every 25 s, or at the fleet's keepalive when it sets one.
func TestEndpointsWithoutAddress(t *testing.T) {
	f := hubAndSpoke(t, func(s string) string { return s })
	hub := plan.For(f, f.Gateway("h2-1")) // id 3
	for _, tu := range hub.Tunnels {
		p := tu.Peer
		switch p.Gateway {
		case "s2-1":
			if p.Endpoint.IsValid() || p.EndpointName != "" {
				t.Errorf("h2-1 to s2-1 (no endpoint): endpoint %v, name %q", p.Endpoint, p.EndpointName)
			}
		case "s3-1":
			if p.Endpoint.IsValid() || p.EndpointName != "vpn.lille.example.net:7003" {
				t.Errorf("h2-1 to s3-1 (DNS, port 7000): endpoint %v, name %q, want vpn.lille.example.net:7003", p.Endpoint, p.EndpointName)
			}
		case "s1-1":
			if p.Endpoint != netip.MustParseAddrPort("192.0.2.15:5803") || p.EndpointName != "" {
				t.Errorf("h2-1 to s1-1: endpoint %v, name %q", p.Endpoint, p.EndpointName)
			}
		}
		if p.Keepalive != 0 {
			t.Errorf("h2-1 %s: keepalive %d, want the fleet's 0", tu.Interface, p.Keepalive)
		}
	}
	for _, keepalive := range []int{0, 10} {
		f := hubAndSpoke(t, func(s string) string {
			return strings.Replace(s, "keepalive        = 0", "keepalive        = "+map[int]string{0: "0", 10: "10"}[keepalive], 1)
		})
		want := map[int]int{0: 25, 10: 10}[keepalive]
		nat := plan.For(f, f.Gateway("s2-1"))
		if nat.Endpoint.IsValid() || len(nat.Tunnels) != 4 {
			t.Fatalf("s2-1: own endpoint %v, %d tunnels", nat.Endpoint, len(nat.Tunnels))
		}
		for _, tu := range nat.Tunnels {
			if tu.Peer.Keepalive != want {
				t.Errorf("fleet keepalive %d: s2-1 %s keepalive %d, want %d", keepalive, tu.Interface, tu.Peer.Keepalive, want)
			}
		}
	}
}

// TestSpokesWithoutEndpoints: two spokes without endpoint need no tunnel
// between them, so the fleet is valid; each connects out to the hubs.
func TestSpokesWithoutEndpoints(t *testing.T) {
	f := hubAndSpoke(t, func(s string) string {
		return strings.Replace(s, "    endpoint   = \"192.0.2.15\"\n", "", 1)
	})
	if f.Gateway("s1-1").HasEndpoint() || f.Gateway("s2-1").HasEndpoint() {
		t.Fatal("s1-1 and s2-1 should have no endpoint")
	}
	if g := plan.For(f, f.Gateway("s1-1")); g.Tunnels[0].Peer.Keepalive != 25 {
		t.Errorf("s1-1: keepalive %d, want 25", g.Tunnels[0].Peer.Keepalive)
	}
}

// TestMeshIgnoresHub: in a mesh a hub site changes no tunnel.
func TestMeshIgnoresHub(t *testing.T) {
	f := example(t)
	for _, s := range f.Sites {
		s.Hub = true
	}
	g := plan.For(f, f.Gateway("v1-1"))
	if len(g.Tunnels) != 4 {
		t.Errorf("v1-1: %d tunnels, want 4", len(g.Tunnels))
	}
}
