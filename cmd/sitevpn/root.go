package main

import (
	"fmt"
	"log/slog"
	"os"

	"github.com/spf13/cobra"

	"github.com/sitevpn/sitevpn/internal/cliflag"
	"github.com/sitevpn/sitevpn/internal/daemon"
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
	since, _ := daemon.DrainedSince(g.root) // unreadable: as the daemon, not drained
	return pipeline.Options{ConfigDir: g.config, Gateway: g.gateway, Drained: !since.IsZero()}
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
	root.SetFlagErrorFunc(cliflag.Suggest)
	root.AddCommand(newValidate(g), newVerify(g), newRender(g), newPlan(g), newGenkey(g), newPubkey(g),
		newApply(g), newRun(g), newStatus(g), newGraph(g), newVersion(), newMan(g),
		newControl(g, "confirm", "Keep the change applied with apply --confirm", `Confirm the configuration on probation: the change that "sitevpn apply
--confirm DURATION" applied (or one the daemon is judging by itself) is
kept, and becomes the one a later rollback returns to.`),
		newControl(g, "rollback", "Undo the change on probation now", `Roll the configuration on probation back at once: the daemon applies the
last confirmed configuration again (hitlessly: only what differs), and
does not apply the files of the rejected one again until they change.`),
		newDrain(g), newRotateKey(g),
		newControl(g, "undrain", "Put the drained gateway back in service", `Undo sitevpn drain: routes announced as usual again, traffic comes back.`))
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

func newLogger() *slog.Logger {
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
}
