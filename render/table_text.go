package render

import (
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/sitevpn/sitevpn/internal/plan"
)

// WriteText prints the table as `sitevpn plan` shows it: the gateway (of
// AS asn), then one line per tunnel.
func (t Table) WriteText(w io.Writer, asn uint32) {
	fmt.Fprintf(w, "gateway %s (id %d, site %s, AS%d), isolation %s, namespace %q\n\n", t.Gateway, t.ID, t.Site, asn, t.Isolation, t.Namespace)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "TUNNEL\tLISTEN\tPEER\tSITE\tASN\tENDPOINT\tLOCAL6\tLOCAL4")
	for _, tu := range t.Tunnels {
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%d\t%s\t%s\t%s\n", tu.Interface, tu.ListenPort, tu.Peer.Gateway, tu.Peer.Site, tu.Peer.ASN, endpointText(tu.Peer), tu.Local6, local4Text(tu))
	}
	tw.Flush()
}

// endpointText is where the tunnel sends: the address, the DNS name apply
// resolves, or, for a peer without endpoint, the address WireGuard learns
// from its packets.
func endpointText(p plan.Peer) string {
	switch {
	case p.Endpoint.IsValid():
		return p.Endpoint.String()
	case p.EndpointName != "":
		return p.EndpointName
	}
	return "(learned)"
}

// local4Text is the tunnel's IPv4 transit address; "-" when IPv4 rides the
// IPv6 transit (no transit4 pool, RFC 8950).
func local4Text(t plan.Tunnel) string {
	if !t.Local4.IsValid() {
		return "-"
	}
	return t.Local4.String()
}
