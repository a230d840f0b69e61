//go:build lab

package lab

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// scenarioRestarts: the daemon restarted, crashed (SIGKILL, systemd
// restarts it) and its package upgraded to a higher version (the same
// files repacked as version+up1: dpkg runs the maintainer scripts'
// upgrade path, and the postinst restarts the service) on both paris
// gateways at once, while 10 ms pings cross paris from
// berlin's router: not one packet may be lost, and each gateway's
// configuration stays confirmed with nothing changed.
const upgradeScript = `set -e
dpkg -i /mnt/host/sitevpn-next.deb >/root/dpkg-up.log 2>&1 || { cat /root/dpkg-up.log; exit 1; }
dpkg-query -W -f='${Version}' sitevpn | grep -q '+up1$'`

// nextPackage repacks deb as its next version, version+up1, into dir:
// an upgrade as dpkg sees one. On the host, uncompressed: the guest
// would take a minute to unpack and repack it under emulation.
func nextPackage(ctx context.Context, deb, dir string) (string, error) {
	tree := filepath.Join(dir, "next")
	next := filepath.Join(dir, "sitevpn-next.deb")
	script := `set -e
dpkg-deb -R "$1" "$2"
v=$(dpkg-deb -f "$1" Version)
sed -i "s/^Version: .*/Version: ${v}+up1/" "$2/DEBIAN/control"
dpkg-deb -Znone -b "$2" "$3" >/dev/null`
	if out, err := exec.CommandContext(ctx, "sh", "-c", script, "sh", deb, tree, next).CombinedOutput(); err != nil {
		return "", fmt.Errorf("repacking %s as its next version: %w\n%s", deb, err, out)
	}
	return next, os.RemoveAll(tree)
}

func scenarioRestarts(t *testing.T, tp *topology, figures map[string]string) {
	ctx := t.Context()
	streams := startStreams(t, tp, "r2", [][2]string{{"10.0.2.1", "10.0.1.1"}, {"2001:db8:a2::1", "2001:db8:a1::1"}})
	next, err := nextPackage(ctx, tp.deb, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	// Both paris gateways at once: paris has no second gateway to hide a
	// loss behind while each step runs, and the scenario takes half as long.
	paris := tp.sites(1)
	err = eachVM(vmsOf(paris), func(vm *VM) error {
		if err := copyFile(next, filepath.Join(vm.Share, "sitevpn-next.deb")); err != nil {
			return err
		}
		return restartSteps(ctx, t, tp.gw(vm.Name))
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := waitHealthy(ctx, tp.gws, 6, 2*time.Minute); err != nil {
		t.Fatal(err)
	}
	stopLossless(t, streams, figures, "l. restart, crash, upgrade on v1-1 and v1-2 at once: ", "while the daemons restarted")
}

// restartSteps restarts, kills and upgrades g's daemon in turn; after each,
// a new daemon must be active with its configuration confirmed, and its
// applies must have changed nothing.
func restartSteps(ctx context.Context, t *testing.T, g *gateway) error {
	steps := []struct{ name, script string }{
		{"systemctl restart", "systemctl restart sitevpn"},
		{"crash (SIGKILL)", "systemctl kill -s KILL sitevpn"},
		{"package upgraded (dpkg -i of a higher version)", upgradeScript},
	}
	for _, s := range steps {
		before, err := mainPID(ctx, g.VM)
		if err != nil {
			return err
		}
		start := time.Now()
		if _, err := g.VM.Sh(ctx, s.script); err != nil {
			return fmt.Errorf("%s on %s: %w", s.name, g.Name, err)
		}
		err = g.VM.WaitFor(ctx, 2*time.Minute, "a new daemon, active, its configuration confirmed", func(ctx context.Context) error {
			pid, err := mainPID(ctx, g.VM)
			if err != nil {
				return err
			}
			if pid == before || pid == "0" {
				return fmt.Errorf("MainPID %s", pid)
			}
			c, at, err := readConfig(ctx, g.VM)
			if err != nil {
				return err
			}
			if at.Before(start.Add(-time.Minute)) || c.State != "confirmed" {
				return fmt.Errorf("%+v at %s", c, at)
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("%s\n%s on %s: %w", evidence(ctx, []*gateway{g}), s.name, g.Name, err)
		}
		// The new daemon's applies (at start, then its repairs) found
		// nothing to change.
		b, err := g.VM.ReadFile(ctx, "/run/sitevpn/state.json")
		if err != nil {
			return err
		}
		var st struct{ Applies, Changes int }
		if err := json.Unmarshal(b, &st); err != nil || st.Applies == 0 || st.Changes != 0 {
			return fmt.Errorf("%s on %s: the new daemon's applies: %+v (%v), want some and none that changed anything", s.name, g.Name, st, err)
		}
		t.Logf("%s on %s: new daemon after %s, %d applies, none changed anything", s.name, g.Name, since(start), st.Applies)
	}
	return nil
}

func mainPID(ctx context.Context, vm *VM) (string, error) {
	res, err := vm.Sh(ctx, "systemctl show -P MainPID sitevpn")
	return strings.TrimSpace(res.Stdout), err
}
