package apply

import (
	"fmt"
	"net/netip"
	"slices"
	"sort"

	"golang.zx2c4.com/wireguard/wgctrl/wgtypes"

	"github.com/sitevpn/sitevpn/internal/fleet"
	"github.com/sitevpn/sitevpn/internal/kernel"
	"github.com/sitevpn/sitevpn/internal/plan"
)

// QueryFor is what Observe must look at for gateway g; previous lists the
// tunnels of the last applied table, so that tunnels removed from the
// fleet are found and deleted even if an apply was interrupted.
func QueryFor(g *plan.Gateway, previous []string) kernel.Query {
	q := kernel.Query{Tunnels: make([]string, 0, len(g.Tunnels))}
	if g.Isolation == fleet.NetNS {
		q.Namespace = g.Namespace
	}
	seen := make(map[string]bool, len(g.Tunnels))
	for _, t := range g.Tunnels {
		q.Tunnels = append(q.Tunnels, t.Interface)
		seen[t.Interface] = true
	}
	for _, name := range previous {
		if !seen[name] {
			q.Tunnels = append(q.Tunnels, name)
		}
	}
	for _, l := range g.LANs {
		q.LANs = append(q.LANs, l.Interface)
	}
	q.Endpoint = g.Endpoint
	return q
}

// LinkDiff lists the link actions that bring the kernel to g's tunnels
// and LANs. Each tunnel is compared field by field and only what differs
// is changed, so an unchanged tunnel is never touched. me is the public key
// of this gateway's private key.
//
// The deletions of tunnels no longer in the fleet come apart, in retire:
// they must wait until BIRD has withdrawn the routes through them, since
// Linux drops a whole IPv4 multipath route when one of its links goes, and
// the remaining paths would be lost until BIRD installed them again.
func LinkDiff(g *plan.Gateway, have kernel.State, me wgtypes.Key) (links, retire []Action) {
	netns := g.Isolation == fleet.NetNS
	wanted := map[string]bool{}
	var creates, changes []Action
	for _, t := range g.Tunnels {
		wanted[t.Interface] = true
		st, ok := have.Tunnels[t.Interface]
		switch {
		case !ok && netns:
			creates = append(creates, linkAction(kernel.Change{Op: kernel.CreateTunnel, Link: t.Interface, Tunnel: &t}, "new tunnel to "+t.Peer.Gateway))
		case !ok:
			// vrf mode: networkd creates it after its reload.
		case st.InMain && netns:
			// It never carried traffic in the private namespace: replace it.
			creates = append(creates,
				linkAction(kernel.Change{Op: kernel.DeleteTunnel, Link: t.Interface, InMain: true}, "left in the main namespace by an interrupted create"),
				linkAction(kernel.Change{Op: kernel.CreateTunnel, Link: t.Interface, Tunnel: &t}, "re-create"))
		default:
			changes = append(changes, tunnelDiff(t, st, me, netns)...)
		}
	}
	names := make([]string, 0, len(have.Tunnels))
	for name := range have.Tunnels {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		if wanted[name] || !netns {
			continue
		}
		c := kernel.Change{Op: kernel.DeleteTunnel, Link: name, InMain: have.Tunnels[name].InMain}
		if c.InMain {
			// Never in the private namespace: no route goes through it.
			creates = append(creates, linkAction(c, "no longer in the fleet, left in the main namespace"))
		} else {
			retire = append(retire, linkAction(c, "no longer in the fleet"))
		}
	}
	var refusals []Action
	for _, l := range g.LANs {
		for _, a := range lanDiff(l, have.LANs[l.Interface], netns) {
			if a.Kind == UnsafeLAN {
				refusals = append(refusals, a) // first: nothing moves before one fails
			} else {
				changes = append(changes, a)
			}
		}
	}
	return append(append(refusals, creates...), changes...), retire
}

func tunnelDiff(t plan.Tunnel, st kernel.Tunnel, me wgtypes.Key, netns bool) []Action {
	var acts []Action
	if st.PublicKey != me || st.ListenPort != t.ListenPort {
		acts = append(acts, linkAction(kernel.Change{Op: kernel.ConfigureDevice, Link: t.Interface, Port: t.ListenPort}, fmt.Sprintf("listen port %d, key %s", st.ListenPort, keyNote(st.PublicKey == me))))
	}
	peer, _ := wgtypes.ParseKey(t.Peer.PublicKey)
	found := false
	for _, p := range st.Peers {
		if p.PublicKey != peer {
			acts = append(acts, linkAction(kernel.Change{Op: kernel.RemovePeer, Link: t.Interface, PeerKey: p.PublicKey}, "not this tunnel's peer"))
			continue
		}
		found = true
		if why := peerDiff(t.Peer, p); why != "" {
			acts = append(acts, linkAction(kernel.Change{Op: kernel.SetPeer, Link: t.Interface, Peer: &t.Peer}, why))
		}
	}
	if !found {
		acts = append(acts, linkAction(kernel.Change{Op: kernel.SetPeer, Link: t.Interface, Peer: &t.Peer}, "peer "+t.Peer.Gateway+" missing"))
	}
	if !netns { // vrf mode: networkd owns MTU, addresses and state
		return acts
	}
	if st.MTU != t.MTU {
		acts = append(acts, linkAction(kernel.Change{Op: kernel.SetMTU, Link: t.Interface, MTU: t.MTU}, fmt.Sprintf("MTU %d", st.MTU)))
	}
	acts = append(acts, addressDiff(t.Interface, t.Addresses(), st.Addresses)...)
	if !st.Up {
		acts = append(acts, linkAction(kernel.Change{Op: kernel.SetUp, Link: t.Interface}, "down"))
	}
	return acts
}

func keyNote(ok bool) string {
	if ok {
		return "right"
	}
	return "wrong"
}

// peerDiff says why the kernel's peer differs from want. A peer without
// an endpoint (behind NAT, or a DNS name not resolved yet) keeps the one
// the kernel learned from its packets: never overwritten with nothing.
func peerDiff(want plan.Peer, have kernel.Peer) string {
	switch {
	case want.Endpoint.IsValid() && have.Endpoint != want.Endpoint:
		return fmt.Sprintf("endpoint %s, want %s", have.Endpoint, want.Endpoint)
	case !samePrefixes(have.AllowedIPs, kernel.AllowedIPs):
		return fmt.Sprintf("allowed IPs %v", have.AllowedIPs)
	case have.Keepalive != want.Keepalive:
		return fmt.Sprintf("keepalive %d, want %d", have.Keepalive, want.Keepalive)
	}
	return ""
}

func samePrefixes(a, b []netip.Prefix) bool {
	if slices.Equal(a, b) {
		return true // the usual case, in the same order: no copy, no sort
	}
	x, y := slices.Clone(a), slices.Clone(b)
	cmp := func(p, q netip.Prefix) int {
		if c := p.Addr().Compare(q.Addr()); c != 0 {
			return c
		}
		return p.Bits() - q.Bits()
	}
	slices.SortFunc(x, cmp)
	slices.SortFunc(y, cmp)
	return slices.Equal(x, y)
}

func addressDiff(iface string, want, have []netip.Prefix) []Action {
	var acts []Action
	for _, p := range have {
		if !slices.Contains(want, p) {
			acts = append(acts, linkAction(kernel.Change{Op: kernel.DelAddress, Link: iface, Address: p}, "not configured"))
		}
	}
	for _, p := range want {
		if !slices.Contains(have, p) {
			acts = append(acts, linkAction(kernel.Change{Op: kernel.AddAddress, Link: iface, Address: p}, "missing"))
		}
	}
	return acts
}

func lanDiff(l fleet.LAN, st kernel.LAN, netns bool) []Action {
	switch {
	case !st.Exists:
		return []Action{{Kind: MissingLAN, Target: l.Interface, Why: "no such interface: check the lan block"}}
	case !netns:
		return nil // vrf mode: networkd configures LANs
	case st.InMain && st.Carries != "":
		return []Action{{Kind: UnsafeLAN, Target: l.Interface, Why: st.Carries}}
	case st.InMain:
		// The kernel drops a moved link's addresses and sets it down.
		acts := []Action{linkAction(kernel.Change{Op: kernel.MoveLAN, Link: l.Interface}, "into the private namespace")}
		for _, p := range l.Addresses {
			acts = append(acts, linkAction(kernel.Change{Op: kernel.AddAddress, Link: l.Interface, Address: p}, "moved"))
		}
		return append(acts, linkAction(kernel.Change{Op: kernel.SetUp, Link: l.Interface}, "moved"))
	}
	acts := addressDiff(l.Interface, l.Addresses, st.Addresses)
	if !st.Up {
		acts = append(acts, linkAction(kernel.Change{Op: kernel.SetUp, Link: l.Interface}, "down"))
	}
	return acts
}
