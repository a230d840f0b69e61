package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/sitevpn/sitevpn/internal/oneshot"
	"github.com/sitevpn/sitevpn/internal/pipeline"
	"github.com/sitevpn/sitevpn/render"
)

func newRender(g *globals) *cobra.Command {
	var out string
	cmd := &cobra.Command{
		Use:   "render --out DIR",
		Short: "Write every file this gateway would get under DIR; touch nothing else",
		Long: `Render every file this gateway would get (networkd files, systemd units,
BIRD configuration, tunnel table) under DIR, as if DIR were the root. No
other side effect: no reload, no link, no key copy. DIR must be empty, new,
or rendered by sitevpn before: then the files no longer rendered are
removed (and named), so DIR never mixes two renders; only files still as
rendered go, and nothing outside DIR is touched, whatever links it holds.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			oneshot.Tune()
			res, err := pipeline.Run(g.options())
			if err != nil {
				return err
			}
			w, err := render.WriteTree(out, res.Tree)
			if err != nil {
				return fmt.Errorf("render: %w", err)
			}
			w.Print(cmd.OutOrStdout(), cmd.ErrOrStderr())
			return nil
		},
	}
	cmd.Flags().StringVar(&out, "out", "", "directory to render into (created if missing)")
	_ = cmd.MarkFlagRequired("out")
	return cmd
}
