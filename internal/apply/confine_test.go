package apply

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sitevpn/sitevpn/render"
)

// Apply under a root that holds a symlink out of it (BIRD's directory
// swapped for a link to another) and a forged manifest (naming a file
// outside the root, and one sitevpn never writes): it fails, writes and
// removes nothing outside the root, and removes no file it did not own.
func TestApplyStaysInsideRoot(t *testing.T) {
	g, tree := desired(t, false)
	outside := t.TempDir()
	victim := filepath.Join(outside, "sitevpn-private.conf")
	mustWrite(t, victim, "keep me")
	mustWrite(t, filepath.Join(outside, "important.conf"), "keep me")
	root := t.TempDir()
	mustWrite(t, filepath.Join(root, "etc/important.conf"), "keep me")
	must(t, os.MkdirAll(filepath.Join(root, "etc"), 0o755))
	must(t, os.Symlink(outside, filepath.Join(root, render.BirdDir)))
	mustWrite(t, filepath.Join(root, ManifestPath), `{"files": ["etc/important.conf", "../`+filepath.Base(outside)+`/important.conf", "etc/bird/sitevpn-private.conf"]}`)

	e, _ := newEngine(t, root)
	_, err := e.Apply(context.Background(), g, tree)
	if err == nil || !strings.Contains(err.Error(), "escapes") {
		t.Errorf("apply through a link out of its root: %v, want an error saying the path escapes it", err)
	}
	for _, p := range []string{victim, filepath.Join(outside, "important.conf"), filepath.Join(root, "etc/important.conf")} {
		if b, err := os.ReadFile(p); err != nil || string(b) != "keep me" {
			t.Errorf("%s: %q %v, want it untouched", p, b, err)
		}
	}
	if entries, _ := os.ReadDir(outside); len(entries) != 2 {
		t.Errorf("files appeared outside the root: %v", entries)
	}
	m, err := ReadManifest(root)
	if err != nil || strings.Contains(strings.Join(m.Files, " "), "important") {
		t.Errorf("the manifest owns %v (%v): only files named as sitevpn's may be owned", m.Files, err)
	}
}

func mustWrite(t *testing.T, path, content string) {
	t.Helper()
	must(t, os.MkdirAll(filepath.Dir(path), 0o755))
	must(t, os.WriteFile(path, []byte(content), 0o644))
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
