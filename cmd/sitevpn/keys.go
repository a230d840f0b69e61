package main

import (
	"fmt"
	"io"
	"path/filepath"

	"github.com/spf13/cobra"
	"golang.zx2c4.com/wireguard/wgctrl/wgtypes"

	"github.com/sitevpn/sitevpn/internal/daemon"
	"github.com/sitevpn/sitevpn/internal/identity"
)

func newGenkey(g *globals) *cobra.Command {
	var out string
	cmd := &cobra.Command{
		Use:   "genkey",
		Short: "Make a WireGuard private key (stdout, or --out FILE created with mode 0600)",
		Long: `Make a new WireGuard private key. Without --out it goes to stdout, as
"wg genkey" does. With --out FILE it is written to FILE with mode 0600, and
an existing FILE is never overwritten (exit 1): a gateway's key is its
identity in the fleet.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if out != "" {
				if _, err := identity.WriteNewKey(out); err != nil {
					return fmt.Errorf("genkey: %w", err)
				}
				return nil
			}
			k, err := wgtypes.GeneratePrivateKey()
			if err != nil {
				return fmt.Errorf("genkey: %w", err)
			}
			_, err = fmt.Fprintln(cmd.OutOrStdout(), k.String())
			return err
		},
	}
	cmd.Flags().StringVar(&out, "out", "", "write the key to this file (mode 0600, never overwritten)")
	return cmd
}

func newPubkey(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "pubkey",
		Short: "Print the public key of a private key (--config's private.key, or one piped in)",
		Long: `Print the public key to put in this gateway's public_key attribute. The
private key is read from stdin when a key is piped in ("sitevpn genkey |
sitevpn pubkey"), else from private.key in the --config directory. With
--config given, stdin is never read: "sitevpn --config /etc/sitevpn
pubkey" answers at once even when stdin is a pipe that never closes (a
provisioning tool's).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			var stdin io.Reader // never read with --config given
			if !cmd.Flags().Changed("config") {
				stdin = cmd.InOrStdin()
			}
			k, err := identity.KeyFromPipeOrFile(stdin, filepath.Join(g.config, identity.KeyFile))
			if err != nil {
				return fmt.Errorf("pubkey: %w", err)
			}
			_, err = fmt.Fprintln(cmd.OutOrStdout(), k.PublicKey().String())
			return err
		},
	}
}

func newRotateKey(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "rotate-key",
		Short: "Drain, write a new private key (the old one kept until the new one is confirmed), print what to do next",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			msg, err := daemon.RotateKey(cmd.Context(), filepath.Join(g.root, daemon.ControlPath), daemon.OldKeyPath(g.root), g.options())
			if err != nil {
				return fmt.Errorf("rotate-key: %w", err)
			}
			_, err = fmt.Fprintln(cmd.OutOrStdout(), msg)
			return err
		},
	}
}
