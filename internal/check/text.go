package check

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"
)

// WarningLines splits formatted diagnostics into one entry per warning
// (a warning's quoted source lines stay with it).
func WarningLines(formatted string) []string {
	var out []string
	for _, l := range strings.Split(strings.TrimRight(formatted, "\n"), "\n") {
		if strings.HasPrefix(l, " ") && len(out) > 0 {
			out[len(out)-1] += "\n" + l
			continue
		}
		if l != "" {
			out = append(out, l)
		}
	}
	return out
}

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
	writeAdjacencies(w, rep.Adjacencies)
	if c := rep.Configuration; c != nil && c.State != RolledBack { // a rollback is a problem, below
		fmt.Fprintln(w, "configuration:", c)
	}
	if !rep.DrainedSince.IsZero() {
		fmt.Fprintf(w, "drained since %s: traffic avoids this gateway (sitevpn undrain puts it back in service)\n", rep.DrainedSince.Local().Format(time.DateTime))
	}
	for _, p := range rep.Problems {
		fmt.Fprintln(w, "problem:", p)
	}
	for _, p := range rep.Warnings {
		fmt.Fprintln(w, "warning:", p)
	}
	for _, p := range rep.Endpoints {
		fmt.Fprintln(w, "warning:", p)
	}
	verdict := "healthy"
	if !rep.Healthy {
		verdict = "NOT healthy"
	}
	fmt.Fprintf(w, "%s: %s\n", rep.Gateway, verdict)
}

// WriteJSON prints the report as `sitevpn status --json` shows it.
func (rep Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(rep)
}
