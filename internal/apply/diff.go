// Package apply turns the difference between rendered intent and what is
// on the system into actions, and performs them. Diff is pure; reading
// and changing the system go through small interfaces.
package apply

import (
	"bytes"
	"io/fs"
	"sort"
	"strings"

	"github.com/sitevpn/sitevpn/render"
)

// Kind is what an action does.
type Kind string

// The kinds of action, in the order apply performs them.
const (
	WriteFile      Kind = "write"
	RemoveFile     Kind = "remove"
	DaemonReload   Kind = "daemon-reload"
	RestartUnit    Kind = "restart-unit"
	StopUnit       Kind = "stop-unit"
	ReloadNetworkd Kind = "reload-networkd"
	ConfigureBird  Kind = "configure-bird"
)

// Action is one step of an apply.
type Action struct {
	Kind   Kind   `json:"kind"`
	Target string `json:"target"`
	Why    string `json:"why,omitempty"`
}

// Existing is a file as found on the system.
type Existing struct {
	Mode    fs.FileMode
	Content []byte
}

// Have is the part of the system's state Diff compares with: the files
// at the rendered paths and the ones the manifest says sitevpn owns.
type Have struct {
	Files map[string]Existing // by path relative to the root; absent = missing
	Owned []string            // the manifest: paths sitevpn wrote before
}

// Diff lists the actions that bring have to want. Files not in want and
// not owned are never touched.
func Diff(want render.Tree, have Have) []Action {
	var acts []Action
	wanted := map[string]bool{}
	changed := map[string]bool{}
	for _, f := range want {
		wanted[f.Path] = true
		old, ok := have.Files[f.Path]
		switch {
		case !ok:
			acts = append(acts, Action{WriteFile, f.Path, "new"})
		case !bytes.Equal(old.Content, f.Content):
			acts = append(acts, Action{WriteFile, f.Path, "changed"})
		case old.Mode.Perm() != f.Mode.Perm():
			acts = append(acts, Action{WriteFile, f.Path, "mode " + old.Mode.Perm().String() + " -> " + f.Mode.Perm().String()})
			continue // same content: nothing to reload
		default:
			continue
		}
		changed[f.Path] = true
	}
	owned := append([]string(nil), have.Owned...)
	sort.Strings(owned)
	var removed []string
	for _, p := range owned {
		if !wanted[p] {
			if _, ok := have.Files[p]; ok {
				acts = append(acts, Action{RemoveFile, p, "no longer rendered"})
			}
			removed = append(removed, p)
			changed[p] = true
		}
	}
	return append(acts, consequences(changed, removed)...)
}

// consequences are the reloads the changed files call for: only those.
func consequences(changed map[string]bool, removed []string) []Action {
	var acts []Action
	var units, stale []string
	networkd, bird := false, []string{}
	gone := map[string]bool{}
	for _, p := range removed {
		gone[p] = true
	}
	paths := make([]string, 0, len(changed))
	for p := range changed {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	for _, p := range paths {
		switch {
		case strings.HasPrefix(p, render.UnitDir+"/"):
			name := p[len(render.UnitDir)+1:]
			if gone[p] {
				stale = append(stale, name)
			} else {
				units = append(units, name)
			}
		case strings.HasPrefix(p, render.NetworkDir+"/"):
			networkd = true
		case strings.HasPrefix(p, render.BirdDir+"/") && !gone[p]:
			bird = append(bird, p)
		}
	}
	for _, u := range stale {
		acts = append(acts, Action{StopUnit, u, "unit no longer rendered"})
	}
	if len(units) > 0 || len(stale) > 0 {
		acts = append(acts, Action{DaemonReload, "systemd", "unit files changed"})
	}
	for _, u := range units {
		acts = append(acts, Action{RestartUnit, u, "unit file changed"})
	}
	if networkd {
		acts = append(acts, Action{ReloadNetworkd, "systemd-networkd", "networkd files changed"})
	}
	for _, b := range bird {
		acts = append(acts, Action{ConfigureBird, b, "BIRD configuration changed"})
	}
	return acts
}
