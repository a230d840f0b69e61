package check

import (
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/sitevpn/sitevpn/internal/plan"
)

// Adjacency is one OSPF neighbor on a LAN, as BIRD reports it.
type Adjacency struct {
	Interface string `json:"interface"`
	Protocol  string `json:"protocol"` // BIRD's OSPF protocol: ospf4, ospf6
	Neighbor  string `json:"neighbor"` // its router id; "" for a LAN with none
	State     string `json:"state"`    // "Full/DR"; "none"
	Up        bool   `json:"up"`       // routes flow: Full, or 2-Way between two DROthers
}

// adjacencies are r's OSPF neighbors on g's OSPF LANs, plus one "none"
// row for each such LAN without any, so a LAN that lost its router shows.
func adjacencies(g *plan.Gateway, r Readings) []Adjacency {
	out := []Adjacency{}
	for _, lan := range g.LANs {
		if !lan.OSPF {
			continue
		}
		n := 0
		for _, a := range r.Adjacencies {
			if a.Interface == lan.Interface {
				out = append(out, a)
				n++
			}
		}
		if n == 0 && r.BirdError == "" {
			out = append(out, Adjacency{Interface: lan.Interface, State: "none"})
		}
	}
	return out
}

// writeAdjacencies prints the LANs' OSPF neighbors under the tunnels.
func writeAdjacencies(w io.Writer, as []Adjacency) {
	if len(as) == 0 {
		return
	}
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "LAN\tOSPF\tNEIGHBOR\tSTATE")
	for _, a := range as {
		proto, nb := a.Protocol, a.Neighbor
		if proto == "" {
			proto, nb = "-", "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", a.Interface, proto, nb, a.State)
	}
	tw.Flush()
}
