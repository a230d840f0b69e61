package validate

import (
	"net/netip"
	"strings"

	"golang.zx2c4.com/wireguard/wgctrl/wgtypes"

	"github.com/sitevpn/sitevpn/internal/fleet"
	"github.com/sitevpn/sitevpn/internal/load"
)

// maxID keeps wg<id> within the 15-byte interface name limit with room to
// spare, and the pair index within an int on every platform.
const maxID = 65535

func (v *validator) gateway(f *fleet.Fleet, s *fleet.Site, b *load.Gateway) *fleet.Gateway {
	g := &fleet.Gateway{Name: b.Name, Site: s, ID: b.ID.Value}
	if !validName(b.Name, maxName) {
		v.errorf(b.NameRange, "Invalid gateway name", "gateway name %q: use 1 to %d letters, digits, '-', '_' or '.', not starting with '-' or '.'.", b.Name, maxName)
	}
	if first, ok := v.seen.gatewayNames.remember(b.Name, b.NameRange); !ok {
		v.errorf(b.NameRange, "Duplicate gateway name", "gateway %q is already defined at %s; names are unique across the fleet.", b.Name, pos(first))
	}
	idOK := b.ID.Set && v.id(b.ID)
	if b.Endpoint.Set {
		v.endpoint(g, b.Endpoint)
	}
	if b.PublicKey.Set {
		k, err := wgtypes.ParseKey(strings.TrimSpace(b.PublicKey.Value))
		if err != nil {
			v.errorf(b.PublicKey.Range, "Invalid public_key", "public_key %q is not a WireGuard key (44 characters of base64); print it on the gateway with `sitevpn pubkey`.", b.PublicKey.Value)
		} else if k == (wgtypes.Key{}) {
			v.errorf(b.PublicKey.Range, "Invalid public_key", "public_key is all zeros, no key WireGuard can use; print the gateway's key with `sitevpn pubkey`.")
		} else if isLowOrder(k) {
			v.errorf(b.PublicKey.Range, "Invalid public_key", "public_key %s is a Curve25519 point of small order, not a gateway's key: every handshake with it would give an all-zero secret, which WireGuard refuses; print the gateway's real key with `sitevpn pubkey`.", k)
		} else if first, ok := v.seen.publicKeys.remember(k, b.PublicKey.Range); !ok {
			v.errorf(b.PublicKey.Range, "Duplicate public_key", "public_key %s is already used at %s; every gateway has its own key (`sitevpn genkey` makes one).", k, pos(first))
		}
		g.PublicKey = k
	}
	g.RouterID = fleet.DefaultRouterID(g.ID)
	if b.RouterID.Set {
		a, err := netip.ParseAddr(b.RouterID.Value)
		if err != nil || !a.Is4() || a.IsUnspecified() {
			v.errorf(b.RouterID.Range, "Invalid router_id", "router_id is %q; write a non-zero IPv4 address, such as \"192.0.2.1\", or leave it out (the default is the gateway id, %s).", b.RouterID.Value, g.RouterID)
		} else {
			g.RouterID = a
		}
	}
	// A derived router id repeats only when the id does, which is reported already.
	if b.RouterID.Set || idOK {
		if first, ok := v.seen.routerIDs.remember(g.RouterID, b.RouterID.Range); !ok {
			v.errorf(b.RouterID.Range, "Duplicate router_id", "router id %s of gateway %q is already used at %s; set a distinct router_id.", g.RouterID, b.Name, pos(first))
		}
	}
	seen := map[string]bool{}
	for _, lb := range b.LANs {
		if seen[lb.Name] {
			v.errorf(lb.NameRange, "Duplicate lan", "interface %q has two lan blocks in gateway %q; merge them.", lb.Name, b.Name)
			continue
		}
		if f.Isolation == fleet.VRF && lb.Name == f.Namespace {
			v.errorf(lb.NameRange, "Invalid lan interface", "lan %q has the name of the VRF (namespace %q), which sitevpn creates; rename one of them.", lb.Name, f.Namespace)
		}
		seen[lb.Name] = true
		g.LANs = append(g.LANs, v.lan(lb))
	}
	v.lanSubnetsApart(b)
	return g
}

// id reports whether the gateway id is in range and not used before.
func (v *validator) id(a load.Attr[int]) bool {
	if a.Value < 1 || a.Value > maxID {
		v.errorf(a.Range, "Invalid id", "id is %d; use a small positive integer (1 to %d), unique across the fleet. Tunnel names, ports and transit addresses derive from it.", a.Value, maxID)
		return false
	}
	if first, ok := v.seen.ids.remember(a.Value, a.Range); !ok {
		v.errorf(a.Range, "Duplicate id", "id %d is already used at %s; give each gateway of the fleet its own id, and never reuse one for another gateway.", a.Value, pos(first))
		return false
	}
	return true
}

func (v *validator) lan(b *load.LAN) fleet.LAN {
	l := fleet.LAN{Interface: b.Name, OSPF: b.OSPF.Value}
	switch {
	case !validName(b.Name, 15) || strings.ContainsAny(b.Name, "/:"):
		v.errorf(b.NameRange, "Invalid lan interface", "lan %q: an interface name is 1 to 15 letters, digits, '-', '_' or '.'.", b.Name)
	case tunnelName(b.Name):
		v.errorf(b.NameRange, "Invalid lan interface", "lan %q: names wg<id> belong to sitevpn's tunnels; rename the interface (systemd .link files can).", b.Name)
	case b.Name == "lo":
		v.errorf(b.NameRange, "Invalid lan interface", "lan \"lo\" is the loopback interface, which every namespace has its own of; name the interface towards the site's LAN.")
	case reservedDevice(b.Name) != "":
		v.errorf(b.NameRange, "Invalid lan interface", "lan %q is %s, so no such interface exists; name the interface towards the site's LAN.", b.Name, reservedDevice(b.Name))
	}
	seen := map[netip.Addr]bool{}
	for _, a := range b.Addresses.Value {
		p, ok := v.prefix(a, "lan address", false)
		if !ok {
			continue
		}
		switch {
		case p.Bits() == 0:
			v.errorf(a.Range, "Invalid lan address", "%q has length /0: the LAN's subnet would be every address, and its route would take every site's traffic; write the LAN's own subnet length, such as \"192.168.101.11/24\".", a.Value)
		// The network address of a subnet is no interface address (a /31
		// or /127 has no network address to avoid), nor is its broadcast.
		case p.Bits() < p.Addr().BitLen()-1 && p.Addr() == p.Masked().Addr():
			v.errorf(a.Range, "Invalid lan address", "%q is the subnet's network address: write the interface's own address with the subnet length, such as \"192.168.101.11/24\".", a.Value)
		case isSubnetBroadcast(p):
			v.errorf(a.Range, "Invalid lan address", "%q is the subnet's broadcast address: write the interface's own address.", a.Value)
		case notInterfaceAddress(host(p.Addr())) != "":
			v.errorf(a.Range, "Invalid lan address", "%q is %s: write the interface's own unicast address.", a.Value, notInterfaceAddress(host(p.Addr())))
		case seen[p.Addr()]:
			v.errorf(a.Range, "Duplicate lan address", "%s is listed twice in lan %q; remove one.", p.Addr(), b.Name)
		default:
			seen[p.Addr()] = true
			l.Addresses = append(l.Addresses, p)
		}
	}
	return l
}
