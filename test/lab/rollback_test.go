//go:build lab

package lab

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.zx2c4.com/wireguard/wgctrl/wgtypes"
)

// labWindow is the confirm_window of the rollback scenario, and its
// apply --confirm: the shortest validate takes, as the lab waits each one
// out; a fleet keeps the default ten minutes.
const labWindow = 30

// daemonConfig is the configuration part of a gateway's state file.
type daemonConfig struct {
	Generation int    `json:"generation"`
	State      string `json:"state"`
	Rejected   int    `json:"rejected"`
	Reason     string `json:"reason"`
}

// readConfig reads vm's daemon state: its configuration, and when the
// daemon wrote it (guest time).
func readConfig(ctx context.Context, vm *VM) (daemonConfig, time.Time, error) {
	b, err := vm.ReadFile(ctx, "/run/sitevpn/state.json")
	if err != nil {
		return daemonConfig{}, time.Time{}, err
	}
	var st struct {
		Configuration *daemonConfig `json:"configuration"`
		Updated       time.Time     `json:"updated"`
	}
	if err := json.Unmarshal(b, &st); err != nil {
		return daemonConfig{}, time.Time{}, fmt.Errorf("%s: state.json: %w", vm.Name, err)
	}
	if st.Configuration == nil {
		return daemonConfig{}, st.Updated, fmt.Errorf("%s: no configuration in the state", vm.Name)
	}
	return *st.Configuration, st.Updated, nil
}

// waitConfig waits until each of gws reports a configuration in state.
func waitConfig(ctx context.Context, gws []*gateway, state string, timeout time.Duration) (map[string]daemonConfig, error) {
	var mu sync.Mutex
	got := map[string]daemonConfig{}
	err := eachVM(vmsOf(gws), func(vm *VM) error {
		return vm.WaitFor(ctx, timeout, "configuration "+state, func(ctx context.Context) error {
			c, _, err := readConfig(ctx, vm)
			if err != nil {
				return err
			}
			if c.State != state {
				return fmt.Errorf("%+v", c)
			}
			mu.Lock()
			got[vm.Name] = c
			mu.Unlock()
			return nil
		})
	})
	return got, err
}

// scenarioRollback is issue 14's first check: a breaking change pushed to
// every gateway at once (v3-1's public key corrupted in the fleet file)
// while 10 ms pings cross from paris to tokyo. Every gateway with a
// tunnel to v3-1 rolls back by itself when the window ends; v3-1 and
// v3-2, whose files render the same, keep the change. The longest ping
// gap and the time to full health are printed; status reports the
// rollback and its reason; the rejected files are not applied again (a
// SIGHUP) until they change. Then the commit-confirmed path on v1-1:
// `sitevpn apply --confirm 30s` without a confirm rolls back, with
// `sitevpn confirm` it stays.
func scenarioRollback(t *testing.T, tp *topology, figures map[string]string) {
	ctx := t.Context()
	v11 := tp.gw("v1-1")
	b, err := v11.VM.ReadFile(ctx, "/etc/sitevpn/fleet.hcl")
	if err != nil {
		t.Fatal(err)
	}
	fleet := strings.Replace(string(b), "fleet {", fmt.Sprintf("fleet {\n  confirm_window = %d", labWindow), 1)
	if _, err := push(ctx, tp.gws, "fleet.hcl", fleet); err != nil {
		t.Fatal(err)
	}
	// A change that renders nothing new is confirmed at once.
	if _, err := waitConfig(ctx, tp.gws, "confirmed", time.Minute); err != nil {
		t.Fatal(err)
	}

	victim := tp.gw("v3-1")
	keyText, err := os.ReadFile(filepath.Join(tp.repo, "examples/article/lab-keys/v3-1.key"))
	if err != nil {
		t.Fatal(err)
	}
	key, err := wgtypes.ParseKey(strings.TrimSpace(string(keyText)))
	if err != nil {
		t.Fatal(err)
	}
	wrong, _ := wgtypes.GeneratePrivateKey()
	real := key.PublicKey().String()
	if !strings.Contains(fleet, real) {
		t.Fatalf("v3-1's public key %s is not in the fleet in force", real)
	}
	broken := strings.Replace(fleet, real, wrong.PublicKey().String(), 1)

	streams := startStreams(t, tp, "r1", [][2]string{{"10.0.1.1", "10.0.3.1"}, {"2001:db8:a1::1", "2001:db8:a3::1"}})
	var affected, kept []*gateway
	for _, g := range tp.gws {
		if g.Site == victim.Site {
			kept = append(kept, g)
		} else {
			affected = append(affected, g)
		}
	}
	start := time.Now()
	if _, err := push(ctx, tp.gws, "fleet.hcl", broken); err != nil {
		t.Fatal(err)
	}
	rolled, err := waitConfig(ctx, affected, "rolled back", labWindow*time.Second+3*time.Minute)
	if err != nil {
		t.Fatalf("%s\nthe gateways with a tunnel to v3-1 did not roll back: %v", evidence(ctx, affected[:1]), err)
	}
	figures[fmt.Sprintf("k1. v3-1's key corrupted, pushed to all -> 6 rolled back (window %d s)", labWindow)] = since(start).String()
	for name, c := range rolled {
		if !strings.Contains(c.Reason, "(v3-1)") {
			t.Errorf("%s rolled back for %q, not for its tunnel to v3-1", name, c.Reason)
		}
	}
	for _, g := range kept {
		if c, _, err := readConfig(ctx, g.VM); err != nil || c.State != "confirmed" {
			t.Errorf("%s, whose files render the same, is %+v (%v), want confirmed", g.Name, c, err)
		}
	}
	// v3-1 itself finds its key in no gateway of the broken files: it
	// keeps its configuration and reports them invalid, so health here is
	// the tunnels' (status comes back once the files are fixed).
	if err := waitUp(ctx, tp.gws, 6, false, 4*time.Minute); err != nil {
		t.Fatalf("%s\nafter the rollback: %v", evidence(ctx, tp.gws[:1]), err)
	}
	figures["k2. push -> every tunnel up again (handshake, BGP)"] = since(start).String()
	for _, p := range streams {
		s, err := p.stop(ctx)
		if err != nil {
			t.Fatal(err)
		}
		figures["k3. "+p.name+" across the bad push"] = fmt.Sprintf("longest gap %s (%d lost of %d)", s.gap.Round(time.Millisecond), s.lost, s.sent)
	}
	res, _ := v11.VM.Sh(ctx, "sitevpn status 2>&1; echo exit=$?")
	if !strings.Contains(res.Stdout, "rolled back from generation") || !strings.Contains(res.Stdout, "exit=1") {
		t.Errorf("v1-1's status does not report the rollback:\n%s", res.Stdout)
	}
	t.Logf("v1-1's status after the rollback:\n%s", res.Stdout)

	// SIGHUP: the rejected files stay rejected.
	if err := notAppliedAgain(ctx, v11, real); err != nil {
		t.Error(err)
	}
	// Fixed files (the confirmed ones again): nothing left rejected.
	if _, err := push(ctx, tp.gws, "fleet.hcl", fleet); err != nil {
		t.Fatal(err)
	}
	if _, err := waitConfig(ctx, tp.gws, "confirmed", 2*time.Minute); err != nil {
		t.Fatal(err)
	}
	if err := waitHealthy(ctx, tp.gws, 6, 4*time.Minute); err != nil {
		t.Fatalf("%s\nafter the fix: %v", evidence(ctx, tp.gws), err)
	}

	commitConfirmed(t, tp, fleet, figures)
	// The scenarios after this one judge their changes on the default
	// window: a 30 s one would roll back a change that is merely slow here.
	if _, err := push(ctx, tp.gws, "fleet.hcl", string(b)); err != nil {
		t.Fatal(err)
	}
	if _, err := waitConfig(ctx, tp.gws, "confirmed", time.Minute); err != nil {
		t.Fatal(err)
	}
}

// notAppliedAgain reloads sitevpn on g (SIGHUP) and checks, once the
// daemon published a state after it, that the tunnel to v3-1 (wg5) still
// has v3-1's real key and the rollback is still reported.
func notAppliedAgain(ctx context.Context, g *gateway, real string) error {
	now, err := guestNow(ctx, g.VM)
	if err != nil {
		return err
	}
	if _, err := g.VM.Sh(ctx, "systemctl reload sitevpn"); err != nil {
		return err
	}
	return g.VM.WaitFor(ctx, time.Minute, "a state after the reload", func(ctx context.Context) error {
		c, at, err := readConfig(ctx, g.VM)
		if err != nil {
			return err
		}
		if float64(at.UnixNano())/1e9 < now+1 {
			return errors.New("no state since the reload")
		}
		if c.State != "rolled back" {
			return Abort(fmt.Errorf("after a reload the rejected files are %+v", c))
		}
		res, err := g.VM.Sh(ctx, "ip netns exec private wg show wg5 peers")
		if err != nil {
			return err
		}
		if strings.TrimSpace(res.Stdout) != real {
			return Abort(fmt.Errorf("after a reload wg5's peer is %q, want v3-1's real key", res.Stdout))
		}
		return nil
	})
}

// commitConfirmed: a change (keepalive 25 on its tunnels) applied with
// `sitevpn apply --confirm` (labWindow) is rolled back unless confirmed
// (on v1-1), and stays past its deadline once `sitevpn confirm` answered
// (on v1-2, at the same time: each waits on its own window).
func commitConfirmed(t *testing.T, tp *topology, fleet string, figures map[string]string) {
	changed := regexp.MustCompile(`(?m)^(\s*keepalive\s*=\s*)0\s*$`).ReplaceAllString(fleet, "${1}25")
	if changed == fleet {
		t.Fatalf("no keepalive = 0 in the fleet in force:\n%s", fleet)
	}
	var rolledBack string
	err := eachVM([]*VM{tp.gw("v1-1").VM, tp.gw("v1-2").VM}, func(vm *VM) error {
		g := tp.gw(vm.Name)
		confirm := g.Name == "v1-2"
		took, err := applyConfirm(t.Context(), g, changed, confirm)
		if err == nil {
			err = backAsBefore(t.Context(), g, fleet, confirm)
		}
		if g.Name == "v1-1" {
			rolledBack = took
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	figures[fmt.Sprintf("k4. apply --confirm %ds, no confirm -> rolled back", labWindow)] = rolledBack
}

// applyConfirm pushes changed to g alone and applies it with `sitevpn
// apply --confirm`; then, with confirm, answers `sitevpn confirm` and
// checks it stays past the deadline; without, waits for the rollback,
// whose time it returns.
func applyConfirm(ctx context.Context, g *gateway, changed string, confirm bool) (string, error) {
	keepalive := func() string {
		res, _ := g.VM.Sh(ctx, "ip netns exec private wg show wg3 persistent-keepalive | cut -f2")
		return strings.TrimSpace(res.Stdout)
	}
	if _, err := push(ctx, []*gateway{g}, "fleet.hcl", changed); err != nil {
		return "", err
	}
	start := time.Now()
	apply := fmt.Sprintf("sitevpn apply --confirm %ds", labWindow)
	res, err := g.VM.Sh(ctx, apply)
	if err != nil || !strings.Contains(res.Stdout, "probation") {
		return "", fmt.Errorf("%s on %s: %v\n%s", apply, g.Name, err, res.Stdout)
	}
	if ka := keepalive(); ka != "25" {
		return "", fmt.Errorf("%s: keepalive %q after apply --confirm, want 25", g.Name, ka)
	}
	if !confirm {
		if _, err := waitConfig(ctx, []*gateway{g}, "rolled back", 3*time.Minute); err != nil {
			return "", err
		}
		took := since(start).String()
		if ka := keepalive(); ka != "off" {
			return "", fmt.Errorf("%s: keepalive %q after the rollback, want off", g.Name, ka)
		}
		return took, nil
	}
	res, err = g.VM.Sh(ctx, "sitevpn confirm")
	if err != nil || !strings.Contains(res.Stdout, "confirmed") {
		return "", fmt.Errorf("sitevpn confirm on %s: %v\n%s", g.Name, err, res.Stdout)
	}
	// Past the deadline, by the guest's clock: still confirmed.
	deadline, err := guestNow(ctx, g.VM)
	if err != nil {
		return "", err
	}
	err = g.VM.WaitFor(ctx, 3*time.Minute, "a state past the deadline", func(ctx context.Context) error {
		c, at, err := readConfig(ctx, g.VM)
		if err != nil {
			return err
		}
		if c.State != "confirmed" {
			return Abort(fmt.Errorf("a confirmed change became %+v", c))
		}
		if float64(at.UnixNano())/1e9 < deadline+labWindow+10 {
			return errors.New("not past the deadline yet")
		}
		return nil
	})
	if err != nil {
		return "", err
	}
	if ka := keepalive(); ka != "25" {
		return "", fmt.Errorf("%s: keepalive %q after confirm and the deadline, want 25", g.Name, ka)
	}
	return "", nil
}

// backAsBefore pushes fleet to g again, for what runs next. After a
// confirmed change it is a change like any other, on probation until
// confirmed as a new generation (newGeneration); after a rollback it is
// the confirmed configuration itself: confirmed, no longer rolled back,
// the same generation.
func backAsBefore(ctx context.Context, g *gateway, fleet string, newGeneration bool) error {
	before, _, err := readConfig(ctx, g.VM)
	if err != nil {
		return err
	}
	if _, err := push(ctx, []*gateway{g}, "fleet.hcl", fleet); err != nil {
		return err
	}
	return g.VM.WaitFor(ctx, 3*time.Minute, "the fleet as before confirmed", func(ctx context.Context) error {
		c, _, err := readConfig(ctx, g.VM)
		if err != nil {
			return err
		}
		if c.State != "confirmed" || newGeneration && c.Generation <= before.Generation || !newGeneration && c.Generation != before.Generation {
			return fmt.Errorf("%+v, before %+v", c, before)
		}
		return nil
	})
}
