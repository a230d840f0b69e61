package main

import (
	"github.com/spf13/cobra"

	"github.com/sitevpn/sitevpn/internal/daemon"
)

func newRun(g *globals) *cobra.Command {
	var metrics string
	cmd := &cobra.Command{
		Use:   "run",
		Short: "The daemon: apply, then watch the configuration and keep the gateway healthy",
		Long: `Run as a daemon (sitevpn.service, Type=notify): apply at start, then again
when a file of --config changes (private.key included), on SIGHUP, and
every 5 minutes to repair drift (a link changed by hand: within seconds). An invalid configuration is logged and shown by
status while the last good one stays in force; a change that breaks tunnels
that were up is rolled back when the fleet's confirm_window ends. Serves
Prometheus metrics on metrics_listen (or --metrics-listen; "off" disables).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return daemon.Main(cmd.Context(), g.root, g.options(), metrics, newLogger())
		},
	}
	cmd.Flags().StringVar(&metrics, "metrics-listen", "", `address for Prometheus metrics (default: the fleet's metrics_listen; "off" disables)`)
	return cmd
}
