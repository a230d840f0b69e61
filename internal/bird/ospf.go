package bird

import (
	"context"
	"errors"
	"strings"
)

// codeOSPFNeighbors is every line of "show ospf neighbors" (BIRD's
// proto/ospf/ospf.c, ospf_sh_neigh).
const codeOSPFNeighbors = 1013

// OSPFNeighbor is one row of "show ospf neighbors".
type OSPFNeighbor struct {
	Protocol  string // "ospf4"
	RouterID  string // "10.0.1.1"
	State     string // "Full", "2-Way", "Init", "ExStart"...
	Position  string // the neighbor's role on the link: "DR", "BDR", "Other", "PtP"
	Interface string // "eth2"
	Address   string // its address on the link
}

// Adjacent reports whether routes flow with this neighbor: the database
// exchange is done (Full), or both are neither DR nor BDR on a broadcast
// link, which stay at 2-Way by design.
func (n OSPFNeighbor) Adjacent() bool { return n.State == "Full" || n.State == "2-Way" }

// OSPFNeighbors lists the neighbors of every OSPF protocol that is up, in
// one round trip; none when BIRD runs no OSPF.
func (c *Client) OSPFNeighbors(ctx context.Context) ([]OSPFNeighbor, error) {
	lines, err := c.call(ctx, "show ospf neighbors")
	var re *ReplyError
	if errors.As(err, &re) && strings.Contains(re.Message, "no OSPF protocol") {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return parseOSPFNeighbors(lines), nil
}

// parseOSPFNeighbors reads the reply: per protocol a "NAME:" line, a
// heading, one tab-separated row per neighbor ("10.0.1.1\t  1\tFull/DR
// \t 3.038\teth2       192.168.11.1"), a blank line between protocols.
// A protocol that is not up prints "NAME: is not up" and no rows.
func parseOSPFNeighbors(lines []Line) []OSPFNeighbor {
	var out []OSPFNeighbor
	proto := ""
	for _, l := range lines {
		if l.Code != codeOSPFNeighbors {
			continue
		}
		text := strings.TrimSpace(l.Text)
		if name, ok := strings.CutSuffix(text, ":"); ok && !strings.ContainsAny(name, " \t") {
			proto = name
			continue
		}
		f := strings.Split(l.Text, "\t")
		if len(f) != 5 || proto == "" || strings.HasPrefix(text, "Router ID") {
			continue
		}
		state, pos, _ := strings.Cut(strings.TrimSpace(f[2]), "/")
		where := strings.Fields(f[4])
		if len(where) != 2 {
			continue
		}
		out = append(out, OSPFNeighbor{Protocol: proto, RouterID: strings.TrimSpace(f[0]), State: state, Position: pos,
			Interface: where[0], Address: where[1]})
	}
	return out
}
