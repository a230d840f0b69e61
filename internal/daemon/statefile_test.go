package daemon

import (
	"testing"
	"time"

	"github.com/sitevpn/sitevpn/internal/check"
)

// The state file is written again when it would say something new, or
// when it is stateRefresh old; not for handshake ages and byte counters.
func TestStateWrittenWhenNew(t *testing.T) {
	t0 := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	tunnel := check.Tunnel{Interface: "wg1", BGPState: "Established", Up: true, HandshakeAge: time.Second, RxBytes: 10}
	base := func() State {
		return State{
			Applies: 3, Updated: t0,
			Health:        check.Report{Gateway: "v1-1", Tunnels: []check.Tunnel{tunnel}, Healthy: true},
			Configuration: &check.Configuration{Generation: 2, State: check.Confirmed},
		}
	}
	s := base()
	w, _ := stateWritten{}.next(s)
	cases := []struct {
		name  string
		edit  func(*State)
		stale bool
	}{
		{"10 s later, nothing new", func(s *State) { s.Updated = t0.Add(10 * time.Second) }, false},
		{"handshake and counters moved", func(s *State) {
			s.Health.Tunnels = []check.Tunnel{tunnel}
			s.Health.Tunnels[0].HandshakeAge, s.Health.Tunnels[0].RxBytes, s.Health.Tunnels[0].Handshake = 20*time.Second, 99, t0
		}, false},
		{"stateRefresh later", func(s *State) { s.Updated = t0.Add(stateRefresh) }, true},
		{"a session went down", func(s *State) {
			s.Health.Tunnels = []check.Tunnel{tunnel}
			s.Health.Tunnels[0].BGPState, s.Health.Tunnels[0].Up = "Active", false
		}, true},
		{"an apply", func(s *State) { s.Applies++ }, true},
		{"a problem", func(s *State) { s.Health.Problems = []string{"BIRD unreachable"} }, true},
		// The daemon changes its configuration record in place: what was
		// written is a copy, so the change shows.
		{"the configuration changed in place", func(s *State) { s.Configuration.State = check.RolledBack }, true},
	}
	for _, c := range cases {
		got := base()
		if c.name == "the configuration changed in place" {
			got = s // shares the pointer w was made from
		}
		c.edit(&got)
		if _, stale := w.next(got); stale != c.stale {
			t.Errorf("%s: stale %v, want %v", c.name, stale, c.stale)
		}
	}
}
