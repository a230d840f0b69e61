package identity

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"golang.zx2c4.com/wireguard/wgctrl/wgtypes"
)

// PrivateKey is this gateway's WireGuard private key as it travels from
// the key file to the kernel. It never prints: %v, %s, %#v and JSON show
// a placeholder, so no log line, error or state file can carry it.
type PrivateKey struct{ k wgtypes.Key }

// NewPrivateKey wraps k.
func NewPrivateKey(k wgtypes.Key) PrivateKey { return PrivateKey{k} }

// IsZero reports whether there is no key.
func (p PrivateKey) IsZero() bool { return p.k == wgtypes.Key{} }

// Public is the key's public half: what the fleet names the gateway by.
func (p PrivateKey) Public() wgtypes.Key { return p.k.PublicKey() }

// WireGuard is the key itself, for the kernel and the one file networkd
// reads (vrf mode). Nothing else should call it.
func (p PrivateKey) WireGuard() wgtypes.Key { return p.k }

const redacted = "(private key)"

func (PrivateKey) String() string               { return redacted }
func (PrivateKey) GoString() string             { return redacted }
func (PrivateKey) MarshalText() ([]byte, error) { return []byte(redacted), nil }
func (p PrivateKey) Format(f fmt.State, _ rune) { fmt.Fprint(f, redacted) }
func (p PrivateKey) Equal(q PrivateKey) bool    { return p.k == q.k }

// WriteNewKey makes a new private key in path, created with mode 0600 and
// never over an existing file (a gateway's key is its identity), and
// returns its public key.
func WriteNewKey(path string) (wgtypes.Key, error) {
	k, err := wgtypes.GeneratePrivateKey()
	if err != nil {
		return wgtypes.Key{}, err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return wgtypes.Key{}, err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, os.ErrExist) {
		return wgtypes.Key{}, fmt.Errorf("%s exists; not overwriting a gateway's key (remove it first if you really mean to change this gateway's identity)", path)
	}
	if err != nil {
		return wgtypes.Key{}, err
	}
	_, err = fmt.Fprintln(f, k.String())
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(path)
		return wgtypes.Key{}, fmt.Errorf("writing %s: %w", path, err)
	}
	return k.PublicKey(), nil
}

// KeyFromPipeOrFile reads the private key piped into stdin ("sitevpn
// genkey | sitevpn pubkey") or, when nothing is piped (a terminal,
// /dev/null, the empty pipe CI and cron give, or a nil stdin), the key
// file at path.
func KeyFromPipeOrFile(stdin io.Reader, path string) (wgtypes.Key, error) {
	var in []byte
	if stdin != nil && piped(stdin) {
		var err error
		if in, err = io.ReadAll(io.LimitReader(stdin, 1024)); err != nil {
			return wgtypes.Key{}, fmt.Errorf("reading stdin: %w", err)
		}
	}
	if len(bytes.TrimSpace(in)) == 0 {
		return ReadPrivateKey(path)
	}
	k, err := ParsePrivateKey(string(in))
	if err != nil {
		return wgtypes.Key{}, fmt.Errorf("stdin: %w", err)
	}
	return k, nil
}

// piped reports whether r is a pipe or a file rather than a terminal or
// /dev/null.
func piped(r io.Reader) bool {
	f, ok := r.(*os.File)
	if !ok {
		return true // a test's buffer
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice == 0
}
