package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/sitevpn/sitevpn/internal/pipeline"
)

func newApply(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "apply",
		Short: "Bring this gateway to the fleet definition: files, units, links, BIRD; only what differs",
		Long: `Bring this gateway to the fleet definition, changing only what differs:
write changed files atomically (and remove stale ones sitevpn owns), reload
systemd and restart the units whose files changed, reload networkd if its
files changed, create, change or delete tunnel links and peers live (an
unchanged tunnel is never touched), then reconfigure BIRD softly. When a
step fails, the files it wrote are restored and the exit status is 1.
Running it twice in a row does nothing the second time.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			res, err := pipeline.Run(g.options())
			if err != nil {
				return err
			}
			sys, err := openSystem(cmd.Context(), g, newLogger())
			if err != nil {
				return err
			}
			defer sys.Close()
			rep, err := sys.apply(cmd.Context(), res)
			for _, a := range rep.Actions {
				fmt.Fprintf(cmd.OutOrStdout(), "%-16s %s %s\n", a.Kind, a.Target, a.Arg)
			}
			for _, w := range rep.Warnings {
				fmt.Fprintln(cmd.ErrOrStderr(), "warning:", w)
			}
			if err != nil {
				return err
			}
			if !rep.Changed() {
				fmt.Fprintln(cmd.OutOrStdout(), "no changes")
			}
			return nil
		},
	}
}
