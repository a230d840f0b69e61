package apply

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/sitevpn/sitevpn/internal/plan"
	"github.com/sitevpn/sitevpn/render"
)

// Apply brings the system to g and its rendered tree: files, units,
// networkd, links, BIRD, in that order, changing only what differs. When a
// step fails, the files this apply wrote are restored (and the services
// told), and the error is a *StepError. Applying twice in a row does
// nothing the second time.
func (e *Engine) Apply(ctx context.Context, g *plan.Gateway, tree render.Tree) (Report, error) {
	var rep Report
	if err := removeCandidates(e.Root, tree); err != nil {
		return rep, err
	}
	have, err := e.have(ctx, tree)
	if err != nil {
		return rep, err
	}
	acts := Diff(tree, have)
	var services []Action
	for _, a := range acts {
		if a.Kind != WriteFile && a.Kind != RemoveFile {
			services = append(services, a)
		}
	}
	names := render.NamesFor(g)
	run := &run{e: e, tree: tree, names: names, rep: &rep, owed: slices.Clone(services)}
	if len(acts) > 0 {
		if err := e.checkBird(ctx, tree, names, acts); err != nil {
			return rep, err
		}
		// Owe the services before touching a file, and own every file
		// before writing it: a kill from here on is finished next time.
		if err := writeJSON(e.Root, journalPath, services); err != nil {
			return rep, fmt.Errorf("apply: writing the journal: %w", err)
		}
		if err := writeJSON(e.Root, ManifestPath, Manifest{Files: union(have.Owned, tree)}); err != nil {
			return rep, fmt.Errorf("apply: writing the manifest: %w", err)
		}
		if err := e.step("journal"); err != nil {
			return rep, err
		}
		for _, a := range acts {
			if a.Kind == ConfigureBird {
				continue // after the links: the sessions' addresses must exist
			}
			if err := run.do(ctx, a); err != nil {
				return rep, run.fail(ctx, a, err, services)
			}
		}
	}
	links, err := e.linkActions(ctx, g)
	if err != nil {
		return rep, run.fail(ctx, Action{Kind: "observe", Target: "links"}, err, services)
	}
	for _, a := range links {
		if err := run.link(ctx, g, a); err != nil {
			return rep, run.fail(ctx, a, err, services)
		}
	}
	for _, a := range acts {
		if a.Kind != ConfigureBird {
			continue
		}
		if err := run.do(ctx, a); err != nil {
			return rep, run.fail(ctx, a, err, services)
		}
	}
	if len(acts) > 0 {
		if err := writeJSON(e.Root, ManifestPath, Manifest{Files: paths(tree)}); err != nil {
			return rep, fmt.Errorf("apply: writing the manifest: %w", err)
		}
	}
	// Also when nothing was owed any more: a kill after the last service
	// action leaves an empty journal.
	if err := removeFile(e.Root, journalPath); err != nil {
		return rep, fmt.Errorf("apply: clearing the journal: %w", err)
	}
	return rep, e.step("done")
}

// checkBird parses a changed BIRD configuration before it is installed,
// so a configuration BIRD would reject never replaces a working one. The
// candidate is written beside the installed file, with its owner and mode,
// where the running BIRD (user bird, its own sandbox) can read it.
func (e *Engine) checkBird(ctx context.Context, tree render.Tree, names render.Names, acts []Action) error {
	for _, a := range acts {
		if a.Kind != WriteFile || !strings.HasPrefix(a.Target, render.BirdDir+"/") {
			continue
		}
		f := *tree.Get(a.Target)
		cand := e.path(candidatePath(a.Target))
		uid, gid, err := owner(e.Root, f)
		if err == nil {
			err = writeScratch(cand, f.Content, f.Mode, uid, gid)
		}
		if err != nil {
			return &StepError{Step: "check", Action: a, Err: fmt.Errorf("writing the candidate: %w", err)}
		}
		err = e.Bird.Check(ctx, names.BirdSocket, cand)
		if rerr := os.Remove(cand); err == nil && rerr != nil {
			err = fmt.Errorf("removing the candidate: %w", rerr)
		}
		if err != nil {
			return &StepError{Step: "check", Action: a, Err: err}
		}
	}
	return nil
}

// candidatePath is where checkBird puts target's candidate.
func candidatePath(target string) string {
	return filepath.Join(filepath.Dir(target), "."+filepath.Base(target)+".check")
}

// removeCandidates removes the candidates an apply killed while BIRD
// checked them left behind.
func removeCandidates(root string, tree render.Tree) error {
	for _, f := range tree {
		if !strings.HasPrefix(f.Path, render.BirdDir+"/") {
			continue
		}
		if err := removeFile(root, candidatePath(f.Path)); err != nil {
			return fmt.Errorf("apply: removing a leftover candidate: %w", err)
		}
	}
	return nil
}

// run is one apply in progress: what it wrote, so it can be undone.
type run struct {
	e       *Engine
	tree    render.Tree
	names   render.Names
	rep     *Report
	backups []backup
	// birdStarted: BIRD was (re)started by this run, so it read the new
	// configuration already and needs no configure.
	birdStarted bool
	// owed are the service actions not done yet: the journal's content.
	owed []Action
}

type backup struct {
	path    string
	old     *Existing // nil: the file did not exist
	written bool
}

func (r *run) do(ctx context.Context, a Action) error {
	e := r.e
	var err error
	switch a.Kind {
	case WriteFile:
		err = r.write(a.Target)
	case RemoveFile:
		err = r.remove(a.Target)
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
		err = fmt.Errorf("unknown action %q", a.Kind)
	}
	if err != nil {
		return err
	}
	r.done(a)
	if err := r.paid(a); err != nil {
		return err
	}
	return e.step(string(a.Kind) + " " + a.Target)
}

// paid takes a done service action off the journal, so that a kill later
// in this apply does not make the next one redo it (restarting BIRD twice
// would reset every session for nothing).
func (r *run) paid(a Action) error {
	i := slices.IndexFunc(r.owed, func(o Action) bool { return o.Kind == a.Kind && o.Target == a.Target })
	if i < 0 {
		return nil
	}
	r.owed = slices.Delete(r.owed, i, i+1)
	if err := writeJSON(r.e.Root, journalPath, r.owed); err != nil {
		return fmt.Errorf("updating the journal: %w", err)
	}
	return nil
}

func (r *run) done(a Action) {
	r.rep.Actions = append(r.rep.Actions, a)
	r.e.logger().Info("applied", "action", string(a.Kind), "target", a.Target, "arg", a.Arg, "why", a.Why)
}

func (r *run) save(path string) error {
	b, err := os.ReadFile(r.e.path(path))
	if errors.Is(err, os.ErrNotExist) {
		r.backups = append(r.backups, backup{path: path})
		return nil
	}
	if err != nil {
		return err
	}
	st, err := os.Stat(r.e.path(path))
	if err != nil {
		return err
	}
	r.backups = append(r.backups, backup{path: path, old: &Existing{Mode: st.Mode(), Content: b}})
	return nil
}

func (r *run) write(path string) error {
	f := r.tree.Get(path)
	uid, gid, err := owner(r.e.Root, *f)
	if err != nil {
		return err
	}
	if err := r.save(path); err != nil {
		return err
	}
	return writeAtomic(r.e.path(path), f.Content, f.Mode, uid, gid)
}

func (r *run) remove(path string) error {
	if err := r.save(path); err != nil {
		return err
	}
	return removeFile(r.e.Root, path)
}

// link performs one link action through the Kernel.
func (r *run) link(ctx context.Context, g *plan.Gateway, a Action) error {
	k := r.e.Kernel
	var err error
	switch a.Kind {
	case MissingLAN:
		r.rep.Warnings = append(r.rep.Warnings, fmt.Sprintf("lan %s: %s", a.Target, a.Why))
		r.e.logger().Warn("lan interface missing", "interface", a.Target)
		return nil
	case CreateTunnel:
		err = k.CreateTunnel(ctx, tunnel(g, a.Target))
	case DeleteTunnel:
		err = k.DeleteTunnel(ctx, a.Target, a.Arg == "main")
	case ConfigureDevice:
		err = k.ConfigureDevice(ctx, a.Target, tunnel(g, a.Target).ListenPort)
	case SetPeer:
		err = k.SetPeer(ctx, a.Target, tunnel(g, a.Target).Peer)
	case RemovePeer:
		key, perr := parseKey(a.Arg)
		if perr != nil {
			return perr
		}
		err = k.RemovePeer(ctx, a.Target, key)
	case SetMTU:
		err = k.SetMTU(ctx, a.Target, tunnel(g, a.Target).MTU)
	case SetUp:
		err = k.SetUp(ctx, a.Target)
	case MoveLAN:
		err = k.MoveLAN(ctx, a.Target)
	case AddAddress, DelAddress:
		p, perr := netip.ParsePrefix(a.Arg)
		if perr != nil {
			return perr
		}
		if a.Kind == AddAddress {
			err = k.AddAddress(ctx, a.Target, p)
		} else {
			err = k.DelAddress(ctx, a.Target, p)
		}
	default:
		err = fmt.Errorf("unknown action %q", a.Kind)
	}
	if err != nil {
		return err
	}
	r.done(a)
	return r.e.step(a.String())
}

func tunnel(g *plan.Gateway, name string) plan.Tunnel {
	for _, t := range g.Tunnels {
		if t.Interface == name {
			return t
		}
	}
	return plan.Tunnel{Interface: name}
}

// fail restores the files this run wrote, tells the services again so
// they run what is on disk, and returns the step error. A crash injected
// by a test passes through untouched: a kill restores nothing.
func (r *run) fail(ctx context.Context, a Action, err error, services []Action) error {
	if errors.Is(err, errCrash) {
		return err
	}
	step := stepOf(a.Kind)
	log := r.e.logger()
	log.Error("apply failed, restoring", "step", step, "action", a.String(), "err", err)
	restored := false
	for i := len(r.backups) - 1; i >= 0; i-- {
		b := r.backups[i]
		var rerr error
		if b.old == nil {
			rerr = removeFile(r.e.Root, b.path)
		} else {
			rerr = writeAtomic(r.e.path(b.path), b.old.Content, b.old.Mode, -1, -1)
		}
		if rerr != nil {
			log.Error("restoring a file failed", "path", b.path, "err", rerr)
		}
		restored = true
	}
	if restored {
		// The services may have loaded the new files: make them load the
		// restored ones. Best effort; the journal keeps what failed.
		r.birdStarted = false
		for _, s := range services {
			if s.Kind == StopUnit {
				continue
			}
			if serr := r.do(ctx, s); serr != nil {
				log.Error("re-syncing a service after restore failed", "action", s.String(), "err", serr)
				return &StepError{Step: step, Action: a, Err: err}
			}
		}
		_ = removeFile(r.e.Root, journalPath)
	}
	return &StepError{Step: step, Action: a, Err: err}
}

func stepOf(k Kind) string {
	switch k {
	case WriteFile, RemoveFile:
		return "files"
	case StopUnit, DaemonReload, RestartUnit, StartUnit:
		return "units"
	case ReloadNetworkd:
		return "networkd"
	case ConfigureBird:
		return "bird"
	}
	return "links"
}

var errCrash = errors.New("killed (test)")

func union(owned []string, tree render.Tree) []string {
	seen := map[string]bool{}
	var out []string
	for _, p := range append(owned, paths(tree)...) {
		if !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	return out
}

func paths(tree render.Tree) []string {
	out := make([]string, len(tree))
	for i, f := range tree {
		out[i] = f.Path
	}
	return out
}
