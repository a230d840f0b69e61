package render

import (
	"strings"

	"github.com/sitevpn/sitevpn/internal/fleet"
	"github.com/sitevpn/sitevpn/internal/plan"
)

// Names are the names and paths derived from the namespace, shared by the
// unit templates and by apply (which must reach the same BIRD socket).
type Names struct {
	Name           string // the gateway
	Namespace      string
	NetNS          bool
	VRFTable       int
	NetNSUnit      string
	BirdUnit       string
	BirdConf       string
	BirdConfBase   string
	BirdRuntimeDir string
	BirdSocket     string
	// Unmanaged lists the interfaces networkd must leave alone (netns
	// mode): the LANs, which sitevpn takes over. Tunnels are not listed:
	// they are created inside the namespace and never seen by networkd,
	// so adding one does not change networkd's files.
	Unmanaged string
}

// NamesFor returns the names of gateway g's units and files.
func NamesFor(g *plan.Gateway) Names { return newNames(g) }

func newNames(g *plan.Gateway) Names {
	ns := g.Namespace
	n := Names{
		Name:           g.Name,
		Namespace:      ns,
		NetNS:          g.Isolation == fleet.NetNS,
		VRFTable:       g.VRFTable,
		NetNSUnit:      "sitevpn-netns-" + ns + ".service",
		BirdUnit:       "sitevpn-bird-" + ns + ".service",
		BirdConfBase:   "sitevpn-" + ns + ".conf",
		BirdRuntimeDir: "sitevpn-bird-" + ns,
	}
	n.BirdConf = "/" + BirdDir + "/" + n.BirdConfBase
	n.BirdSocket = "/run/" + n.BirdRuntimeDir + "/bird.ctl"
	if n.NetNS {
		var names []string
		for _, l := range g.LANs {
			names = append(names, l.Interface)
		}
		n.Unmanaged = strings.Join(names, " ")
	}
	return n
}
