package apply

import (
	"context"
	"net/netip"

	"golang.zx2c4.com/wireguard/wgctrl/wgtypes"

	"github.com/sitevpn/sitevpn/internal/plan"
)

// Kernel is the system boundary for links, addresses and WireGuard: the
// Linux implementation is package link (netlink and wgctrl, inside the
// right namespace); tests use a fake that prints its state.
//
// In netns mode sitevpn owns the tunnel links: it creates them in the main
// namespace (so their UDP sockets stay public), configures them, and moves
// them into the private namespace. In vrf mode networkd creates them from
// .netdev files and sitevpn only changes WireGuard settings live.
type Kernel interface {
	// Observe reports the state of the namespace, the tunnels named in q
	// (found in the private namespace or, netns mode, left in the main one
	// by an interrupted create), every other wg<N> link of the private
	// namespace, and q's LAN interfaces.
	Observe(ctx context.Context, q Query) (KernelState, error)
	// CreateTunnel creates t's link in the private namespace with its UDP
	// socket in the main one, configures it (private key, ListenPort, its
	// one peer, MTU), adds its transit addresses and sets it up.
	CreateTunnel(ctx context.Context, t plan.Tunnel) error
	// DeleteTunnel deletes a tunnel link, from the private namespace or
	// (inMain) from the main one.
	DeleteTunnel(ctx context.Context, name string, inMain bool) error
	// ConfigureDevice sets the device's private key and ListenPort, leaving
	// its peers alone.
	ConfigureDevice(ctx context.Context, name string, listenPort int) error
	// SetPeer adds or updates one peer in place (endpoint, AllowedIPs,
	// keepalive): its session survives.
	SetPeer(ctx context.Context, name string, p plan.Peer) error
	// RemovePeer removes one peer by key, leaving the others alone.
	RemovePeer(ctx context.Context, name string, key wgtypes.Key) error
	SetMTU(ctx context.Context, name string, mtu int) error
	SetUp(ctx context.Context, name string) error
	AddAddress(ctx context.Context, name string, p netip.Prefix) error
	DelAddress(ctx context.Context, name string, p netip.Prefix) error
	// MoveLAN moves a LAN interface from the main namespace into the
	// private one (netns mode).
	MoveLAN(ctx context.Context, name string) error
}

// Query says what Observe must look at.
type Query struct {
	Namespace string // the private namespace (netns mode); "" in vrf mode
	Tunnels   []string
	LANs      []string
}

// KernelState is what Observe found.
type KernelState struct {
	NamespaceExists bool
	Tunnels         map[string]TunnelState
	LANs            map[string]LANState
}

// TunnelState is one WireGuard link as found.
type TunnelState struct {
	InMain     bool // netns mode: still in the main namespace
	MTU        int
	Up         bool
	Addresses  []netip.Prefix
	ListenPort int
	PublicKey  wgtypes.Key // of the device's private key
	Peers      []PeerState
}

// PeerState is one WireGuard peer as found.
type PeerState struct {
	PublicKey  wgtypes.Key
	Endpoint   netip.AddrPort
	AllowedIPs []netip.Prefix
	Keepalive  int // seconds
}

// LANState is a LAN interface as found.
type LANState struct {
	Exists    bool
	InMain    bool // netns mode: not yet moved
	Up        bool
	Addresses []netip.Prefix
}

// AllowedIPs of every peer: routing, not WireGuard, decides.
var AllowedIPs = []netip.Prefix{netip.MustParsePrefix("0.0.0.0/0"), netip.MustParsePrefix("::/0")}
