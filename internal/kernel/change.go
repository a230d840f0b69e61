package kernel

import (
	"net/netip"
	"strconv"

	"golang.zx2c4.com/wireguard/wgctrl/wgtypes"

	"github.com/sitevpn/sitevpn/internal/plan"
)

// Op is what a Change does.
type Op string

// The changes the kernel makes. Each names one link (Change.Link) and
// carries, typed, what it needs besides; never a secret (the private key
// is the kernel implementation's own).
const (
	CreateTunnel    Op = "create-tunnel"    // Tunnel
	DeleteTunnel    Op = "delete-tunnel"    // InMain
	ConfigureDevice Op = "configure-device" // Port (and the private key)
	RemovePeer      Op = "remove-peer"      // PeerKey
	SetPeer         Op = "set-peer"         // Peer
	SetMTU          Op = "set-mtu"          // MTU
	DelAddress      Op = "del-address"      // Address
	AddAddress      Op = "add-address"      // Address
	MoveLAN         Op = "move-lan"
	SetUp           Op = "set-up"
)

// Change is one change to one link.
type Change struct {
	Op      Op
	Link    string
	Tunnel  *plan.Tunnel // CreateTunnel
	Peer    *plan.Peer   // SetPeer
	PeerKey wgtypes.Key  // RemovePeer
	Port    int          // ConfigureDevice: the ListenPort
	MTU     int          // SetMTU
	Address netip.Prefix // AddAddress, DelAddress
	InMain  bool         // DeleteTunnel: the link is in the main namespace
}

// Detail is the part of the change that is not its op and link, for
// people: a port, a public key, an address.
func (c Change) Detail() string {
	switch c.Op {
	case DeleteTunnel:
		if c.InMain {
			return "main"
		}
	case ConfigureDevice:
		return strconv.Itoa(c.Port)
	case RemovePeer:
		return c.PeerKey.String()
	case SetPeer:
		return c.Peer.PublicKey
	case SetMTU:
		return strconv.Itoa(c.MTU)
	case AddAddress, DelAddress:
		return c.Address.String()
	}
	return ""
}
