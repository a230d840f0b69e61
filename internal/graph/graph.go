// Package graph draws the fleet: sites as clusters, gateways as nodes,
// one edge per tunnel, in Graphviz DOT. The tunnels come from the same
// plan as the rendered files, so the picture cannot disagree with them;
// health, when given, colours the edges.
package graph

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"sort"
	"strings"

	"github.com/sitevpn/sitevpn/internal/check"
	"github.com/sitevpn/sitevpn/internal/fleet"
	"github.com/sitevpn/sitevpn/internal/plan"
)

// Health is how the edges are coloured: by tunnel, keyed by its two
// gateways' names (Key).
type Health map[string]EdgeState

// EdgeState is one tunnel's health as the graph shows it.
type EdgeState struct {
	Up      bool
	Problem string // why it is down: "no handshake yet", "BGP Active"...
}

// Key names the tunnel between gateways a and b, either way round.
func Key(a, b string) string {
	if b < a {
		a, b = b, a
	}
	return a + "|" + b // names never hold a "|" (validate)
}

// FromReport is the health of gateway me's tunnels as check reports them.
func FromReport(me string, rep check.Report) Health {
	h := Health{}
	for _, t := range rep.Tunnels {
		h[Key(me, t.Peer)] = EdgeState{Up: t.Up, Problem: t.Problem}
	}
	return h
}

type edge struct{ a, b *fleet.Gateway } // a has the lower id

// edges lists every tunnel of the fleet once, as plan derives it.
func edges(f *fleet.Fleet) []edge {
	var out []edge
	for _, g := range f.Gateways() {
		for _, t := range plan.For(f, g).Tunnels {
			if t.Peer.ID < g.ID {
				continue // listed from the lower id
			}
			out = append(out, edge{a: g, b: f.Gateway(t.Peer.Gateway)})
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].a.ID != out[j].a.ID {
			return out[i].a.ID < out[j].a.ID
		}
		return out[i].b.ID < out[j].b.ID
	})
	return out
}

// Write writes f as DOT. With health, each tunnel it knows is green (up)
// or red (down, with the reason as its label); the others stay grey.
func Write(w io.Writer, f *fleet.Fleet, health Health) error {
	var b strings.Builder
	fmt.Fprintf(&b, "graph sitevpn {\n\tgraph [fontname=\"sans\", label=%s, labelloc=t];\n", quote(fmt.Sprintf("sitevpn fleet, %s %q", f.Isolation, f.Namespace)))
	b.WriteString("\tnode [shape=box, style=\"rounded,filled\", fillcolor=\"#eef3fb\", fontname=\"sans\"];\n")
	b.WriteString("\tedge [fontname=\"sans\", fontsize=9, color=\"#888888\"];\n")
	for i, s := range f.Sites {
		fmt.Fprintf(&b, "\tsubgraph cluster_%d {\n\t\tlabel=%s;\n\t\tstyle=rounded;\n", i, quote(fmt.Sprintf("%s (AS%d)\n%s", s.Name, s.ASN, prefixes(s))))
		for _, g := range s.Gateways {
			fmt.Fprintf(&b, "\t\t%s [label=%s];\n", quote(g.Name), quote(fmt.Sprintf("%s\nid %d, %s", g.Name, g.ID, endpointLabel(g))))
		}
		b.WriteString("\t}\n")
	}
	for _, e := range edges(f) {
		attrs := fmt.Sprintf("tooltip=%s", quote(fmt.Sprintf("%s <-> %s", plan.InterfaceName(e.b.ID)+"@"+e.a.Name, plan.InterfaceName(e.a.ID)+"@"+e.b.Name)))
		if st, ok := health[Key(e.a.Name, e.b.Name)]; ok {
			if st.Up {
				attrs += ", color=\"#2e8b57\", penwidth=2"
			} else {
				attrs += fmt.Sprintf(", color=\"#cc0000\", penwidth=2, style=dashed, label=%s", quote(st.Problem))
			}
		}
		fmt.Fprintf(&b, "\t%s -- %s [%s];\n", quote(e.a.Name), quote(e.b.Name), attrs)
	}
	b.WriteString("}\n")
	_, err := io.WriteString(w, b.String())
	return err
}

// endpointLabel is where peers reach g: its address, its DNS name, or
// nothing fixed (it connects out and its peers learn its address).
func endpointLabel(g *fleet.Gateway) string {
	switch {
	case g.Endpoint.IsValid():
		return g.Endpoint.Addr().String()
	case g.EndpointHost != "":
		return g.EndpointHost
	}
	return "no endpoint (connects out)"
}

func prefixes(s *fleet.Site) string {
	var p []string
	for _, x := range s.Prefixes {
		p = append(p, x.String())
	}
	return strings.Join(p, ", ")
}

// quote makes s a DOT string: names come from the fleet (validated) and
// problems from the checks, but nothing may end the string early.
func quote(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`, "\r", "")
	return `"` + r.Replace(s) + `"`
}

// Draw writes f with health in format: "dot", or "svg" through
// Graphviz.
func Draw(ctx context.Context, w io.Writer, format string, f *fleet.Fleet, health Health) error {
	if format != "dot" && format != "svg" {
		return fmt.Errorf("graph: format %q: use dot or svg", format)
	}
	var b bytes.Buffer
	if err := Write(&b, f, health); err != nil {
		return err
	}
	out := b.Bytes()
	if format == "svg" {
		var err error
		if out, err = SVG(ctx, out); err != nil {
			return fmt.Errorf("graph: %w", err)
		}
	}
	_, err := w.Write(out)
	return err
}

// SVG renders dot with Graphviz's dot, which must be installed.
func SVG(ctx context.Context, dot []byte) ([]byte, error) {
	bin, err := exec.LookPath("dot")
	if err != nil {
		return nil, errors.New("SVG needs Graphviz's dot, which is not installed (Debian: apt install graphviz); --format dot writes the graph for it")
	}
	cmd := exec.CommandContext(ctx, bin, "-Tsvg")
	cmd.Stdin = bytes.NewReader(dot)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("dot -Tsvg: %w: %s", err, strings.TrimSpace(stderr.String()))
	}
	return out, nil
}
