//go:build linux

package link

import (
	"context"
	"errors"
	"fmt"

	"github.com/vishvananda/netlink"
	"golang.zx2c4.com/wireguard/wgctrl/wgtypes"

	"github.com/sitevpn/sitevpn/internal/plan"
)

// CreateTunnel creates t's link in the private namespace with its UDP
// socket in the main one, configures it (private key, ListenPort, its one
// peer), adds its transit addresses and sets it up. netns mode only: in
// vrf mode networkd creates devices.
//
// The link is asked for from the main namespace with IFLA_NET_NS_FD
// naming the private one: the kernel makes the device there, while
// WireGuard binds its sockets in the namespace the request came from (its
// "creating" namespace), the same as creating it in main and moving it,
// which is what the article does. Made in one step, the link never shows
// up in the main namespace: networkd and udev there never see it (so
// networkd's configuration need not list the tunnels, and adding one
// needs no networkd reload), and no move has to wait out RCU grace
// periods.
//
// It is all or nothing: if a step fails, the link is deleted again and
// the error says which step. A wireguard link of that name in the main
// namespace was made there by hand or left by an interrupted create of an
// older sitevpn (which created tunnels there and moved them): it never
// carried traffic in the private namespace, so it is replaced.
func (k *Kernel) CreateTunnel(ctx context.Context, t plan.Tunnel) (err error) {
	name := t.Interface
	if !k.netns {
		return opErr("create", name, fmt.Errorf("%w in vrf mode: networkd creates the devices", ErrUnsupported))
	}
	if k.key == (wgtypes.Key{}) {
		return opErr("create", name, errNoKey)
	}
	peer, err := peerConfig(t.Peer)
	if err != nil {
		return opErr("create", name, err)
	}
	if err := k.begin(ctx); err != nil {
		return opErr("create", name, err)
	}
	defer k.end(&err)
	priv, err := k.private()
	if err != nil {
		return opErr("create", name, err)
	}

	// Check both namespaces before making anything, so that a refusal
	// leaves no trace.
	if _, err := lookup(priv, name); err == nil {
		return opErr("create", name, fmt.Errorf("a link of that name is already in namespace %s", priv.name))
	} else if !errors.Is(err, errNoLink) {
		return opErr("create", name, err)
	}
	if l, err := lookup(k.main, name); err == nil {
		if !isWireGuard(l) {
			return opErr("create", name, fmt.Errorf("a %s link of that name is in the main namespace: rename or remove it", kind(l)))
		}
		if err := k.main.h.LinkDel(l); err != nil {
			return opErr("create", name, fmt.Errorf("deleting the leftover in the main namespace: %w", err))
		}
	} else if !errors.Is(err, errNoLink) {
		return opErr("create", name, err)
	}

	attrs := netlink.NewLinkAttrs()
	attrs.Name = name
	attrs.MTU = t.MTU
	attrs.Namespace = netlink.NsFd(priv.ns)
	if err := k.main.h.LinkAdd(&netlink.Wireguard{LinkAttrs: attrs}); err != nil {
		return opErr("create", name, fmt.Errorf("adding the link: %w", err))
	}
	if err := k.build(priv, t, peer); err != nil {
		return opErr("create", name, errors.Join(err, undoCreate(k.main, priv, name)))
	}
	return nil
}

// build takes a link just added to the private namespace to its working
// state.
func (k *Kernel) build(priv *space, t plan.Tunnel, peer wgtypes.PeerConfig) error {
	name := t.Interface
	key, port := k.key, t.ListenPort
	// A new device has no peers: ReplacePeers stays false, as everywhere.
	// The port is bound in the device's creating namespace, main.
	cfg := wgtypes.Config{PrivateKey: &key, ListenPort: &port, Peers: []wgtypes.PeerConfig{peer}}
	if err := configureIn(priv, name, cfg); err != nil {
		return fmt.Errorf("configuring WireGuard: %w", err)
	}
	l, err := lookup(priv, name)
	if err != nil {
		return fmt.Errorf("after the create: %w", err)
	}
	for _, p := range t.Addresses() {
		if err := priv.h.AddrReplace(l, nlAddr(p, true)); err != nil {
			return fmt.Errorf("adding address %s: %w", p, err)
		}
	}
	if err := priv.h.LinkSetUp(l); err != nil {
		return fmt.Errorf("setting up: %w", err)
	}
	return nil
}

// undoCreate deletes a half-made tunnel wherever it is; nil if it is gone.
func undoCreate(main, priv *space, name string) error {
	for _, s := range []*space{priv, main} {
		l, err := lookup(s, name)
		if errors.Is(err, errNoLink) {
			continue
		}
		if err == nil && isWireGuard(l) {
			err = s.h.LinkDel(l)
		}
		if err != nil {
			return fmt.Errorf("undoing the create in namespace %s: %w", s.name, err)
		}
	}
	return nil
}

// DeleteTunnel deletes a tunnel link from the private namespace or, with
// inMain (netns mode), from the main one. A missing link is not an
// error; a link of that name that is not WireGuard is never deleted.
func (k *Kernel) DeleteTunnel(ctx context.Context, name string, inMain bool) (err error) {
	if err := k.begin(ctx); err != nil {
		return opErr("delete", name, err)
	}
	defer k.end(&err)
	s := k.main
	if k.netns && !inMain {
		p, err := k.private()
		if errors.Is(err, errNoNamespace) {
			return nil // no namespace, no link in it
		}
		if err != nil {
			return opErr("delete", name, err)
		}
		s = p
	}
	l, err := lookup(s, name)
	if errors.Is(err, errNoLink) {
		return nil
	}
	if err != nil {
		return opErr("delete", name, err)
	}
	if !isWireGuard(l) {
		return opErr("delete", name, fmt.Errorf("refusing to delete a %s link in namespace %s: not a tunnel", kind(l), s.name))
	}
	if err := s.h.LinkDel(l); err != nil {
		return opErr("delete", name, err)
	}
	return nil
}
