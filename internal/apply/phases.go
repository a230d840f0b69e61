package apply

import (
	"context"
	"fmt"
	"slices"

	"github.com/sitevpn/sitevpn/internal/plan"
	"github.com/sitevpn/sitevpn/render"
)

// phase is one stage of an apply. Those whose actions come from the file
// and service diff take them with of; links and retire are computed when
// they run, from the kernel as the earlier phases left it.
type phase struct {
	name  string
	kinds []Kind
}

func (p phase) of(acts []Action) []Action {
	var out []Action
	for _, a := range acts {
		if slices.Contains(p.kinds, a.Kind) {
			out = append(out, a)
		}
	}
	return out
}

// phases, in order. Per direction: a new tunnel's link exists before BIRD
// starts its session on it; a removed tunnel's link goes only after BIRD
// has withdrawn the routes through it (retire).
var phases = []phase{
	{name: "files", kinds: []Kind{WriteFile, RemoveFile}},
	{name: "units", kinds: []Kind{StopUnit, DaemonReload, StartUnit, RestartUnit}},
	{name: "networkd", kinds: []Kind{ReloadNetworkd}},
	{name: "links"},
	{name: "bird", kinds: []Kind{ConfigureBird}},
	{name: "retire"},
}

// Apply brings the system to g and its rendered tree, phase by phase,
// changing only what differs. When a step fails, the files this apply
// wrote are restored (and the services told), and the error is a
// *StepError. Applying twice in a row does nothing the second time.
func (e *Engine) Apply(ctx context.Context, g *plan.Gateway, tree render.Tree) (Report, error) {
	var rep Report
	if err := removeCandidates(e.Root, tree); err != nil {
		return rep, err
	}
	have, err := e.have(ctx, g, tree)
	if err != nil {
		return rep, err
	}
	acts := Diff(tree, have)
	names := render.NamesFor(g)
	r := &run{e: e, tree: tree, names: names, rep: &rep, tx: &tx{root: e.Root, log: e.logger()}}
	r.services = slices.DeleteFunc(slices.Clone(acts), func(a Action) bool { return a.Kind == WriteFile || a.Kind == RemoveFile })
	if len(acts) > 0 {
		if err := e.checkBird(ctx, tree, names, acts); err != nil {
			return rep, err
		}
		if err := r.tx.begin(r.services, union(have.Owned, tree)); err != nil {
			return rep, err
		}
		if err := e.step("journal"); err != nil {
			return rep, err
		}
	}
	var retire []Action
	settle := func() {}
	for _, p := range phases {
		list := p.of(acts)
		switch p.name {
		case "links":
			if list, retire, settle, err = e.linkActions(ctx, g, have.Previous); err != nil {
				return rep, r.fail(ctx, p.name, Action{Kind: "observe", Target: "links"}, err)
			}
		case "retire":
			list = retire
		}
		for _, a := range list {
			if err := r.do(ctx, a); err != nil {
				return rep, r.fail(ctx, p.name, a, err)
			}
		}
	}
	if err := r.tx.commit(tree, len(acts) > 0); err != nil {
		return rep, err
	}
	if t := tree.Get(render.TunnelTable); t != nil {
		e.Tables.remember(t.Content, interfaces(g))
	}
	settle()
	return rep, e.step("done")
}

// run is one apply in progress.
type run struct {
	e     *Engine
	tree  render.Tree
	names render.Names
	rep   *Report
	tx    *tx
	// services are the diff's service actions, told again after a restore.
	services []Action
	// birdStarted: BIRD was (re)started by this run, so it read the new
	// configuration already and needs no configure.
	birdStarted bool
}

func (r *run) do(ctx context.Context, a Action) error {
	e := r.e
	var err error
	switch a.Kind {
	case MissingLAN:
		r.rep.Warnings = append(r.rep.Warnings, fmt.Sprintf("lan %s: %s", a.Target, a.Why))
		e.logger().Warn("lan interface missing", "interface", a.Target)
		return nil
	case UnsafeLAN:
		return fmt.Errorf("lan %s carries %s: moving it into the private namespace would cut this gateway off; name the interface towards the site's LAN in the lan block, not the uplink", a.Target, a.Why)
	case WriteFile:
		err = r.tx.write(*r.tree.Get(a.Target))
	case RemoveFile:
		err = r.tx.remove(a.Target)
	case StopUnit:
		err = e.Units.StopUnit(ctx, a.Target)
	case DaemonReload:
		err = e.Units.DaemonReload(ctx)
	case RestartUnit:
		err = e.Units.RestartUnit(ctx, a.Target)
		r.birdStarted = r.birdStarted || a.Target == r.names.BirdUnit
	case StartUnit:
		err = e.Units.StartUnit(ctx, a.Target)
		r.birdStarted = r.birdStarted || a.Target == r.names.BirdUnit
	case ReloadNetworkd:
		err = e.Units.ReloadNetworkd(ctx)
	case ConfigureBird:
		if r.birdStarted {
			return nil
		}
		err = e.Bird.Configure(ctx, r.names.BirdSocket, "/"+a.Target)
	default:
		if a.Change == nil {
			return fmt.Errorf("unknown action %q", a.Kind)
		}
		err = e.Kernel.Change(ctx, *a.Change)
	}
	if err != nil {
		return err
	}
	r.rep.Actions = append(r.rep.Actions, a)
	e.logger().Info("applied", "action", string(a.Kind), "target", a.Target, "arg", a.Arg, "why", a.Why)
	if err := r.tx.paid(a); err != nil {
		return err
	}
	return e.step(a.String())
}

// fail restores the files this run wrote, tells the services again so
// they run what is on disk, and returns the step error. A crash injected
// by a test passes through untouched: a kill restores nothing.
func (r *run) fail(ctx context.Context, step string, a Action, err error) error {
	if isCrash(err) {
		return err
	}
	log := r.e.logger()
	log.Error("apply failed, restoring", "step", step, "action", a.String(), "err", err)
	stepErr := &StepError{Step: step, Action: a, Err: err}
	if !r.tx.restore() {
		return stepErr
	}
	// The services may have loaded the new files: make them load the
	// restored ones. Best effort; the journal keeps what failed.
	r.birdStarted = false
	for _, s := range r.services {
		if s.Kind == StopUnit {
			continue
		}
		if serr := r.do(ctx, s); serr != nil {
			log.Error("re-syncing a service after restore failed", "action", s.String(), "err", serr)
			return stepErr
		}
	}
	r.tx.forget()
	return stepErr
}
