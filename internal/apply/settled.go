package apply

import (
	"sync"

	"github.com/sitevpn/sitevpn/internal/kernel"
	"github.com/sitevpn/sitevpn/internal/plan"
)

// Settled is what this gateway knows the kernel holds: each tunnel as the
// last apply left it, until the kernel reports a change to its link
// (package link's Watch calls Touched). An apply given one reads only the
// tunnels that are new, changed in the plan, touched since, or removed;
// the others are as the plan wants them, and reading them would make an
// edit's cost follow the fleet's size instead of the edit's. What no
// event reports (a peer changed with `wg set`, files, units) is the
// periodic full repair's, which reads everything.
//
// Its methods are safe for concurrent use: Touched comes from the watch.
type Settled struct {
	mu      sync.Mutex
	tunnels map[string]plan.Tunnel // as the last apply left them
	// touched: links the kernel reported changed, with the epoch they
	// were reported in; an apply that began at an earlier epoch settles
	// none of them.
	touched map[string]uint64
	epoch   uint64
	forgot  uint64 // epoch of the last Forget: applies begun before settle nothing
}

// NewSettled knows nothing yet: the first apply reads everything.
func NewSettled() *Settled {
	return &Settled{tunnels: map[string]plan.Tunnel{}, touched: map[string]uint64{}}
}

// Touched says the kernel changed these links since (created, deleted,
// moved, set down, an address added or removed, by anyone): the next
// apply reads them.
func (s *Settled) Touched(names ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.epoch++
	for _, n := range names {
		s.touched[n] = s.epoch
	}
}

// Forget says anything may have changed (the watch lost events, the
// namespace was made anew, the identity changed): the next apply reads
// everything.
func (s *Settled) Forget() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.epoch++
	s.forgot = s.epoch
	clear(s.tunnels)
	clear(s.touched)
}

// Known is how many tunnels are settled.
func (s *Settled) Known() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.tunnels)
}

// reading is one apply's use of a Settled: what it began at.
type reading struct {
	s     *Settled
	epoch uint64
}

// narrow returns what an apply of g must read: g with only the tunnels
// that may differ from it, and q asking for those alone (q.Only), plus
// the touched links and q's removed tunnels. With full, or when nothing
// is settled, g and q are returned as they are.
func (s *Settled) narrow(g *plan.Gateway, q kernel.Query, full bool) (*plan.Gateway, kernel.Query, reading) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.epoch++
	r := reading{s: s, epoch: s.epoch}
	if full || len(s.tunnels) == 0 {
		return g, q, r
	}
	sub := *g
	sub.Tunnels = nil
	want := make(map[string]bool, len(g.Tunnels))
	for _, t := range g.Tunnels {
		want[t.Interface] = true
		if old, ok := s.tunnels[t.Interface]; ok && old == t && s.touched[t.Interface] == 0 {
			continue
		}
		sub.Tunnels = append(sub.Tunnels, t)
	}
	n := kernel.Query{Namespace: q.Namespace, LANs: q.LANs, Endpoint: q.Endpoint, Only: true}
	asked := map[string]bool{}
	ask := func(name string) {
		if !asked[name] {
			asked[name] = true
			n.Tunnels = append(n.Tunnels, name)
		}
	}
	for _, t := range sub.Tunnels {
		ask(t.Interface)
	}
	for _, name := range q.Tunnels { // removed from the fleet
		if !want[name] {
			ask(name)
		}
	}
	// A tunnel-named link made by hand in the private namespace is
	// stale: read, then deleted. Any other touched link is a LAN (read
	// anyway) or not sitevpn's.
	for name := range s.touched {
		if q.Namespace != "" && plan.IsInterfaceName(name) && !want[name] {
			ask(name)
		}
	}
	return &sub, n, r
}

// settle records that the apply r began made the kernel hold g's
// tunnels. Links touched since r began stay touched, so the next apply
// reads them; after a Forget since, nothing is recorded.
func (r reading) settle(g *plan.Gateway) {
	s := r.s
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.forgot > r.epoch {
		return
	}
	clear(s.tunnels)
	for _, t := range g.Tunnels {
		s.tunnels[t.Interface] = t
	}
	for name, at := range s.touched {
		if at <= r.epoch {
			delete(s.touched, name)
		}
	}
}
