package check

import "fmt"

// Held is a tunnel that was up before a change: if the change keeps it
// (same interface, same peer), it must be up again after.
type Held struct {
	Interface string `json:"interface"`
	Peer      string `json:"peer"`
}

// HeldTunnels are the tunnels of r that are up: what a change must not
// break.
func HeldTunnels(r Report) []Held {
	held := []Held{}
	for _, t := range r.Tunnels {
		if t.Up {
			held = append(held, Held{Interface: t.Interface, Peer: t.Peer})
		}
	}
	return held
}

// Regressions are the held tunnels that now has, with the same peer, and
// that are not up, each as "wg5 (v3-1) no handshake yet". A held tunnel
// the change removed (or gave another peer) is none: it was meant to go.
// A tunnel that was never up, or is new, is not held, so a peer that has
// not applied the change yet holds back nothing but its own tunnel.
func Regressions(held []Held, now Report) []string {
	byName := make(map[string]Tunnel, len(now.Tunnels))
	for _, t := range now.Tunnels {
		byName[t.Interface] = t
	}
	var out []string
	for _, h := range held {
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
