package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/sitevpn/sitevpn/internal/gateway"
	"github.com/sitevpn/sitevpn/internal/pipeline"
)

func newApply(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "apply",
		Short: "Bring this gateway to the fleet definition: files, units, links, BIRD; only what differs",
		Long: `Bring this gateway to the fleet definition, changing only what differs:
write changed files atomically (and remove stale ones sitevpn owns), reload
systemd and restart the units whose files changed, reload networkd if its
files changed, create or change tunnel links and peers live (an unchanged
tunnel is never touched), reconfigure BIRD softly, and only then delete the
links of removed tunnels (BIRD has withdrawn their routes). When a step
fails, the files it wrote are restored and the exit status is 1. Running it
twice in a row does nothing the second time.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			res, err := pipeline.Run(g.options())
			if err != nil {
				return err
			}
			fmt.Fprint(cmd.ErrOrStderr(), res.Warnings)
			gw := gateway.Open(g.root, newLogger())
			defer gw.Close()
			rep, err := gw.Apply(cmd.Context(), res)
			for _, a := range rep.Actions {
				fmt.Fprintf(cmd.OutOrStdout(), "%-16s %s %s\n", a.Kind, a.Target, a.Arg)
			}
			for _, w := range rep.Warnings {
				fmt.Fprintln(cmd.ErrOrStderr(), "warning:", w)
			}
			if err == nil && !rep.Changed() {
				fmt.Fprintln(cmd.OutOrStdout(), "no changes")
			}
			return err
		},
	}
}
