package apply

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/user"
	"path/filepath"
	"strconv"

	"github.com/sitevpn/sitevpn/render"
)

// writeAtomic replaces path with content: a temporary file in the same
// directory, fsynced, renamed over the old one, then the directory
// fsynced, so a crash leaves the old file or the new one, never a mix.
func writeAtomic(path string, content []byte, mode fs.FileMode, uid, gid int) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".sitevpn-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // after a successful rename there is nothing to remove
	if _, err := tmp.Write(content); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(mode); err != nil {
		tmp.Close()
		return err
	}
	if uid >= 0 {
		if err := tmp.Chown(uid, gid); err != nil {
			tmp.Close()
			return err
		}
	}
	if err := tmp.Sync(); err != nil {
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

// writeScratch writes a file that lives only for this apply (a candidate
// to check): no temp file, no fsync, since a crash loses nothing.
func writeScratch(path string, content []byte, mode fs.FileMode, uid, gid int) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	err = f.Chmod(mode)
	if err == nil && uid >= 0 {
		err = f.Chown(uid, gid)
	}
	if err == nil {
		_, err = f.Write(content)
	}
	return errors.Join(err, f.Close())
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// owner resolves a file's owner and group names. Chowning needs root; an
// unprivileged run (tests, packaging into a staging root) leaves files
// owned by whoever runs it. A missing group on a real root is an error:
// the daemon that reads the file could not.
func owner(root string, f render.File) (int, int, error) {
	if os.Geteuid() != 0 {
		return -1, -1, nil
	}
	u, err := user.Lookup(f.Owner)
	if err != nil {
		return -1, -1, lookupErr(root, "user", f.Owner, err)
	}
	g, err := user.LookupGroup(f.Group)
	if err != nil {
		return -1, -1, lookupErr(root, "group", f.Group, err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(g.Gid)
	return uid, gid, nil
}

func lookupErr(root, kind, name string, err error) error {
	if root != "/" {
		return nil
	}
	hint := ""
	switch name {
	case "bird":
		hint = ": install bird2 (it creates the bird user and group)"
	case "systemd-network":
		hint = ": systemd-networkd creates it; is systemd installed?"
	}
	return fmt.Errorf("%s %q: %w%s", kind, name, err, hint)
}

// journal is the list of service actions an apply still owes. It is
// written before any file changes and removed once every step is done, so
// an apply killed between writing files and reloading services finishes
// the reloads on the next run, although the files then look up to date.
const journalPath = render.StateDir + "/pending.json"

func readJournal(root string) ([]Action, error) {
	b, err := os.ReadFile(filepath.Join(root, journalPath))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var acts []Action
	if err := json.Unmarshal(b, &acts); err != nil {
		return nil, fmt.Errorf("reading %s: %w (remove it; the next apply redoes what it can see)", journalPath, err)
	}
	return acts, nil
}

func writeJSON(root, path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return writeAtomic(filepath.Join(root, path), append(b, '\n'), 0o644, -1, -1)
}

func removeFile(root, path string) error {
	err := os.Remove(filepath.Join(root, path))
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	return err
}
