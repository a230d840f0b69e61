package render

import (
	"net/netip"

	"github.com/sitevpn/sitevpn/internal/fleet"
	"github.com/sitevpn/sitevpn/internal/plan"
)

// Table is the content of the tunnel table, tunnels.json.
type Table struct {
	Gateway   string          `json:"gateway"`
	ID        int             `json:"id"`
	Site      string          `json:"site"`
	Isolation fleet.Isolation `json:"isolation"`
	Namespace string          `json:"namespace"`
	// PrivateKeyFile is where the key is; the key itself is never here.
	PrivateKeyFile string        `json:"private_key_file"`
	Tunnels        []plan.Tunnel `json:"tunnels"`
	LANs           []TableLAN    `json:"lans"`
}

// TableLAN is a LAN interface as the tunnel table lists it.
type TableLAN struct {
	Interface string         `json:"interface"`
	Addresses []netip.Prefix `json:"addresses"`
	OSPF      bool           `json:"ospf"`
}

// KeyFile is the private key's path on a gateway.
const KeyFile = "/etc/sitevpn/private.key"

// TableFor returns the tunnel table of gateway g.
func TableFor(g *plan.Gateway) Table {
	t := Table{
		Gateway: g.Name, ID: g.ID, Site: g.Site.Name,
		Isolation: g.Isolation, Namespace: g.Namespace,
		PrivateKeyFile: KeyFile,
		Tunnels:        g.Tunnels,
		LANs:           []TableLAN{},
	}
	if t.Tunnels == nil {
		t.Tunnels = []plan.Tunnel{}
	}
	for _, l := range g.LANs {
		addrs := l.Addresses
		if addrs == nil {
			addrs = []netip.Prefix{}
		}
		t.LANs = append(t.LANs, TableLAN{Interface: l.Interface, Addresses: addrs, OSPF: l.OSPF})
	}
	return t
}

func (r *renderer) tunnelTable() {
	if r.err != nil {
		return
	}
	r.add(TunnelTable, 0o644, "root", append(tableJSON(TableFor(r.g)), '\n'))
}
