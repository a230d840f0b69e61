package main

import (
	"encoding/json"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/sitevpn/sitevpn/internal/apply"
	"github.com/sitevpn/sitevpn/internal/gateway"
	"github.com/sitevpn/sitevpn/internal/oneshot"
	"github.com/sitevpn/sitevpn/internal/pipeline"
	"github.com/sitevpn/sitevpn/internal/verify"
	"github.com/sitevpn/sitevpn/render"
)

func newPlan(g *globals) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "plan",
		Short: "Show this gateway's tunnels and what apply would change; change nothing",
		Long: `Show this gateway's desired tunnels and the actions apply would take to get
there from what is under --root: files to write or remove, units to reload
or restart, networkd and BIRD reloads. Read-only.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			oneshot.Tune()
			res, err := pipeline.Run(g.options())
			if err != nil {
				return err
			}
			acts, note, err := gateway.Preview(cmd.Context(), g.root, res)
			if err != nil {
				return err
			}
			rep, findings, err := pipeline.Verify(g.options())
			if err != nil {
				return err
			}
			table := render.TableFor(res.Plan)
			if asJSON {
				enc := json.NewEncoder(cmd.OutOrStdout())
				enc.SetIndent("", "  ")
				return enc.Encode(struct {
					render.Table
					Actions []apply.Action `json:"actions"`
					Verify  *verify.Report `json:"verify"`
				}{table, append([]apply.Action{}, acts...), rep})
			}
			fmt.Fprint(cmd.ErrOrStderr(), findings)
			gateway.WritePreview(cmd.OutOrStdout(), table, res.Plan.Site.ASN, acts)
			if note != "" {
				fmt.Fprintln(cmd.OutOrStdout(), note)
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON for machines")
	return cmd
}
