package apply

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"

	"github.com/sitevpn/sitevpn/render"
)

// ManifestPath is where sitevpn lists the files it owns, relative to the root.
const ManifestPath = render.StateDir + "/manifest.json"

// Manifest is the list of files sitevpn wrote: what it may remove.
type Manifest struct {
	Files []string `json:"files"`
}

// ReadHave reads the files of want and of the manifest under root.
func ReadHave(root string, want render.Tree) (Have, error) {
	have := Have{Files: map[string]Existing{}}
	m, err := ReadManifest(root)
	if err != nil {
		return have, err
	}
	have.Owned = m.Files
	// Each path once: in a steady state every file is both owned and
	// wanted, and reading it twice doubled an apply's reads.
	paths := make([]string, 0, len(m.Files)+len(want))
	for _, f := range want {
		paths = append(paths, f.Path)
	}
	for _, p := range m.Files {
		if want.Get(p) == nil {
			paths = append(paths, p)
		}
	}
	ids := newAccounts(root)
	t, err := openTree(root)
	if errors.Is(err, fs.ErrNotExist) {
		return have, nil // nothing there yet
	}
	if err != nil {
		return have, err
	}
	defer t.close()
	for _, p := range paths {
		full := filepath.Join(root, p)
		r, rel, err := t.at(p)
		var b []byte
		var st fs.FileInfo
		if err == nil {
			b, st, err = readWithInfo(r, rel)
		}
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return have, fmt.Errorf("reading %s: %w", full, err)
		}
		e := Existing{Mode: st.Mode(), Content: b}
		if f := want.Get(p); f != nil {
			e.Owner, e.Group = ownerAsFound(ids, *f, st)
		}
		have.Files[p] = e
	}
	return have, nil
}

// readWithInfo reads the file at path beneath r and its mode and owner,
// from one open file.
func readWithInfo(r *os.Root, path string) ([]byte, fs.FileInfo, error) {
	f, err := r.Open(path)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, nil, err
	}
	var b bytes.Buffer
	b.Grow(int(st.Size()) + bytes.MinRead) // one read for the file, one that finds its end
	if _, err := b.ReadFrom(f); err != nil {
		return nil, nil, err
	}
	return b.Bytes(), st, nil
}

// ReadManifest reads the manifest under root; a missing one is empty.
func ReadManifest(root string) (Manifest, error) {
	var m Manifest
	b, err := os.ReadFile(filepath.Join(root, ManifestPath))
	if errors.Is(err, fs.ErrNotExist) {
		return m, nil
	}
	if err != nil {
		return m, fmt.Errorf("reading the manifest: %w", err)
	}
	if err := json.Unmarshal(b, &m); err != nil {
		return m, fmt.Errorf("reading the manifest %s: %w (move it away: sitevpn then owns only what it writes next)", filepath.Join(root, ManifestPath), err)
	}
	// Owned, and so removable, is only what has the name and place of a
	// file sitevpn writes: a manifest naming anything else was not
	// written by sitevpn.
	m.Files = slices.DeleteFunc(m.Files, func(p string) bool { return !render.Owns(p) })
	return m, nil
}
