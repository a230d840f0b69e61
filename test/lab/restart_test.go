//go:build lab

package lab

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"
)

// scenarioRestarts: the daemon restarted, crashed (SIGKILL, systemd
// restarts it) and its package upgraded to a higher version (the same
// files repacked as version+up1: dpkg runs the maintainer scripts'
// upgrade path, and the postinst restarts the service) on both paris
// gateways, one after the other, while 10 ms pings cross paris from
// berlin's router: not one packet may be lost, and each gateway's
// configuration stays confirmed with nothing changed.
// upgradeScript repacks the installed .deb as the next version (no
// compression: quick under emulation) and installs it: an upgrade as
// dpkg sees one.
const upgradeScript = `set -e
rm -rf /root/next && dpkg-deb -R /root/stage/sitevpn.deb /root/next
v=$(dpkg-query -W -f='${Version}' sitevpn)
sed -i "s/^Version: .*/Version: ${v}+up1/" /root/next/DEBIAN/control
dpkg-deb -Znone -b /root/next /root/sitevpn-next.deb >/dev/null
dpkg -i /root/sitevpn-next.deb >/root/dpkg-up.log 2>&1 || { cat /root/dpkg-up.log; exit 1; }
dpkg-query -W -f='${Version}' sitevpn | grep -q '+up1$'`

func scenarioRestarts(t *testing.T, tp *topology, figures map[string]string) {
	ctx := t.Context()
	streams := startStreams(t, tp, "r2", [][2]string{{"10.0.2.1", "10.0.1.1"}, {"2001:db8:a2::1", "2001:db8:a1::1"}})
	steps := []struct{ name, script string }{
		{"systemctl restart", "systemctl restart sitevpn"},
		{"crash (SIGKILL)", "systemctl kill -s KILL sitevpn"},
		{"package upgraded (dpkg -i of a higher version)", upgradeScript},
	}
	for _, g := range tp.sites(1) {
		for _, s := range steps {
			before, err := mainPID(ctx, g.VM)
			if err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			if _, err := g.VM.Sh(ctx, s.script); err != nil {
				t.Fatalf("%s on %s: %v", s.name, g.Name, err)
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
				t.Fatalf("%s\n%s on %s: %v", evidence(ctx, []*gateway{g}), s.name, g.Name, err)
			}
			// The new daemon's applies (at start, then its repairs)
			// found nothing to change.
			b, err := g.VM.ReadFile(ctx, "/run/sitevpn/state.json")
			if err != nil {
				t.Fatal(err)
			}
			var st struct{ Applies, Changes int }
			if err := json.Unmarshal(b, &st); err != nil || st.Applies == 0 || st.Changes != 0 {
				t.Errorf("%s on %s: the new daemon's applies: %+v (%v), want some and none that changed anything", s.name, g.Name, st, err)
			}
			t.Logf("%s on %s: new daemon after %s, %d applies, none changed anything", s.name, g.Name, since(start), st.Applies)
		}
	}
	if err := waitHealthy(ctx, tp.gws, 6, 2*time.Minute); err != nil {
		t.Fatal(err)
	}
	stopLossless(t, streams, figures, "l. restart, crash, upgrade on v1-1 and v1-2: ", "while the daemons restarted")
}

func mainPID(ctx context.Context, vm *VM) (string, error) {
	res, err := vm.Sh(ctx, "systemctl show -P MainPID sitevpn")
	return strings.TrimSpace(res.Stdout), err
}
