package apply

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/sitevpn/sitevpn/render"
)

// checkBird parses a changed BIRD configuration before it is installed,
// so a configuration BIRD would reject never replaces a working one. The
// candidate is written beside the installed file, with its owner and mode,
// where the running BIRD (user bird, its own sandbox) can read it.
func (e *Engine) checkBird(ctx context.Context, tree render.Tree, names render.Names, acts []Action) error {
	for _, a := range acts {
		if a.Kind != WriteFile || !strings.HasPrefix(a.Target, render.BirdDir+"/") {
			continue
		}
		f := *tree.Get(a.Target)
		cand := e.path(candidatePath(a.Target))
		uid, gid, err := owner(e.Root, f)
		if err == nil {
			err = writeScratch(e.Root, candidatePath(a.Target), f.Content, f.Mode, uid, gid)
		}
		if err != nil {
			return &StepError{Step: "check", Action: a, Err: fmt.Errorf("writing the candidate: %w", err)}
		}
		err = e.Bird.Check(ctx, names.BirdSocket, cand)
		if rerr := removeFile(e.Root, candidatePath(a.Target)); err == nil && rerr != nil {
			err = fmt.Errorf("removing the candidate: %w", rerr)
		}
		if err != nil {
			return &StepError{Step: "check", Action: a, Err: err}
		}
	}
	return nil
}

// candidatePath is where checkBird puts target's candidate.
func candidatePath(target string) string {
	return filepath.Join(filepath.Dir(target), "."+filepath.Base(target)+".check")
}

// removeCandidates removes the candidates an apply killed while BIRD
// checked them left behind.
func removeCandidates(root string, tree render.Tree) error {
	for _, f := range tree {
		if !strings.HasPrefix(f.Path, render.BirdDir+"/") {
			continue
		}
		if err := removeFile(root, candidatePath(f.Path)); err != nil {
			return fmt.Errorf("apply: removing a leftover candidate: %w", err)
		}
	}
	return nil
}
