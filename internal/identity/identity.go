// Package identity reads this gateway's WireGuard private key and finds
// which gateway of the fleet it is. The private key never leaves this
// package in a string: errors name the file, never its content.
package identity

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"

	"golang.zx2c4.com/wireguard/wgctrl/wgtypes"

	"github.com/sitevpn/sitevpn/internal/fleet"
	"github.com/sitevpn/sitevpn/internal/safefile"
)

// KeyFile is where the private key lives, relative to the config directory.
const KeyFile = "private.key"

// ErrNoKey is returned (wrapped) when the key file does not exist.
var ErrNoKey = errors.New("no private key")

// ReadPrivateKey reads a WireGuard private key file. It refuses a file that
// group or others can read: a leaked key lets anyone impersonate the gateway.
func ReadPrivateKey(path string) (wgtypes.Key, error) {
	st, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return wgtypes.Key{}, fmt.Errorf("reading private key %s: %w: create it with `sitevpn genkey --out %s` (mode 0600)", path, ErrNoKey, path)
	}
	if err != nil {
		return wgtypes.Key{}, fmt.Errorf("reading private key: %w", err)
	}
	if st.Mode().Perm()&0o077 != 0 {
		return wgtypes.Key{}, fmt.Errorf("private key %s has mode %04o, readable by group or others: run `chmod 600 %s`", path, st.Mode().Perm(), path)
	}
	// A key is one line: anything longer is not one, and a FIFO or device
	// in its place must not hang or flood the daemon.
	b, err := safefile.Read(path, 1024)
	if err != nil {
		return wgtypes.Key{}, fmt.Errorf("reading private key: %w", err)
	}
	k, err := ParsePrivateKey(string(b))
	if err != nil {
		return wgtypes.Key{}, fmt.Errorf("private key %s: %w", path, err)
	}
	return k, nil
}

// ParsePrivateKey parses a base64 key as `wg genkey` writes it. Its error
// never quotes the input.
func ParsePrivateKey(s string) (wgtypes.Key, error) {
	k, err := wgtypes.ParseKey(strings.TrimSpace(s))
	if err != nil {
		return wgtypes.Key{}, errors.New("not a WireGuard key (one line of 44 base64 characters, as `sitevpn genkey` or `wg genkey` write)")
	}
	return k, nil
}

// Find returns the gateway this host is: the one named by override when it
// is not empty, else the one whose public_key matches the private key.
func Find(f *fleet.Fleet, private wgtypes.Key, keyPath, override string) (*fleet.Gateway, error) {
	if override != "" {
		if g := f.Gateway(override); g != nil {
			return g, nil
		}
		return nil, fmt.Errorf("--gateway %q: no such gateway in the fleet (gateways: %s)", override, names(f))
	}
	pub := private.PublicKey()
	for _, g := range f.Gateways() {
		if g.PublicKey == pub {
			return g, nil
		}
	}
	return nil, fmt.Errorf("this host's public key %s (from %s) matches no gateway of the fleet: set it as the public_key of this gateway's block in the fleet definition, or name the gateway with --gateway", pub, keyPath)
}

func names(f *fleet.Fleet) string {
	var n []string
	for _, g := range f.Gateways() {
		n = append(n, g.Name)
	}
	if len(n) == 0 {
		return "none"
	}
	return strings.Join(n, ", ")
}
