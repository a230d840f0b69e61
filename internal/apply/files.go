package apply

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"syscall"

	"github.com/sitevpn/sitevpn/internal/atomicfile"
	"github.com/sitevpn/sitevpn/render"
)

// writeScratch writes a file beneath root that lives only for this apply
// (a candidate to check): no temp file, no fsync, since a crash loses
// nothing. Whatever is at path is removed first and the file is made anew
// (O_EXCL: never through a symlink), so a link planted there (in a
// directory another user may write) can neither redirect nor truncate
// another file.
func writeScratch(root, path string, content []byte, mode fs.FileMode, uid, gid int) error {
	return inRoot(root, path, func(r *os.Root, rel string) error {
		if err := r.MkdirAll(filepath.Dir(rel), 0o755); err != nil {
			return err
		}
		if err := r.Remove(rel); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		f, err := r.OpenFile(rel, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
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
	})
}

// ownerAsFound is what Diff compares with f's owner and group: "" when
// they are not compared (not on a real root, "/", where services read
// the files as their own users; not root; a name that does not resolve),
// f's own names when the file's ids are f's, else the names (or numbers)
// of the ids it has.
func ownerAsFound(ids *accounts, f render.File, st fs.FileInfo) (string, string) {
	sys, ok := st.Sys().(*syscall.Stat_t)
	if !ok || ids.root != "/" && !ownersUnderAnyRoot {
		return "", ""
	}
	uid, gid, err := ids.of(f)
	switch {
	case err != nil || uid < 0:
		return "", ""
	case int(sys.Uid) == uid && int(sys.Gid) == gid:
		return f.Owner, f.Group
	}
	owner, group := strconv.Itoa(int(sys.Uid)), strconv.Itoa(int(sys.Gid))
	if u, err := user.LookupId(owner); err == nil {
		owner = u.Username
	}
	if g, err := user.LookupGroupId(group); err == nil {
		group = g.Name
	}
	return owner, group
}

// ownersUnderAnyRoot lets tests, whose root is a temporary directory,
// check owners as on "/".
var ownersUnderAnyRoot = false

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

// accounts is owner, each owner and group pair resolved once per apply:
// every lookup reads /etc/passwd or /etc/group, and an apply compares the
// owner of every rendered file, two per tunnel (at 300 tunnels the
// lookups were most of reading the files, issue 13).
type accounts struct {
	root string
	ids  map[[2]string][2]int // by owner and group
}

func newAccounts(root string) *accounts {
	return &accounts{root: root, ids: map[[2]string][2]int{}}
}

// of is owner(a.root, f), from what a has resolved.
func (a *accounts) of(f render.File) (int, int, error) {
	k := [2]string{f.Owner, f.Group}
	if id, ok := a.ids[k]; ok {
		return id[0], id[1], nil
	}
	uid, gid, err := owner(a.root, f)
	if err == nil {
		a.ids[k] = [2]int{uid, gid}
	}
	return uid, gid, err
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

func removeFile(root, path string) error {
	err := inRoot(root, path, func(r *os.Root, rel string) error { return r.Remove(rel) })
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	return err
}

// writeIn is atomicfile.WriteIn beneath root.
func writeIn(root, path string, content []byte, mode fs.FileMode, uid, gid int) error {
	return inRoot(root, path, func(r *os.Root, rel string) error { return atomicfile.WriteIn(r, rel, content, mode, uid, gid) })
}
