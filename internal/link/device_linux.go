//go:build linux

package link

import (
	"context"
	"errors"
	"fmt"
	"io/fs"

	"golang.zx2c4.com/wireguard/wgctrl"
	"golang.zx2c4.com/wireguard/wgctrl/wgtypes"

	"github.com/sitevpn/sitevpn/internal/plan"
)

// ConfigureDevice sets the device's private key and ListenPort and nothing
// else. The kernel skips an identical key and an unchanged port, so
// calling it with the current values disturbs nothing.
func (k *Kernel) ConfigureDevice(ctx context.Context, name string, listenPort int) error {
	if listenPort < 0 || listenPort > 65535 {
		return opErr("configure", name, fmt.Errorf("ListenPort %d out of range", listenPort))
	}
	if k.key == (wgtypes.Key{}) {
		return opErr("configure", name, errNoKey)
	}
	key := k.key
	return k.configure(ctx, "configure", name, wgtypes.Config{PrivateKey: &key, ListenPort: &listenPort})
}

// SetPeer adds p or updates it in place (endpoint, AllowedIPs, keepalive):
// the device's other peers and p's session are left alone.
func (k *Kernel) SetPeer(ctx context.Context, name string, p plan.Peer) error {
	pc, err := peerConfig(p)
	if err != nil {
		return opErr("set peer", name, err)
	}
	return k.configure(ctx, "set peer", name, wgtypes.Config{Peers: []wgtypes.PeerConfig{pc}})
}

// RemovePeer removes the peer with that key, if there is one; the others
// are left alone.
func (k *Kernel) RemovePeer(ctx context.Context, name string, key wgtypes.Key) error {
	return k.configure(ctx, "remove peer", name, wgtypes.Config{Peers: []wgtypes.PeerConfig{{PublicKey: key, Remove: true}}})
}

// configure applies cfg to device name where tunnels live. cfg never has
// ReplacePeers: on a live device that would drop every session.
func (k *Kernel) configure(ctx context.Context, op, name string, cfg wgtypes.Config) error {
	if err := k.begin(ctx); err != nil {
		return opErr(op, name, err)
	}
	defer k.mu.Unlock()
	s, release, err := k.target()
	if err != nil {
		return opErr(op, name, err)
	}
	defer release()
	return opErr(op, name, configureIn(s, name, cfg))
}

func configureIn(s *space, name string, cfg wgtypes.Config) error {
	err := withWG(s, func(c *wgctrl.Client) error { return c.ConfigureDevice(name, cfg) })
	if errors.Is(err, fs.ErrNotExist) {
		// wgctrl says ErrNotExist both for no such link and for a link
		// that is not WireGuard.
		return fmt.Errorf("no WireGuard device of that name in namespace %s: %w", s.name, err)
	}
	return err
}

// withWG runs fn with a wgctrl client created inside s's namespace.
func withWG(s *space, fn func(*wgctrl.Client) error) error {
	return inNamespace(s.ns, func() error {
		c, err := wgctrl.New()
		if err != nil {
			return fmt.Errorf("wgctrl: %w", err)
		}
		defer c.Close()
		return fn(c)
	})
}
