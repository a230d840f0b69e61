package apply

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/sitevpn/sitevpn/internal/plan"
)

// Resolver looks a host name up: net.DefaultResolver on a gateway, a fake
// in tests.
type Resolver interface {
	LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error)
}

// Bounds of one round of lookups: a dead resolver or a thousand names
// never hold an apply for long. A name not answered in time keeps its
// last address, as a failed lookup does.
const (
	lookupTimeout   = 5 * time.Second
	lookupsAtOnce   = 16
	lookupRoundTime = 10 * time.Second
)

// Endpoints resolves the peers' endpoints given as DNS names (validate and
// render never do: the tunnel table carries the name) and keeps, for each
// name, the address in force. An apply looks up only names it has never
// looked up; Refresh looks every name up again (the daemon calls it every
// endpoint_refresh). A name that stops resolving keeps its last address,
// and a name whose addresses still include the one in force keeps it, so
// a round-robin record never moves a tunnel.
type Endpoints struct {
	Resolver Resolver

	mu    sync.Mutex
	names map[string]*resolved // by "host:port"
}

type resolved struct {
	addr netip.AddrPort // in force; zero until a lookup succeeded
	err  error          // of the last lookup; nil when it succeeded
}

// NewEndpoints resolves with r.
func NewEndpoints(r Resolver) *Endpoints { return &Endpoints{Resolver: r} }

// Resolve returns g with the endpoint of every peer named by DNS filled in
// from what is in force, looking up the names never looked up. g itself is
// not changed: a copy is returned when anything is filled in. A name with
// no address yet leaves the endpoint empty, and an empty endpoint leaves
// the kernel's as it is.
func (e *Endpoints) Resolve(ctx context.Context, g *plan.Gateway) *plan.Gateway {
	var missing []string
	e.mu.Lock()
	for _, t := range g.Tunnels {
		if n := t.Peer.EndpointName; n != "" && e.names[n] == nil {
			missing = append(missing, n)
		}
	}
	e.mu.Unlock()
	e.lookup(ctx, missing)
	return e.fill(g)
}

// Refresh looks every DNS endpoint of g up again and reports whether one
// now has another address than the one in force.
func (e *Endpoints) Refresh(ctx context.Context, g *plan.Gateway) bool {
	names := Names(g)
	e.mu.Lock()
	before := make(map[string]netip.AddrPort, len(names))
	for _, n := range names {
		if r := e.names[n]; r != nil {
			before[n] = r.addr
		}
	}
	e.mu.Unlock()
	e.lookup(ctx, names)
	e.mu.Lock()
	defer e.mu.Unlock()
	for n := range e.names {
		if !slices.Contains(names, n) {
			delete(e.names, n) // no longer in the fleet
		}
	}
	for _, n := range names {
		if r := e.names[n]; r != nil && r.addr != before[n] {
			return true
		}
	}
	return false
}

// Problems lists, for status, the DNS endpoints of g whose last lookup
// failed, with the address kept.
func (e *Endpoints) Problems(g *plan.Gateway) []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []string
	for _, t := range g.Tunnels {
		r := e.names[t.Peer.EndpointName]
		if r == nil || r.err == nil {
			continue
		}
		kept := "no address yet: the tunnel waits for the peer to reach this gateway"
		if r.addr.IsValid() {
			kept = "keeping " + r.addr.String()
		}
		out = append(out, fmt.Sprintf("%s (%s): endpoint %s does not resolve: %v; %s", t.Interface, t.Peer.Gateway, t.Peer.EndpointName, r.err, kept))
	}
	return out
}

// Names lists the DNS endpoints of g's peers, once each.
func Names(g *plan.Gateway) []string {
	var out []string
	for _, t := range g.Tunnels {
		if n := t.Peer.EndpointName; n != "" && !slices.Contains(out, n) {
			out = append(out, n)
		}
	}
	return out
}

func (e *Endpoints) fill(g *plan.Gateway) *plan.Gateway {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out *plan.Gateway
	for i, t := range g.Tunnels {
		r := e.names[t.Peer.EndpointName]
		if t.Peer.EndpointName == "" || r == nil || !r.addr.IsValid() {
			continue
		}
		if out == nil {
			c := *g
			c.Tunnels = slices.Clone(g.Tunnels)
			out = &c
		}
		out.Tunnels[i].Peer.Endpoint = r.addr
	}
	if out == nil {
		return g
	}
	return out
}

// lookup resolves names, a few at a time, within one round's time.
func (e *Endpoints) lookup(ctx context.Context, names []string) {
	if len(names) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, lookupRoundTime)
	defer cancel()
	slots := make(chan struct{}, lookupsAtOnce)
	var wg sync.WaitGroup
	for _, n := range names {
		wg.Add(1)
		go func() {
			defer wg.Done()
			select {
			case slots <- struct{}{}:
				defer func() { <-slots }()
			case <-ctx.Done():
				e.record(n, nil, fmt.Errorf("not looked up in time: %w", ctx.Err()))
				return
			}
			addrs, err := e.lookupOne(ctx, n)
			e.record(n, addrs, err)
		}()
	}
	wg.Wait()
}

func (e *Endpoints) lookupOne(ctx context.Context, name string) ([]netip.AddrPort, error) {
	host, p, err := net.SplitHostPort(name)
	if err != nil {
		return nil, err
	}
	port, err := strconv.ParseUint(p, 10, 16)
	if err != nil {
		return nil, fmt.Errorf("port %q: %w", p, err)
	}
	ctx, cancel := context.WithTimeout(ctx, lookupTimeout)
	defer cancel()
	addrs, err := e.Resolver.LookupNetIP(ctx, "ip", host)
	if err != nil {
		return nil, err
	}
	out := make([]netip.AddrPort, 0, len(addrs))
	for _, a := range addrs {
		if a = a.Unmap(); a.IsValid() && !a.IsUnspecified() {
			out = append(out, netip.AddrPortFrom(a, uint16(port)))
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no address for %s", host)
	}
	return out, nil
}

// record keeps the outcome of one lookup: the address in force stays if
// it is among the new ones (or if the lookup failed); else the first.
func (e *Endpoints) record(name string, addrs []netip.AddrPort, err error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.names == nil {
		e.names = map[string]*resolved{}
	}
	r := e.names[name]
	if r == nil {
		r = &resolved{}
		e.names[name] = r
	}
	r.err = err
	if err == nil && !slices.Contains(addrs, r.addr) {
		r.addr = addrs[0]
	}
}
