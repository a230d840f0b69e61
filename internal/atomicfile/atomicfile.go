// Package atomicfile replaces files so that a crash or a reader never
// sees a mix: the one writer of every file sitevpn puts on a system
// (applied files, its state, rendered trees).
package atomicfile

import (
	"io/fs"
	"os"
	"path/filepath"
)

// Write replaces path with content: a temporary file in the same
// directory with its final mode (and owner, when uid >= 0), fsynced,
// renamed over the old one, then the directory fsynced. A crash leaves
// the old file or the new one, never a mix, and the content is never
// readable under a wider mode than mode, even for a moment.
func Write(path string, content []byte, mode fs.FileMode, uid, gid int) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".sitevpn-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // after a successful rename there is nothing to remove
	if err := fill(tmp, content, mode, uid, gid); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return err
	}
	return syncDir(dir)
}

// fill sets the mode and owner before writing the content, so that a
// secret is never in a file others may read.
func fill(f *os.File, content []byte, mode fs.FileMode, uid, gid int) error {
	if err := f.Chmod(mode); err != nil {
		return err
	}
	if uid >= 0 {
		if err := f.Chown(uid, gid); err != nil {
			return err
		}
	}
	if _, err := f.Write(content); err != nil {
		return err
	}
	return f.Sync()
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
