package main

import (
	"github.com/spf13/cobra"

	"github.com/sitevpn/sitevpn/internal/pipeline"
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
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	pf := root.PersistentFlags()
	pf.StringVar(&g.config, "config", "/etc/sitevpn", "directory of the fleet definition (*.hcl) and private.key")
	pf.StringVar(&g.gateway, "gateway", "", "act as this gateway instead of the one matching private.key")
	pf.StringVar(&g.root, "root", "/", "prefix of every path read or written on the system (tests, packaging)")
	root.AddCommand(
		newValidate(g),
		newRender(g),
		newPlan(g),
		newGenkey(g),
		newPubkey(g),
		newApply(g),
		newRun(g),
		newStatus(g),
		newMan(g),
	)
	return root
}
