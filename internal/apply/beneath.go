package apply

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
)

// beneath opens, beneath root, the directories of the files apply reads and
// writes. Beneath a test's or a staging root every path must resolve inside
// it (os.Root: a symlink out of it, or an absolute one, is an error). On a
// gateway the root is "/", which nothing can escape: there the directories
// are resolved first, so that an absolute symlink on the way (/var/run ->
// /run, /etc/bird moved to another disk) is followed, each directory once.
type beneath struct {
	whole *os.Root           // beneath any root but "/"
	dirs  map[string]dirRoot // beneath "/", by directory of the path
}

type dirRoot struct {
	root *os.Root
	rel  string // the directory beneath root: the part not there yet
}

func openTree(root string) (*beneath, error) {
	if filepath.Clean(root) == "/" {
		return &beneath{dirs: map[string]dirRoot{}}, nil
	}
	r, err := os.OpenRoot(root)
	if err != nil {
		return nil, err
	}
	return &beneath{whole: r}, nil
}

// at returns the os.Root to open path (relative to the tree's root) in,
// and path relative to it.
func (t *beneath) at(path string) (*os.Root, string, error) {
	if t.whole != nil {
		return t.whole, path, nil
	}
	dir := filepath.Dir(filepath.Clean(path))
	d, ok := t.dirs[dir]
	if !ok {
		real, missing, err := resolveExisting(filepath.Join("/", dir))
		if err != nil {
			return nil, "", err
		}
		r, err := os.OpenRoot(real)
		if err != nil {
			return nil, "", err
		}
		d = dirRoot{r, missing}
		t.dirs[dir] = d
	}
	return d.root, filepath.Join(d.rel, filepath.Base(path)), nil
}

// resolveExisting resolves the longest part of dir that exists, every
// symlink followed, and returns it with the rest (to be created).
func resolveExisting(dir string) (real, missing string, err error) {
	for d, rest := dir, ""; ; d, rest = filepath.Dir(d), filepath.Join(filepath.Base(d), rest) {
		real, err := filepath.EvalSymlinks(d)
		if err == nil {
			return real, rest, nil
		}
		if !errors.Is(err, fs.ErrNotExist) || d == "/" {
			return "", "", err
		}
	}
}

func (t *beneath) close() {
	if t.whole != nil {
		t.whole.Close()
	}
	for _, d := range t.dirs {
		d.root.Close()
	}
}

// inRoot runs f on the os.Root that holds path beneath root (beneath), with
// path relative to it.
func inRoot(root, path string, f func(r *os.Root, rel string) error) error {
	t, err := openTree(root)
	if err != nil {
		return err
	}
	defer t.close()
	r, rel, err := t.at(path)
	if err != nil {
		return err
	}
	return f(r, rel)
}
