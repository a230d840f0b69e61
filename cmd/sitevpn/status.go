package main

import (
	"time"

	"github.com/spf13/cobra"

	"github.com/sitevpn/sitevpn/internal/check"
	"github.com/sitevpn/sitevpn/internal/daemon"
)

func newStatus(g *globals) *cobra.Command {
	var asJSON bool
	var wait time.Duration
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Health of every tunnel: handshake, transfer, BGP state and routes; exit 1 when something is down",
		Long: `Read WireGuard and BIRD now and show each tunnel's last handshake, transfer,
BGP session state, uptime and routes, plus what the daemon reports (an
invalid configuration, a failed apply). Exits 1 when a tunnel or session is
down or something is wrong; --json for machines (also for errors). Needs
neither systemd nor, with --gateway, the private key. With --wait-healthy
DURATION, reads again every 2 s until healthy (exit 0) or DURATION passes
(exit 1, the last reading shown): what a rollout waits on before it
confirms a change.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			rep, err := daemon.WaitHealthy(cmd.Context(), g.root, g.options(), wait)
			switch {
			case err != nil && !asJSON:
				return err
			case err != nil: // machines get JSON for errors too
				rep = check.Report{Tunnels: []check.Tunnel{}, Problems: []string{err.Error()}}
			}
			if asJSON {
				if err := rep.WriteJSON(cmd.OutOrStdout()); err != nil {
					return err
				}
			} else {
				rep.WriteText(cmd.OutOrStdout())
			}
			if !rep.Healthy {
				return exitError(1)
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON for machines")
	cmd.Flags().DurationVar(&wait, "wait-healthy", 0, "read again every 2 s until healthy, at most this long")
	return cmd
}
