package check

import (
	"testing"
	"time"

	"github.com/sitevpn/sitevpn/internal/kernel"
	"github.com/sitevpn/sitevpn/internal/plan"
)

func TestEvaluate(t *testing.T) {
	now := time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)
	g := &plan.Gateway{Name: "v1-1"}
	for _, name := range []string{"wg3", "wg4", "wg5", "wg6", "wg7"} {
		g.Tunnels = append(g.Tunnels, plan.Tunnel{Interface: name, Peer: plan.Peer{Gateway: "p-" + name}})
	}
	r := Readings{
		Peers: map[string]kernel.PeerStats{
			"wg3": {Present: true, LastHandshake: now.Add(-30 * time.Second), RxBytes: 10},
			"wg4": {Present: true, LastHandshake: now.Add(-10 * time.Minute)},
			"wg5": {Present: true},
			"wg6": {Present: true, LastHandshake: now.Add(-5 * time.Second)},
		},
		Sessions: map[string]Session{
			"wg3": {Present: true, State: "Established", Routes: 2},
			"wg6": {Present: true, State: "Active", Info: "Connection refused"},
		},
	}
	rep := Evaluate(g, r, now)
	want := map[string]string{
		"wg3": "",
		"wg4": "last handshake 10m0s ago",
		"wg5": "no handshake yet",
		"wg6": "BGP Active: Connection refused",
		"wg7": "no WireGuard device",
	}
	for _, tu := range rep.Tunnels {
		if tu.Problem != want[tu.Interface] || tu.Up != (want[tu.Interface] == "") {
			t.Errorf("%s: up %v problem %q, want %q", tu.Interface, tu.Up, tu.Problem, want[tu.Interface])
		}
	}
	if rep.Healthy {
		t.Error("report healthy with four tunnels down")
	}
	g.Tunnels = g.Tunnels[:1]
	if rep := Evaluate(g, r, now); !rep.Healthy {
		t.Errorf("one good tunnel: not healthy: %+v", rep)
	}
	r.BirdError = "BIRD unreachable"
	if rep := Evaluate(g, r, now); rep.Healthy || len(rep.Problems) != 1 {
		t.Errorf("BIRD unreachable but healthy: %+v", rep)
	}
}
