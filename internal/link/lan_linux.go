//go:build linux

package link

import (
	"context"
	"errors"
	"fmt"
	"net/netip"

	"github.com/vishvananda/netlink"
)

// MoveLAN moves a LAN interface from the main namespace into the private
// one (netns mode). The kernel drops the link's addresses and sets it
// down on the way: the caller adds the addresses and sets it up again. A
// link already in the private namespace is not an error.
func (k *Kernel) MoveLAN(ctx context.Context, name string) (err error) {
	if !k.netns {
		return opErr("move", name, fmt.Errorf("%w in vrf mode: networkd puts LANs in the VRF", ErrUnsupported))
	}
	if err := k.begin(ctx); err != nil {
		return opErr("move", name, err)
	}
	defer k.end(&err)
	priv, err := k.private()
	if err != nil {
		return opErr("move", name, err)
	}
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

// carries says what of the gateway's own reachability link l of the main
// namespace holds: its endpoint address, or a default route through it;
// "" when neither. Moving such a link into the private namespace would
// cut the gateway off from the other gateways (and from its operator).
func carries(s *space, l netlink.Link, endpoint netip.Addr, addrs []netip.Prefix) (string, error) {
	for _, a := range addrs {
		if endpoint.IsValid() && a.Addr() == endpoint.Unmap() {
			return "the gateway's endpoint address " + endpoint.String(), nil
		}
	}
	for _, family := range []int{netlink.FAMILY_V4, netlink.FAMILY_V6} {
		routes, err := retryDump(func() ([]netlink.Route, error) {
			return s.h.RouteListFiltered(family, &netlink.Route{LinkIndex: l.Attrs().Index}, netlink.RT_FILTER_OIF)
		})
		if err != nil {
			return "", fmt.Errorf("listing routes: %w", err)
		}
		for _, r := range routes {
			if dstOnes(r) == 0 {
				return "the default route", nil
			}
		}
	}
	return "", nil
}

// dstOnes is a route's destination prefix length; a default route has
// none (nil) or a zero-length one.
func dstOnes(r netlink.Route) int {
	if r.Dst == nil {
		return 0
	}
	ones, _ := r.Dst.Mask.Size()
	return ones
}
