package main

import (
	"fmt"
	"log/slog"
	"os"
	"strings"

	"github.com/agext/levenshtein"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/sitevpn/sitevpn/internal/pipeline"
	"github.com/sitevpn/sitevpn/internal/version"
)

// globals are the flags every command takes.
type globals struct {
	config  string
	gateway string
	root    string
}

func (g *globals) options() pipeline.Options {
	return pipeline.Options{ConfigDir: g.config, Gateway: g.gateway}
}

func newRoot() *cobra.Command {
	g := &globals{}
	root := &cobra.Command{
		Use:   "sitevpn",
		Short: "Redundant route-based WireGuard site-to-site VPNs from one fleet definition",
		Long: `sitevpn turns one fleet-wide HCL definition (/etc/sitevpn/*.hcl, the same
files on every gateway) into this gateway's systemd-networkd files, systemd
units, BIRD configuration and live WireGuard state.

This gateway is the one whose public_key matches /etc/sitevpn/private.key,
unless --gateway names another.`,
		Version:       version.String(),
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	pf := root.PersistentFlags()
	pf.StringVar(&g.config, "config", "/etc/sitevpn", "directory of the fleet definition (*.hcl) and private.key")
	pf.StringVar(&g.gateway, "gateway", "", "act as this gateway instead of the one matching private.key")
	pf.StringVar(&g.root, "root", "/", "prefix of every path read or written on the system (tests, packaging)")
	root.SetFlagErrorFunc(suggestFlag)
	root.AddCommand(newValidate(g), newRender(g), newPlan(g), newGenkey(g), newPubkey(g),
		newApply(g), newRun(g), newStatus(g), newGraph(g), newVersion(), newMan(g))
	return root
}

func newVersion() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print sitevpn's version",
		Args:  cobra.NoArgs,
		Run:   func(cmd *cobra.Command, _ []string) { fmt.Fprintln(cmd.OutOrStdout(), "sitevpn", version.String()) },
	}
}

// suggestFlag adds "did you mean" to an unknown flag, as cobra does for
// commands.
func suggestFlag(cmd *cobra.Command, err error) error {
	_, name, ok := strings.Cut(err.Error(), "unknown flag: --")
	if !ok {
		return fmt.Errorf("%w (see %s --help)", err, cmd.CommandPath())
	}
	best, dist := "", 3 // suggest only close names
	visit := func(f *pflag.Flag) {
		if d := levenshtein.Distance(name, f.Name, nil); d < dist {
			best, dist = f.Name, d
		}
	}
	cmd.Flags().VisitAll(visit)
	cmd.InheritedFlags().VisitAll(visit)
	if best == "" {
		return fmt.Errorf("%w (see %s --help)", err, cmd.CommandPath())
	}
	return fmt.Errorf("%w; did you mean --%s?", err, best)
}

func newLogger() *slog.Logger {
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
}
