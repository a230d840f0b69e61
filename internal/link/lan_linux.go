//go:build linux

package link

import (
	"context"
	"errors"
	"fmt"
)

// MoveLAN moves a LAN interface from the main namespace into the private
// one (netns mode). The kernel drops the link's addresses and sets it
// down on the way: the caller adds the addresses and sets it up again. A
// link already in the private namespace is not an error.
func (k *Kernel) MoveLAN(ctx context.Context, name string) error {
	if !k.netns {
		return opErr("move", name, fmt.Errorf("%w in vrf mode: networkd puts LANs in the VRF", ErrUnsupported))
	}
	if err := k.begin(ctx); err != nil {
		return opErr("move", name, err)
	}
	defer k.mu.Unlock()
	priv, err := openPrivate(k.namespace)
	if err != nil {
		return opErr("move", name, err)
	}
	defer priv.close()
	l, err := lookup(k.main, name)
	if errors.Is(err, errNoLink) {
		if _, perr := lookup(priv, name); perr == nil {
			return nil // moved already
		}
		return opErr("move", name, fmt.Errorf("%w in the main namespace nor in %s", errNoLink, priv.name))
	}
	if err != nil {
		return opErr("move", name, err)
	}
	if err := k.main.h.LinkSetNsFd(l, int(priv.ns)); err != nil {
		return opErr("move", name, fmt.Errorf("into namespace %s: %w", priv.name, err))
	}
	return nil
}
