package main

import (
	"errors"
	"fmt"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/sitevpn/sitevpn/internal/daemon"
	"github.com/sitevpn/sitevpn/internal/gateway"
	"github.com/sitevpn/sitevpn/internal/pipeline"
)

func newApply(g *globals) *cobra.Command {
	var confirm time.Duration
	cmd := &cobra.Command{
		Use:   "apply [--confirm DURATION]",
		Short: "Bring this gateway to the fleet definition: files, units, links, BIRD; only what differs",
		Long: `Bring this gateway to the fleet definition, changing only what differs:
write changed files atomically (and remove stale ones sitevpn owns), reload
systemd and restart the units whose files changed, reload networkd if its
files changed, create or change tunnel links and peers live (an unchanged
tunnel is never touched), reconfigure BIRD softly, and only then delete the
links of removed tunnels (BIRD has withdrawn their routes). When a step
fails, the files it wrote are restored and the exit status is 1. Running it
twice in a row does nothing the second time.

While the daemon runs, it applies (it owns the gateway), even files it
rolled back before, and judges the change as any other. With --confirm
DURATION the change is rolled back unless "sitevpn confirm" answers within
DURATION: for a change made over a link it may cut.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := gateway.LiveRoot("apply", g.root); err != nil {
				return err
			}
			if err := daemon.CheckConfirm(confirm, cmd.Flags().Changed("confirm")); err != nil {
				return err
			}
			abs, _ := filepath.Abs(g.config)
			msg, err := daemon.Ask(cmd.Context(), filepath.Join(g.root, daemon.ControlPath), daemon.Request{Op: "apply", ConfigDir: abs, Confirm: confirm})
			if !errors.Is(err, daemon.ErrNoDaemon) || confirm > 0 {
				if err != nil {
					return fmt.Errorf("apply: %w", err)
				}
				_, err = fmt.Fprintln(cmd.OutOrStdout(), msg)
				return err
			}
			res, err := pipeline.Run(g.options())
			if err != nil {
				return err
			}
			fmt.Fprint(cmd.ErrOrStderr(), res.Warnings)
			gw := gateway.Open(g.root, newLogger())
			defer gw.Close()
			rep, err := gw.Apply(cmd.Context(), res)
			rep.WriteText(cmd.OutOrStdout(), cmd.ErrOrStderr(), err != nil)
			return err
		},
	}
	cmd.Flags().DurationVar(&confirm, "confirm", 0, `roll the change back unless "sitevpn confirm" answers within this (needs the daemon)`)
	return cmd
}
