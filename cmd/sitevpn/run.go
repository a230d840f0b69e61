package main

import (
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/sitevpn/sitevpn/internal/daemon"
	"github.com/sitevpn/sitevpn/internal/gateway"
	"github.com/sitevpn/sitevpn/internal/systemd"
)

func newRun(g *globals) *cobra.Command {
	var metrics string
	cmd := &cobra.Command{
		Use:   "run",
		Short: "The daemon: apply, then watch the configuration and keep the gateway healthy",
		Long: `Run as a daemon (sitevpn.service, Type=notify): apply at start, then again
when a file of --config changes (private.key included), on SIGHUP, and
every 30 s to repair drift. An invalid configuration is logged and shown by
status while the last good one stays in force; a change that breaks tunnels
that were up is rolled back when the fleet's confirm_window ends. Serves
Prometheus metrics on metrics_listen (or --metrics-listen; "off" disables).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if metrics != "" {
				var err error
				if metrics, err = daemon.ParseListen(metrics); err != nil {
					return fmt.Errorf("--metrics-listen: %w", err)
				}
			}
			log := newLogger()
			ctx, stop := signal.NotifyContext(cmd.Context(), syscall.SIGTERM, syscall.SIGINT)
			defer stop()
			gw := gateway.Open(g.root, log)
			defer gw.Close()
			hup := make(chan os.Signal, 1)
			signal.Notify(hup, syscall.SIGHUP)
			reload := make(chan struct{})
			go func() {
				for range hup {
					reload <- struct{}{}
				}
			}()
			exp := daemon.NewExporter()
			n := systemd.Notifier{}
			wd, _ := n.WatchdogInterval()
			d := &daemon.Daemon{
				Options: g.options(), Apply: gw.Apply, Check: gw.Check,
				Reload: reload, Notify: n, Log: log,
				State:   func(s daemon.State) error { return daemon.WriteState(g.root, s) },
				Metrics: exp.Update, Watchdog: wd / 2,
				ConfirmDir: filepath.Join(g.root, daemon.ConfirmDir), Control: filepath.Join(g.root, daemon.ControlPath),
			}
			defer exp.Listen("off")
			if metrics == "" { // the fleet's, followed live
				d.Listen = exp.Listen
			} else if err := exp.Listen(metrics); err != nil {
				return err
			}
			return d.Run(ctx)
		},
	}
	cmd.Flags().StringVar(&metrics, "metrics-listen", "", `address for Prometheus metrics (default: the fleet's metrics_listen; "off" disables)`)
	return cmd
}
