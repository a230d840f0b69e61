// Package apply turns the difference between rendered intent and what is
// on the system into actions, and performs them. The diffs are pure;
// reading and changing the system go through small interfaces (Units,
// Kernel, BirdControl) that tests fake and the VM lab runs for real.
package apply

import (
	"bytes"
	"io/fs"
	"sort"
	"strings"

	"github.com/sitevpn/sitevpn/render"
)

// Existing is a file as found on the system.
type Existing struct {
	Mode    fs.FileMode
	Content []byte
	// Owner and Group are names, read only when running as root (only
	// root can set them); "" compares equal to anything.
	Owner, Group string
}

// Have is the part of the system's state the file diff compares with.
type Have struct {
	Files map[string]Existing // by path relative to the root; absent = missing
	Owned []string            // the manifest: paths sitevpn wrote before
	// Units maps each rendered unit to its ActiveState ("active",
	// "inactive", "failed"...). A unit missing from the map is not checked.
	Units map[string]string
	// Pending are service actions an interrupted apply still owed.
	Pending []Action
	// Previous are the tunnels of the table sitevpn last wrote, read
	// before this apply writes anything: tunnels removed from the fleet
	// are looked for (in the main namespace too) and deleted.
	Previous []string
}

// Diff lists the file and service actions that bring have to want. Files
// not in want and not owned are never touched.
func Diff(want render.Tree, have Have) []Action {
	var acts []Action
	wanted := map[string]bool{}
	changed := map[string]bool{}
	startOnly := map[string]bool{}
	for _, f := range want {
		wanted[f.Path] = true
		if f.StartOnly {
			startOnly[unitName(f.Path)] = true
		}
		old, ok := have.Files[f.Path]
		switch {
		case !ok:
			acts = append(acts, Action{Kind: WriteFile, Target: f.Path, Why: "new"})
		case !bytes.Equal(old.Content, f.Content):
			acts = append(acts, Action{Kind: WriteFile, Target: f.Path, Why: "changed"})
		case old.Mode.Perm() != f.Mode.Perm():
			acts = append(acts, Action{Kind: WriteFile, Target: f.Path, Why: "mode " + old.Mode.Perm().String() + " -> " + f.Mode.Perm().String()})
			continue // same content: nothing to reload
		case old.Owner != "" && (old.Owner != f.Owner || old.Group != f.Group):
			// A service that reads it as another user (BIRD as bird) could not.
			acts = append(acts, Action{Kind: WriteFile, Target: f.Path, Why: "owner " + old.Owner + ":" + old.Group + " -> " + f.Owner + ":" + f.Group})
			continue
		default:
			continue
		}
		changed[f.Path] = true
	}
	owned := append([]string(nil), have.Owned...)
	sort.Strings(owned)
	removed := map[string]bool{}
	for _, p := range owned {
		if !wanted[p] && !removed[p] {
			if _, ok := have.Files[p]; ok {
				acts = append(acts, Action{Kind: RemoveFile, Target: p, Why: "no longer rendered"})
			}
			removed[p] = true
			changed[p] = true
		}
	}
	return append(acts, services(want, changed, removed, startOnly, have)...)
}

func unitName(path string) string { return strings.TrimPrefix(path, render.UnitDir+"/") }

// services are the reloads and restarts the changed files call for (only
// those), the starts of rendered units that are not running, and what an
// interrupted apply still owed.
func services(want render.Tree, changed, removed, startOnly map[string]bool, have Have) []Action {
	var stop, restart, start, bird []string
	reload, networkd := false, false
	paths := make([]string, 0, len(changed))
	for p := range changed {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	touched := map[string]bool{}
	for _, p := range paths {
		switch {
		case strings.HasPrefix(p, render.UnitDir+"/"):
			reload = true
			name := unitName(p)
			touched[name] = true
			switch {
			case removed[p]:
				stop = append(stop, name)
			case startOnly[name]:
				start = append(start, name)
			default:
				restart = append(restart, name)
			}
		case strings.HasPrefix(p, render.NetworkDir+"/"):
			networkd = true
		case strings.HasPrefix(p, render.BirdDir+"/") && !removed[p]:
			bird = append(bird, p)
		}
	}
	for _, f := range want {
		name := unitName(f.Path)
		if state, ok := have.Units[name]; ok && state != "active" && state != "activating" && !touched[name] {
			start = append(start, name)
		}
	}
	var acts []Action
	for _, u := range stop {
		acts = append(acts, Action{Kind: StopUnit, Target: u, Why: "unit no longer rendered"})
	}
	if reload {
		acts = append(acts, Action{Kind: DaemonReload, Target: "systemd", Why: "unit files changed"})
	}
	// Starts first: the namespace unit must be up before BIRD restarts in it.
	for _, u := range start {
		why := "not running"
		if touched[u] {
			why = "unit file changed (started, never restarted)"
		}
		acts = append(acts, Action{Kind: StartUnit, Target: u, Why: why})
	}
	for _, u := range restart {
		acts = append(acts, Action{Kind: RestartUnit, Target: u, Why: "unit file changed"})
	}
	if networkd {
		acts = append(acts, Action{Kind: ReloadNetworkd, Target: "systemd-networkd", Why: "networkd files changed"})
	}
	for _, b := range bird {
		acts = append(acts, Action{Kind: ConfigureBird, Target: b, Why: "BIRD configuration changed"})
	}
	return mergePending(acts, have.Pending)
}

// mergePending adds the service actions an interrupted apply owed and
// that this diff does not already hold.
func mergePending(acts, pending []Action) []Action {
	if len(pending) == 0 {
		return acts
	}
	seen := map[Action]bool{}
	for _, a := range acts {
		seen[Action{Kind: a.Kind, Target: a.Target}] = true
	}
	for _, p := range pending {
		k := Action{Kind: p.Kind, Target: p.Target}
		if !seen[k] {
			seen[k] = true
			acts = append(acts, Action{Kind: p.Kind, Target: p.Target, Why: "owed by an interrupted apply"})
		}
	}
	sort.SliceStable(acts, func(i, j int) bool { return serviceOrder[acts[i].Kind] < serviceOrder[acts[j].Kind] })
	return acts
}

// serviceOrder is the order in which owed service actions merge in.
var serviceOrder = map[Kind]int{StopUnit: 1, DaemonReload: 2, StartUnit: 3, RestartUnit: 4, ReloadNetworkd: 5, ConfigureBird: 6}
