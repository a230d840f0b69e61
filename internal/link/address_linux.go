//go:build linux

package link

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// SetMTU sets a link's MTU where tunnels and LANs live (the private
// namespace in netns mode).
func (k *Kernel) SetMTU(ctx context.Context, name string, mtu int) error {
	return k.onLink(ctx, "set mtu", name, func(s *space, l netlink.Link) error {
		return s.h.LinkSetMTU(l, mtu)
	})
}

// SetUp sets a link administratively up. Moving a link between namespaces
// sets it down, so a moved LAN needs this too.
func (k *Kernel) SetUp(ctx context.Context, name string) error {
	return k.onLink(ctx, "set up", name, func(s *space, l netlink.Link) error {
		return s.h.LinkSetUp(l)
	})
}

// AddAddress adds p to a link; an address already there is not an error.
// On a WireGuard link an IPv6 address skips duplicate address detection:
// nobody else is on a point-to-point tunnel, and a tentative address
// would keep BIRD from binding for a second after every change.
func (k *Kernel) AddAddress(ctx context.Context, name string, p netip.Prefix) error {
	return k.onLink(ctx, "add address", name, func(s *space, l netlink.Link) error {
		if !p.IsValid() {
			return fmt.Errorf("invalid address %v", p)
		}
		// Replace, not add: idempotent, so a re-run after an interrupted
		// apply converges.
		if err := s.h.AddrReplace(l, nlAddr(p, isWireGuard(l))); err != nil {
			return fmt.Errorf("%s: %w", p, err)
		}
		return nil
	})
}

// DelAddress removes p from a link; an address already gone is not an error.
func (k *Kernel) DelAddress(ctx context.Context, name string, p netip.Prefix) error {
	return k.onLink(ctx, "del address", name, func(s *space, l netlink.Link) error {
		if !p.IsValid() {
			return fmt.Errorf("invalid address %v", p)
		}
		err := s.h.AddrDel(l, nlAddr(p, false))
		if errors.Is(err, unix.EADDRNOTAVAIL) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("%s: %w", p, err)
		}
		return nil
	})
}

// onLink runs fn on link name where tunnels and LANs live.
func (k *Kernel) onLink(ctx context.Context, op, name string, fn func(*space, netlink.Link) error) (err error) {
	if err := k.begin(ctx); err != nil {
		return opErr(op, name, err)
	}
	defer k.end(&err)
	s, err := k.target()
	if err != nil {
		return opErr(op, name, err)
	}
	l, err := lookup(s, name)
	if err != nil {
		return opErr(op, name, err)
	}
	return opErr(op, name, fn(s, l))
}

// lookup finds a link by name in s; a missing one is errNoLink.
func lookup(s *space, name string) (netlink.Link, error) {
	l, err := s.h.LinkByName(name)
	var nf netlink.LinkNotFoundError
	if errors.As(err, &nf) || errors.Is(err, unix.ENODEV) {
		return nil, fmt.Errorf("%w in namespace %s", errNoLink, s.name)
	}
	if err != nil {
		return nil, fmt.Errorf("looking up in namespace %s: %w", s.name, err)
	}
	return l, nil
}

// nlAddr is p as netlink wants it; nodad applies to IPv6 only. IPv4
// broadcast is left to netlink (none on /31, the usual one otherwise).
func nlAddr(p netip.Prefix, nodad bool) *netlink.Addr {
	a := &netlink.Addr{IPNet: ipNet(p)}
	if nodad && p.Addr().Is6() && !p.Addr().Is4In6() {
		a.Flags = unix.IFA_F_NODAD
	}
	return a
}

// addrDump is a namespace's addresses of global scope by link index,
// each link's sorted.
type addrDump map[int][]netip.Prefix

// dumpAddresses reads every address of s in one dump.
func dumpAddresses(s *space) (addrDump, error) {
	as, err := retryDump(func() ([]netlink.Addr, error) { return s.h.AddrList(nil, netlink.FAMILY_ALL) })
	if err != nil {
		return nil, fmt.Errorf("listing addresses in namespace %s: %w", s.name, err)
	}
	out := addrDump{}
	for _, a := range as {
		if a.Scope != unix.RT_SCOPE_UNIVERSE {
			continue
		}
		if p, ok := prefixOf(a.IPNet); ok {
			out[a.LinkIndex] = append(out[a.LinkIndex], p)
		}
	}
	for _, ps := range out {
		sortPrefixes(ps)
	}
	return out, nil
}

// retryDump repeats a netlink dump the kernel interrupted (the list
// changed while it was read): a partial answer would make apply delete
// or re-add things that are fine.
func retryDump[T any](dump func() ([]T, error)) ([]T, error) {
	var err error
	for range 5 {
		var out []T
		out, err = dump()
		if !errors.Is(err, netlink.ErrDumpInterrupted) {
			return out, err
		}
	}
	return nil, err
}

func isUp(l netlink.Link) bool { return l.Attrs().Flags&net.FlagUp != 0 }
