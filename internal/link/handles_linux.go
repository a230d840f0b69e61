//go:build linux

package link

import (
	"errors"
	"io/fs"
)

// The Kernel keeps its handles (netlink sockets and wgctrl clients, in
// the main namespace and in the private one) from call to call: opening
// a netlink handle in a namespace costs three sockets and six setns,
// more than most actions themselves, and apply runs one action per call.
// Kept handles can go wrong in two ways, each handled here: the private
// namespace is deleted or re-created (see private), or a socket fails
// (see end). Everything here runs under k.mu.

// private is the private namespace, opened at first use and kept while
// /run/netns/<namespace> still names it. A namespace deleted (or deleted
// and created again, by hand or by its unit's restart) is let go at the
// next call: handles kept on it would go on working on the old namespace,
// which they keep alive, so a tunnel made or a LAN moved through them
// would vanish with it. A missing namespace is errNoNamespace.
func (k *Kernel) private() (*space, error) {
	if k.priv != nil && !k.priv.isNamed(k.namespace) {
		k.closePrivate()
	}
	if k.priv == nil {
		p, err := openPrivate(k.namespace)
		if err != nil {
			return nil, err
		}
		k.priv = p
		k.signalMoved()
	}
	return k.priv, nil
}

// signalMoved tells a Watch that the private namespace changed.
func (k *Kernel) signalMoved() {
	select {
	case k.moved <- struct{}{}:
	default:
	}
}

// target is where tunnels and LANs live once set up: the private
// namespace in netns mode, the main one in vrf mode.
func (k *Kernel) target() (*space, error) {
	if !k.netns {
		return k.main, nil
	}
	return k.private()
}

func (k *Kernel) closePrivate() {
	if k.priv != nil {
		k.priv.close()
		k.priv = nil
		k.signalMoved()
	}
}

// end finishes a call that begin started: after a failure it drops the
// kept handles, so that the next call opens them anew, then unlocks. A
// missing link, device or namespace is the kernel's answer, not a broken
// handle; any other failure may be a socket's, and telling them apart is
// not worth it: reopening costs what every call used to.
func (k *Kernel) end(err *error) {
	if *err != nil && !errors.Is(*err, fs.ErrNotExist) {
		k.main.dropHandles()
		k.closePrivate()
	}
	k.mu.Unlock()
}
