package apply

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"syscall"

	"github.com/sitevpn/sitevpn/render"
)

// journalPath is the list of service actions an apply still owes. It is
// written before any file changes and removed once every phase is done,
// so an apply killed between writing files and reloading services
// finishes the reloads on the next run, although the files then look up
// to date.
const journalPath = render.StateDir + "/pending.json"

// tx is one apply's transaction: it owes the services in the journal
// before a file changes, owns every file in the manifest before writing
// it, keeps what each file was, and on failure puts it back as it was:
// content, mode, owner and group.
type tx struct {
	root    string
	log     *slog.Logger
	backups []backup
	owed    []Action // service actions not done yet: the journal's content
}

type backup struct {
	path     string
	old      []byte // nil with existed false: the file did not exist
	existed  bool
	mode     fs.FileMode
	uid, gid int
}

// begin records what the apply owes (the services) and will own (the
// manifest: what it owned and all it is about to write), so that a kill
// from here on is finished by the next apply.
func (t *tx) begin(owed []Action, owned []string) error {
	t.owed = slices.Clone(owed)
	if err := writeJSON(t.root, journalPath, t.owed); err != nil {
		return fmt.Errorf("apply: writing the journal: %w", err)
	}
	if err := writeJSON(t.root, ManifestPath, Manifest{Files: owned}); err != nil {
		return fmt.Errorf("apply: writing the manifest: %w", err)
	}
	return nil
}

// write installs f, after saving what it replaces.
func (t *tx) write(f render.File) error {
	uid, gid, err := owner(t.root, f)
	if err != nil {
		return err
	}
	if err := t.save(f.Path); err != nil {
		return err
	}
	return writeIn(t.root, f.Path, f.Content, f.Mode, uid, gid)
}

// remove removes path, after saving it.
func (t *tx) remove(path string) error {
	if err := t.save(path); err != nil {
		return err
	}
	return removeFile(t.root, path)
}

func (t *tx) save(path string) error {
	var b []byte
	var st fs.FileInfo
	err := inRoot(t.root, path, func(r *os.Root, rel string) error {
		var err error
		b, st, err = readWithInfo(r, rel)
		return err
	})
	if errors.Is(err, fs.ErrNotExist) {
		t.backups = append(t.backups, backup{path: path})
		return nil
	}
	if err != nil {
		return err
	}
	bk := backup{path: path, old: b, existed: true, mode: st.Mode().Perm(), uid: -1, gid: -1}
	if sys, ok := st.Sys().(*syscall.Stat_t); ok && os.Geteuid() == 0 {
		bk.uid, bk.gid = int(sys.Uid), int(sys.Gid)
	}
	t.backups = append(t.backups, bk)
	return nil
}

// paid takes a done service action off the journal, so that a kill later
// in this apply does not make the next one redo it (restarting BIRD twice
// would reset every session for nothing).
func (t *tx) paid(a Action) error {
	i := slices.IndexFunc(t.owed, func(o Action) bool { return o.Kind == a.Kind && o.Target == a.Target })
	if i < 0 {
		return nil
	}
	t.owed = slices.Delete(t.owed, i, i+1)
	if err := writeJSON(t.root, journalPath, t.owed); err != nil {
		return fmt.Errorf("updating the journal: %w", err)
	}
	return nil
}

// restore puts back every file this apply changed, newest first, and
// reports whether there was any.
func (t *tx) restore() bool {
	for i := len(t.backups) - 1; i >= 0; i-- {
		b := t.backups[i]
		var err error
		if !b.existed {
			err = removeFile(t.root, b.path)
		} else {
			err = writeIn(t.root, b.path, b.old, b.mode, b.uid, b.gid)
		}
		if err != nil {
			t.log.Error("restoring a file failed", "path", b.path, "err", err)
		}
	}
	return len(t.backups) > 0
}

// forget drops the journal after a restore whose services were all told
// again: nothing is owed any more.
func (t *tx) forget() { _ = removeFile(t.root, journalPath) }

// commit ends a successful apply: the manifest lists exactly the tree
// (when files changed), and the journal goes, also when nothing was owed
// any more (a kill after the last service action leaves an empty one).
func (t *tx) commit(tree render.Tree, changed bool) error {
	if changed {
		if err := writeJSON(t.root, ManifestPath, Manifest{Files: paths(tree)}); err != nil {
			return fmt.Errorf("apply: writing the manifest: %w", err)
		}
	}
	if err := removeFile(t.root, journalPath); err != nil {
		return fmt.Errorf("apply: clearing the journal: %w", err)
	}
	return nil
}

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
	return writeIn(root, path, append(b, '\n'), 0o644, -1, -1)
}

func union(owned []string, tree render.Tree) []string {
	seen := map[string]bool{}
	var out []string
	for _, p := range append(owned, paths(tree)...) {
		if !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	return out
}

func paths(tree render.Tree) []string {
	out := make([]string, len(tree))
	for i, f := range tree {
		out[i] = f.Path
	}
	return out
}

// errCrash is what a test's injected kill returns.
var errCrash = errors.New("killed (test)")

func isCrash(err error) bool { return errors.Is(err, errCrash) }
