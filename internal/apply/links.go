package apply

import (
	"fmt"
	"net/netip"
	"slices"
	"sort"
	"strconv"

	"golang.zx2c4.com/wireguard/wgctrl/wgtypes"

	"github.com/sitevpn/sitevpn/internal/fleet"
	"github.com/sitevpn/sitevpn/internal/plan"
)

// The link actions, performed after the services (the namespace exists)
// and before BIRD is reconfigured (the addresses its sessions use exist).
const (
	DeleteTunnel    Kind = "delete-tunnel"
	CreateTunnel    Kind = "create-tunnel"
	ConfigureDevice Kind = "configure-device"
	RemovePeer      Kind = "remove-peer"
	SetPeer         Kind = "set-peer"
	SetMTU          Kind = "set-mtu"
	DelAddress      Kind = "del-address"
	AddAddress      Kind = "add-address"
	MoveLAN         Kind = "move-lan"
	SetUp           Kind = "set-up"
	// MissingLAN is no action but a finding: a lan interface that does not
	// exist. Apply reports it and goes on with the rest.
	MissingLAN Kind = "missing-lan"
)

func init() {
	for i, k := range []Kind{DeleteTunnel, CreateTunnel, ConfigureDevice, RemovePeer, SetPeer, SetMTU, MoveLAN, DelAddress, AddAddress, SetUp, MissingLAN} {
		order[k] = 10 + i
	}
}

// QueryFor is what Observe must look at for gateway g; previous lists the
// tunnels of the last applied table, so that tunnels removed from the
// fleet are found and deleted even if an apply was interrupted.
func QueryFor(g *plan.Gateway, previous []string) Query {
	q := Query{}
	if g.Isolation == fleet.NetNS {
		q.Namespace = g.Namespace
	}
	seen := map[string]bool{}
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
	return q
}

// LinkDiff lists the link actions that bring the kernel to g's tunnels
// and LANs. Each tunnel is compared field by field and only what differs
// is changed, so an unchanged tunnel is never touched. me is the public key
// of this gateway's private key.
func LinkDiff(g *plan.Gateway, have KernelState, me wgtypes.Key) []Action {
	var acts []Action
	netns := g.Isolation == fleet.NetNS
	wanted := map[string]bool{}
	for _, t := range g.Tunnels {
		wanted[t.Interface] = true
		st, ok := have.Tunnels[t.Interface]
		switch {
		case !ok && netns:
			acts = append(acts, Action{Kind: CreateTunnel, Target: t.Interface, Why: "new tunnel to " + t.Peer.Gateway})
		case !ok:
			// vrf mode: networkd creates it after its reload.
		case st.InMain && netns:
			acts = append(acts,
				Action{Kind: DeleteTunnel, Target: t.Interface, Arg: "main", Why: "left in the main namespace by an interrupted create"},
				Action{Kind: CreateTunnel, Target: t.Interface, Why: "re-create"})
		default:
			acts = append(acts, tunnelDiff(t, st, me, netns)...)
		}
	}
	names := make([]string, 0, len(have.Tunnels))
	for name := range have.Tunnels {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		if !wanted[name] && netns {
			arg := ""
			if have.Tunnels[name].InMain {
				arg = "main"
			}
			acts = append(acts, Action{Kind: DeleteTunnel, Target: name, Arg: arg, Why: "no longer in the fleet"})
		}
	}
	for _, l := range g.LANs {
		acts = append(acts, lanDiff(l, have.LANs[l.Interface], netns)...)
	}
	sort.SliceStable(acts, func(i, j int) bool { return order[acts[i].Kind] < order[acts[j].Kind] })
	return acts
}

func tunnelDiff(t plan.Tunnel, st TunnelState, me wgtypes.Key, netns bool) []Action {
	var acts []Action
	if st.PublicKey != me || st.ListenPort != t.ListenPort {
		acts = append(acts, Action{Kind: ConfigureDevice, Target: t.Interface, Arg: strconv.Itoa(t.ListenPort), Why: fmt.Sprintf("listen port %d, key %s", st.ListenPort, keyNote(st.PublicKey == me))})
	}
	peer, _ := wgtypes.ParseKey(t.Peer.PublicKey)
	found := false
	for _, p := range st.Peers {
		if p.PublicKey != peer {
			acts = append(acts, Action{Kind: RemovePeer, Target: t.Interface, Arg: p.PublicKey.String(), Why: "not this tunnel's peer"})
			continue
		}
		found = true
		if why := peerDiff(t.Peer, p); why != "" {
			acts = append(acts, Action{Kind: SetPeer, Target: t.Interface, Arg: t.Peer.PublicKey, Why: why})
		}
	}
	if !found {
		acts = append(acts, Action{Kind: SetPeer, Target: t.Interface, Arg: t.Peer.PublicKey, Why: "peer " + t.Peer.Gateway + " missing"})
	}
	if !netns { // vrf mode: networkd owns MTU, addresses and state
		return acts
	}
	if st.MTU != t.MTU {
		acts = append(acts, Action{Kind: SetMTU, Target: t.Interface, Arg: strconv.Itoa(t.MTU), Why: fmt.Sprintf("MTU %d", st.MTU)})
	}
	acts = append(acts, addressDiff(t.Interface, []netip.Prefix{t.Local6, t.Local4}, st.Addresses)...)
	if !st.Up {
		acts = append(acts, Action{Kind: SetUp, Target: t.Interface, Why: "down"})
	}
	return acts
}

func keyNote(ok bool) string {
	if ok {
		return "right"
	}
	return "wrong"
}

func peerDiff(want plan.Peer, have PeerState) string {
	switch {
	case have.Endpoint != want.Endpoint:
		return fmt.Sprintf("endpoint %s, want %s", have.Endpoint, want.Endpoint)
	case !samePrefixes(have.AllowedIPs, AllowedIPs):
		return fmt.Sprintf("allowed IPs %v", have.AllowedIPs)
	case have.Keepalive != want.Keepalive:
		return fmt.Sprintf("keepalive %d, want %d", have.Keepalive, want.Keepalive)
	}
	return ""
}

func samePrefixes(a, b []netip.Prefix) bool {
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
			acts = append(acts, Action{Kind: DelAddress, Target: iface, Arg: p.String(), Why: "not configured"})
		}
	}
	for _, p := range want {
		if !slices.Contains(have, p) {
			acts = append(acts, Action{Kind: AddAddress, Target: iface, Arg: p.String(), Why: "missing"})
		}
	}
	return acts
}

func lanDiff(l fleet.LAN, st LANState, netns bool) []Action {
	switch {
	case !st.Exists:
		return []Action{{Kind: MissingLAN, Target: l.Interface, Why: "no such interface: check the lan block"}}
	case !netns:
		return nil // vrf mode: networkd configures LANs
	case st.InMain:
		acts := []Action{{Kind: MoveLAN, Target: l.Interface, Why: "into the private namespace"}}
		for _, p := range l.Addresses {
			acts = append(acts, Action{Kind: AddAddress, Target: l.Interface, Arg: p.String(), Why: "moved"})
		}
		return append(acts, Action{Kind: SetUp, Target: l.Interface, Why: "moved"})
	}
	acts := addressDiff(l.Interface, l.Addresses, st.Addresses)
	if !st.Up {
		acts = append(acts, Action{Kind: SetUp, Target: l.Interface, Why: "down"})
	}
	return acts
}

func parseKey(s string) (wgtypes.Key, error) { return wgtypes.ParseKey(s) }
