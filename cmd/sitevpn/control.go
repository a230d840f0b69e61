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

// newDrain: sitevpn drain [--wait DURATION].
func newDrain(g *globals) *cobra.Command {
	cmd := newControl(g, "drain", "Move traffic off this gateway before maintenance (persists across reboots)", `Announce this gateway's routes with GRACEFUL_SHUTDOWN (65535:0, RFC 8326),
which every gateway keeps at local preference 0, and offer the LAN its
routes as the least preferred: traffic moves to the other gateways before
this one goes down. Stays drained across daemon restarts and reboots until
"sitevpn undrain". With --wait, returns once no tunnel carries user traffic.`)
	wait := cmd.Flags().Duration("wait", 0, "return once no tunnel carries user traffic, or fail after this long")
	drain := cmd.RunE
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		if err := drain(cmd, args); err != nil || *wait == 0 {
			return err
		}
		msg, err := daemon.WaitDrained(cmd.Context(), g.root, g.options(), *wait)
		if err == nil {
			fmt.Fprintln(cmd.OutOrStdout(), msg)
		}
		return err
	}
	return cmd
}
