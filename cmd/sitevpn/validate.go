package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/sitevpn/sitevpn/internal/oneshot"
	"github.com/sitevpn/sitevpn/internal/pipeline"
)

func newValidate(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "validate [FILE...]",
		Short: "Check the fleet definition; print every error with file:line:column",
		Long: `Check the fleet definition: syntax, schema, addresses, keys, duplicates,
overlapping prefixes, transit pool capacity. With FILEs, check them (read
together as one document) instead of --config's *.hcl; usable as Ansible's
"validate: sitevpn validate %s". Exits 1 when anything is invalid. What
sitevpn verify finds is printed as warnings.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			oneshot.Tune()
			o := g.options()
			o.Files = args
			f, warnings, err := pipeline.Validate(o)
			if err != nil {
				return err
			}
			_, findings, err := pipeline.Verify(o)
			if err != nil {
				return err
			}
			fmt.Fprint(cmd.ErrOrStderr(), warnings, findings)
			fmt.Fprintf(cmd.OutOrStdout(), "ok: %d sites, %d gateways\n", len(f.Sites), len(f.Gateways()))
			return nil
		},
	}
}

func newVerify(g *globals) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "verify",
		Short: "Follow every single failure (a gateway, a tunnel, a site); exit 2 when one cuts sites apart",
		Long: `Reason over the fleet's derived topology and routing policy, with no live
state: for every single failure (a gateway, a tunnel, a whole site), the
pairs of sites that lose every path, a prefix that one gateway alone of a
larger site announces, transit where the topology gives none. Each finding
says what fails, what it cuts and, at file:line:col, what fixes it. Exits
0 with no finding, 2 with findings, 1 when the files are invalid.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			rep, text, err := pipeline.Verify(g.options())
			if err != nil {
				return err
			}
			if err := rep.Write(cmd.OutOrStdout(), asJSON, text); err != nil || len(rep.Findings) == 0 {
				return err
			}
			return exitError(2)
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON for machines")
	return cmd
}
