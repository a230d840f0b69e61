package identity

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"golang.zx2c4.com/wireguard/wgctrl/wgtypes"
)

// OldKeyFile keeps, during a key rotation, the key being replaced: until a
// configuration with the new key is confirmed, a rollback can still run
// the old one.
const OldKeyFile = "private.key.old"

// Rotate replaces dir's private key with a new one, keeping the old one as
// OldKeyFile, and returns the new public key. It refuses while a rotation
// is unfinished (OldKeyFile exists).
func Rotate(dir string) (wgtypes.Key, error) {
	cur, old, next := filepath.Join(dir, KeyFile), filepath.Join(dir, OldKeyFile), filepath.Join(dir, KeyFile+".new")
	if _, err := os.Lstat(old); err == nil {
		return wgtypes.Key{}, fmt.Errorf("a key rotation is unfinished (%s exists): push the fleet with the new public key and wait until it is confirmed, or put %s back as %s", old, old, KeyFile)
	}
	if _, err := ReadPrivateKey(cur); err != nil {
		return wgtypes.Key{}, err
	}
	os.Remove(next) // a rotation cut short before the rename
	pub, err := WriteNewKey(next)
	if err != nil {
		return wgtypes.Key{}, err
	}
	// The old key stays under its second name (a hard link: same file,
	// same mode), the new one takes the first by rename: at no moment is
	// there no private.key.
	if err := os.Link(cur, old); err != nil {
		os.Remove(next)
		return wgtypes.Key{}, fmt.Errorf("keeping the old key: %w", err)
	}
	if err := os.Rename(next, cur); err != nil {
		os.Remove(old)
		os.Remove(next)
		return wgtypes.Key{}, fmt.Errorf("putting the new key in place: %w", err)
	}
	return pub, nil
}

// FinishRotation removes dir's OldKeyFile once a configuration that runs
// key (not the old one) is confirmed; it reports whether it did.
func FinishRotation(dir string, key PrivateKey) (bool, error) {
	old := filepath.Join(dir, OldKeyFile)
	if _, err := os.Lstat(old); errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	k, err := ReadPrivateKey(old)
	if err != nil || NewPrivateKey(k).Equal(key) {
		return false, err
	}
	return true, os.Remove(old)
}
