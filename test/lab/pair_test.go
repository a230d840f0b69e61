//go:build lab

package lab

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// The pair: v1-1 (paris) and v2-1 (berlin), each with the internet, its
// sibling link and its LAN, booted once per test process and shared, in
// this order, by TestLabIntegration (v1-1 before sitevpn is installed),
// TestLabKill (v1-1, daemon off), TestLabLatency and TestLabVRF. Each
// gets both gateways as booted: sitevpn purged (dpkg --purge, the
// operator's way out) and nothing of its left, checked. A test that fails
// takes the pair down with it (its state is unknown): the next boots a
// new one.
var pair struct {
	lab *Lab
	gws []*gateway
}

func init() {
	processCleanups = append(processCleanups, func() {
		if pair.lab == nil {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		pair.lab.Close(ctx)
		os.RemoveAll(pair.lab.Dir)
	})
}

// bootPair gives the test the pair with sitevpn installed from the .deb
// built from repo and started, with fleet as /etc/sitevpn/fleet.hcl (nil:
// the example fleet). started is when the pair was handed over: its qemu
// start when this test booted it, else the end of the reset.
func bootPair(t *testing.T, repo string, fleet []byte) (paris, berlin *gateway, started time.Time) {
	t.Helper()
	paris, berlin, started = usePair(t, repo, fleet)
	if err := install(t.Context(), []*VM{paris.VM, berlin.VM}, ""); err != nil {
		t.Fatalf("installing sitevpn: %v", err)
	}
	return paris, berlin, started
}

// usePair boots the pair if no earlier test left it running, else resets
// both gateways to as booted; fleet (nil: the example fleet) is staged as
// /root/stage/fleet.hcl beside the package (/root/stage/sitevpn.deb).
func usePair(t *testing.T, repo string, fleet []byte) (paris, berlin *gateway, started time.Time) {
	t.Helper()
	ctx := t.Context()
	deb := labPackage(t, repo)
	if fleet == nil {
		var err error
		if fleet, err = os.ReadFile(filepath.Join(repo, "examples/article/fleet.hcl")); err != nil {
			t.Fatal(err)
		}
	}
	if pair.lab == nil {
		l := newRun(t, "pair")
		internet := l.Segment("internet")
		var gws []*gateway
		for _, g := range []*gateway{{Name: "v1-1", Site: 1, N: 1}, {Name: "v2-1", Site: 2, N: 1}} {
			vm, err := l.NewVM(g.Name, internet, l.Segment(fmt.Sprintf("sibling%d", g.Site)), l.Segment("lan-"+g.Name))
			if err != nil {
				t.Fatal(err)
			}
			g.VM = vm
			must(t, writeGatewayFiles(g, repo, deb))
			gws = append(gws, g)
		}
		started = time.Now()
		if err := l.Boot(ctx, 10*time.Minute); err != nil {
			l.keepEvidence(t)
			l.close(t, false)
			t.Fatal(err)
		}
		pair.lab, pair.gws = l, gws
	} else {
		pair.lab.name, pair.lab.logf = t.Name(), t.Logf
		start := time.Now()
		if err := eachVM(vmsOf(pair.gws), func(vm *VM) error {
			_, err := vm.Sh(ctx, purgeScript)
			return err
		}); err != nil {
			t.Fatalf("resetting the pair: %v", err)
		}
		pair.lab.Timed("pair reset (sitevpn purged, nothing of it left)", start)
		started = time.Now()
	}
	t.Cleanup(func() {
		if t.Failed() && pair.lab != nil {
			pair.lab.keepEvidence(t)
			pair.lab.close(t, false)
			pair.lab = nil
		}
	})
	for _, g := range pair.gws {
		// Through the share: the overlay was copied at boot.
		must(t, os.WriteFile(filepath.Join(g.VM.Share, "fleet.hcl"), fleet, 0o600))
		mustSh(t, g.VM, "install -m 0600 /mnt/host/fleet.hcl /root/stage/fleet.hcl")
	}
	return pair.gws[0], pair.gws[1], started
}

// purgeScript takes a gateway back to as booted: sitevpn purged as an
// operator would, then whatever a test made by hand (streams, the units
// and links a killed apply left), then a check that nothing is left.
const purgeScript = `pkill -x ping
if dpkg -s sitevpn >/dev/null 2>&1; then
	dpkg --purge sitevpn >/root/purge.log 2>&1 || { cat /root/purge.log; exit 1; }
fi
` + resetScript + `
for l in $(ip -o link show type vrf | awk -F': ' '{print $2}'); do ip link del "$l"; done
rm -rf /etc/sitevpn /run/sitevpn /etc/systemd/network/*sitevpn*
networkctl reload
systemctl reset-failed 'sitevpn*' 2>/dev/null
left="$(ip netns list; ip -o link show type wireguard; ip -o link show type vrf; ls /etc/sitevpn /var/lib/sitevpn 2>/dev/null; systemctl list-units --no-legend --plain --state=active,activating,failed 'sitevpn*')"
[ -z "$left" ] || { echo "left after the purge: $left" >&2; exit 1; }
`
