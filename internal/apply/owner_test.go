package apply

import (
	"context"
	"errors"
	"os"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/sitevpn/sitevpn/render"
)

// asRootWithBird skips unless apply can set owners here: root, and a bird
// group (bird2 installed, as make deps does).
func asRootWithBird(t *testing.T) int {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("setting a file's owner needs root")
	}
	g, err := user.LookupGroup("bird")
	if err != nil {
		t.Skip("no bird group: install bird2")
	}
	gid, _ := strconv.Atoi(g.Gid)
	ownersUnderAnyRoot = true
	t.Cleanup(func() { ownersUnderAnyRoot = false })
	return gid
}

func groupOf(t *testing.T, path string) int {
	t.Helper()
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return int(st.Sys().(*syscall.Stat_t).Gid)
}

// A failed apply puts a file back with its owner and group, not as root
// (BIRD, running as bird, could not read it), and an apply repairs a
// file whose owner is wrong although its content and mode are right.
func TestOwnerRestoredAndRepaired(t *testing.T) {
	birdGID := asRootWithBird(t)
	g, tree := desired(t, false)
	e, sys := newEngine(t, t.TempDir())
	if _, err := e.Apply(context.Background(), g, tree); err != nil {
		t.Fatal(err)
	}
	conf := filepath.Join(e.Root, render.BirdDir, "sitevpn-private.conf")
	if got := groupOf(t, conf); got != birdGID {
		t.Fatalf("BIRD's configuration has group %d, want bird (%d)", got, birdGID)
	}

	changed := slices.Clone(tree)
	for i := range changed {
		if strings.HasPrefix(changed[i].Path, render.BirdDir+"/") {
			changed[i].Content = append(slices.Clone(changed[i].Content), "# changed\n"...)
		}
	}
	sys.Fail["bird configure /"+render.BirdDir+"/sitevpn-private.conf"] = errors.New("configure failed")
	if _, err := e.Apply(context.Background(), g, changed); err == nil {
		t.Fatal("the injected failure did not fail the apply")
	}
	if got := groupOf(t, conf); got != birdGID {
		t.Errorf("after the restore, group %d, want bird (%d)", got, birdGID)
	}

	if err := os.Chown(conf, 0, 0); err != nil {
		t.Fatal(err)
	}
	rep, err := e.Apply(context.Background(), g, tree)
	if err != nil || !slices.ContainsFunc(rep.Actions, func(a Action) bool { return strings.HasPrefix(a.Why, "owner root:root -> root:bird") }) {
		t.Errorf("a wrong owner was not repaired: %v, %v", rep.Actions, err)
	}
	if got := groupOf(t, conf); got != birdGID {
		t.Errorf("after the repair, group %d, want bird (%d)", got, birdGID)
	}
	converged(t, e, sys, g, tree)
}

// A symlink planted where the candidate goes is replaced, not followed:
// the file it points to is neither truncated nor written.
func TestCandidateNeverFollowsALink(t *testing.T) {
	dir := t.TempDir()
	victim := filepath.Join(dir, "victim")
	if err := os.WriteFile(victim, []byte("precious"), 0o600); err != nil {
		t.Fatal(err)
	}
	cand := filepath.Join(dir, ".sitevpn-private.conf.check")
	if err := os.Symlink(victim, cand); err != nil {
		t.Fatal(err)
	}
	if err := writeScratch(dir, filepath.Base(cand), []byte("candidate"), 0o640, -1, -1); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(victim); string(b) != "precious" {
		t.Errorf("the link's target was written: %q", b)
	}
	if st, err := os.Lstat(cand); err != nil || !st.Mode().IsRegular() {
		t.Errorf("the candidate is not a regular file: %v %v", st, err)
	}
}
