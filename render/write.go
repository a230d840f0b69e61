package render

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/sitevpn/sitevpn/internal/atomicfile"
	"github.com/sitevpn/sitevpn/internal/safefile"
)

// RenderMarker lists what sitevpn rendered into a directory: one line per
// file, its SHA-256 and its path, as sha256sum prints them.
const RenderMarker = ".sitevpn-rendered"

// maxMarker bounds what is read of the marker and of a file it names: a
// marker line is under a hundred bytes, and a gateway of 1,000 tunnels
// renders about 2,000 files.
const maxMarker = 4 << 20

// Written is what WriteTree did, relative to Dir.
type Written struct {
	Dir   string
	Wrote []string
	// Removed: files the previous render wrote and this one does not.
	Removed []string
	// Left: files the marker lists that WriteTree did not remove, and why.
	Left []Leftover
}

// Leftover is a file the marker names that is left in place.
type Leftover struct{ Path, Why string }

// WriteTree writes tree under dir, as if dir were the root, with each
// file's mode (ownership is apply's: `sitevpn render` runs unprivileged).
// dir must be empty, missing, or rendered into before: then what that
// render put there and this one does not is removed, so dir never mixes
// two renders. Nothing outside dir is written or removed, whatever
// symlinks dir holds, and a file is removed only if the marker names it,
// it has a name sitevpn renders and it still has the content sitevpn
// wrote: a marker is no licence to delete what sitevpn did not write.
func WriteTree(dir string, tree Tree) (Written, error) {
	w := Written{Dir: dir}
	if dir == "" {
		return w, errors.New("no directory to render into (--out is empty): name one, new, empty, or rendered into before; render writes nowhere else")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return w, err
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return w, err
	}
	defer root.Close()
	prev, err := previousRender(root, dir)
	if err != nil {
		return w, err
	}
	var marker strings.Builder
	wrote := map[string]bool{}
	for _, f := range tree {
		if err := atomicfile.WriteIn(root, f.Path, f.Content, f.Mode, -1, -1); err != nil {
			return w, fmt.Errorf("%s: %w", f.Path, err)
		}
		wrote[f.Path] = true
		w.Wrote = append(w.Wrote, f.Path)
		sum := sha256.Sum256(f.Content)
		fmt.Fprintf(&marker, "%s  %s\n", hex.EncodeToString(sum[:]), f.Path)
	}
	for _, e := range prev {
		if wrote[e.path] {
			continue
		}
		removed, why := removeRendered(root, e)
		if removed {
			w.Removed = append(w.Removed, e.path)
		} else if why != "" {
			w.Left = append(w.Left, Leftover{e.path, why})
		}
	}
	return w, atomicfile.WriteIn(root, RenderMarker, []byte(marker.String()), 0o644, -1, -1)
}

// Print lists, as `sitevpn render` does, the files written on out, and
// those removed or left on diag.
func (w Written) Print(out, diag io.Writer) {
	for _, p := range w.Wrote {
		fmt.Fprintln(out, filepath.Join(w.Dir, p))
	}
	for _, p := range w.Removed {
		fmt.Fprintln(diag, "removed (no longer rendered):", filepath.Join(w.Dir, p))
	}
	for _, l := range w.Left {
		fmt.Fprintf(diag, "left in place, no longer rendered: %s (%s)\n", filepath.Join(w.Dir, l.Path), l.Why)
	}
}

// markerEntry is one line of a marker: a path and the SHA-256 sitevpn
// wrote it with ("" in a marker of a release that kept no sums).
type markerEntry struct{ sum, path string }

// removeRendered removes e's file if it is still what sitevpn rendered;
// else it says why it is left ("" when it is gone already).
func removeRendered(root *os.Root, e markerEntry) (bool, string) {
	if !Owns(e.path) {
		return false, "not a file sitevpn renders"
	}
	if e.sum == "" {
		return false, "the marker has no checksum for it (rendered by an older sitevpn): remove it by hand if it is stale"
	}
	if st, err := root.Lstat(e.path); err == nil && !st.Mode().IsRegular() {
		return false, "not a regular file: sitevpn wrote none there"
	}
	b, err := safefile.ReadIn(root, e.path, maxMarker)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return false, ""
	case err != nil:
		return false, err.Error()
	}
	if sum := sha256.Sum256(b); hex.EncodeToString(sum[:]) != e.sum {
		return false, "changed since sitevpn rendered it"
	}
	if err := root.Remove(e.path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return false, err.Error()
	}
	return true, ""
}

// Owns reports whether path (relative to the root) has the name and place
// of a file sitevpn renders or installs: directly in networkd's, systemd's
// or BIRD's directory with "sitevpn" in its name, or the tunnel table.
// What apply and render remove is limited to these.
func Owns(p string) bool {
	if p != path.Clean(p) || !fs.ValidPath(p) || p == "." {
		return false
	}
	if p == TunnelTable {
		return true
	}
	switch path.Dir(p) {
	case NetworkDir, UnitDir, BirdDir:
		return strings.Contains(path.Base(p), "sitevpn")
	}
	return false
}

// previousRender is what sitevpn last rendered into dir; nothing for an
// empty dir, an error for a dir sitevpn did not render.
func previousRender(root *os.Root, dir string) ([]markerEntry, error) {
	d, err := root.Open(".")
	if err != nil {
		return nil, err
	}
	entries, err := d.ReadDir(3)
	d.Close()
	if errors.Is(err, io.EOF) || err == nil && len(entries) == 0 {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	b, err := safefile.ReadIn(root, RenderMarker, maxMarker)
	if errors.Is(err, fs.ErrNotExist) {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		return nil, fmt.Errorf("%s is not empty (%s...) and was not rendered by sitevpn: render into an empty or new directory", dir, strings.Join(names, ", "))
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", RenderMarker, err)
	}
	var out []markerEntry
	sc := bufio.NewScanner(strings.NewReader(string(b)))
	sc.Buffer(nil, maxMarker)
	for sc.Scan() {
		sum, p, ok := strings.Cut(sc.Text(), "  ")
		if !ok {
			sum, p = "", strings.TrimSpace(sc.Text())
		}
		if p != "" {
			out = append(out, markerEntry{sum, p})
		}
	}
	return out, sc.Err()
}
