package check

import (
	"fmt"
	"io"
	"text/tabwriter"
	"time"
)

// WriteText prints the report as `sitevpn status` shows it: a table of
// tunnels, the problems, and the verdict.
func (rep Report) WriteText(w io.Writer) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "TUNNEL\tPEER\tSITE\tHANDSHAKE\tRX\tTX\tBGP\tSINCE\tROUTES\tSTATE")
	for _, t := range rep.Tunnels {
		hs, since, state := "never", "-", "up"
		if !t.Handshake.IsZero() {
			hs = t.HandshakeAge.String() + " ago"
		}
		if !t.BGPSince.IsZero() {
			since = time.Since(t.BGPSince).Truncate(time.Second).String()
		}
		if !t.Up {
			state = "DOWN: " + t.Problem
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%d\t%s\t%s\t%d\t%s\n", t.Interface, t.Peer, t.Site, hs, t.RxBytes, t.TxBytes, t.BGPState, since, t.Routes, state)
	}
	tw.Flush()
	for _, p := range rep.Problems {
		fmt.Fprintln(w, "problem:", p)
	}
	verdict := "healthy"
	if !rep.Healthy {
		verdict = "NOT healthy"
	}
	fmt.Fprintf(w, "%s: %s\n", rep.Gateway, verdict)
}
