package apply

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"slices"

	"golang.zx2c4.com/wireguard/wgctrl/wgtypes"

	"github.com/sitevpn/sitevpn/internal/plan"
	"github.com/sitevpn/sitevpn/render"
)

// Units is systemd over D-Bus (package systemd; a fake in tests).
type Units interface {
	DaemonReload(ctx context.Context) error
	RestartUnit(ctx context.Context, name string) error
	StartUnit(ctx context.Context, name string) error
	StopUnit(ctx context.Context, name string) error
	ReloadNetworkd(ctx context.Context) error
	// ActiveState is the unit's ActiveState: "active", "inactive", "failed"...
	ActiveState(ctx context.Context, name string) (string, error)
}

// BirdControl checks and loads BIRD configurations.
type BirdControl interface {
	// Check parses a configuration file before it is installed: through
	// the BIRD behind socket if one runs (it reads path itself), else as
	// `bird -p` does.
	Check(ctx context.Context, socket, path string) error
	// Configure makes the BIRD behind socket load conf softly: sessions
	// whose protocol did not change stay up.
	Configure(ctx context.Context, socket, conf string) error
}

// Engine performs applies on one gateway. Only it touches the system, and
// only through its fields.
type Engine struct {
	Root      string // "/" on a gateway
	Units     Units
	Kernel    Kernel
	Bird      BirdControl
	PublicKey wgtypes.Key // of this gateway's private key
	Log       *slog.Logger

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

// StepError is a failed apply: which step, on what, and why. What the
// apply had written was restored.
type StepError struct {
	Step   string // files, units, networkd, links, bird
	Action Action
	Err    error
}

func (e *StepError) Error() string {
	return fmt.Sprintf("apply: step %s: %s: %v (files written by this apply were restored)", e.Step, e.Action, e.Err)
}

func (e *StepError) Unwrap() error { return e.Err }

// Plan lists what Apply would do now, without doing it.
func (e *Engine) Plan(ctx context.Context, g *plan.Gateway, tree render.Tree) ([]Action, error) {
	have, err := e.have(ctx, tree)
	if err != nil {
		return nil, err
	}
	acts := Diff(tree, have)
	links, err := e.linkActions(ctx, g)
	if err != nil {
		return nil, err
	}
	return sortActions(append(acts, links...)), nil
}

func sortActions(acts []Action) []Action {
	slices.SortStableFunc(acts, func(a, b Action) int { return order[a.Kind] - order[b.Kind] })
	return acts
}

func (e *Engine) have(ctx context.Context, tree render.Tree) (Have, error) {
	have, err := ReadHave(e.Root, tree)
	if err != nil {
		return have, err
	}
	if have.Pending, err = readJournal(e.Root); err != nil {
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

func (e *Engine) linkActions(ctx context.Context, g *plan.Gateway) ([]Action, error) {
	previous, err := previousTunnels(e.Root)
	if err != nil {
		return nil, err
	}
	ks, err := e.Kernel.Observe(ctx, QueryFor(g, previous))
	if err != nil {
		return nil, fmt.Errorf("apply: observing links: %w", err)
	}
	return LinkDiff(g, ks, e.PublicKey), nil
}

// previousTunnels lists the tunnels of the table on disk: the last one
// rendered. Observe looks at them too, so removed tunnels are deleted.
func previousTunnels(root string) ([]string, error) {
	t, err := ReadTable(root)
	if err != nil || t == nil {
		return nil, err
	}
	var names []string
	for _, tu := range t.Tunnels {
		names = append(names, tu.Interface)
	}
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
