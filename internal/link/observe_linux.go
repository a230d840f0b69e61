//go:build linux

package link

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"slices"

	"github.com/vishvananda/netlink"

	"github.com/sitevpn/sitevpn/internal/kernel"
)

// Observe reports what is in the kernel; what is missing is absent from
// the maps (LANs: Exists false), not an error.
//
// netns mode: NamespaceExists says whether /run/netns/<namespace> is a
// mounted namespace. A queried tunnel is looked up in the private
// namespace, then in the main one (InMain: left by an interrupted
// create); if both have it, the private one is reported. Every other
// wireguard link named wg<id> in the private namespace is reported too
// (stale). A queried LAN is looked up the same way (InMain: not moved).
//
// vrf mode: everything is looked up in the main namespace, InMain is
// always false, NamespaceExists false, and no stale tunnel is reported
// (the main namespace may hold WireGuard links that are not sitevpn's).
// With q.Only, no stale tunnel is reported either: only the queried ones.
//
// A link with a queried tunnel name that is not WireGuard is an error:
// sitevpn can neither use nor delete it, the operator must.
func (k *Kernel) Observe(ctx context.Context, q kernel.Query) (st kernel.State, err error) {
	st = kernel.State{Tunnels: map[string]kernel.Tunnel{}, LANs: map[string]kernel.LAN{}}
	if err := k.begin(ctx); err != nil {
		return st, opErr("observe", "", err)
	}
	defer k.end(&err)
	if k.netns && q.Namespace != "" && q.Namespace != k.namespace {
		return st, opErr("observe", "", fmt.Errorf("query for namespace %q, but this kernel manages %q", q.Namespace, k.namespace))
	}

	var priv *space
	inPriv := map[string]netlink.Link{}
	if k.netns {
		var err error
		priv, err = k.private()
		if err != nil && !errors.Is(err, errNoNamespace) {
			return st, opErr("observe", "", err)
		}
		st.NamespaceExists = priv != nil
		if priv != nil {
			if err := listPrivate(priv, q, inPriv); err != nil {
				return st, opErr("observe", "", err)
			}
		}
	}

	privTunnels, mainTunnels := map[string]netlink.Link{}, map[string]netlink.Link{}
	queried := map[string]bool{}
	var notInPriv []string
	for _, name := range q.Tunnels {
		queried[name] = true
		if _, ok := inPriv[name]; !ok {
			notInPriv = append(notInPriv, name)
		}
	}
	mainLinks, err := linksNamed(k.main, notInPriv)
	if err != nil {
		return st, opErr("observe", "", err)
	}
	for _, name := range q.Tunnels {
		l, ok := inPriv[name]
		where := privTunnels
		if !ok {
			if l, ok = mainLinks[name]; !ok {
				continue
			}
			where = mainTunnels
		}
		if !isTunnelLink(l) {
			return st, opErr("observe", name, fmt.Errorf("a %s link has the name of a tunnel: rename or remove it", kind(l)))
		}
		where[name] = l
	}
	for name, l := range inPriv {
		if !q.Only && !queried[name] && isTunnelName(name) && isTunnelLink(l) {
			privTunnels[name] = l // stale
		}
	}
	// Addresses come from one dump per namespace, only where needed: a
	// dump per link filters the whole namespace's every time (quadratic).
	dumps := map[*space]addrDump{}
	addrsIn := func(s *space) (addrDump, error) {
		if d, ok := dumps[s]; ok {
			return d, nil
		}
		d, err := dumpAddresses(s)
		dumps[s] = d
		return d, err
	}
	for _, w := range []struct {
		s      *space
		links  map[string]netlink.Link
		inMain bool
	}{{priv, privTunnels, false}, {k.main, mainTunnels, k.netns}} {
		if w.s == nil || len(w.links) == 0 {
			continue
		}
		d, err := addrsIn(w.s)
		if err != nil {
			return st, opErr("observe", "", err)
		}
		if err := observeTunnels(w.s, w.links, w.inMain, d, st.Tunnels); err != nil {
			return st, err
		}
	}

	for _, name := range q.LANs {
		s, l, inMain := priv, inPriv[name], false
		if l == nil {
			var err error
			if l, err = lookup(k.main, name); errors.Is(err, errNoLink) {
				st.LANs[name] = kernel.LAN{}
				continue
			} else if err != nil {
				return st, opErr("observe", name, err)
			}
			s, inMain = k.main, k.netns
		}
		d, err := addrsIn(s)
		if err != nil {
			return st, opErr("observe", name, err)
		}
		addrs := d[l.Attrs().Index]
		lan := kernel.LAN{Exists: true, InMain: inMain, Up: isUp(l), Addresses: addrs}
		if inMain {
			if lan.Carries, err = carries(s, l, q.Endpoint, addrs); err != nil {
				return st, opErr("observe", name, err)
			}
		}
		st.LANs[name] = lan
	}
	return st, nil
}

// listPrivate fills in with the private namespace's links by name: all
// of them in one dump, or, with q.Only, those q names (see linksNamed).
func listPrivate(priv *space, q kernel.Query, in map[string]netlink.Link) error {
	var found map[string]netlink.Link
	var err error
	if q.Only {
		found, err = linksNamed(priv, slices.Concat(q.Tunnels, q.LANs))
	} else {
		found, err = allLinks(priv)
	}
	maps.Copy(in, found)
	return err
}

// allLinks is every link of s by name, from one dump.
func allLinks(s *space) (map[string]netlink.Link, error) {
	links, err := retryDump(s.h.LinkList)
	if err != nil {
		return nil, fmt.Errorf("listing links in namespace %s: %w", s.name, err)
	}
	out := make(map[string]netlink.Link, len(links))
	for _, l := range links {
		out[l.Attrs().Name] = l
	}
	return out, nil
}

// fewNames is how many links linksNamed looks up one request each; for
// more, one dump is cheaper.
const fewNames = 16

// linksNamed returns the links of s with these names; a missing one is
// absent. A few are looked up one request each (a query of a few tunnels
// then costs a few requests, not a dump of every link, which carries each
// link's every attribute and statistic); many in one dump (the first
// apply of a hub asks for 300 links that do not exist yet).
func linksNamed(s *space, names []string) (map[string]netlink.Link, error) {
	out := map[string]netlink.Link{}
	if len(names) > fewNames {
		all, err := allLinks(s)
		if err != nil {
			return nil, err
		}
		for _, n := range names {
			if l, ok := all[n]; ok {
				out[n] = l
			}
		}
		return out, nil
	}
	for _, name := range names {
		l, err := lookup(s, name)
		if errors.Is(err, errNoLink) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		out[name] = l
	}
	return out, nil
}

// observeTunnels reads the WireGuard links of one namespace into out: the
// link half from the link dump Observe made, the device half in one pass
// over the same links with the namespace's kept wgctrl client.
//
// One Device call per link, not wgctrl's Devices: the kernel has no
// request for every device at once, so Devices is one Device call per
// WireGuard link too, after a link dump of its own (a second one, made
// on a new socket in the calling thread's namespace, so it would have to
// enter the namespace every time), and it fails as a whole when one
// device goes away between its dump and its reads.
func observeTunnels(s *space, links map[string]netlink.Link, inMain bool, addrs addrDump, out map[string]kernel.Tunnel) error {
	found := map[string]kernel.Tunnel{}
	devices := 0
	for name, l := range links {
		found[name] = kernel.Tunnel{InMain: inMain, MTU: l.Attrs().MTU, Up: isUp(l), Addresses: addrs[l.Attrs().Index]}
		if isWireGuard(l) {
			devices++
		}
	}
	if devices == 0 { // only a benchmark's stand-ins: no client needed
		maps.Copy(out, found)
		return nil
	}
	var failed string
	err := withWG(s, func(c *wgCall) error {
		for name, ts := range found {
			if !isWireGuard(links[name]) {
				continue // a benchmark's stand-in: no device
			}
			d, err := c.device(name)
			if errors.Is(err, fs.ErrNotExist) {
				delete(found, name) // deleted since it was listed
				continue
			}
			if err != nil {
				failed = name
				return err
			}
			deviceState(&ts, d)
			found[name] = ts
		}
		return nil
	})
	if err != nil {
		return opErr("observe", failed, fmt.Errorf("reading the WireGuard device: %w", err))
	}
	maps.Copy(out, found)
	return nil
}
