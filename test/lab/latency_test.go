//go:build lab

package lab

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestLabLatency measures the HCL-edit-to-applied latency on a gateway
// with the machine to itself: two gateways of the example fleet (netns
// mode), v1-1 (paris) and v2-1 (berlin), installed from the .deb. Each
// edit is renamed into place on v1-1 alone and timed there (guest time of
// the rename to the daemon's "applied ... took=" line), then made on v2-1
// too, as a rollout with Ansible's serial: 1 would; the next edit waits
// until both applied it and the tunnel between them has its BGP session
// Established again. Four kinds of edit, five times each:
//
//   - a site added (sydney.hcl: two tunnels created in the namespace,
//     BIRD reconfigured);
//   - that site removed (two tunnels deleted, BIRD reconfigured);
//   - a BIRD-only change (BFD turned on, then off: every session restarts).
//
// It logs every sample with the daemon's journal (where the time goes)
// and the medians; the figures go in the README by hand. Speed is not
// asserted (a target belongs in a benchmark, and this one runs under
// emulation); what fails it is an edit not applied within a minute, a
// tunnel that does not come back, a packet lost by a 10 ms ping across the
// tunnel between the two (no edit touches it), or a second apply that is
// not a no-op.
//
// Then the hub scenario of issue 13 (hub_test.go) on the same two VMs:
// v2-1 gets 300 more tunnels, v1-1 keeps its 4, and the same edit is
// timed on both. The two boot with the example fleet's IPv4 transit pool
// widened (hubPool) for the hub's ids.
func TestLabLatency(t *testing.T) {
	ctx := t.Context()
	repo := repoDir(t)
	fleet, err := os.ReadFile(filepath.Join(repo, "examples/article/fleet.hcl"))
	if err != nil {
		t.Fatal(err)
	}
	fleet = withHubPool(t, fleet)
	sydney, err := os.ReadFile(filepath.Join(repo, "examples/article/lab-keys/sydney.hcl"))
	if err != nil {
		t.Fatal(err)
	}
	withBFD := withLabBFD(t, fleet)

	paris, berlin, start := bootPair(t, repo, fleet)
	gws := []*gateway{paris, berlin}

	// The tunnel between the two: wg3 on v1-1, wg1 on v2-1 (the plan's
	// names); the others lead to gateways not booted.
	tunnel := map[*gateway]string{paris: "wg3", berlin: "wg1"}
	established := func(ctx context.Context) error {
		return eachVM([]*VM{paris.VM, berlin.VM}, func(vm *VM) error {
			g := paris
			if vm == berlin.VM {
				g = berlin
			}
			return vm.WaitFor(ctx, 3*time.Minute, "BGP Established on "+tunnel[g], func(ctx context.Context) error {
				_, err := vm.Sh(ctx, fmt.Sprintf("%s show protocols %s | grep -q Established", birdc, tunnel[g]))
				return err
			})
		})
	}
	if err := established(ctx); err != nil {
		t.Fatalf("%s\n%v", evidence(ctx, gws), err)
	}
	t.Logf("qemu start -> the tunnel's session Established on both: %s", since(start))

	// A 10 ms ping across the tunnel between the two, transit address to
	// transit address (wg1 on v2-1 to wg3 on v1-1), for the whole run: no
	// edit touches that tunnel, so none may cost it a packet. It runs on
	// v2-1, so v1-1, where edits are timed, only answers it.
	stream, err := startPingIn(ctx, berlin.VM, "ip netns exec private", "v2-1 wg1", "2001:db8:ff::3", "2001:db8:ff::2")
	if err != nil {
		t.Fatal(err)
	}
	if err := stream.waitReplies(ctx, 0, 100, time.Minute); err != nil {
		t.Fatal(err)
	}

	samples := map[string][]time.Duration{}
	var order []string
	// edit makes one change on v1-1, times it, then makes it on v2-1 and
	// waits for both to settle.
	edit := func(kind, name, content string) {
		t.Helper()
		took, apply := editOn(t, paris, gws, name, content)
		t.Logf("%s: edit -> applied on v1-1 %s (the apply: %s)", kind, took, apply)
		if _, ok := samples[kind]; !ok {
			order = append(order, kind)
		}
		samples[kind] = append(samples[kind], took)
		editOn(t, berlin, gws, name, content)
		if err := established(ctx); err != nil {
			t.Fatalf("%s\nafter %s: %v", evidence(ctx, gws), kind, err)
		}
	}
	const rounds = 5
	for range rounds {
		edit("a site added (2 tunnels, BIRD)", "sydney.hcl", string(sydney))
		edit("a site removed (2 tunnels, BIRD)", "sydney.hcl", "")
		edit("BIRD only (BFD on)", "fleet.hcl", withBFD)
		edit("BIRD only (BFD off)", "fleet.hcl", string(fleet))
	}

	ps, err := stream.stop(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("the unchanged tunnel during the %d edits: %d lost of %d (longest gap %s)", 4*rounds, ps.lost, ps.sent, ps.gap.Round(time.Millisecond))
	if ps.lost != 0 {
		t.Errorf("the tunnel between v1-1 and v2-1 lost %d packets of %d while other tunnels and BIRD were changed", ps.lost, ps.sent)
	}
	for _, g := range gws {
		res := mustSh(t, g.VM, "sitevpn apply </dev/null 2>&1")
		if strings.TrimSpace(res.Stdout) != "no changes" {
			t.Errorf("%s: a second apply after the edits is not a no-op:\n%s", g.Name, res.Stdout)
		}
	}
	var sum strings.Builder
	for _, kind := range order {
		s := samples[kind]
		fmt.Fprintf(&sum, "\n  %s: median %s, samples %s", kind, median(s), s)
	}
	t.Logf("HCL edit -> applied on v1-1 (2 VMs):%s", sum.String())

	t.Run("hub", func(t *testing.T) { scenarioHub(t, paris, berlin, sydney, established) })
}

// editOn makes one change on g (a file renamed into place; an empty
// content removes it) and waits until g applied it; it returns how long
// that took and the apply's own duration. gws are the gateways whose
// evidence a failure shows.
func editOn(t *testing.T, g *gateway, gws []*gateway, name, content string) (time.Duration, string) {
	t.Helper()
	ctx := t.Context()
	var at float64
	var err error
	if content == "" {
		at, err = editAt(ctx, g.VM, "rm /etc/sitevpn/"+name)
	} else {
		var ats map[string]float64
		ats, err = push(ctx, []*gateway{g}, name, content)
		at = ats[g.Name]
	}
	if err != nil {
		t.Fatal(err)
	}
	took, apply, err := appliedLatency(ctx, t, g.VM, at, 2*time.Minute)
	if err != nil {
		t.Fatalf("%s\n%s on %s: %v", evidence(ctx, gws), name, g.Name, err)
	}
	return took, apply
}

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	if len(s) == 0 {
		return 0
	}
	return s[len(s)/2]
}
