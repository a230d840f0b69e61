package identity

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Rotate keeps the old key in the state directory (0600), refuses a
// second rotation until the first is finished, and FinishRotation drops
// the old key only for a configuration that runs the new one.
func TestRotate(t *testing.T) {
	dir, state := t.TempDir(), t.TempDir()
	keyFile, oldFile := filepath.Join(dir, KeyFile), filepath.Join(state, "confirm", OldKeyFile)
	oldPub, err := WriteNewKey(keyFile)
	if err != nil {
		t.Fatal(err)
	}
	newPub, err := Rotate(keyFile, oldFile)
	if err != nil {
		t.Fatal(err)
	}
	cur, err := ReadPrivateKey(keyFile)
	if err != nil || cur.PublicKey() != newPub || newPub == oldPub {
		t.Fatalf("private.key after the rotation: %v, %v", cur.PublicKey(), err)
	}
	old, err := ReadPrivateKey(oldFile)
	if err != nil || old.PublicKey() != oldPub {
		t.Fatalf("private.key.old: %v, %v", old.PublicKey(), err)
	}
	if fi, err := os.Stat(oldFile); err != nil {
		t.Fatal(err)
	} else if fi.Mode().Perm() != 0o600 {
		t.Fatalf("private.key.old's mode: %v", fi.Mode())
	}
	if _, err := Rotate(keyFile, oldFile); err == nil || !strings.Contains(err.Error(), "unfinished") {
		t.Errorf("a second rotation: %v", err)
	}
	if done, err := FinishRotation(oldFile, NewPrivateKey(old)); done || err != nil {
		t.Errorf("finished by a configuration running the old key: %v %v", done, err)
	}
	if done, err := FinishRotation(oldFile, NewPrivateKey(cur)); !done || err != nil {
		t.Errorf("not finished by a configuration running the new key: %v %v", done, err)
	}
	if _, err := os.Stat(oldFile); !os.IsNotExist(err) {
		t.Errorf("private.key.old after the rotation finished: %v", err)
	}
	if done, err := FinishRotation(oldFile, NewPrivateKey(cur)); done || err != nil {
		t.Errorf("with no rotation under way: %v %v", done, err)
	}
}
