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
"validate: sitevpn validate %s". Exits 1 when anything is invalid.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			oneshot.Tune()
			o := g.options()
			o.Files = args
			f, warnings, err := pipeline.Validate(o)
			if err != nil {
				return err
			}
			fmt.Fprint(cmd.ErrOrStderr(), warnings)
			fmt.Fprintf(cmd.OutOrStdout(), "ok: %d sites, %d gateways\n", len(f.Sites), len(f.Gateways()))
			return nil
		},
	}
}
