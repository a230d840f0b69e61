//go:build lab

package lab

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"
)

var newPublicKey = regexp.MustCompile(`(?m)^new public key: (\S+)$`)

// oldKeyFile is where rotate-key keeps the key it replaces.
const oldKeyFile = "/var/lib/sitevpn/confirm/private.key.old"

// scenarioRotateKey is issue 14's key rotation, with the command an
// operator runs: while 10 ms pings run from berlin's router to paris's,
// `sitevpn rotate-key` on v1-2 drains it and writes a new key, the fleet
// with its new public key is pushed to all eight, every tunnel to v1-2
// handshakes on the new key, then `sitevpn undrain`. Not one packet may be
// lost, the daemon is never restarted, the old key is kept (0600) in the
// daemon's state directory, and once the change is confirmed the daemon
// has removed it.
func scenarioRotateKey(t *testing.T, tp *topology, figures map[string]string) {
	ctx := t.Context()
	g := tp.gw("v1-2")
	sites, err := sitesInForce(ctx, tp)
	if err != nil {
		t.Fatal(err)
	}
	gws := tp.sites(sites)
	tunnels := 2 * (sites - 1)
	pid, err := mainPID(ctx, g.VM)
	if err != nil {
		t.Fatal(err)
	}
	res, err := g.VM.Sh(ctx, "sitevpn --config /etc/sitevpn pubkey")
	if err != nil {
		t.Fatal(err)
	}
	oldKey := strings.TrimSpace(res.Stdout)
	b, err := g.VM.ReadFile(ctx, "/etc/sitevpn/fleet.hcl")
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(b), oldKey); n != 1 {
		t.Fatalf("the fleet in force names %s's public key %s %d times, want 1", g.Name, oldKey, n)
	}
	streams := startStreams(t, tp, "r2", [][2]string{{"10.0.2.1", "10.0.1.1"}, {"2001:db8:a2::1", "2001:db8:a1::1"}})

	start := time.Now()
	res, err = g.VM.Sh(ctx, "sitevpn rotate-key")
	m := newPublicKey.FindStringSubmatch(res.Stdout)
	if err != nil || m == nil || !strings.HasPrefix(res.Stdout, "drained:") {
		t.Fatalf("sitevpn rotate-key: %v\n%s", err, res.Stdout)
	}
	newKey := m[1]
	t.Logf("sitevpn rotate-key on %s:\n%s", g.Name, res.Stdout)
	if res, err := g.VM.Sh(ctx, "stat -c %a "+oldKeyFile); err != nil || strings.TrimSpace(res.Stdout) != "600" {
		t.Fatalf("the old key %s after rotate-key: %v %q", oldKeyFile, err, res.Stdout)
	}
	if err := berlinNextHops(ctx, tp, 1); err != nil {
		t.Fatal(err)
	}
	at, err := push(ctx, tp.gws, "fleet.hcl", strings.Replace(string(b), oldKey, newKey, 1))
	if err != nil {
		t.Fatal(err)
	}
	err = eachVM(vmsOf(gws), func(vm *VM) error {
		peer := tp.gw(vm.Name)
		if peer != g && peer.Site == g.Site {
			return nil // no tunnel between siblings
		}
		return vm.WaitFor(ctx, 2*time.Minute, "the tunnels to "+g.Name+" on its new key", func(ctx context.Context) error {
			return rekeyed(ctx, peer, g, newKey, at[vm.Name], tunnels)
		})
	})
	if err != nil {
		t.Fatalf("%s\n%v", evidence(ctx, gws), err)
	}
	figures["n1. rotate-key on v1-2, fleet pushed -> its tunnels on the new key"] = since(start).String()
	if res, err := g.VM.Sh(ctx, "sitevpn undrain"); err != nil || !strings.Contains(res.Stdout, "back in service") {
		t.Fatalf("sitevpn undrain: %v\n%s", err, res.Stdout)
	}
	if err := berlinNextHops(ctx, tp, 2); err != nil {
		t.Fatal(err)
	}
	err = g.VM.WaitFor(ctx, 3*time.Minute, "the rotation confirmed, the old key gone", func(ctx context.Context) error {
		c, _, err := readConfig(ctx, g.VM)
		if err != nil {
			return err
		}
		res, err := g.VM.Sh(ctx, "test ! -e "+oldKeyFile+" && echo gone || echo kept")
		if err != nil {
			return err
		}
		if c.State != "confirmed" || strings.TrimSpace(res.Stdout) != "gone" {
			return fmt.Errorf("%+v, private.key.old %s", c, res.Stdout)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	figures["n2. rotate-key -> confirmed, old key removed"] = since(start).String()
	if after, err := mainPID(ctx, g.VM); err != nil || after != pid {
		t.Errorf("sitevpn on %s restarted during the rotation: MainPID %s -> %s (%v)", g.Name, pid, after, err)
	}
	stopLossless(t, streams, figures, "n3. rotate-key on v1-2: ", "across the key rotation")
	if err := waitHealthy(ctx, gws, tunnels, 2*time.Minute); err != nil {
		t.Fatal(err)
	}
}
