package main

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"

	"github.com/spf13/cobra"

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
other side effect: no reload, no link, no key copy.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			res, err := pipeline.Run(g.options())
			if err != nil {
				return err
			}
			if err := writeTree(out, res.Tree); err != nil {
				return err
			}
			for _, f := range res.Tree {
				fmt.Fprintln(cmd.OutOrStdout(), filepath.Join(out, f.Path))
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&out, "out", "", "directory to render into (created if missing)")
	_ = cmd.MarkFlagRequired("out")
	return cmd
}

// writeTree writes tree under dir with each file's mode (ownership is
// left to apply: render runs unprivileged).
func writeTree(dir string, tree render.Tree) error {
	for _, f := range tree {
		p := filepath.Join(dir, f.Path)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return fmt.Errorf("render: %w", err)
		}
		if err := os.WriteFile(p, f.Content, f.Mode); err != nil {
			return fmt.Errorf("render: %w", err)
		}
		if err := os.Chmod(p, f.Mode); err != nil { // WriteFile keeps an existing file's mode
			return fmt.Errorf("render: %w", err)
		}
	}
	return nil
}

func sortTree(t render.Tree) render.Tree {
	sort.Slice(t, func(i, j int) bool { return t[i].Path < t[j].Path })
	return t
}
