package apply

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"path/filepath"
	"slices"

	"golang.zx2c4.com/wireguard/wgctrl/wgtypes"

	"github.com/sitevpn/sitevpn/internal/fleet"
	"github.com/sitevpn/sitevpn/internal/kernel"
	"github.com/sitevpn/sitevpn/internal/plan"
	"github.com/sitevpn/sitevpn/render"
)

// Units is systemd and networkd over D-Bus (package systemd; a fake in
// tests).
type Units interface {
	DaemonReload(ctx context.Context) error
	RestartUnit(ctx context.Context, name string) error
	StartUnit(ctx context.Context, name string) error
	StopUnit(ctx context.Context, name string) error
	ReloadNetworkd(ctx context.Context) error
	// ActiveState is the unit's ActiveState: "active", "inactive", "failed"...
	ActiveState(ctx context.Context, name string) (string, error)
}

// Kernel is the kernel as apply uses it: look, then change one link at a
// time. Package link is the Linux implementation (netlink and wgctrl,
// tunnels made in the private namespace with their sockets in the main
// one); tests use a fake that prints its state.
type Kernel interface {
	// Observe reports what q asks for; see kernel.Query.
	Observe(ctx context.Context, q kernel.Query) (kernel.State, error)
	// Change makes one change to one link. A change to one tunnel or peer
	// leaves every other one alone.
	Change(ctx context.Context, c kernel.Change) error
}

// BirdControl checks and loads BIRD configurations.
type BirdControl interface {
	// Check parses a configuration file before it is installed: through
	// the BIRD behind socket if one runs (it reads path itself), else as
	// `bird -p` does.
	Check(ctx context.Context, socket, path string) error
	// Configure makes the BIRD behind socket load conf softly (sessions
	// whose protocol did not change stay up) and returns once BIRD has
	// finished: removed sessions are down and their routes withdrawn.
	Configure(ctx context.Context, socket, conf string) error
}

// Engine performs applies on one gateway, only through its fields.
type Engine struct {
	Root      string // "/" on a gateway
	Units     Units
	Kernel    Kernel
	Bird      BirdControl
	PublicKey wgtypes.Key // of this gateway's private key
	Log       *slog.Logger
	// Endpoints resolves the peers' DNS endpoints and keeps their
	// addresses across applies; nil: a new one on net.DefaultResolver.
	Endpoints *Endpoints
	// Settled, when set, is what the kernel is known to hold: an apply
	// reads only the tunnels that may differ (see Settled), and records
	// what it left. Nil: every apply reads every tunnel.
	Settled *Settled
	// Tables, when set, knows the tunnel table the last apply wrote, so
	// that the next one need not decode it (see TableNames).
	Tables *TableNames
	// Full makes an apply read every tunnel even with Settled (the
	// periodic repair), and start Settled anew from what it found.
	Full bool

	// crash, in tests, is called at every step boundary; an error stops the
	// apply there as a kill would, without any rollback.
	crash func(step string) error
}

// Report says what an apply did.
type Report struct {
	Actions  []Action // performed, in order
	Warnings []string // findings that did not stop it (a missing lan)
}

// Changed reports whether the apply changed anything.
func (r Report) Changed() bool { return len(r.Actions) > 0 }

// StepError is a failed apply: which phase, on what, and why. What the
// apply had written was restored.
type StepError struct {
	Step   string // check, files, units, networkd, links, bird, retire
	Action Action
	Err    error
}

func (e *StepError) Error() string {
	return fmt.Sprintf("apply: step %s: %s: %v (files written by this apply were restored)", e.Step, e.Action, e.Err)
}

func (e *StepError) Unwrap() error { return e.Err }

// Plan lists what Apply would do now, in the order it would, without
// doing it. Link actions are judged against the kernel as it is now.
func (e *Engine) Plan(ctx context.Context, g *plan.Gateway, tree render.Tree) ([]Action, error) {
	have, err := e.have(ctx, g, tree)
	if err != nil {
		return nil, err
	}
	acts := Diff(tree, have)
	links, retire, _, err := e.linkActions(ctx, g, have.Previous)
	if err != nil {
		return nil, err
	}
	var out []Action
	for _, p := range phases {
		switch p.name {
		case "links":
			out = append(out, links...)
		case "retire":
			out = append(out, retire...)
		default:
			out = append(out, p.of(acts)...)
		}
	}
	return out, nil
}

// have reads what the file and service diff compares with, and the
// previous tunnel table: all before this apply writes anything.
func (e *Engine) have(ctx context.Context, g *plan.Gateway, tree render.Tree) (Have, error) {
	have, err := ReadHave(e.Root, tree)
	if err != nil {
		return have, err
	}
	if have.Pending, err = readJournal(e.Root); err != nil {
		return have, err
	}
	if have.Previous, err = previousTunnels(have, g, tree, e.Tables); err != nil {
		return have, err
	}
	have.Units = map[string]string{}
	for _, f := range tree {
		if filepath.Dir(f.Path) != render.UnitDir {
			continue
		}
		name := filepath.Base(f.Path)
		state, err := e.Units.ActiveState(ctx, name)
		if err != nil {
			return have, fmt.Errorf("apply: reading the state of %s: %w", name, err)
		}
		have.Units[name] = state
	}
	return have, nil
}

// linkActions observes the kernel and lists the link actions; settle,
// called once they are all done, records in e.Settled what the kernel
// then holds.
func (e *Engine) linkActions(ctx context.Context, g *plan.Gateway, previous []string) (links, retire []Action, settle func(), err error) {
	if e.Endpoints == nil {
		e.Endpoints = NewEndpoints(net.DefaultResolver)
	}
	g = e.Endpoints.Resolve(ctx, g)
	q := QueryFor(g, previous)
	read := g
	var r reading
	if e.Settled != nil {
		read, q, r = e.Settled.narrow(g, q, e.Full)
	}
	ks, err := e.Kernel.Observe(ctx, q)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("apply: observing links: %w", err)
	}
	links, retire = LinkDiff(read, ks, e.PublicKey)
	settle = func() {
		if e.Settled != nil {
			r.settle(settledOf(g, read, ks))
		}
	}
	return links, retire, settle, nil
}

// settledOf is what an apply of g that read read and found ks leaves in
// the kernel: g, but in vrf mode without the tunnels it read and did not
// find. There networkd creates them after its reload; their creation is
// an event, but a failed one is none.
func settledOf(g, read *plan.Gateway, ks kernel.State) *plan.Gateway {
	if g.Isolation == fleet.NetNS {
		return g
	}
	missing := map[string]bool{}
	for _, t := range read.Tunnels {
		if _, ok := ks.Tunnels[t.Interface]; !ok {
			missing[t.Interface] = true
		}
	}
	out := *g
	out.Tunnels = slices.DeleteFunc(slices.Clone(g.Tunnels), func(t plan.Tunnel) bool { return missing[t.Interface] })
	return &out
}

// previousTunnels lists the tunnels of the table on disk, as have read it
// before anything was written: the last one written. Observe looks for
// them too, so removed tunnels are deleted wherever an interrupted apply
// left them. A table unchanged since is g's own: its names are taken
// without decoding it (most applies change nothing); one known (the last
// one written, after an edit) is not decoded either.
func previousTunnels(have Have, g *plan.Gateway, tree render.Tree, known *TableNames) ([]string, error) {
	old, ok := have.Files[render.TunnelTable]
	if !ok {
		return nil, nil
	}
	if f := tree.Get(render.TunnelTable); f != nil && bytes.Equal(f.Content, old.Content) {
		return interfaces(g), nil
	}
	if names, ok := known.lookup(old.Content); ok {
		return names, nil
	}
	// The names alone: for a hub's 300 tunnels, decoding their addresses
	// and keys too took 1.8 times as long, and 18 times the memory.
	var t struct {
		Tunnels []struct {
			Interface string `json:"interface"`
		} `json:"tunnels"`
	}
	if err := json.Unmarshal(old.Content, &t); err != nil {
		return nil, fmt.Errorf("reading the tunnel table %s: %w (move it away: the next apply writes it again)", render.TunnelTable, err)
	}
	names := make([]string, len(t.Tunnels))
	for i, tu := range t.Tunnels {
		names[i] = tu.Interface
	}
	known.remember(old.Content, names)
	return names, nil
}

func (e *Engine) step(name string) error {
	if e.crash != nil {
		return e.crash(name)
	}
	return nil
}

func (e *Engine) logger() *slog.Logger {
	if e.Log != nil {
		return e.Log
	}
	return slog.New(slog.DiscardHandler)
}

func (e *Engine) path(p string) string { return filepath.Join(e.Root, p) }
