package main

import (
	"fmt"
	"os"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/cobra/doc"
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
			if out == "" {
				return fmt.Errorf("man: --out DIR is required")
			}
			if err := os.MkdirAll(out, 0o755); err != nil {
				return fmt.Errorf("man: %w", err)
			}
			root := cmd.Root()
			root.DisableAutoGenTag = true // no date line: the same source gives the same pages
			h := &doc.GenManHeader{
				Title:   "SITEVPN",
				Section: "8",
				Source:  "sitevpn " + version(),
				Manual:  "System Administration",
			}
			if t, ok := sourceDate(); ok {
				h.Date = &t
			}
			if err := doc.GenManTree(root, h, out); err != nil {
				return fmt.Errorf("man: %w", err)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&out, "out", "", "directory to write sitevpn.8 and sitevpn-COMMAND.8 into")
	return cmd
}

// version is the package version the Makefile passes in SITEVPN_VERSION,
// "dev" otherwise.
func version() string {
	if v := os.Getenv("SITEVPN_VERSION"); v != "" {
		return v
	}
	return "dev"
}

// sourceDate honours SOURCE_DATE_EPOCH (reproducible builds); without it
// the pages carry no fixed date and cobra uses today's.
func sourceDate() (time.Time, bool) {
	var sec int64
	if _, err := fmt.Sscan(os.Getenv("SOURCE_DATE_EPOCH"), &sec); err != nil || sec <= 0 {
		return time.Time{}, false
	}
	return time.Unix(sec, 0).UTC(), true
}
