package apply

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// On a gateway (root "/") a directory reached through an absolute symlink
// (/etc/bird moved to another disk) is written, read, backed up and
// removed through it; beneath any other root the same link is refused,
// since it may lead out of the root.
func TestAbsoluteSymlinkFollowedOnlyBeneathSlash(t *testing.T) {
	dir := t.TempDir()
	moved := filepath.Join(dir, "srv", "bird")
	if err := os.MkdirAll(moved, 0o755); err != nil {
		t.Fatal(err)
	}
	etc := filepath.Join(dir, "etc")
	if err := os.MkdirAll(etc, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(moved, filepath.Join(etc, "bird")); err != nil {
		t.Fatal(err)
	}
	// beneath "/": the path relative to it, as apply's paths are.
	rel := strings.TrimPrefix(filepath.Join(etc, "bird", "new", "sitevpn.conf"), "/")
	if err := writeIn("/", rel, []byte("conf\n"), 0o640, -1, -1); err != nil {
		t.Fatalf("writing through the link beneath /: %v", err)
	}
	if b, err := os.ReadFile(filepath.Join(moved, "new", "sitevpn.conf")); err != nil || string(b) != "conf\n" {
		t.Fatalf("the file is not where the link leads: %q %v", b, err)
	}
	tx := &tx{root: "/"}
	if err := tx.save(rel); err != nil || len(tx.backups) != 1 || string(tx.backups[0].old) != "conf\n" {
		t.Fatalf("backing it up: %v %+v", err, tx.backups)
	}
	if err := removeFile("/", rel); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(moved, "new", "sitevpn.conf")); !os.IsNotExist(err) {
		t.Errorf("removed through the link: still there (%v)", err)
	}
	// The same link beneath the temporary root: refused.
	if err := writeIn(dir, "etc/bird/sitevpn.conf", []byte("conf\n"), 0o640, -1, -1); err == nil {
		t.Errorf("an absolute link beneath %s was followed", dir)
	}
}
