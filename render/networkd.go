package render

import (
	"net/netip"

	"github.com/sitevpn/sitevpn/internal/plan"
)

// networkdVRF renders the vrf mode: networkd owns the VRF, one WireGuard
// netdev per tunnel and the addresses. apply still changes peers live with
// wgctrl, since networkd does not apply changed peers on reload.
func (r *renderer) networkdVRF(n Names) {
	base := NetworkDir + "/50-sitevpn-" + n.Namespace
	r.execute(base+".netdev", 0o644, "root", "vrf.netdev.tmpl", n)
	r.execute(base+".network", 0o644, "root", "vrf.network.tmpl", n)
	for _, t := range r.g.Tunnels {
		v := tunnelView{Tunnel: t, Gateway: r.g.Name, Namespace: n.Namespace, KeyFile: NetworkdKey}
		base := NetworkDir + "/50-sitevpn-" + t.Interface
		// 0640: the file names no secret, but nothing outside networkd needs it.
		r.execute(base+".netdev", 0o640, "systemd-network", "tunnel.netdev.tmpl", v)
		r.execute(base+".network", 0o644, "root", "tunnel.network.tmpl", v)
	}
	for _, l := range r.g.LANs {
		v := lanView{Gateway: r.g.Name, Namespace: n.Namespace, Interface: l.Interface, Addresses: l.Addresses}
		r.execute(NetworkDir+"/50-sitevpn-lan-"+l.Interface+".network", 0o644, "root", "lan.network.tmpl", v)
	}
}

type tunnelView struct {
	plan.Tunnel
	Gateway   string
	Namespace string
	KeyFile   string
}

type lanView struct {
	Gateway   string
	Namespace string
	Interface string
	Addresses []netip.Prefix
}
