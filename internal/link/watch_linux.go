//go:build linux

package link

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"

	"github.com/sitevpn/sitevpn/internal/kernel"
)

// watchRetry is how long Watch waits before trying again when it could
// not subscribe, unless the namespace changes first; namespaceCheck how
// often it looks whether /run/netns still names the namespace it
// watches. A namespace deleted, or made anew by its unit, sends no event
// to the old one, which the watch's own socket keeps alive; one stat
// every few seconds finds it.
var (
	watchRetry     = 5 * time.Second // both shortened by tests
	namespaceCheck = 5 * time.Second
)

// Watch reports the kernel's changes to the links of the namespace the
// tunnels live in (the private one in netns mode, the main one in vrf
// mode) until ctx ends. It returns once its first subscription is made,
// or failed (the private namespace may not exist yet), and goes on in
// the background: it follows the private namespace when it is made anew,
// and says All each time it begins again after its first subscription.
//
// The kernel sends these events without being asked, at no cost while
// nothing changes: this is how a link deleted by hand is repaired at once
// without reading every link every few seconds.
func (k *Kernel) Watch(ctx context.Context, c kernel.Changes) {
	w := &watch{k: k, c: c}
	sub, err := w.subscribe()
	go w.run(ctx, sub, err)
}

type watch struct {
	k *Kernel
	c kernel.Changes
}

func (w *watch) failed(err error) {
	if w.c.Failed != nil {
		w.c.Failed(err)
	}
}

// subscription is one namespace watched: its events until done closes.
type subscription struct {
	id    nsID
	links chan netlink.LinkUpdate
	addrs chan netlink.AddrUpdate
	errs  chan error
	names *netlink.Handle // index -> name for address events
	done  chan struct{}
}

func (s *subscription) close() {
	close(s.done)
	s.names.Close()
}

func (w *watch) run(ctx context.Context, sub *subscription, err error) {
	for {
		if sub == nil {
			if err != nil && !errors.Is(err, errNoNamespace) {
				w.failed(err)
			}
			t := time.NewTimer(watchRetry)
			select {
			case <-ctx.Done():
				t.Stop()
				return
			case <-w.k.moved:
			case <-t.C:
			}
			t.Stop()
			if sub, err = w.subscribe(); sub != nil {
				w.c.All()
			}
			continue
		}
		lost := w.follow(ctx, sub)
		sub.close()
		sub = nil
		if ctx.Err() != nil {
			return
		}
		if lost != nil {
			w.failed(lost)
		}
		if sub, err = w.subscribe(); sub != nil {
			w.c.All()
		}
	}
}

// follow passes sub's events on until ctx ends, the namespace changes or
// the subscription fails (then it returns why).
func (w *watch) follow(ctx context.Context, sub *subscription) error {
	var check <-chan time.Time
	if w.k.netns {
		t := time.NewTicker(namespaceCheck)
		defer t.Stop()
		check = t.C
	}
	// Link index -> name, from the link events: an address event names
	// only the index, and asking the kernel for each (an apply creating
	// 300 tunnels sends some 600) competed with the apply itself.
	names := map[int]string{}
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-check:
			if namedID(w.k.namespace) != sub.id {
				return nil
			}
		case <-w.k.moved:
			if id, ok := w.k.targetID(); !ok || id != sub.id {
				return nil
			}
		case err := <-sub.errs:
			return err
		case u, ok := <-sub.links:
			if !ok {
				return errors.New("the link events ended")
			}
			if a := u.Attrs(); u.Header.Type == unix.RTM_DELLINK {
				delete(names, a.Index)
			} else {
				names[a.Index] = a.Name
			}
			w.c.Touched([]string{u.Attrs().Name})
		case u, ok := <-sub.addrs:
			if !ok {
				return errors.New("the address events ended")
			}
			name, known := names[u.LinkIndex]
			if !known {
				// Not heard of since the subscription (or its event is
				// still queued): asked. A link deleted since has no name
				// any more: its own event names it.
				if l, err := sub.names.LinkByIndex(u.LinkIndex); err == nil {
					name, known = l.Attrs().Name, true
					names[u.LinkIndex] = name
				}
			}
			if known {
				w.c.Touched([]string{name})
			}
		}
	}
}

// subscribe subscribes to the link and address events of the namespace
// tunnels live in now; nil and why when it cannot.
func (w *watch) subscribe() (*subscription, error) {
	ns, id, err := w.k.target4watch()
	if err != nil {
		return nil, err
	}
	defer ns.Close()
	s := &subscription{
		id:    id,
		links: make(chan netlink.LinkUpdate, 64),
		addrs: make(chan netlink.AddrUpdate, 64),
		errs:  make(chan error, 1),
		done:  make(chan struct{}),
	}
	fail := func(err error) {
		select {
		case s.errs <- err:
		default:
		}
	}
	// A large buffer: an apply changing hundreds of links sends a burst.
	const buffer = 4 << 20
	lerr := netlink.LinkSubscribeWithOptions(s.links, s.done, netlink.LinkSubscribeOptions{Namespace: &ns, ErrorCallback: fail, ReceiveBufferSize: buffer})
	aerr := netlink.AddrSubscribeWithOptions(s.addrs, s.done, netlink.AddrSubscribeOptions{Namespace: &ns, ErrorCallback: fail, ReceiveBufferSize: buffer})
	h, herr := netlink.NewHandleAt(ns)
	if err := errors.Join(lerr, aerr, herr); err != nil {
		close(s.done)
		if h != nil {
			h.Close()
		}
		return nil, fmt.Errorf("watching the links: %w", err)
	}
	s.names = h
	return s, nil
}

// target4watch opens the namespace tunnels live in now, for Watch (a
// handle of its own: the Kernel's may close meanwhile), and says which
// one it is.
func (k *Kernel) target4watch() (netns.NsHandle, nsID, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.main == nil {
		return -1, nsID{}, errors.New("kernel closed")
	}
	s, err := k.target()
	if err != nil {
		return -1, nsID{}, err
	}
	fd, err := unix.Dup(int(s.ns))
	if err != nil {
		return -1, nsID{}, fmt.Errorf("watching the links: %w", err)
	}
	return netns.NsHandle(fd), s.id, nil
}

// targetID says which namespace tunnels live in now, if any.
func (k *Kernel) targetID() (nsID, bool) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.main == nil {
		return nsID{}, false
	}
	s, err := k.target()
	if err != nil {
		return nsID{}, false
	}
	return s.id, true
}
