package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/sitevpn/sitevpn/internal/check"
	"github.com/sitevpn/sitevpn/internal/daemon"
	"github.com/sitevpn/sitevpn/internal/pipeline"
)

func newStatus(g *globals) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Health of every tunnel: handshake, transfer, BGP state and routes; exit 1 when something is down",
		Long: `Read WireGuard and BIRD now and show each tunnel's last handshake, transfer,
BGP session state, uptime and routes, plus what the daemon reports (an
invalid configuration, a failed apply). Exits 1 when a tunnel or session is
down or something is wrong; --json for machines.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			var rep check.Report
			res, err := pipeline.Run(g.options())
			var st *daemon.State
			if s, serr := readState(g.root); serr == nil {
				st = &s
			}
			switch {
			case err != nil && st != nil && st.ConfigError != "":
				// The daemon runs the last good configuration; show that,
				// without the daemon's one-line summaries of what follows.
				rep = st.Health
				rep.Problems = slices.DeleteFunc(slices.Clone(rep.Problems), func(p string) bool {
					return strings.HasPrefix(p, "invalid configuration") || strings.HasPrefix(p, "apply failed: ")
				})
			case err != nil:
				return err
			default:
				sys, err := openSystem(cmd.Context(), g, newLogger())
				if err != nil {
					return err
				}
				defer sys.Close()
				rep = sys.check(cmd.Context(), res)
			}
			if st != nil && time.Since(st.Updated) > staleState {
				rep.Problems = append(rep.Problems, fmt.Sprintf("the daemon's state is %s old: is sitevpn.service running?", time.Since(st.Updated).Round(time.Second)))
				rep.Healthy = false
				st = nil // its errors may be long gone
			}
			if st != nil {
				if st.ConfigError != "" {
					rep.Problems = append(rep.Problems, "invalid configuration, the daemon keeps the last good one:\n"+st.ConfigError)
					rep.Healthy = false
				}
				if st.ApplyError != "" {
					rep.Problems = append(rep.Problems, "last apply failed: "+st.ApplyError)
					rep.Healthy = false
				}
			}
			if asJSON {
				enc := json.NewEncoder(cmd.OutOrStdout())
				enc.SetIndent("", "  ")
				if err := enc.Encode(rep); err != nil {
					return err
				}
			} else {
				printStatus(cmd.OutOrStdout(), rep)
			}
			if !rep.Healthy {
				return exitError(1)
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON for machines")
	return cmd
}

// staleState: the daemon publishes its state every 10 s; older than this,
// it is not running (or stuck).
const staleState = time.Minute

func readState(root string) (daemon.State, error) {
	var s daemon.State
	b, err := os.ReadFile(filepath.Join(root, statePath))
	if err != nil {
		return s, err
	}
	return s, json.Unmarshal(b, &s)
}

func printStatus(w io.Writer, rep check.Report) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "TUNNEL\tPEER\tSITE\tHANDSHAKE\tRX\tTX\tBGP\tSINCE\tROUTES\tSTATE")
	for _, t := range rep.Tunnels {
		hs, since := "never", "-"
		if !t.Handshake.IsZero() {
			hs = t.HandshakeAge.String() + " ago"
		}
		if !t.BGPSince.IsZero() {
			since = time.Since(t.BGPSince).Truncate(time.Second).String()
		}
		state := "up"
		if !t.Up {
			state = "DOWN: " + t.Problem
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%d\t%s\t%s\t%d\t%s\n", t.Interface, t.Peer, t.Site, hs, t.RxBytes, t.TxBytes, t.BGPState, since, t.Routes, state)
	}
	tw.Flush()
	for _, p := range rep.Problems {
		fmt.Fprintln(w, "problem:", p)
	}
	if rep.Healthy {
		fmt.Fprintf(w, "%s: healthy\n", rep.Gateway)
	} else {
		fmt.Fprintf(w, "%s: NOT healthy\n", rep.Gateway)
	}
}
