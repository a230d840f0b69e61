package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"
	"github.com/spf13/cobra/doc"

	"github.com/sitevpn/sitevpn/internal/version"
)

// newMan writes the manual pages from the commands' own help: sitevpn.8
// and one sitevpn-COMMAND.8 per command. Hidden: it is for packaging
// (make package), not for operators.
func newMan(g *globals) *cobra.Command {
	var out string
	cmd := &cobra.Command{
		Use:    "man --out DIR",
		Short:  "Write the manual pages (section 8) into DIR",
		Hidden: true,
		Args:   cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := os.MkdirAll(out, 0o755); err != nil {
				return fmt.Errorf("man: %w", err)
			}
			root := cmd.Root()
			root.DisableAutoGenTag = true // no date line: the same source gives the same pages
			h := &doc.GenManHeader{Title: "SITEVPN", Section: "8", Source: "sitevpn " + version.String(), Manual: "System Administration"}
			if t, ok := version.SourceDate(); ok {
				h.Date = &t
			}
			if err := doc.GenManTree(root, h, out); err != nil {
				return fmt.Errorf("man: %w", err)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&out, "out", "", "directory to write sitevpn.8 and sitevpn-COMMAND.8 into")
	_ = cmd.MarkFlagRequired("out")
	return cmd
}
