//go:build lab

package lab

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.zx2c4.com/wireguard/wgctrl/wgtypes"
)

// The hub scenario of issue 13, run by TestLabLatency on its two VMs: v2-1
// gets hubSites more sites of two gateways each (hub.hcl), so its fleet
// gives it 4 + 2*hubSites tunnels, while v1-1 keeps the example fleet's 4.
// The extra peers are no VMs: their endpoints are in 3fff::/20 (RFC 9637,
// documentation), which the gateways have no route to, so their tunnels
// never handshake and their BGP sessions stay Active; the daemon still
// creates, reads, checks and repairs every one of them, which is the cost
// measured.
const hubSites = 150

// hubPool is the example fleet's transit4 widened for the hub's ids (up to
// 8 + 2*hubSites): 169.254.0.0/16 holds the pairs of ids up to 257 only.
// TestLabLatency boots its two VMs with it, so the hub scenario changes no
// existing tunnel.
const hubPool = `"100.64.0.0/10"`

// withHubPool is the example fleet with hubPool as transit4.
func withHubPool(t *testing.T, fleet []byte) []byte {
	t.Helper()
	const old = `transit4  = "169.254.0.0/16"`
	if !strings.Contains(string(fleet), old) {
		t.Fatalf("the example fleet has no %s line", old)
	}
	return []byte(strings.Replace(string(fleet), old, "transit4  = "+hubPool, 1))
}

// hubFleet writes the hub's extra sites: site "hub-N" (ASN 4200000000+N,
// prefixes fd00:0:N::/48 and 172.16.N.0/24), gateways of ids 9 and up (the
// example's and sydney's are 1 to 8), each with a fresh key and an
// endpoint nobody answers on.
func hubFleet(sites int) (string, error) {
	var b strings.Builder
	b.WriteString("# The hub scenario's extra sites (test/lab/hub_test.go): nobody answers on their endpoints.\n")
	for s := range sites {
		fmt.Fprintf(&b, "\nsite \"hub-%d\" {\n  asn      = %d\n  prefixes = [\"fd00:0:%x::/48\", \"172.16.%d.0/24\"]\n", s, 4200000000+s, s, s)
		for g := 1; g <= 2; g++ {
			k, err := wgtypes.GeneratePrivateKey()
			if err != nil {
				return "", err
			}
			id := 9 + 2*s + g - 1
			fmt.Fprintf(&b, "\n  gateway \"h%d-%d\" {\n    id         = %d\n    endpoint   = \"3fff:0:%x::%d\"\n    public_key = %q\n  }\n", s, g, id, s, g, k.PublicKey())
		}
		b.WriteString("}\n")
	}
	return b.String(), nil
}

// scenarioHub measures, with v2-1 a hub of 4 + 2*hubSites tunnels and
// v1-1 a gateway of 4 (README.md, "the hub scenario"): the first apply of
// the hub's tunnels, a restart, a repair, a no-op apply, the same edit on
// both (sydney.hcl added, then removed: their ratio must stay under 2), the
// daemon's CPU over 60 s idle (under 1% of a core) and its RSS (under
// 60 MB). established waits for the session between the two.
func scenarioHub(t *testing.T, paris, berlin *gateway, sydney []byte, established func(context.Context) error) {
	ctx := t.Context()
	gws := []*gateway{paris, berlin}
	hub := 4 + 2*hubSites
	figures := map[string]string{}
	var order []string
	figure := func(k, v string) {
		order = append(order, k)
		figures[k] = v
		t.Logf("%s: %s", k, v)
	}
	defer func() {
		var b strings.Builder
		for _, k := range order {
			fmt.Fprintf(&b, "  %-62s %s\n", k, figures[k])
		}
		t.Logf("HUB FIGURES (v2-1 with %d tunnels, v1-1 with 4):\n%s", hub, b.String())
	}()

	// The first apply of the hub: 2*hubSites tunnels created and BIRD
	// reconfigured with their sessions, timed from the push's rename to
	// the daemon's "applied" line; then every link and session counted.
	src, err := hubFleet(hubSites)
	if err != nil {
		t.Fatal(err)
	}
	at, err := push(ctx, []*gateway{berlin}, "hub.hcl", src)
	if err != nil {
		t.Fatal(err)
	}
	took, apply, err := appliedLatency(ctx, t, berlin.VM, at[berlin.Name], 5*time.Minute)
	if err != nil {
		t.Fatalf("%s\nhub.hcl on v2-1: %v", evidence(ctx, gws), err)
	}
	figure(fmt.Sprintf("hub.hcl pushed -> applied on v2-1 (4 -> %d tunnels)", hub), fmt.Sprintf("%s (the apply: %s)", took, apply))
	if err := hubComplete(ctx, berlin.VM, hub); err != nil {
		t.Fatalf("%s\n%v", evidence(ctx, gws), err)
	}
	if err := established(ctx); err != nil {
		t.Fatalf("%s\nafter hub.hcl: %v", evidence(ctx, gws), err)
	}

	// The same edit on both, alternately, each timed alone: a site
	// added (two tunnels, BIRD), then removed.
	added := map[*gateway][]time.Duration{}
	removed := map[*gateway][]time.Duration{}
	const rounds = 5
	for range rounds {
		for _, g := range gws {
			added[g] = append(added[g], hubEdit(t, g, gws, "sydney.hcl", string(sydney)))
		}
		for _, g := range gws {
			removed[g] = append(removed[g], hubEdit(t, g, gws, "sydney.hcl", ""))
		}
	}
	if err := established(ctx); err != nil {
		t.Fatalf("%s\nafter the edits: %v", evidence(ctx, gws), err)
	}
	ratio := float64(median(added[berlin])) / float64(median(added[paris]))
	figure(fmt.Sprintf("a site added: edit -> applied, v1-1 (4 tunnels), median of %d", rounds), fmt.Sprintf("%s %s", median(added[paris]), added[paris]))
	figure(fmt.Sprintf("a site added: edit -> applied, v2-1 (%d tunnels), median of %d", hub, rounds), fmt.Sprintf("%s %s", median(added[berlin]), added[berlin]))
	figure("a site added: ratio v2-1 / v1-1", fmt.Sprintf("%.2f", ratio))
	figure(fmt.Sprintf("the site removed: v1-1 / v2-1, median of %d", rounds), fmt.Sprintf("%s / %s", median(removed[paris]), median(removed[berlin])))
	// Issue 13's target is under 2 (see docs/benchmarks.md): met at 1.91
	// in one run, 2.2-4.3 before; under emulation one run's medians move
	// by a third, so a figure over 2 is reported and only a regression
	// far past the figures measured so far fails.
	switch {
	case ratio >= 6:
		t.Errorf("adding a site on the %d-tunnel gateway takes %.2f times what it takes on the 4-tunnel one (%s against %s): the cost of an edit follows the fleet's size", hub, ratio, median(added[berlin]), median(added[paris]))
	case ratio >= 2:
		t.Logf("TARGET MISSED (issue 13, under 2): edit ratio %.2f", ratio)
	}

	// A repair: one tunnel deleted by hand on each, put back by the
	// apply its link event brings (reading that tunnel alone).
	repairs := map[*gateway]string{}
	var mu sync.Mutex
	victim := map[*gateway]string{paris: "wg5", berlin: fmt.Sprintf("wg%d", 8+hubSites)}
	err = eachVM([]*VM{paris.VM, berlin.VM}, func(vm *VM) error {
		g := paris
		if vm == berlin.VM {
			g = berlin
		}
		res, err := vm.Sh(ctx, "ip -n private link del "+victim[g]+" && date +%s.%N")
		if err != nil {
			return err
		}
		at, err := strconv.ParseFloat(strings.TrimSpace(res.Stdout), 64)
		if err != nil {
			return err
		}
		// Nothing else changes the system meanwhile: the first apply
		// that changed something after the deletion is the repair (its
		// journal, logged, says why="a link changed").
		took, apply, err := appliedLatency(ctx, t, vm, at, 2*time.Minute)
		if err != nil {
			return fmt.Errorf("%s: %s deleted by hand, never repaired: %w", vm.Name, victim[g], err)
		}
		mu.Lock()
		repairs[g] = fmt.Sprintf("pass %s (deleted -> back %s)", apply, took)
		mu.Unlock()
		return nil
	})
	if err != nil {
		t.Fatalf("%s\n%v", evidence(ctx, gws), err)
	}
	figure("repair of a tunnel deleted by hand, v1-1", repairs[paris])
	figure(fmt.Sprintf("repair of a tunnel deleted by hand, v2-1 (%d tunnels)", hub), repairs[berlin])
	if err := hubComplete(ctx, berlin.VM, hub); err != nil {
		t.Fatalf("%s\nafter the repair: %v", evidence(ctx, gws), err)
	}

	// A no-op `sitevpn apply` through the daemon: load, validate, render
	// and the same reading of the system as a repair pass, nothing to do
	// (a probation line may follow "no changes"). Then what does not
	// depend on sitevpn's engine but on the fleet's size, timed alone in
	// the guest: `sitevpn render` (load, validate, plan, render the whole
	// fleet, as every edit does), `sitevpn plan` (that, then what an apply
	// reads: files, units, every tunnel), BIRD parsing its configuration
	// (`configure check`: an apply that changes BIRD has it parsed twice,
	// the candidate checked, then configured) and `wg show all dump` (one
	// request per device, as sitevpn's health checks and repairs read them).
	for _, g := range gws {
		n := tunnelsOf(g, berlin, hub)
		for _, m := range []struct{ what, script string }{
			{"no-op `sitevpn apply` through the daemon", "sitevpn apply </dev/null >/tmp/hub-apply 2>&1; head -n1 /tmp/hub-apply | grep -qx 'no changes'"},
			{"`sitevpn render` of its fleet", "sitevpn render --out /tmp/hub-render >/dev/null"},
			{"`sitevpn plan` (render, then files, units and every tunnel read)", "sitevpn plan >/dev/null"},
			{"BIRD parses its configuration (`birdc configure check`)", birdc + " configure check | grep -q 'Configuration OK'"},
			{"every WireGuard device read (`wg show all dump`, as a health check does)", "ip netns exec private wg show all dump >/dev/null"},
		} {
			s, err := timedRuns(ctx, g.VM, m.script, 3)
			if err != nil {
				t.Fatalf("%s: %s: %v", g.Name, m.what, err)
			}
			figure(fmt.Sprintf("%s, %s (%d tunnels), median of 3", m.what, g.Name, n), fmt.Sprintf("%s %s", median(s), s))
		}
		mem, err := daemonMem(ctx, g.VM)
		if err != nil {
			t.Fatal(err)
		}
		figure(fmt.Sprintf("daemon RSS / peak after the edits, %s (%d tunnels)", g.Name, n), fmt.Sprintf("%.1f MB / %.1f MB", mem["VmRSS"]/1024, mem["VmHWM"]/1024))
	}

	// A restart: stop, start, the first apply (nothing to change) and
	// the first health check, until the daemon says READY (Type=notify:
	// systemctl returns then).
	for _, g := range gws {
		d, err := timedSh(ctx, g.VM, "systemctl restart sitevpn")
		if err != nil {
			t.Fatalf("%s\n%s: restart: %v", evidence(ctx, gws), g.Name, err)
		}
		figure(fmt.Sprintf("`systemctl restart sitevpn` -> READY, %s (%d tunnels)", g.Name, tunnelsOf(g, berlin, hub)), d.String())
	}
	if err := established(ctx); err != nil {
		t.Fatalf("%s\nafter the restarts: %v", evidence(ctx, gws), err)
	}

	// Idle: once both confirmed their last change (no probation left), 60
	// s of the daemon's own CPU (utime+stime of its main process), both
	// gateways in the same window, sampled every second to tell the
	// repair passes' share; then its RSS.
	if _, err := waitConfig(ctx, gws, "confirmed", 3*time.Minute); err != nil {
		t.Fatalf("%s\n%v", evidence(ctx, gws), err)
	}
	var samples sync.Map // *VM -> idleSample
	err = eachVM([]*VM{paris.VM, berlin.VM}, func(vm *VM) error {
		s, err := sampleIdle(ctx, vm, 60*time.Second) // the measurement interval
		if err == nil {
			samples.Store(vm, s)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, g := range gws {
		v, _ := samples.Load(g.VM)
		idle := v.(idleSample)
		before, after := idle.first, idle.last
		share := float64(after.ticks-before.ticks) / after.hz / (after.uptime - before.uptime)
		kb, err := daemonMem(ctx, g.VM)
		if err != nil {
			t.Fatal(err)
		}
		n := tunnelsOf(g, berlin, hub)
		figure(fmt.Sprintf("daemon CPU over %.0f s idle, %s (%d tunnels)", after.uptime-before.uptime, g.Name, n),
			fmt.Sprintf("%.2f%% of a core (%d ticks of 1/%.0f s; %d in the %d s around its %d repair passes, with the health checks beside them)", 100*share, after.ticks-before.ticks, after.hz, idle.repairTicks, idle.repairSeconds, idle.repairs))
		figure(fmt.Sprintf("daemon RSS idle / peak since the restart, %s (%d tunnels)", g.Name, n), fmt.Sprintf("%.1f MB / %.1f MB", kb["VmRSS"]/1024, kb["VmHWM"]/1024))
		// Issue 13's target is under 1%: met at 0.83% once the checks
		// read every device once a minute and the state file was written
		// only when it says something new (1.7-2.8% before): a figure
		// over it is reported; a regression far past it fails.
		switch {
		case share >= 0.04:
			t.Errorf("%s: sitevpn used %.2f%% of a core over 60 s idle with %d tunnels (target under 1%%)", g.Name, 100*share, n)
		case share >= 0.01:
			t.Logf("TARGET MISSED (issue 13, under 1%% of a core): %s idle CPU %.2f%%", g.Name, 100*share)
		}
		if kb["VmRSS"] >= 60*1024 {
			t.Errorf("%s: sitevpn's RSS is %.1f MB with %d tunnels (target under 60 MB)", g.Name, kb["VmRSS"]/1024, n)
		}
	}
}

// idleSample is the daemon's CPU over an idle window, and the part of it
// spent in the seconds around its repair passes.
type idleSample struct {
	first, last   cpuSample
	repairs       int   // repair passes that ended in the window
	repairTicks   int64 // ticks in the second each ended in and the one before
	repairSeconds int
}

var reApplies = regexp.MustCompile(`"applies":\s*(\d+)`)

// sampleIdle reads the daemon's CPU every second for d through the guest
// agent's file calls (no process started in the guest, so the sampling
// costs the daemon nothing), with its state's applies counter: only a
// repair pass applies while nothing changes (every 5 minutes now, so a
// 60 s window holds one or none), and the counter moves when the pass
// ends, so the ticks of that second and of the one before are the pass's
// (and those of a health check beside it).
func sampleIdle(ctx context.Context, vm *VM, d time.Duration) (idleSample, error) {
	first, err := readCPU(ctx, vm)
	if err != nil {
		return idleSample{}, err
	}
	read := func() (cpuSample, int, error) {
		c := first
		stat, err := vm.ReadFile(ctx, fmt.Sprintf("/proc/%d/stat", first.pid))
		if err != nil {
			return c, 0, fmt.Errorf("sitevpn's main process %d: %w (restarted?)", first.pid, err)
		}
		up, err1 := vm.ReadFile(ctx, "/proc/uptime")
		st, err2 := vm.ReadFile(ctx, "/run/sitevpn/state.json")
		if err := errors.Join(err1, err2); err != nil {
			return c, 0, err
		}
		if c.ticks, err = statTicks(string(stat)); err != nil {
			return c, 0, fmt.Errorf("%s: %w", vm.Name, err)
		}
		if c.uptime, err = strconv.ParseFloat(strings.Fields(string(up))[0], 64); err != nil {
			return c, 0, err
		}
		m := reApplies.FindSubmatch(st)
		if m == nil {
			return c, 0, fmt.Errorf("%s: no applies in state.json", vm.Name)
		}
		n, err := strconv.Atoi(string(m[1]))
		return c, n, err
	}
	s := idleSample{first: first}
	prev, applies, err := read()
	if err != nil {
		return s, err
	}
	s.first = prev
	var prevDelta int64
	counted := false // the previous second is already counted
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for end := time.Now().Add(d); time.Now().Before(end); {
		select {
		case <-ctx.Done():
			return s, ctx.Err()
		case <-tick.C:
		}
		c, n, err := read()
		if err != nil {
			return s, err
		}
		delta := c.ticks - prev.ticks
		if n > applies {
			s.repairs += n - applies
			s.repairTicks += delta
			s.repairSeconds++
			if !counted {
				s.repairTicks += prevDelta
				s.repairSeconds++
			}
			counted = true
		} else {
			counted = false
		}
		prev, prevDelta, applies = c, delta, n
	}
	s.last = prev
	return s, nil
}

// tunnelsOf is how many tunnels g has in the hub scenario.
func tunnelsOf(g, hub *gateway, n int) int {
	if g == hub {
		return n
	}
	return 4
}

// hubEdit is editOn, logged; it returns the time from the edit to the
// daemon's "applied" line.
func hubEdit(t *testing.T, g *gateway, gws []*gateway, name, content string) time.Duration {
	t.Helper()
	took, apply := editOn(t, g, gws, name, content)
	t.Logf("%s %s on %s: edit -> applied %s (the apply: %s)", map[bool]string{true: "removing", false: "adding"}[content == ""], name, g.Name, took, apply)
	return took
}

// hubComplete waits until vm has n WireGuard links in the private
// namespace and BIRD n BGP protocols.
func hubComplete(ctx context.Context, vm *VM, n int) error {
	return vm.WaitFor(ctx, 2*time.Minute, fmt.Sprintf("%d tunnels and BGP sessions", n), func(ctx context.Context) error {
		res, err := vm.Sh(ctx, "ip -n private -br link show type wireguard | wc -l; "+birdc+" show protocols | grep -c ' BGP '")
		if err != nil {
			return err
		}
		f := strings.Fields(res.Stdout)
		if len(f) != 2 || f[0] != strconv.Itoa(n) || f[1] != strconv.Itoa(n) {
			return fmt.Errorf("links, BGP protocols: %v", f)
		}
		return nil
	})
}

// timedSh runs script in vm and returns how long it took, by the guest's
// clock (the guest agent's round trip left out).
func timedSh(ctx context.Context, vm *VM, script string) (time.Duration, error) {
	res, err := vm.Sh(ctx, "s=$(date +%s.%N); { "+script+"; } >&2 || exit 1; e=$(date +%s.%N); echo $s $e")
	if err != nil {
		return 0, err
	}
	f := strings.Fields(res.Stdout)
	if len(f) != 2 {
		return 0, fmt.Errorf("%s: unexpected output %q", vm.Name, res.Stdout)
	}
	s, err1 := strconv.ParseFloat(f[0], 64)
	e, err2 := strconv.ParseFloat(f[1], 64)
	if err := errors.Join(err1, err2); err != nil {
		return 0, err
	}
	return time.Duration((e - s) * float64(time.Second)).Round(time.Millisecond), nil
}

// cpuSample is the CPU time of sitevpn's main process at a guest uptime.
type cpuSample struct {
	pid    int
	ticks  int64   // utime + stime, in clock ticks
	hz     float64 // clock ticks per second
	uptime float64 // the guest's, in seconds
}

func readCPU(ctx context.Context, vm *VM) (cpuSample, error) {
	res, err := vm.Sh(ctx, "pid=$(systemctl show -P MainPID sitevpn); echo $pid; cat /proc/$pid/stat /proc/uptime; getconf CLK_TCK")
	if err != nil {
		return cpuSample{}, err
	}
	lines := strings.Split(strings.TrimSpace(res.Stdout), "\n")
	if len(lines) != 4 {
		return cpuSample{}, fmt.Errorf("%s: unexpected output %q", vm.Name, res.Stdout)
	}
	var c cpuSample
	var errs []error
	var err1, err2 error
	c.pid, err1 = strconv.Atoi(lines[0])
	errs = append(errs, err1)
	c.ticks, err1 = statTicks(lines[1])
	errs = append(errs, err1)
	c.uptime, err1 = strconv.ParseFloat(strings.Fields(lines[2])[0], 64)
	c.hz, err2 = strconv.ParseFloat(strings.TrimSpace(lines[3]), 64)
	errs = append(errs, err1, err2)
	if err := errors.Join(errs...); err != nil {
		return cpuSample{}, fmt.Errorf("%s: %w in %q", vm.Name, err, res.Stdout)
	}
	return c, nil
}

// statTicks is utime+stime of a /proc/<pid>/stat line: the 14th and 15th
// fields, the 12th and 13th after the command's closing parenthesis.
func statTicks(line string) (int64, error) {
	f := strings.Fields(line[strings.LastIndexByte(line, ')')+1:])
	if len(f) < 13 {
		return 0, fmt.Errorf("/proc/<pid>/stat: %q", line)
	}
	utime, err1 := strconv.ParseInt(f[11], 10, 64)
	stime, err2 := strconv.ParseInt(f[12], 10, 64)
	return utime + stime, errors.Join(err1, err2)
}

// timedRuns runs script n times in vm, each timed by timedSh.
func timedRuns(ctx context.Context, vm *VM, script string, n int) ([]time.Duration, error) {
	var s []time.Duration
	for range n {
		d, err := timedSh(ctx, vm, script)
		if err != nil {
			return nil, err
		}
		s = append(s, d)
	}
	return s, nil
}

// daemonMem reads VmRSS and VmHWM (the peak) of sitevpn's main process,
// in kB.
func daemonMem(ctx context.Context, vm *VM) (map[string]float64, error) {
	res, err := vm.Sh(ctx, "grep -E '^Vm(RSS|HWM):' /proc/$(systemctl show -P MainPID sitevpn)/status")
	if err != nil {
		return nil, err
	}
	kb := map[string]float64{}
	for l := range strings.SplitSeq(res.Stdout, "\n") {
		k, v, ok := strings.Cut(l, ":")
		if !ok {
			continue
		}
		f := strings.Fields(v)
		if len(f) > 0 {
			kb[k], _ = strconv.ParseFloat(f[0], 64)
		}
	}
	if kb["VmRSS"] == 0 || kb["VmHWM"] == 0 {
		return nil, fmt.Errorf("%s: no VmRSS or VmHWM in %q", vm.Name, res.Stdout)
	}
	return kb, nil
}
