//go:build lab

package lab

import (
	"fmt"
	"testing"
	"time"
)

// bootPair boots two gateways of different sites, v1-1 (paris) and v2-1
// (berlin), each with the internet, its sibling link and its LAN, and
// installs sitevpn on both from the .deb built from repo, with fleet as
// /etc/sitevpn/fleet.hcl (nil: the example fleet). It returns them
// running, and when qemu was started.
func bootPair(t *testing.T, repo string, fleet []byte) (paris, berlin *gateway, started time.Time) {
	ctx := t.Context()
	deb := labPackage(t, repo)
	l := ForTest(t)
	internet := l.Segment("internet")
	var gws []*gateway
	for _, g := range []*gateway{{Name: "v1-1", Site: 1, N: 1}, {Name: "v2-1", Site: 2, N: 1}} {
		vm, err := l.NewVM(g.Name, internet, l.Segment(fmt.Sprintf("sibling%d", g.Site)), l.Segment("lan-"+g.Name))
		if err != nil {
			t.Fatal(err)
		}
		g.VM = vm
		must(t, writeGatewayFiles(g, repo, deb))
		if fleet != nil {
			must(t, vm.WriteFile("/root/stage/fleet.hcl", fleet, 0o600))
		}
		gws = append(gws, g)
	}
	started = time.Now()
	if err := l.Boot(ctx, 10*time.Minute); err != nil {
		t.Fatal(err)
	}
	if err := install(ctx, vmsOf(gws), ""); err != nil {
		t.Fatalf("installing sitevpn: %v", err)
	}
	return gws[0], gws[1], started
}
