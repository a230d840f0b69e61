package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/sitevpn/sitevpn/internal/check"
	"github.com/sitevpn/sitevpn/internal/daemon"
	"github.com/sitevpn/sitevpn/internal/gateway"
	"github.com/sitevpn/sitevpn/internal/pipeline"
)

func newStatus(g *globals) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Health of every tunnel: handshake, transfer, BGP state and routes; exit 1 when something is down",
		Long: `Read WireGuard and BIRD now and show each tunnel's last handshake, transfer,
BGP session state, uptime and routes, plus what the daemon reports (an
invalid configuration, a failed apply). Exits 1 when a tunnel or session is
down or something is wrong; --json for machines (also for errors). Needs
neither systemd nor, with --gateway, the private key.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			rep, err := readStatus(cmd.Context(), g)
			switch {
			case err != nil && !asJSON:
				return err
			case err != nil: // machines get JSON for errors too
				rep = check.Report{Tunnels: []check.Tunnel{}, Problems: []string{err.Error()}}
			}
			if asJSON {
				enc := json.NewEncoder(cmd.OutOrStdout())
				enc.SetIndent("", "  ")
				if err := enc.Encode(rep); err != nil {
					return err
				}
			} else {
				rep.WriteText(cmd.OutOrStdout())
			}
			if !rep.Healthy {
				return exitError(1)
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON for machines")
	return cmd
}

// readStatus checks the configuration in force: the files', or while they
// are invalid the last good one the daemon still runs, with what the
// daemon reports.
func readStatus(ctx context.Context, g *globals) (check.Report, error) {
	st, stErr := daemon.ReadState(g.root)
	res, err := pipeline.Run(g.options())
	var rep check.Report
	switch {
	case err == nil:
		gw := gateway.Open(g.root, slog.New(slog.DiscardHandler))
		defer gw.Close()
		rep = gw.Check(ctx, res)
		rep.Warnings = check.WarningLines(res.Warnings)
	case stErr == nil && st.ConfigError != "":
		rep = st.Health
	case noFleet(g.config):
		return rep, fmt.Errorf("status: no fleet definition in %s (no *.hcl file): put the fleet there; the package installs an example as %s", g.config, filepath.Join(g.config, "example.hcl.sample"))
	default:
		return rep, err
	}
	if stErr != nil {
		return rep, nil // no daemon has run: what the system shows is all
	}
	return st.Merge(rep, time.Now()), nil
}

func noFleet(dir string) bool {
	m, err := filepath.Glob(filepath.Join(dir, "*.hcl"))
	return err == nil && len(m) == 0 || errors.Is(err, fs.ErrNotExist)
}
