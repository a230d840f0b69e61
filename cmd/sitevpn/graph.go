package main

import (
	"fmt"
	"log/slog"

	"github.com/spf13/cobra"

	"github.com/sitevpn/sitevpn/internal/gateway"
	"github.com/sitevpn/sitevpn/internal/graph"
	"github.com/sitevpn/sitevpn/internal/pipeline"
)

func newGraph(g *globals) *cobra.Command {
	var format string
	var status bool
	var prom string
	cmd := &cobra.Command{
		Use:   "graph [--format dot|svg] [--status | --prometheus URL]",
		Short: "Draw the fleet: sites as clusters, gateways, one edge per tunnel (Graphviz DOT or SVG)",
		Long: `Draw the fleet from the same plan as the rendered files: sites as
clusters, gateways as nodes, one edge per tunnel. --format svg renders it
with Graphviz's dot (installed separately). With --status, this gateway's
tunnels are coloured by their health: green up, red dashed down with the
reason. With --prometheus URL, the whole fleet's tunnels are, as the
Prometheus server that scrapes every gateway sees them.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			f, _, err := pipeline.Validate(g.options())
			if err != nil {
				return err
			}
			var health graph.Health
			if prom != "" {
				if health, err = graph.FromPrometheus(cmd.Context(), graph.NewClient(graph.PrometheusTimeout), prom); err != nil {
					return fmt.Errorf("graph: %w", err)
				}
			} else if status {
				res, err := pipeline.Run(g.options())
				if err != nil {
					return err
				}
				gw := gateway.Open(g.root, slog.New(slog.DiscardHandler))
				defer gw.Close()
				health = graph.FromReport(res.Me.Name, gw.Check(cmd.Context(), res))
			}
			return graph.Draw(cmd.Context(), cmd.OutOrStdout(), format, f, health)
		},
	}
	cmd.Flags().StringVar(&format, "format", "dot", "dot (Graphviz's language) or svg (rendered with Graphviz)")
	cmd.Flags().BoolVar(&status, "status", false, "colour this gateway's tunnels by their health")
	cmd.Flags().StringVar(&prom, "prometheus", "", "colour every tunnel by its health in this Prometheus server (http://host:9090)")
	return cmd
}
