//go:build lab

package lab

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

// scenarioRemoveGateway removes v4-2 from the fleet while 10 ms pings (IPv4
// and IPv6) run from paris's router to sydney's, and no packet may be lost.
//
// The pings must not depend on v4-2's own forwarding, which the removal
// leaves stale (v4-2 matches no gateway any more and keeps its last good
// configuration, while its peers delete their tunnels to it). So its link
// to sydney's router is cut first, and the pings start once the router
// sends everything through v4-1 (the replies never enter v4-2) and v4-2
// reaches the router through v4-1 (forward packets that the paris gateways'
// ECMP sends into v4-2's tunnel still arrive). What the removal changes on
// the paris gateways is the multipath route to sydney's prefixes, over the
// tunnels to v4-1 and v4-2: deleting the tunnel to v4-2 before BIRD
// withdrew its routes makes Linux drop the whole IPv4 multipath route
// until BIRD installs the single path left.
//
// Then v4-2 is put back (the fleet file and the link) and the topology is
// healthy again.
func scenarioRemoveGateway(t *testing.T, tp *topology, figures map[string]string) {
	ctx := t.Context()
	sites, err := sitesInForce(ctx, tp)
	if err != nil {
		t.Fatal(err)
	}
	if sites != 4 {
		t.Skip("sydney is not in the fleet: this scenario runs after b-add-site")
	}
	victim, sibling := tp.gw("v4-2"), tp.gw("v4-1")
	gone := fmt.Sprintf("wg%d", victim.id())
	b, err := tp.gw("v1-1").VM.ReadFile(ctx, "/etc/sitevpn/sydney.hcl")
	if err != nil {
		t.Fatal(err)
	}
	sydney := string(b)
	without, err := withoutGateway(sydney, victim.Name)
	if err != nil {
		t.Fatal(err)
	}
	nic := slices.Index(tp.gws, victim) // the routers VM's NIC to it
	must(t, tp.routers.SetLink(nic, false))
	paris := []string{"10.0.1.0/24", "2001:db8:a1::/64"}
	if err := waitRoutes(ctx, tp.routers, "r4", paris, "to-"+sibling.Name); err != nil {
		t.Fatal(err)
	}
	if err := waitRoutes(ctx, victim.VM, "private", []string{"10.0.4.0/24", "2001:db8:a4::/64"}, "eth1"); err != nil {
		t.Fatal(err)
	}
	var streams []*pingStream
	for _, pair := range [][2]string{{"10.0.1.1", "10.0.4.1"}, {"2001:db8:a1::1", "2001:db8:a4::1"}} {
		p, err := startPing(ctx, tp.routers, "r1", pair[0], pair[1])
		if err != nil {
			t.Fatal(err)
		}
		streams = append(streams, p)
		if err := p.waitReplies(ctx, 0, 100, 30*time.Second); err != nil {
			t.Fatal(err)
		}
		// A loss before the removal is the set-up's, not the removal's.
		if s, err := p.summary(ctx, 0); err != nil || s.lost != 0 {
			t.Fatalf("%s before the removal: %+v %v", p.name, s, err)
		}
	}
	start := time.Now()
	if _, err := push(ctx, tp.gws, "sydney.hcl", without); err != nil {
		t.Fatal(err)
	}
	remaining := slices.DeleteFunc(slices.Clone(tp.gws), func(g *gateway) bool { return g == victim })
	err = eachVM(vmsOf(remaining), func(vm *VM) error {
		g := tp.gw(vm.Name)
		want := 2*(sites-1) - 1 // the tunnel to the victim is gone
		if g.Site == victim.Site {
			want = 2 * (sites - 1)
		}
		return vm.WaitFor(ctx, 2*time.Minute, "applied without "+victim.Name, func(ctx context.Context) error {
			return appliedWithout(ctx, g, gone, want)
		})
	})
	if err != nil {
		t.Fatalf("%s\nremoving %s: %v", evidence(ctx, remaining), victim.Name, err)
	}
	figures["h1. v4-2 removed: push -> 7 gateways applied, healthy"] = since(start).String()
	stopLossless(t, streams, figures, "h2. while v4-2 is removed, ", "while "+victim.Name+" was removed")
	res, _ := victim.VM.Sh(ctx, "sitevpn status 2>&1")
	t.Logf("%s, no longer in the fleet, keeps its last good configuration:\n%s", victim.Name, res.Stdout)

	// Back as before: the link, then the file.
	start = time.Now()
	must(t, tp.routers.SetLink(nic, true))
	if _, err := push(ctx, tp.gws, "sydney.hcl", sydney); err != nil {
		t.Fatal(err)
	}
	if err := waitHealthy(ctx, tp.gws, 2*(sites-1), 4*time.Minute); err != nil {
		t.Fatalf("%s\nputting %s back: %v", evidence(ctx, []*gateway{victim}), victim.Name, err)
	}
	// The router uses the link again once OSPF is up on it (its wait
	// timer can take 40 s).
	if err := waitRoutes(ctx, tp.routers, "r4", paris, "to-"+sibling.Name, "to-"+victim.Name); err != nil {
		t.Fatal(err)
	}
	checkPlane(t, tp, tp.gws, sites)
	if err := pingAll(ctx, tp.routers, sites, time.Minute); err != nil {
		t.Error(err)
	}
	figures["h3. v4-2 put back -> all healthy, r4 ECMP again"] = since(start).String()
}

// withoutGateway removes gateway name's block from an HCL file written as
// the example's are (the block's closing brace at its own indentation).
func withoutGateway(hcl, name string) (string, error) {
	lines := strings.SplitAfter(hcl, "\n")
	open := fmt.Sprintf("gateway %q {", name)
	for i, l := range lines {
		if strings.TrimSpace(l) != open {
			continue
		}
		indent := l[:len(l)-len(strings.TrimLeft(l, " \t"))]
		for j := i + 1; j < len(lines); j++ {
			if strings.TrimRight(lines[j], "\n") == indent+"}" {
				return strings.Join(slices.Delete(lines, i, j+1), ""), nil
			}
		}
	}
	return "", fmt.Errorf("no block %s in:\n%s", open, hcl)
}

// appliedWithout checks that g applied a fleet without the tunnel gone: no such
// WireGuard link nor BGP protocol, and its want tunnels all healthy.
func appliedWithout(ctx context.Context, g *gateway, gone string, want int) error {
	h, err := readHealth(ctx, g.VM)
	if err != nil {
		return err
	}
	var errs []error
	if slices.Contains(h.links, gone) {
		errs = append(errs, fmt.Errorf("%s still has its link", gone))
	}
	if regexp.MustCompile(`(?m)^` + gone + `\s`).MatchString(h.out) {
		errs = append(errs, fmt.Errorf("%s still in BIRD or WireGuard", gone))
	}
	if ok, err := h.healthy(ctx, g.VM, want); err != nil {
		return err
	} else if !ok {
		errs = append(errs, fmt.Errorf("%s, want %d tunnels", h, want))
	}
	if len(errs) > 0 {
		return fmt.Errorf("%w\n%s", errors.Join(errs...), h.out)
	}
	return nil
}

var reDev = regexp.MustCompile(`\bdev (\S+)`)

// waitRoutes waits until, in namespace ns of vm, the routes to each of
// prefixes go through exactly the devices devs (any next hop marked dead
// or linkdown counts as gone).
func waitRoutes(ctx context.Context, vm *VM, ns string, prefixes []string, devs ...string) error {
	var script strings.Builder
	for _, p := range prefixes {
		family := "-4"
		if strings.Contains(p, ":") {
			family = "-6"
		}
		fmt.Fprintf(&script, "echo '# %s'; ip -n %s %s route show %s | grep -v -e dead -e linkdown || true\n", p, ns, family, p)
	}
	want := slices.Sorted(slices.Values(devs))
	return vm.WaitFor(ctx, 2*time.Minute, fmt.Sprintf("%s routing %s through %s", ns, strings.Join(prefixes, ", "), strings.Join(devs, ", ")), func(ctx context.Context) error {
		res, err := vm.Sh(ctx, script.String())
		if err != nil {
			return err
		}
		for _, sect := range strings.Split(res.Stdout, "# ")[1:] {
			var got []string
			for _, m := range reDev.FindAllStringSubmatch(sect, -1) {
				if !slices.Contains(got, m[1]) {
					got = append(got, m[1])
				}
			}
			slices.Sort(got)
			if !slices.Equal(got, want) {
				return fmt.Errorf("through %v:\n%s", got, res.Stdout)
			}
		}
		return nil
	})
}
