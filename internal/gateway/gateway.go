// Package gateway owns this gateway's live system, for the CLI and the
// daemon alike: systemd and networkd over D-Bus, the kernel over netlink
// and wgctrl, BIRD over its socket. It takes the identity (which gateway,
// which private key, which namespace and mode) from every pipeline result,
// so a rotated key, a renamed namespace or a new isolation mode rebuilds
// exactly what depends on it, without a restart. It is the one place that
// adds the secret file render never holds (vrf mode's key copy for
// networkd).
package gateway

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"time"

	"golang.zx2c4.com/wireguard/wgctrl/wgtypes"

	"github.com/sitevpn/sitevpn/internal/apply"
	"github.com/sitevpn/sitevpn/internal/check"
	"github.com/sitevpn/sitevpn/internal/fleet"
	"github.com/sitevpn/sitevpn/internal/identity"
	"github.com/sitevpn/sitevpn/internal/kernel"
	"github.com/sitevpn/sitevpn/internal/pipeline"
)

// Kernel is what the gateway needs of the kernel: apply's two methods,
// the peers' handshakes for health, and letting go of its handles.
type Kernel interface {
	apply.Kernel
	Peers(ctx context.Context, names []string) (map[string]kernel.PeerStats, error)
	// Watch reports changes to the tunnels' links until ctx ends (see
	// package link).
	Watch(ctx context.Context, c kernel.Changes)
	Close() error
}

// Parts are the handles to the live system. Open makes the real ones;
// tests pass fakes.
type Parts struct {
	// Units connects to systemd on first use: status and plan work on a
	// host without it.
	Units func(context.Context) (apply.Units, error)
	Bird  apply.BirdControl
	// Sessions reads the BGP sessions of the BIRD behind socket, with
	// their route counts and import-limit hits when details is set.
	Sessions func(ctx context.Context, socket string, details bool) (map[string]check.Session, error)
	// Adjacencies, when set, reads the OSPF neighbors of the BIRD behind
	// socket (read only for a plan with an OSPF LAN).
	Adjacencies func(ctx context.Context, socket string) ([]check.Adjacency, error)
	// NewKernel makes the kernel of a namespace, mode and private key (a
	// zero key: one that can read but not configure devices).
	NewKernel func(namespace string, private wgtypes.Key, netns bool) (Kernel, error)
	// Resolver looks up the peers' DNS endpoints (nil: net.DefaultResolver).
	Resolver apply.Resolver
}

// ApplyTimeout bounds one apply; CheckTimeout one round of readings.
const (
	ApplyTimeout = 2 * time.Minute
	CheckTimeout = 10 * time.Second
)

// Gateway is this gateway's live system. Its methods run one at a time.
type Gateway struct {
	root  string
	parts Parts
	log   *slog.Logger

	mu     sync.Mutex
	units  apply.Units
	kernel Kernel
	built  built // what kernel was made for
	// endpoints keeps the addresses of the peers' DNS endpoints across
	// applies: one looked up once is changed only by RefreshEndpoints.
	endpoints *apply.Endpoints

	// settled, once WatchKernel was called, is what the kernel is known
	// to hold (see apply.Settled), kept true by the kernel's events.
	settled     *apply.Settled
	tables      *apply.TableNames // the tunnel table last written
	stopWatch   context.CancelFunc
	kernelMoved chan struct{}

	// the last reading of the WireGuard peers (see ReadPeersEvery)
	peersEvery  time.Duration
	peersAt     time.Time
	peersKernel Kernel
	peerCache   map[string]kernel.PeerStats
	// peerEstablished: whether each tunnel's session was Established at
	// its last reading
	peerEstablished map[string]bool

	// the last detailed read of BIRD's sessions, merged into light ones
	details       map[string]check.Session
	detailsAt     time.Time
	detailsSocket string
}

// built is what the kernel depends on: a change of any part rebuilds it.
type built struct {
	namespace string
	isolation fleet.Isolation
	key       identity.PrivateKey
}

// New is a gateway under root ("/" on a real one) over parts.
func New(root string, parts Parts, log *slog.Logger) *Gateway {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	r := parts.Resolver
	if r == nil {
		r = net.DefaultResolver
	}
	return &Gateway{root: root, parts: parts, log: log, endpoints: apply.NewEndpoints(r), tables: apply.NewTableNames(), kernelMoved: make(chan struct{}, 1)}
}

// WatchKernel makes the gateway follow the kernel's changes to its
// links: ApplyChanged then reads only the tunnels that may differ, and
// KernelChanged says when a link changed. For the daemon; a one-shot
// command reads everything.
func (g *Gateway) WatchKernel() {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.settled == nil {
		g.settled = apply.NewSettled()
	}
}

// KernelChanged receives when the kernel reported a change to a link
// since the last receive (a repair, ApplyChanged, then reads it).
func (g *Gateway) KernelChanged() <-chan struct{} { return g.kernelMoved }

func (g *Gateway) kernelChanged() {
	select {
	case g.kernelMoved <- struct{}{}:
	default:
	}
}

// watch starts watching k, the kernel just built, for the applies that
// follow: what was settled is forgotten (another namespace, another key).
func (g *Gateway) watch(k Kernel) {
	if g.settled == nil {
		return
	}
	if g.stopWatch != nil {
		g.stopWatch()
	}
	g.settled.Forget()
	ctx, cancel := context.WithCancel(context.Background())
	g.stopWatch = cancel
	k.Watch(ctx, kernel.Changes{
		Touched: func(names []string) { g.settled.Touched(names...); g.kernelChanged() },
		All:     func() { g.settled.Forget(); g.kernelChanged() },
		Failed: func(err error) {
			g.log.Warn("watching the kernel's links; the periodic repair reads them meanwhile", "err", err)
		},
	})
}

// RefreshEndpoints looks the DNS endpoints of res up again and reports
// whether one has a new address (an apply then changes that peer alone).
func (g *Gateway) RefreshEndpoints(ctx context.Context, res *pipeline.Result) bool {
	return g.endpoints.Refresh(ctx, res.Plan)
}

// Close lets go of the kernel's handles. Links, devices and services
// stay as they are.
func (g *Gateway) Close() {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.stopWatch != nil {
		g.stopWatch()
		g.stopWatch = nil
	}
	if g.kernel != nil {
		g.kernel.Close()
		g.kernel = nil
	}
	if c, ok := g.units.(interface{ Close() error }); ok {
		c.Close()
	}
	g.units = nil
}

// Apply brings the live system to res, reading every tunnel: see
// apply.Engine.Apply.
func (g *Gateway) Apply(ctx context.Context, res *pipeline.Result) (apply.Report, error) {
	return g.apply(ctx, res, true)
}

// ApplyChanged is Apply reading only the tunnels that may differ from
// res since the last apply: new or changed in res, or changed in the
// kernel since (WatchKernel); without WatchKernel it is Apply.
func (g *Gateway) ApplyChanged(ctx context.Context, res *pipeline.Result) (apply.Report, error) {
	return g.apply(ctx, res, false)
}

func (g *Gateway) apply(ctx context.Context, res *pipeline.Result, full bool) (apply.Report, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	ctx, cancel := context.WithTimeout(ctx, ApplyTimeout)
	defer cancel()
	e, err := g.engine(ctx, res)
	if err != nil {
		return apply.Report{}, err
	}
	e.Settled, e.Tables, e.Full = g.settled, g.tables, full
	tree, err := withSecrets(res)
	if err != nil {
		return apply.Report{}, err
	}
	return e.Apply(ctx, res.Plan, tree)
}

// Plan lists what Apply would do now, without doing it.
func (g *Gateway) Plan(ctx context.Context, res *pipeline.Result) ([]apply.Action, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	e, err := g.engine(ctx, res)
	if err != nil {
		return nil, err
	}
	tree, err := withSecrets(res)
	if err != nil {
		return nil, err
	}
	return e.Plan(ctx, res.Plan, tree)
}

// engine is the apply engine for res: systemd connected, the kernel
// built for res's namespace, mode and key.
func (g *Gateway) engine(ctx context.Context, res *pipeline.Result) (*apply.Engine, error) {
	if res.Key.IsZero() {
		return nil, fmt.Errorf("this gateway's private key is needed to apply: %w", keyErr(res))
	}
	if g.units == nil {
		u, err := g.parts.Units(ctx)
		if err != nil {
			return nil, err
		}
		g.units = u
	}
	k, err := g.kernelFor(res)
	if err != nil {
		return nil, err
	}
	return &apply.Engine{Root: g.root, Units: g.units, Kernel: k, Bird: g.parts.Bird, PublicKey: res.Key.Public(), Log: g.log, Endpoints: g.endpoints}, nil
}

// kernelFor returns the kernel for res, made anew when its namespace,
// mode or key changed.
func (g *Gateway) kernelFor(res *pipeline.Result) (Kernel, error) {
	want := built{namespace: res.Plan.Namespace, isolation: res.Plan.Isolation, key: res.Key}
	if g.kernel != nil && g.built.namespace == want.namespace && g.built.isolation == want.isolation && g.built.key.Equal(want.key) {
		return g.kernel, nil
	}
	if g.kernel != nil {
		g.kernel.Close()
		g.kernel = nil
		g.log.Info("identity changed: rebuilding the kernel side", "namespace", want.namespace, "isolation", want.isolation, "public_key", want.key.Public().String())
	}
	k, err := g.parts.NewKernel(want.namespace, want.key.WireGuard(), want.isolation == fleet.NetNS)
	if err != nil {
		return nil, err
	}
	g.kernel, g.built = k, want
	g.watch(k)
	return k, nil
}

func keyErr(res *pipeline.Result) error {
	if res.KeyErr != nil {
		return res.KeyErr
	}
	return errors.New("no private key")
}
