package identity

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Rotate keeps the old key beside the new one (both 0600), refuses a
// second rotation until the first is finished, and FinishRotation drops
// the old key only for a configuration that runs the new one.
func TestRotate(t *testing.T) {
	dir := t.TempDir()
	oldPub, err := WriteNewKey(filepath.Join(dir, KeyFile))
	if err != nil {
		t.Fatal(err)
	}
	newPub, err := Rotate(dir)
	if err != nil {
		t.Fatal(err)
	}
	cur, err := ReadPrivateKey(filepath.Join(dir, KeyFile))
	if err != nil || cur.PublicKey() != newPub || newPub == oldPub {
		t.Fatalf("private.key after the rotation: %v, %v", cur.PublicKey(), err)
	}
	old, err := ReadPrivateKey(filepath.Join(dir, OldKeyFile))
	if err != nil || old.PublicKey() != oldPub {
		t.Fatalf("private.key.old: %v, %v", old.PublicKey(), err)
	}
	if _, err := Rotate(dir); err == nil || !strings.Contains(err.Error(), "unfinished") {
		t.Errorf("a second rotation: %v", err)
	}
	if done, err := FinishRotation(dir, NewPrivateKey(old)); done || err != nil {
		t.Errorf("finished by a configuration running the old key: %v %v", done, err)
	}
	if done, err := FinishRotation(dir, NewPrivateKey(cur)); !done || err != nil {
		t.Errorf("not finished by a configuration running the new key: %v %v", done, err)
	}
	if _, err := os.Stat(filepath.Join(dir, OldKeyFile)); !os.IsNotExist(err) {
		t.Errorf("private.key.old after the rotation finished: %v", err)
	}
	if done, err := FinishRotation(dir, NewPrivateKey(cur)); done || err != nil {
		t.Errorf("with no rotation under way: %v %v", done, err)
	}
}
