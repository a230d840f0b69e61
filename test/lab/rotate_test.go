//go:build lab

package lab

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// scenarioKeyRotation rotates v1-1's key on the running gateway as an
// operator does: a new private.key made by `sitevpn genkey` in the guest,
// then the fleet file with v1-1's new public_key pushed to every gateway.
// Within 60 s of the push every tunnel of v1-1 must carry the new key (its
// own devices, and its peers on the other gateways) with a handshake newer
// than the push, and its BGP sessions must be Established; the daemon must
// not have restarted. The new key stays: the fleet file in force keeps it,
// and the scenarios after this one read the files in force, not the
// repository's.
func scenarioKeyRotation(t *testing.T, tp *topology, figures map[string]string) {
	ctx := t.Context()
	g := tp.gw("v1-1")
	sites, err := sitesInForce(ctx, tp)
	if err != nil {
		t.Fatal(err)
	}
	gws := tp.sites(sites)
	tunnels := 2 * (sites - 1)
	res, err := g.VM.Sh(ctx, "systemctl show -P MainPID sitevpn; sitevpn --config /etc/sitevpn pubkey")
	if err != nil {
		t.Fatal(err)
	}
	var pid, oldKey string
	if _, err := fmt.Sscan(res.Stdout, &pid, &oldKey); err != nil || pid == "0" {
		t.Fatalf("MainPID and public key of %s: %q: %v", g.Name, res.Stdout, err)
	}
	b, err := g.VM.ReadFile(ctx, "/etc/sitevpn/fleet.hcl")
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(b), oldKey); n != 1 {
		t.Fatalf("the fleet file in force names %s's public key %s %d times, want 1", g.Name, oldKey, n)
	}
	// genkey --out makes the file 0600 (and refuses to overwrite one); the
	// rename puts it in place in one step, as the daemon sees it.
	res, err = g.VM.Sh(ctx, `set -e
rm -f /root/rotated.key
sitevpn genkey --out /root/rotated.key
mv /root/rotated.key /etc/sitevpn/private.key
stat -c %a /etc/sitevpn/private.key
sitevpn --config /etc/sitevpn pubkey`)
	if err != nil {
		t.Fatal(err)
	}
	var mode, newKey string
	if _, err := fmt.Sscan(res.Stdout, &mode, &newKey); err != nil || mode != "600" || newKey == oldKey {
		t.Fatalf("new key on %s: %q (want mode 600 and a new public key): %v", g.Name, res.Stdout, err)
	}
	t.Logf("%s: public key %s -> %s (private.key mode %s)", g.Name, oldKey, newKey, mode)
	start := time.Now()
	at, err := push(ctx, tp.gws, "fleet.hcl", strings.Replace(string(b), oldKey, newKey, 1))
	if err != nil {
		t.Fatal(err)
	}
	// The bound: every session of the gateway Established within
	// 60 s of the push, on the new key.
	deadline := start.Add(time.Minute)
	err = eachVM(vmsOf(gws), func(vm *VM) error {
		peer := tp.gw(vm.Name)
		if peer != g && peer.Site == g.Site {
			return nil // no tunnel between siblings
		}
		return vm.WaitFor(ctx, time.Until(deadline), "the tunnels to "+g.Name+" on its new key", func(ctx context.Context) error {
			return rekeyed(ctx, peer, g, newKey, at[vm.Name], tunnels)
		})
	})
	if err != nil {
		t.Fatalf("%s\n%v", evidence(ctx, gws), err)
	}
	figures[fmt.Sprintf("g1. key rotated on v1-1: push -> its %d tunnels handshaken, Established", tunnels)] = since(start).String()
	res, err = g.VM.Sh(ctx, "systemctl show -P MainPID sitevpn")
	if err != nil {
		t.Fatal(err)
	}
	after := strings.TrimSpace(res.Stdout)
	figures["g2. sitevpn MainPID on v1-1 across the rotation"] = pid + " -> " + after
	if after != pid {
		t.Errorf("sitevpn on %s restarted during the key rotation: MainPID %s -> %s", g.Name, pid, after)
	}
	if err := waitHealthy(ctx, gws, tunnels, time.Minute); err != nil {
		t.Fatalf("%s\nafter the key rotation: %v", evidence(ctx, gws), err)
	}
	if err := pingAll(ctx, tp.routers, sites, time.Minute); err != nil {
		t.Error(err)
	}
	if res, err := g.VM.Sh(ctx, "ip netns exec private wg show"); err == nil {
		t.Logf("%s after the rotation:\n%s", g.Name, res.Stdout)
	}
}

// sitesInForce is the number of sites in the fleet now, from v1-1's
// tunnels (two per remote site): 3 at boot, 4 once b-add-site ran.
func sitesInForce(ctx context.Context, tp *topology) (int, error) {
	h, err := readHealth(ctx, tp.gw("v1-1").VM)
	if err != nil {
		return 0, err
	}
	if n := len(h.links); n < 4 || n%2 != 0 {
		return 0, fmt.Errorf("v1-1 has %d tunnels: %s\n%s", n, h, h.out)
	}
	return len(h.links)/2 + 1, nil
}

// rekeyed checks, on gateway on, the tunnels to rotated after its key
// changed to key at guest time at (on's clock): on rotated itself every
// device has the new key; on a peer, the peer of the tunnel to rotated
// is the new key. Each of those tunnels has a handshake in or after at's
// second (WireGuard counts in whole seconds) and its session Established.
func rekeyed(ctx context.Context, on, rotated *gateway, key string, at float64, tunnels int) error {
	res, err := on.VM.Sh(ctx, "ip netns exec private wg show all public-key; echo ---; ip netns exec private wg show all latest-handshakes; echo ---; "+birdc+" show protocols")
	if err != nil {
		return err
	}
	p := strings.Split(res.Stdout, "---\n")
	if len(p) != 3 {
		return fmt.Errorf("unexpected output:\n%s", res.Stdout)
	}
	var errs []error
	ifaces := map[string]bool{}
	if on == rotated {
		for _, l := range strings.Split(strings.TrimSpace(p[0]), "\n") {
			f := strings.Fields(l)
			if len(f) != 2 {
				continue
			}
			ifaces[f[0]] = true
			if f[1] != key {
				errs = append(errs, fmt.Errorf("%s: own public key %s, not the new one", f[0], f[1]))
			}
		}
		if len(ifaces) != tunnels {
			errs = append(errs, fmt.Errorf("%d tunnels, want %d", len(ifaces), tunnels))
		}
	} else {
		ifaces[fmt.Sprintf("wg%d", rotated.id())] = true
	}
	for _, l := range strings.Split(strings.TrimSpace(p[1]), "\n") {
		f := strings.Fields(l)
		if len(f) != 3 || !ifaces[f[0]] {
			continue
		}
		if on != rotated && f[1] != key {
			errs = append(errs, fmt.Errorf("%s: peer %s, not %s's new key", f[0], f[1], rotated.Name))
		}
		if ts, _ := strconv.ParseInt(f[2], 10, 64); ts < int64(at) {
			errs = append(errs, fmt.Errorf("%s: last handshake at %d, before the push (%.3f)", f[0], ts, at))
		}
		if !regexp.MustCompile(`(?m)^` + f[0] + `\s+BGP\s.*\sEstablished`).MatchString(p[2]) {
			errs = append(errs, fmt.Errorf("%s: session not Established", f[0]))
		}
		delete(ifaces, f[0])
	}
	for i := range ifaces {
		errs = append(errs, fmt.Errorf("%s: no WireGuard peer", i))
	}
	if len(errs) > 0 {
		return fmt.Errorf("%w\n%s", errors.Join(errs...), res.Stdout)
	}
	return nil
}
