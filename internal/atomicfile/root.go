package atomicfile

import (
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
)

// WriteIn is Write for name inside root: every component is resolved
// beneath root (os.Root: openat2 with RESOLVE_BENEATH on Linux), so a
// symlink in the tree can never take the write, or its directories,
// outside it.
func WriteIn(root *os.Root, name string, content []byte, mode fs.FileMode, uid, gid int) error {
	dir := filepath.Dir(name)
	if err := root.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	tmp, f, err := createTemp(root, dir, "."+filepath.Base(name)+".sitevpn-")
	if err != nil {
		return err
	}
	if err := errors.Join(fill(f, content, mode, uid, gid), f.Close()); err != nil {
		root.Remove(tmp)
		return err
	}
	if err := root.Rename(tmp, name); err != nil {
		root.Remove(tmp)
		return err
	}
	d, err := root.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// createTemp makes a new file named prefix and a random suffix in dir,
// beneath root, as os.CreateTemp does outside one.
func createTemp(root *os.Root, dir, prefix string) (string, *os.File, error) {
	for range 100 {
		name := filepath.Join(dir, fmt.Sprintf("%s%08x", prefix, rand.Uint32()))
		f, err := root.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		return name, f, err
	}
	return "", nil, fmt.Errorf("%s: no free temporary name for %s*", dir, prefix)
}
