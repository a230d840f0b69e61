package identity

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/sitevpn/sitevpn/internal/atomicfile"
	"golang.zx2c4.com/wireguard/wgctrl/wgtypes"
)

// OldKeyFile keeps, during a key rotation, the key being replaced: until a
// configuration with the new key is confirmed, a rollback can still run
// the old one. It lives in the daemon's state directory, not beside the
// key: the daemon removes it when the rotation is confirmed, and its
// sandbox keeps /etc/sitevpn read-only for it.
const OldKeyFile = "private.key.old"

// Rotate replaces the private key in keyFile with a new one, keeping the
// old one in oldFile (0600), and returns the new public key. It refuses
// while a rotation is unfinished (oldFile exists).
func Rotate(keyFile, oldFile string) (wgtypes.Key, error) {
	if _, err := os.Lstat(oldFile); err == nil {
		return wgtypes.Key{}, fmt.Errorf("a key rotation is unfinished (%s exists): push the fleet with the new public key and wait until it is confirmed, or, to go back, put %s back as %s", oldFile, oldFile, keyFile)
	}
	cur, err := ReadPrivateKey(keyFile)
	if err != nil {
		return wgtypes.Key{}, err
	}
	next := keyFile + ".new"
	os.Remove(next) // a rotation cut short before the rename
	pub, err := WriteNewKey(next)
	if err != nil {
		return wgtypes.Key{}, err
	}
	// The old key is kept before the new one takes its name by rename: at
	// no moment is there no private.key, nor a key that is nowhere else.
	if err := os.MkdirAll(filepath.Dir(oldFile), 0o700); err != nil {
		os.Remove(next)
		return wgtypes.Key{}, fmt.Errorf("keeping the old key: %w", err)
	}
	if err := atomicfile.Write(oldFile, []byte(cur.String()+"\n"), 0o600, -1, -1); err != nil {
		os.Remove(next)
		return wgtypes.Key{}, fmt.Errorf("keeping the old key in %s: %w", oldFile, err)
	}
	if err := os.Rename(next, keyFile); err != nil {
		os.Remove(oldFile)
		os.Remove(next)
		return wgtypes.Key{}, fmt.Errorf("putting the new key in place: %w", err)
	}
	return pub, nil
}

// FinishRotation removes oldFile once a configuration that runs key (not
// the old one) is confirmed; it reports whether it did.
func FinishRotation(oldFile string, key PrivateKey) (bool, error) {
	if _, err := os.Lstat(oldFile); errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	k, err := ReadPrivateKey(oldFile)
	if err != nil || NewPrivateKey(k).Equal(key) {
		return false, err
	}
	return true, os.Remove(oldFile)
}
