package apply

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

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
	paths := append([]string(nil), m.Files...)
	for _, f := range want {
		paths = append(paths, f.Path)
	}
	for _, p := range paths {
		full := filepath.Join(root, p)
		st, err := os.Stat(full)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return have, fmt.Errorf("reading %s: %w", full, err)
		}
		b, err := os.ReadFile(full)
		if err != nil {
			return have, fmt.Errorf("reading %s: %w", full, err)
		}
		e := Existing{Mode: st.Mode(), Content: b}
		if f := want.Get(p); f != nil {
			e.Owner, e.Group = ownerAsFound(root, *f, st)
		}
		have.Files[p] = e
	}
	return have, nil
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
	return m, nil
}
