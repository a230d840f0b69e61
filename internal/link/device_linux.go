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
func (k *Kernel) configure(ctx context.Context, op, name string, cfg wgtypes.Config) (err error) {
	if err := k.begin(ctx); err != nil {
		return opErr(op, name, err)
	}
	defer k.end(&err)
	s, err := k.target()
	if err != nil {
		return opErr(op, name, err)
	}
	return opErr(op, name, configureIn(s, name, cfg))
}

func configureIn(s *space, name string, cfg wgtypes.Config) error {
	err := withWG(s, func(c *wgCall) error { return c.configure(name, cfg) })
	if errors.Is(err, fs.ErrNotExist) {
		// wgctrl says ErrNotExist both for no such link and for a link
		// that is not WireGuard.
		return fmt.Errorf("no WireGuard device of that name in namespace %s: %w", s.name, err)
	}
	return err
}

// withWG runs fn with s's wgctrl client, made inside s's namespace at
// first use: its generic netlink socket stays bound to the namespace it
// was made in, so later calls use it from any thread without entering
// the namespace again.
//
// The client is kept only while it reaches kernel WireGuard devices: one
// made before the wireguard module was loaded (a health check before the
// first tunnel) has no kernel backend and would say every device is
// missing for good, as would one whose module was reloaded. Until a call
// through it finds a device, and after any failure, it is closed after
// use, so the next call makes a new one.
func withWG(s *space, fn func(*wgCall) error) error {
	if s.wg == nil {
		err := inNamespace(s.ns, func() error {
			c, err := wgctrl.New()
			s.wg = c
			return err
		})
		if err != nil {
			s.wg = nil
			return fmt.Errorf("wgctrl: %w", err)
		}
	}
	call := &wgCall{c: s.wg}
	err := fn(call)
	if err != nil || !call.reached {
		s.wg.Close()
		s.wg = nil
	}
	return err
}

// wgCall is a wgctrl client for one call, noting whether it reached a
// kernel device (see withWG).
type wgCall struct {
	c       *wgctrl.Client
	reached bool
}

func (w *wgCall) device(name string) (*wgtypes.Device, error) {
	d, err := w.c.Device(name)
	if err == nil && d.Type == wgtypes.LinuxKernel {
		w.reached = true
	}
	return d, err
}

// configure counts any success as reaching the kernel: the devices
// sitevpn configures are the kernel's (made by it or by networkd).
func (w *wgCall) configure(name string, cfg wgtypes.Config) error {
	err := w.c.ConfigureDevice(name, cfg)
	if err == nil {
		w.reached = true
	}
	return err
}
