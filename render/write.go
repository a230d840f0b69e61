package render

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/sitevpn/sitevpn/internal/atomicfile"
)

// RenderMarker lists what sitevpn rendered into a directory.
const RenderMarker = ".sitevpn-rendered"

// WriteTree writes tree under dir, as if dir were the root, with each
// file's mode (ownership is apply's: `sitevpn render` runs unprivileged).
// dir must be empty, missing, or rendered into before: then what that
// render put there and this one does not is removed, and WriteTree returns
// those paths, so dir never mixes two renders.
func WriteTree(dir string, tree Tree) ([]string, error) {
	prev, err := previousRender(dir)
	if err != nil {
		return nil, err
	}
	var paths, removed []string
	for _, f := range tree {
		if err := atomicfile.Write(filepath.Join(dir, f.Path), f.Content, f.Mode, -1, -1); err != nil {
			return nil, err
		}
		paths = append(paths, f.Path)
	}
	for _, p := range prev {
		if !slices.Contains(paths, p) && filepath.IsLocal(p) {
			if err := os.Remove(filepath.Join(dir, p)); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return nil, err
			}
			removed = append(removed, p)
		}
	}
	return removed, atomicfile.Write(filepath.Join(dir, RenderMarker), []byte(strings.Join(paths, "\n")+"\n"), 0o644, -1, -1)
}

// previousRender is what sitevpn last rendered into dir; nothing for an
// empty or missing dir, an error for a dir sitevpn did not render.
func previousRender(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) || err == nil && len(entries) == 0 {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	b, err := os.ReadFile(filepath.Join(dir, RenderMarker))
	if errors.Is(err, fs.ErrNotExist) {
		var names []string
		for _, e := range entries[:min(3, len(entries))] {
			names = append(names, e.Name())
		}
		return nil, fmt.Errorf("%s is not empty (%s...) and was not rendered by sitevpn: render into an empty or new directory", dir, strings.Join(names, ", "))
	}
	return strings.Fields(string(b)), err
}
