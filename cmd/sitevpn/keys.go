package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"
	"golang.zx2c4.com/wireguard/wgctrl/wgtypes"

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
			k, err := wgtypes.GeneratePrivateKey()
			if err != nil {
				return fmt.Errorf("genkey: %w", err)
			}
			if out == "" {
				_, err = fmt.Fprintln(cmd.OutOrStdout(), k.String())
				return err
			}
			if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
				return fmt.Errorf("genkey: %w", err)
			}
			f, err := os.OpenFile(out, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
			if errors.Is(err, os.ErrExist) {
				return fmt.Errorf("genkey: %s exists; not overwriting a gateway's key (remove it first if you really mean to change this gateway's identity)", out)
			}
			if err != nil {
				return fmt.Errorf("genkey: %w", err)
			}
			if _, err := fmt.Fprintln(f, k.String()); err != nil {
				f.Close()
				return fmt.Errorf("genkey: writing %s: %w", out, err)
			}
			if err := f.Sync(); err != nil {
				f.Close()
				return fmt.Errorf("genkey: writing %s: %w", out, err)
			}
			return f.Close()
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
			var k wgtypes.Key
			var err error
			var in []byte
			if piped(cmd.InOrStdin()) && !cmd.Flags().Changed("config") {
				if in, err = io.ReadAll(io.LimitReader(cmd.InOrStdin(), 1024)); err != nil {
					return fmt.Errorf("pubkey: reading stdin: %w", err)
				}
			}
			if len(bytes.TrimSpace(in)) > 0 {
				if k, err = identity.ParsePrivateKey(string(in)); err != nil {
					err = fmt.Errorf("pubkey: stdin: %w", err)
				}
			} else { // no key piped in (an empty pipe is what CI and cron give)
				k, err = identity.ReadPrivateKey(filepath.Join(g.config, identity.KeyFile))
			}
			if err != nil {
				return err
			}
			_, err = fmt.Fprintln(cmd.OutOrStdout(), k.PublicKey().String())
			return err
		},
	}
}

// piped reports whether r is a pipe or a file rather than a terminal or
// /dev/null.
func piped(r io.Reader) bool {
	f, ok := r.(*os.File)
	if !ok {
		return true // a test's buffer
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice == 0
}
