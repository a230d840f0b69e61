package main

import (
	"github.com/spf13/cobra"

	"github.com/sitevpn/sitevpn/internal/check"
	"github.com/sitevpn/sitevpn/internal/daemon"
)

func newStatus(g *globals) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Health of every tunnel: handshake, transfer, BGP state and routes; exit 1 when something is down",
		Long: `Read WireGuard and BIRD now and show each tunnel's last handshake, transfer,
BGP session state, uptime and routes, plus what the daemon reports (an
invalid configuration, a failed apply). Exits 1 when a tunnel or session is
down or something is wrong; --json for machines (also for errors). Needs
neither systemd nor, with --gateway, the private key.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			rep, err := daemon.Status(cmd.Context(), g.root, g.options())
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
	return cmd
}
