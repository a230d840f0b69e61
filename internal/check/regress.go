package check

import "fmt"

// Held is what was up before a change, and must be up again after it if
// the change keeps it: a tunnel (its interface and peer), or an OSPF
// adjacency of a LAN (Protocol set; Peer is the neighbor's router id).
type Held struct {
	Interface string `json:"interface"`
	Peer      string `json:"peer"`
	Protocol  string `json:"protocol,omitempty"`
}

// HeldTunnels are the tunnels and LAN adjacencies of r that are up: what a
// change must not break.
func HeldTunnels(r Report) []Held {
	held := []Held{}
	for _, t := range r.Tunnels {
		if t.Up {
			held = append(held, Held{Interface: t.Interface, Peer: t.Peer})
		}
	}
	for _, a := range r.Adjacencies {
		if a.Up {
			held = append(held, Held{Interface: a.Interface, Peer: a.Neighbor, Protocol: a.Protocol})
		}
	}
	return held
}

// Regressions are the held tunnels and adjacencies that now still has and
// that are not up, each as "wg5 (v3-1) no handshake yet" or "ospf eth2
// (10.0.1.1, ospf4) down". A held tunnel the change removed (or gave
// another peer), or an adjacency of a LAN that no longer runs OSPF, is
// none: it was meant to go. A tunnel that was never up, or is new, is not
// held, so a peer that has not applied the change yet holds back nothing
// but its own tunnel.
func Regressions(held []Held, now Report) []string {
	byName := make(map[string]Tunnel, len(now.Tunnels))
	for _, t := range now.Tunnels {
		byName[t.Interface] = t
	}
	ospfLAN := map[string]bool{}
	adjacent := map[Held]bool{}
	for _, a := range now.Adjacencies {
		ospfLAN[a.Interface] = true
		if a.Up {
			adjacent[Held{Interface: a.Interface, Peer: a.Neighbor, Protocol: a.Protocol}] = true
		}
	}
	var out []string
	for _, h := range held {
		if h.Protocol != "" {
			if ospfLAN[h.Interface] && !adjacent[h] {
				out = append(out, fmt.Sprintf("ospf %s (%s, %s) down", h.Interface, h.Peer, h.Protocol))
			}
			continue
		}
		t, ok := byName[h.Interface]
		if !ok || t.Peer != h.Peer || t.Up {
			continue
		}
		why := t.Problem
		if why == "" {
			why = "down"
		}
		out = append(out, fmt.Sprintf("%s (%s) %s", t.Interface, t.Peer, why))
	}
	return out
}
