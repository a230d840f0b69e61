package main

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/sitevpn/sitevpn/internal/apply"
	"github.com/sitevpn/sitevpn/internal/pipeline"
	"github.com/sitevpn/sitevpn/render"
)

func newPlan(g *globals) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "plan",
		Short: "Show this gateway's tunnels and what apply would change; change nothing",
		Long: `Show this gateway's desired tunnels and the actions apply would take to get
there from what is under --root: files to write or remove, units to reload
or restart, networkd and BIRD reloads. Read-only.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			res, err := pipeline.Run(g.options())
			if err != nil {
				return err
			}
			acts, note, err := planActions(cmd, g, res)
			if err != nil {
				return err
			}
			table := render.TableFor(res.Plan)
			if asJSON {
				enc := json.NewEncoder(cmd.OutOrStdout())
				enc.SetIndent("", "  ")
				return enc.Encode(struct {
					render.Table
					Actions []apply.Action `json:"actions"`
				}{table, nonNil(acts)})
			}
			printPlan(cmd.OutOrStdout(), table, res.Plan.Site.ASN, acts)
			if note != "" {
				fmt.Fprintln(cmd.OutOrStdout(), note)
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON for machines")
	return cmd
}

func nonNil(a []apply.Action) []apply.Action {
	if a == nil {
		return []apply.Action{}
	}
	return a
}

func printPlan(w io.Writer, t render.Table, asn uint32, acts []apply.Action) {
	fmt.Fprintf(w, "gateway %s (id %d, site %s, AS%d), isolation %s, namespace %q\n\n", t.Gateway, t.ID, t.Site, asn, t.Isolation, t.Namespace)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "TUNNEL\tLISTEN\tPEER\tSITE\tASN\tENDPOINT\tLOCAL6\tLOCAL4")
	for _, tu := range t.Tunnels {
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%d\t%s\t%s\t%s\n", tu.Interface, tu.ListenPort, tu.Peer.Gateway, tu.Peer.Site, tu.Peer.ASN, tu.Peer.Endpoint, tu.Local6, tu.Local4)
	}
	tw.Flush()
	fmt.Fprintln(w)
	if len(acts) == 0 {
		fmt.Fprintln(w, "no changes: the files are up to date")
		return
	}
	fmt.Fprintf(w, "%d actions:\n", len(acts))
	for _, a := range acts {
		fmt.Fprintf(w, "  %-16s %s (%s)\n", a.Kind, a.Target, a.Why)
	}
}

// planActions is the whole plan (files, units, links, BIRD) when this
// process can see the system (root, systemd on D-Bus); otherwise the files
// only, with a note saying so.
func planActions(cmd *cobra.Command, g *globals, res *pipeline.Result) ([]apply.Action, string, error) {
	if os.Geteuid() == 0 && g.root == "/" {
		if sys, err := openSystem(cmd.Context(), g, slog.New(slog.DiscardHandler)); err == nil {
			defer sys.Close()
			acts, err := sys.plan(cmd.Context(), res)
			return acts, "", err
		}
	}
	have, err := apply.ReadHave(g.root, res.Tree)
	if err != nil {
		return nil, "", err
	}
	return apply.Diff(res.Tree, have), "(files only: units, links and BIRD are compared when run as root on the gateway)", nil
}
