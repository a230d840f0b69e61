package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"golang.zx2c4.com/wireguard/wgctrl/wgtypes"

	"github.com/sitevpn/sitevpn/internal/apply"
	"github.com/sitevpn/sitevpn/internal/bird"
	"github.com/sitevpn/sitevpn/internal/check"
	"github.com/sitevpn/sitevpn/internal/fleet"
	"github.com/sitevpn/sitevpn/internal/identity"
	"github.com/sitevpn/sitevpn/internal/link"
	"github.com/sitevpn/sitevpn/internal/pipeline"
	"github.com/sitevpn/sitevpn/internal/systemd"
	"github.com/sitevpn/sitevpn/render"
)

// system is this gateway's real boundary: systemd and networkd over
// D-Bus, the kernel over netlink and wgctrl, BIRD over its socket.
type system struct {
	root   string
	key    wgtypes.Key
	units  *systemd.Manager
	kernel *link.Kernel
	// the namespace and mode the kernel was built for: a change rebuilds it
	netns     string
	isolation fleet.Isolation
	log       *slog.Logger
}

func openSystem(ctx context.Context, g *globals, log *slog.Logger) (*system, error) {
	key, err := identity.ReadPrivateKey(filepath.Join(g.config, identity.KeyFile))
	if err != nil {
		return nil, err
	}
	units, err := systemd.New(ctx)
	if err != nil {
		return nil, fmt.Errorf("connecting to systemd: %w", err)
	}
	return &system{root: g.root, key: key, units: units, log: log}, nil
}

func (s *system) Close() {
	if s.kernel != nil {
		s.kernel.Close()
	}
	s.units.Close()
}

// engine returns the apply engine for res, building the kernel side for
// its namespace and mode.
func (s *system) engine(res *pipeline.Result) (*apply.Engine, error) {
	p := res.Plan
	if s.kernel == nil || s.netns != p.Namespace || s.isolation != p.Isolation {
		if s.kernel != nil {
			s.kernel.Close()
		}
		k, err := link.New(p.Namespace, s.key, p.Isolation == fleet.NetNS)
		if err != nil {
			return nil, err
		}
		s.kernel, s.netns, s.isolation = k, p.Namespace, p.Isolation
	}
	return &apply.Engine{Root: s.root, Units: units{s.units}, Kernel: s.kernel, Bird: bird.Control{}, PublicKey: s.key.PublicKey(), Log: s.log}, nil
}

// tree is the rendered tree plus, in vrf mode, the copy of the private
// key networkd reads (render never holds a secret; only apply writes it).
func (s *system) tree(res *pipeline.Result) render.Tree {
	if res.Plan.Isolation != fleet.VRF {
		return res.Tree
	}
	t := append(render.Tree(nil), res.Tree...)
	t = append(t, render.File{Path: render.NetworkdKey[1:], Mode: 0o640, Owner: "root", Group: "systemd-network", Content: []byte(s.key.String() + "\n")})
	return sortTree(t)
}

func (s *system) apply(ctx context.Context, res *pipeline.Result) (apply.Report, error) {
	e, err := s.engine(res)
	if err != nil {
		return apply.Report{}, err
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	return e.Apply(ctx, res.Plan, s.tree(res))
}

func (s *system) plan(ctx context.Context, res *pipeline.Result) ([]apply.Action, error) {
	e, err := s.engine(res)
	if err != nil {
		return nil, err
	}
	return e.Plan(ctx, res.Plan, s.tree(res))
}

// check reads WireGuard and BIRD and judges the tunnels.
func (s *system) check(ctx context.Context, res *pipeline.Result) check.Report {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	var r check.Readings
	names := make([]string, len(res.Plan.Tunnels))
	for i, t := range res.Plan.Tunnels {
		names[i] = t.Interface
	}
	if _, err := s.engine(res); err != nil {
		r.WireGuardError = err.Error()
	} else if r.Peers, err = s.kernel.Peers(ctx, names); err != nil {
		r.WireGuardError = "reading WireGuard: " + err.Error()
	}
	var err error
	if r.Sessions, err = check.ReadSessions(ctx, render.NamesFor(res.Plan).BirdSocket); err != nil {
		r.BirdError = err.Error()
	}
	return check.Evaluate(res.Plan, r, time.Now())
}

// units adapts systemd.Manager to apply.Units.
type units struct{ m *systemd.Manager }

func (u units) DaemonReload(ctx context.Context) error             { return u.m.DaemonReload(ctx) }
func (u units) RestartUnit(ctx context.Context, name string) error { return u.m.RestartUnit(ctx, name) }
func (u units) StartUnit(ctx context.Context, name string) error   { return u.m.StartUnit(ctx, name) }
func (u units) StopUnit(ctx context.Context, name string) error    { return u.m.StopUnit(ctx, name) }
func (u units) ReloadNetworkd(ctx context.Context) error           { return u.m.ReloadNetworkd(ctx) }
func (u units) ActiveState(ctx context.Context, name string) (string, error) {
	return u.m.UnitActive(ctx, name)
}

// notifier adapts systemd.Notifier to the daemon's.
type notifier struct{ n systemd.Notifier }

func (n notifier) Ready() error          { _, err := n.n.Ready(); return err }
func (n notifier) Status(s string) error { _, err := n.n.Status(s); return err }
func (n notifier) Watchdog() error       { _, err := n.n.Watchdog(); return err }
func (n notifier) Stopping() error       { _, err := n.n.Stopping(); return err }

func newLogger() *slog.Logger {
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
}
