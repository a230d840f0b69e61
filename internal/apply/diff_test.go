package apply

import (
	"reflect"
	"testing"

	"github.com/sitevpn/sitevpn/render"
)

func tree(files ...string) render.Tree {
	var t render.Tree
	for i := 0; i < len(files); i += 2 {
		t = append(t, render.File{Path: files[i], Mode: 0o644, Owner: "root", Group: "bird", Content: []byte(files[i+1])})
	}
	return t
}

func act(k Kind, target, why string) Action { return Action{Kind: k, Target: target, Why: why} }

func TestDiff(t *testing.T) {
	const (
		unit = render.UnitDir + "/sitevpn-bird-private.service"
		bird = render.BirdDir + "/sitevpn-private.conf"
		nw   = render.NetworkDir + "/50-sitevpn-unmanaged.network"
		old  = render.UnitDir + "/sitevpn-bird-old.service"
	)
	want := tree(bird, "b", nw, "n", unit, "u")
	same := Have{Files: map[string]Existing{bird: {Mode: 0o644, Content: []byte("b")}, nw: {Mode: 0o644, Content: []byte("n")}, unit: {Mode: 0o644, Content: []byte("u")}}}
	for _, tc := range []struct {
		name string
		have Have
		want []Action
	}{
		{"up to date: nothing", same, nil},
		{"bird only: configure, no restart", Have{Files: map[string]Existing{bird: {Mode: 0o644, Content: []byte("old")}, nw: {Mode: 0o644, Content: []byte("n")}, unit: {Mode: 0o644, Content: []byte("u")}}},
			[]Action{act(WriteFile, bird, "changed"), act(ConfigureBird, bird, "BIRD configuration changed")}},
		{"mode only: rewrite, no reload", Have{Files: map[string]Existing{bird: {Mode: 0o600, Content: []byte("b")}, nw: {Mode: 0o644, Content: []byte("n")}, unit: {Mode: 0o644, Content: []byte("u")}}},
			[]Action{act(WriteFile, bird, "mode -rw------- -> -rw-r--r--")}},
		{"owner only (a restore as another user): rewrite, no reload", Have{Files: map[string]Existing{bird: {Mode: 0o644, Content: []byte("b"), Owner: "root", Group: "root"}, nw: {Mode: 0o644, Content: []byte("n")}, unit: {Mode: 0o644, Content: []byte("u")}}},
			[]Action{act(WriteFile, bird, "owner root:root -> root:bird")}},
		{"stale owned unit: removed and stopped; unowned untouched",
			Have{Files: map[string]Existing{bird: {Mode: 0o644, Content: []byte("b")}, nw: {Mode: 0o644, Content: []byte("n")}, unit: {Mode: 0o644, Content: []byte("u")}, old: {Mode: 0o644, Content: []byte("x")}, "etc/other": {Mode: 0o644, Content: nil}}, Owned: []string{old, bird}},
			[]Action{act(RemoveFile, old, "no longer rendered"), act(StopUnit, "sitevpn-bird-old.service", "unit no longer rendered"), act(DaemonReload, "systemd", "unit files changed")}},
		{"fresh system: everything", Have{},
			[]Action{act(WriteFile, bird, "new"), act(WriteFile, nw, "new"), act(WriteFile, unit, "new"), act(DaemonReload, "systemd", "unit files changed"),
				act(RestartUnit, "sitevpn-bird-private.service", "unit file changed"), act(ReloadNetworkd, "systemd-networkd", "networkd files changed"), act(ConfigureBird, bird, "BIRD configuration changed")}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Diff(want, tc.have); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got  %v\nwant %v", got, tc.want)
			}
		})
	}
}
