package render

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func tree(files map[string]string) Tree {
	var t Tree
	for p, c := range files {
		t = append(t, File{Path: p, Mode: 0o644, Content: []byte(c)})
	}
	slices.SortFunc(t, func(a, b File) int { return strings.Compare(a.Path, b.Path) })
	return t
}

// A render dir holding symlinks out of it and a forged marker: WriteTree
// writes and removes nothing outside it, removes only files it rendered
// with the content it rendered, and says what it left.
func TestWriteTreeStaysInside(t *testing.T) {
	outside := t.TempDir()
	important := filepath.Join(outside, "important.conf")
	victim := filepath.Join(outside, "sitevpn-private.conf")
	for _, p := range []string{important, victim} {
		if err := os.WriteFile(p, []byte("keep me"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	dir := t.TempDir()
	if _, err := WriteTree(dir, tree(map[string]string{BirdDir + "/sitevpn-private.conf": "one", UnitDir + "/sitevpn-bird-private.service": "unit"})); err != nil {
		t.Fatal(err)
	}
	// Someone swaps etc/bird for a link out of the dir, adds a link to a
	// file outside, and forges the marker.
	if err := os.RemoveAll(filepath.Join(dir, BirdDir)); err != nil {
		t.Fatal(err)
	}
	must(t, os.Symlink(outside, filepath.Join(dir, BirdDir)))
	must(t, os.Symlink(important, filepath.Join(dir, UnitDir, "sitevpn-x.service")))
	marker, err := os.ReadFile(filepath.Join(dir, RenderMarker))
	if err != nil {
		t.Fatal(err)
	}
	forged := string(marker) + "etc/important.conf\n" + "0000  " + UnitDir + "/sitevpn-x.service\n" + "  ../important.conf\n"
	must(t, os.WriteFile(filepath.Join(dir, RenderMarker), []byte(forged), 0o644))

	_, err = WriteTree(dir, tree(map[string]string{BirdDir + "/sitevpn-private.conf": "two"}))
	if err == nil || !strings.Contains(err.Error(), "sitevpn-private.conf") {
		t.Errorf("writing through a link out of the dir: %v, want an error naming the file", err)
	}
	for _, p := range []string{important, victim} {
		if b, err := os.ReadFile(p); err != nil || string(b) != "keep me" {
			t.Errorf("%s outside the dir: %q %v, want it untouched", p, b, err)
		}
	}

	// Without the link: the stale unit (as rendered) goes, the rest stays.
	must(t, os.Remove(filepath.Join(dir, BirdDir)))
	w, err := WriteTree(dir, tree(map[string]string{BirdDir + "/sitevpn-private.conf": "two"}))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(w.Removed, []string{UnitDir + "/sitevpn-bird-private.service"}) {
		t.Errorf("removed %v, want only the unit it rendered", w.Removed)
	}
	var left []string
	for _, l := range w.Left {
		left = append(left, l.Path+": "+l.Why)
	}
	want := []string{
		"etc/important.conf: not a file sitevpn renders",
		UnitDir + "/sitevpn-x.service: not a regular file: sitevpn wrote none there",
		"../important.conf: not a file sitevpn renders",
	}
	if !slices.Equal(left, want) {
		t.Errorf("left %q, want %q", left, want)
	}
	if _, err := os.Lstat(filepath.Join(dir, UnitDir, "sitevpn-x.service")); err != nil {
		t.Errorf("the planted link was removed: %v", err)
	}
}

// A file the previous render wrote and an operator edited since stays.
func TestWriteTreeKeepsEditedFile(t *testing.T) {
	dir := t.TempDir()
	stale := UnitDir + "/sitevpn-netns-private.service"
	if _, err := WriteTree(dir, tree(map[string]string{stale: "unit", TunnelTable: "{}"})); err != nil {
		t.Fatal(err)
	}
	must(t, os.WriteFile(filepath.Join(dir, stale), []byte("edited"), 0o644))
	w, err := WriteTree(dir, tree(map[string]string{TunnelTable: "{}"}))
	if err != nil {
		t.Fatal(err)
	}
	if len(w.Removed) != 0 || len(w.Left) != 1 || w.Left[0].Why != "changed since sitevpn rendered it" {
		t.Errorf("%+v, want the edited file left and named", w)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, stale)); string(b) != "edited" {
		t.Errorf("the edited file is %q", b)
	}
}

func TestWriteTreeRefusesNoDir(t *testing.T) {
	if _, err := WriteTree("", nil); err == nil {
		t.Fatal("WriteTree(\"\") succeeded")
	}
}

func TestOwns(t *testing.T) {
	for p, want := range map[string]bool{
		"etc/bird/sitevpn-private.conf":                   true,
		"etc/systemd/system/sitevpn-bird-private.service": true,
		"etc/systemd/network/50-sitevpn-wg3.netdev":       true,
		"etc/systemd/network/sitevpn.key":                 true,
		TunnelTable:                                       true,
		"etc/bird/bird.conf":                              false,
		"etc/important.conf":                              false,
		"etc/bird/../shadow":                              false,
		"../etc/bird/sitevpn-x.conf":                      false,
		"/etc/bird/sitevpn-x.conf":                        false,
		"etc/bird/sub/sitevpn-x.conf":                     false,
		"var/lib/sitevpn/manifest.json":                   false,
	} {
		if got := Owns(p); got != want {
			t.Errorf("Owns(%q) = %v, want %v", p, got, want)
		}
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
