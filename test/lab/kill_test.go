//go:build lab

package lab

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestLabKill: sitevpn apply killed with SIGKILL in the middle of a fresh
// install on a real gateway (systemd, networkd, kernel WireGuard, BIRD),
// then run again, converges: four tunnels, each with its two transit
// addresses once, BIRD running every session, and a third apply that does
// nothing. The fakes prove every step boundary (internal/apply); this is
// the same on the real system, at the two moments a kill is likeliest to
// hurt: while systemd starts the units, and while the links are created.
func TestLabKill(t *testing.T) {
	ctx := t.Context()
	repo, err := filepath.Abs(filepath.Join(labDir(), "..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	paris, _, _ := usePair(t, repo, nil)
	vm := paris.VM
	// Installed as a user would, but the daemon stays off: this test runs
	// `sitevpn apply` by hand.
	mustSh(t, vm, strings.TrimSuffix(installScript, startScript))

	for _, tc := range []struct{ name, until string }{
		{"while systemd starts the units", "test -e /run/netns/private"},
		{"while the links are created", "ip -n private link show wg3"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mustSh(t, vm, resetScript)
			script := fmt.Sprintf(`sitevpn apply </dev/null >/tmp/killed.log 2>&1 & pid=$!
until %s >/dev/null 2>&1; do kill -0 $pid 2>/dev/null || break; done
kill -9 $pid 2>/dev/null; wait $pid; echo "exit $?"`, tc.until)
			res := mustSh(t, vm, script)
			if strings.TrimSpace(res.Stdout) == "exit 137" {
				t.Logf("killed %s", tc.name)
			} else {
				log, _ := vm.Sh(ctx, "cat /tmp/killed.log")
				t.Logf("the apply ended before the kill (%s): convergence is still checked; its output:\n%s", strings.TrimSpace(res.Stdout), log.Stdout)
			}
			again, err := vm.Sh(ctx, "sitevpn apply </dev/null 2>&1")
			if err != nil {
				t.Fatalf("the apply after the kill fails: %v\n%s", err, again.Stdout)
			}
			t.Logf("apply after the kill:\n%s", again.Stdout)
			third := mustSh(t, vm, "sitevpn apply </dev/null 2>&1")
			if strings.TrimSpace(third.Stdout) != "no changes" {
				t.Errorf("third apply is not a no-op:\n%s", third.Stdout)
			}
			err = WaitFor(ctx, 2*time.Minute, "four tunnels, their addresses once, four BGP protocols", func(ctx context.Context) error {
				r, err := vm.Sh(ctx, `set -e
test "$(ip -n private -o link show type wireguard | wc -l)" = 4
test "$(ip -o link show type wireguard | wc -l)" = 0
for i in 3 4 5 6; do test "$(ip -n private -o addr show dev wg$i scope global | wc -l)" = 2; done
test "$(birdc -s /run/sitevpn-bird-private/bird.ctl show protocols | grep -c '^wg[3-6] .*BGP')" = 4
systemctl is-active sitevpn-bird-private.service sitevpn-netns-private.service`)
				if err != nil {
					return fmt.Errorf("%w\n%s%s", err, r.Stdout, r.Stderr)
				}
				return nil
			})
			if err != nil {
				state, _ := vm.Sh(ctx, "ip -n private -br addr; ip -br link; journalctl -b --no-pager | tail -30")
				t.Fatalf("%v\n%s", err, state.Stdout)
			}
		})
	}
}

// resetScript brings the gateway back to before sitevpn's first apply:
// the namespace unit's stop deletes the namespace and its links.
const resetScript = `systemctl stop sitevpn-bird-private.service sitevpn-netns-private.service 2>/dev/null
ip netns del private 2>/dev/null
for l in $(ip -o link show type wireguard | awk -F': ' '{print $2}'); do ip link del "$l"; done
rm -rf /var/lib/sitevpn /etc/bird/sitevpn-* /etc/systemd/system/sitevpn-*.service /etc/systemd/network/50-sitevpn-*
systemctl daemon-reload
true`
