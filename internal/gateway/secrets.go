package gateway

import (
	"fmt"
	"sort"

	"github.com/sitevpn/sitevpn/internal/fleet"
	"github.com/sitevpn/sitevpn/internal/pipeline"
	"github.com/sitevpn/sitevpn/render"
)

// withSecrets is the rendered tree plus, in vrf mode, the copy of the
// private key networkd reads (0640 root:systemd-network). render never
// holds a secret; only apply writes this one, and a rotated key rewrites
// it with the rest.
func withSecrets(res *pipeline.Result) (render.Tree, error) {
	if res.Plan.Isolation != fleet.VRF {
		return res.Tree, nil
	}
	if res.Key.IsZero() {
		return nil, fmt.Errorf("vrf mode: networkd's copy of the private key needs it: %w", keyErr(res))
	}
	t := append(render.Tree(nil), res.Tree...)
	t = append(t, render.File{Path: render.NetworkdKey[1:], Mode: 0o640, Owner: "root", Group: "systemd-network",
		Content: []byte(res.Key.WireGuard().String() + "\n")})
	sort.Slice(t, func(i, j int) bool { return t[i].Path < t[j].Path })
	return t, nil
}
