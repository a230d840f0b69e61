package check

import (
	"slices"
	"testing"
)

func tunnel(iface, peer string, up bool, problem string) Tunnel {
	return Tunnel{Interface: iface, Peer: peer, Up: up, Problem: problem}
}

// Which changes hold a configuration back: only a tunnel that was up, is
// kept by the change, and is not up after it.
func TestRegressions(t *testing.T) {
	before := Report{Tunnels: []Tunnel{
		tunnel("wg3", "v2-1", true, ""),
		tunnel("wg4", "v2-2", true, ""),
		tunnel("wg5", "v3-1", true, ""),
		tunnel("wg6", "v3-2", false, "no handshake yet"),
	}}
	held := HeldTunnels(before)
	if want := []Held{{"wg3", "v2-1", ""}, {"wg4", "v2-2", ""}, {"wg5", "v3-1", ""}}; !slices.Equal(held, want) {
		t.Fatalf("held %v, want %v", held, want)
	}
	for _, c := range []struct {
		name string
		now  []Tunnel
		want []string
	}{
		{"all up again", []Tunnel{tunnel("wg3", "v2-1", true, ""), tunnel("wg4", "v2-2", true, ""), tunnel("wg5", "v3-1", true, ""), tunnel("wg6", "v3-2", false, "no handshake yet")}, nil},
		{"a held tunnel down", []Tunnel{tunnel("wg3", "v2-1", true, ""), tunnel("wg4", "v2-2", true, ""), tunnel("wg5", "v3-1", false, "no handshake yet")}, []string{"wg5 (v3-1) no handshake yet"}},
		{"a held tunnel down, no reason known", []Tunnel{tunnel("wg3", "v2-1", false, "")}, []string{"wg3 (v2-1) down"}},
		{"a removed tunnel", []Tunnel{tunnel("wg3", "v2-1", true, ""), tunnel("wg4", "v2-2", true, "")}, nil},
		{"a tunnel that was never up stays down", []Tunnel{tunnel("wg3", "v2-1", true, ""), tunnel("wg4", "v2-2", true, ""), tunnel("wg5", "v3-1", true, ""), tunnel("wg6", "v3-2", false, "BGP Active")}, nil},
		{"a new tunnel whose peer has not applied yet", []Tunnel{tunnel("wg3", "v2-1", true, ""), tunnel("wg4", "v2-2", true, ""), tunnel("wg5", "v3-1", true, ""), tunnel("wg7", "v4-1", false, "no handshake yet")}, nil},
		{"the interface now leads to another peer", []Tunnel{tunnel("wg3", "v9-1", false, "no handshake yet"), tunnel("wg4", "v2-2", true, ""), tunnel("wg5", "v3-1", true, "")}, nil},
		{"two held tunnels down, in the order they were held", []Tunnel{tunnel("wg5", "v3-1", false, "BGP Connect"), tunnel("wg3", "v2-1", false, "last handshake 3m1s ago"), tunnel("wg4", "v2-2", true, "")}, []string{"wg3 (v2-1) last handshake 3m1s ago", "wg5 (v3-1) BGP Connect"}},
	} {
		if got := Regressions(held, Report{Tunnels: c.now}); !slices.Equal(got, c.want) {
			t.Errorf("%s: %q, want %q", c.name, got, c.want)
		}
	}
}

// A LAN's OSPF adjacency that was up must come back too, unless the
// change took OSPF off that LAN.
func TestOSPFRegressions(t *testing.T) {
	up := Adjacency{Interface: "eth2", Protocol: "ospf4", Neighbor: "10.0.1.1", State: "Full/DR", Up: true}
	down := Adjacency{Interface: "eth2", Protocol: "ospf4", Neighbor: "10.0.1.1", State: "ExStart/DR"}
	none := Adjacency{Interface: "eth2", State: "none"}
	init := Adjacency{Interface: "eth1", Protocol: "ospf4", Neighbor: "10.0.1.9", State: "Init/Other"}
	held := HeldTunnels(Report{Adjacencies: []Adjacency{up, init}})
	if want := []Held{{"eth2", "10.0.1.1", "ospf4"}}; !slices.Equal(held, want) {
		t.Fatalf("held %v, want %v", held, want)
	}
	for _, c := range []struct {
		name string
		now  []Adjacency
		want []string
	}{
		{"up again", []Adjacency{up}, nil},
		{"not Full", []Adjacency{down}, []string{"ospf eth2 (10.0.1.1, ospf4) down"}},
		{"no neighbor left", []Adjacency{none}, []string{"ospf eth2 (10.0.1.1, ospf4) down"}},
		{"OSPF taken off the LAN", nil, nil},
	} {
		if got := Regressions(held, Report{Adjacencies: c.now}); !slices.Equal(got, c.want) {
			t.Errorf("%s: %q, want %q", c.name, got, c.want)
		}
	}
}
