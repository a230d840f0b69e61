package main

import (
	"fmt"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/sitevpn/sitevpn/internal/daemon"
)

// newControl is a command the running daemon carries out: the one owner
// of the gateway's configuration in force.
func newControl(g *globals, op, short, long string) *cobra.Command {
	return &cobra.Command{
		Use: op, Short: short, Long: long, Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			msg, err := daemon.Ask(cmd.Context(), filepath.Join(g.root, daemon.ControlPath), daemon.Request{Op: op})
			if err != nil {
				return fmt.Errorf("%s: %w", op, err)
			}
			_, err = fmt.Fprintln(cmd.OutOrStdout(), msg)
			return err
		},
	}
}
