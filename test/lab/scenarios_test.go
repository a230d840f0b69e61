//go:build lab

package lab

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// pingStream is a continuous ping (every 10 ms, timestamped) between two
// site routers, running in the routers VM.
type pingStream struct {
	vm   *VM
	name string
	pid  string
	log  string
}

// startPing starts a 10 ms ping stream from src to dst in namespace ns of
// routers.
func startPing(ctx context.Context, routers *VM, ns, src, dst string) (*pingStream, error) {
	return startPingIn(ctx, routers, "ip netns exec "+ns, ns, src, dst)
}

// startStreams starts a ping stream per pair (source, destination) in
// namespace ns of the routers VM, each once it has 100 replies.
func startStreams(t *testing.T, tp *topology, ns string, pairs [][2]string) []*pingStream {
	t.Helper()
	return startStreamsOn(t, tp.routers, ns, pairs)
}

// startStreamsOn is startStreams in namespace ns of vm.
func startStreamsOn(t *testing.T, vm *VM, ns string, pairs [][2]string) []*pingStream {
	t.Helper()
	var streams []*pingStream
	for _, pair := range pairs {
		p, err := startPing(t.Context(), vm, ns, pair[0], pair[1])
		if err != nil {
			t.Fatal(err)
		}
		streams = append(streams, p)
		if err := p.waitReplies(t.Context(), 0, 100, 30*time.Second); err != nil {
			t.Fatal(err)
		}
	}
	return streams
}

// startVRFPing starts a 10 ms ping stream from src to dst in the VRF
// "private" of vm.
func startVRFPing(ctx context.Context, vm *VM, src, dst string) (*pingStream, error) {
	return startPingIn(ctx, vm, "ip vrf exec private", vm.Name, src, dst)
}

// startPingIn runs ping under wrap, a command that execs its arguments in
// a namespace or VRF, so $! is ping itself.
func startPingIn(ctx context.Context, vm *VM, wrap, where, src, dst string) (*pingStream, error) {
	p := &pingStream{vm: vm, name: where + " -> " + dst, log: "/tmp/ping-" + strings.ReplaceAll(dst, ":", "_") + ".log"}
	// setsid: out of the agent's process group.
	res, err := vm.Sh(ctx, fmt.Sprintf("setsid %s ping -D -n -i 0.01 -I %s %s </dev/null >%s 2>&1 & echo $!", wrap, src, dst, p.log))
	if err != nil {
		return nil, err
	}
	p.pid = strings.TrimSpace(res.Stdout)
	return p, nil
}

// pingReply is the start of an awk rule that reads one reply of a ping -D
// log: its sequence number s and its time ts.
const pingReply = `/bytes from/ && /icmp_seq=/ {
	match($0, /icmp_seq=[0-9]+/); s = substr($0, RSTART+9, RLENGTH-9) + 0
	ts = substr($1, 2, length($1)-2) + 0`

// pingAwk summarizes a ping -D log: first and last sequence number, replies
// received (distinct), the longest gap between two replies and when it
// started, and the replies after time $T.
const pingAwk = `awk -v T="$T" '` + pingReply + `
	if (n == 0) { min = s; max = s }
	if (s > max) max = s
	if (!(s in seen)) { seen[s] = 1; n++ }
	if (n > 1 && ts - last > gap) { gap = ts - last; gapat = last }
	if (ts > T) after++
	last = ts
} END { printf "%d %d %d %.3f %.3f %d\n", min, max, n, gap, gapat, after }'`

type pingSummary struct {
	sent, received, lost int
	gap                  time.Duration
	gapAt                float64
	after                int
}

func (p *pingStream) summary(ctx context.Context, after float64) (pingSummary, error) {
	res, err := p.vm.Sh(ctx, fmt.Sprintf("T=%f; %s %s", after, pingAwk, p.log))
	if err != nil {
		return pingSummary{}, err
	}
	var s pingSummary
	var min, max int
	var gap float64
	if _, err := fmt.Sscan(res.Stdout, &min, &max, &s.received, &gap, &s.gapAt, &s.after); err != nil {
		return s, fmt.Errorf("%s: summary %q: %w", p.name, res.Stdout, err)
	}
	s.sent = max - min + 1
	s.lost = s.sent - s.received
	s.gap = time.Duration(gap * float64(time.Second))
	return s, nil
}

// waitReplies waits until the stream got n replies after guest time t.
func (p *pingStream) waitReplies(ctx context.Context, t float64, n int, timeout time.Duration) error {
	return p.vm.WaitFor(ctx, timeout, fmt.Sprintf("%s: %d replies", p.name, n), func(ctx context.Context) error {
		s, err := p.summary(ctx, t)
		if err != nil {
			return err
		}
		if s.after < n {
			return fmt.Errorf("%d replies so far", s.after)
		}
		return nil
	})
}

// lossAwk lists a ping -D log's first 20 missing sequence numbers, each
// with the guest time of the last reply before it: when, against the
// scenario's timeline, they were lost.
const lossAwk = `awk '` + pingReply + `
	if (n++ == 0 || s < min) min = s; if (s > max) max = s
	if (!(s in at)) at[s] = ts
} END {
	for (s = min; s <= max && k < 20; s++) if (!(s in at)) {
		for (b = s - 1; b >= min && !(b in at); b--) ;
		printf "%s%d (after the reply at %.3f)", (k++ ? ", " : ""), s, at[b]
	}
}'`

// losses says which sequence numbers the stream lost and when.
func (p *pingStream) losses(ctx context.Context) string {
	res, err := p.vm.Sh(ctx, lossAwk+" "+p.log)
	if err != nil {
		return fmt.Sprintf("which were lost is unknown: %v", err)
	}
	return "lost icmp_seq (routers' clock): " + strings.TrimSpace(res.Stdout)
}

// stop ends the stream (SIGINT, as ^C) and returns its summary. Replies in
// flight when it stops are not counted as lost: only sequence numbers
// below the last one answered are.
func (p *pingStream) stop(ctx context.Context) (pingSummary, error) {
	if _, err := p.vm.Sh(ctx, fmt.Sprintf("kill -INT %s; while kill -0 %s 2>/dev/null; do sleep 0.05; done", p.pid, p.pid)); err != nil {
		return pingSummary{}, err
	}
	return p.summary(ctx, 0)
}

// stopLossless stops every stream, records each one's figure (named figure
// plus the stream's name) and fails the test for any packet lost while
// what happened.
func stopLossless(t *testing.T, streams []*pingStream, figures map[string]string, figure, what string) {
	t.Helper()
	for _, p := range streams {
		s, err := p.stop(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		figures[figure+p.name] = fmt.Sprintf("%d lost of %d (longest gap %s)", s.lost, s.sent, s.gap.Round(time.Millisecond))
		if s.lost != 0 {
			t.Errorf("%s: %d lost of %d %s (longest gap %s); %s", p.name, s.lost, s.sent, what, s.gap.Round(time.Millisecond), p.losses(t.Context()))
		}
	}
}

// timeline marks a scenario's steps on the routers' clock, where the
// streams' ping -D timestamps are taken: lost packets are then set against
// what happened at that time.
type timeline struct {
	vm    *VM
	marks []string
}

func (tl *timeline) mark(ctx context.Context, what string) {
	t, err := guestNow(ctx, tl.vm)
	if err != nil {
		tl.marks = append(tl.marks, what+" (clock not read: "+err.Error()+")")
		return
	}
	tl.marks = append(tl.marks, fmt.Sprintf("%.3f %s", t, what))
}

func (tl *timeline) String() string { return strings.Join(tl.marks, "; ") }

func guestNow(ctx context.Context, vm *VM) (float64, error) {
	res, err := vm.Sh(ctx, "date +%s.%N")
	if err != nil {
		return 0, err
	}
	return strconv.ParseFloat(strings.TrimSpace(res.Stdout), 64)
}

// scenarioInvalid: an invalid file pushed to every gateway is rejected,
// the last good state stays in force, status says so; removing it makes
// every gateway healthy again.
func scenarioInvalid(t *testing.T, tp *topology, figures map[string]string) {
	ctx := t.Context()
	const bad = `# pushed by the lab: invalid on purpose
site "rome" {
  asn      = 65001
  prefixes = ["10.0.1.0/24"]
}
`
	three := tp.sites(3)
	start := time.Now()
	if _, err := push(ctx, tp.gws, "zz-invalid.hcl", bad); err != nil {
		t.Fatal(err)
	}
	var shown string
	err := eachVM(vmsOf(three), func(vm *VM) error {
		return vm.WaitFor(ctx, time.Minute, "status reporting the invalid configuration", func(ctx context.Context) error {
			res, err := vm.Sh(ctx, "sitevpn status")
			if err == nil {
				return fmt.Errorf("status exited 0:\n%s", res.Stdout)
			}
			if !strings.Contains(res.Stdout, "invalid configuration, the daemon keeps the last good one") || !strings.Contains(res.Stdout, "zz-invalid.hcl:") {
				return fmt.Errorf("status does not show the diagnostic:\n%s\n%s", res.Stdout, res.Stderr)
			}
			if vm.Name == "v1-1" {
				shown = res.Stdout
			}
			return nil
		})
	})
	if err != nil {
		t.Fatalf("%s\n%v", evidence(ctx, three), err)
	}
	figures["a1. invalid HCL pushed -> status shows it (6 gw)"] = since(start).String()
	t.Logf("v1-1: sitevpn status with the invalid file:\n%s", shown)
	// The last good state stays: every tunnel and session still up.
	up := 0
	for _, g := range three {
		h, err := readHealth(ctx, g.VM)
		if err != nil {
			t.Fatal(err)
		}
		if len(h.links) != 4 || h.handshakes != 4 || h.established != 4 {
			t.Errorf("%s with the invalid file: %s\n%s", g.Name, h, h.out)
		}
		up += h.established
		res, err := g.VM.Sh(ctx, "journalctl -u sitevpn --no-pager | grep -c 'configuration rejected'")
		if err != nil {
			t.Errorf("%s: the daemon did not log the rejection: %v", g.Name, err)
		} else {
			_ = res
		}
	}
	figures["a2. sessions Established while invalid"] = fmt.Sprintf("%d/24", up)
	if err := pingAll(ctx, tp.routers, 3, 30*time.Second); err != nil {
		t.Errorf("with the invalid file: %v", err)
	}
	start = time.Now()
	if err := removeAll(ctx, tp.gws, "zz-invalid.hcl"); err != nil {
		t.Fatal(err)
	}
	if err := waitHealthy(ctx, three, 4, time.Minute); err != nil {
		t.Fatalf("%s\nafter removing the invalid file: %v", evidence(ctx, three), err)
	}
	figures["a3. invalid HCL removed -> healthy (6 gw)"] = since(start).String()
}

// scenarioAddSite: sydney.hcl lands on the six gateways of the article
// while two pings run between paris and berlin: the new tunnels and
// sessions come up and no packet of the existing ones is lost.
func scenarioAddSite(t *testing.T, tp *topology, figures map[string]string) {
	ctx := t.Context()
	sydney, err := os.ReadFile(filepath.Join(tp.repo, "examples/article/lab-keys/sydney.hcl"))
	if err != nil {
		t.Fatal(err)
	}
	streams := startStreams(t, tp, "r1", [][2]string{{"2001:db8:a1::1", "2001:db8:a2::1"}, {"10.0.1.1", "10.0.2.1"}})
	start := time.Now()
	took, err := pushFirst(t, tp, tp.sites(3), "sydney.hcl", string(sydney))
	if err != nil {
		t.Fatal(err)
	}
	figures["e2. HCL edit -> applied, v1-1 (add a site)"] = took
	if err := waitHealthy(ctx, tp.gws, 6, 4*time.Minute); err != nil {
		t.Fatalf("%s\nafter adding sydney: %v", evidence(ctx, tp.gws), err)
	}
	figures["b1. sydney.hcl pushed -> 48 sessions Established"] = since(start).String()
	checkPlane(t, tp, tp.gws, 4)
	if err := pingAll(ctx, tp.routers, 4, 2*time.Minute); err != nil {
		t.Error(err)
	}
	stopLossless(t, streams, figures, "b2. on an existing tunnel, ", "while adding a site")
}

// scenarioReboot: a gateway rebooted from inside comes back to full health
// with no command typed.
func scenarioReboot(t *testing.T, tp *topology, figures map[string]string) {
	ctx := t.Context()
	g := tp.gw("v2-1")
	start := time.Now()
	// The agent may die before it answers: the reboot is checked by QEMU's exit.
	g.VM.Sh(ctx, "systemctl reboot")
	if err := g.VM.Restart(ctx); err != nil {
		t.Fatal(err)
	}
	if err := g.VM.WaitAgent(ctx, 3*time.Minute); err != nil {
		t.Fatal(err)
	}
	if err := waitHealthy(ctx, tp.gws, 6, 4*time.Minute); err != nil {
		t.Fatalf("%s\nafter rebooting %s: %v", evidence(ctx, []*gateway{g}), g.Name, err)
	}
	figures["c. reboot v2-1 -> all 8 healthy again"] = since(start).String()
	if err := pingAll(ctx, tp.routers, 4, 2*time.Minute); err != nil {
		t.Error(err)
	}
}

// The lab's BFD timers (see scenarioFailover).
const (
	labBFDInterval   = 300
	labBFDMultiplier = 8
)

// withLabBFD is the example fleet with BFD on at the lab's timers.
func withLabBFD(t *testing.T, fleet []byte) string {
	t.Helper()
	on := strings.Replace(string(fleet), "bfd       = false",
		fmt.Sprintf("bfd       = true\n    bfd_interval_ms = %d\n    bfd_multiplier  = %d", labBFDInterval, labBFDMultiplier), 1)
	if on == string(fleet) {
		t.Fatal("examples/article/fleet.hcl has no 'bfd       = false' to turn on")
	}
	return on
}

// scenarioFailover powers off the site-1 gateway that carries a ping
// stream from berlin's router to paris's, and measures the longest gap in
// the stream: BGP's hold time, then BFD. Each time it powers the victim on
// again and waits for full health.
func scenarioFailover(t *testing.T, tp *topology, figures map[string]string) {
	ctx := t.Context()
	victim := failover(t, tp, figures, "BFD off")
	if t.Failed() {
		return
	}
	restore(t, tp, victim)
	fleet, err := os.ReadFile(filepath.Join(tp.repo, "examples/article/fleet.hcl"))
	if err != nil {
		t.Fatal(err)
	}
	// BFD timers for emulated gateways: a guest of nine on two cores can
	// stall for 1.6 s (its kernel logs "clocksource: Long readout
	// interval"), and with the default 100 ms x 5 (0.5 s) every such
	// stall took that guest's sessions down; a CI run saw them flap for
	// minutes. 300 ms x 8 detects a dead tunnel in 2.4 s, still well
	// under the 6 s hold time. On real gateways the default holds.
	withBFD := withLabBFD(t, fleet)
	start := time.Now()
	took, err := pushFirst(t, tp, tp.gws, "fleet.hcl", withBFD)
	if err != nil {
		t.Fatal(err)
	}
	figures["e3. HCL edit -> applied, v1-1 (bfd on)"] = took
	err = eachVM(vmsOf(tp.gws), func(vm *VM) error {
		return vm.WaitFor(ctx, 4*time.Minute, "6 BFD sessions Up", func(ctx context.Context) error {
			res, err := vm.Sh(ctx, birdc+" show bfd sessions")
			if err != nil {
				return err
			}
			if n := strings.Count(res.Stdout, " Up "); n != 6 {
				return fmt.Errorf("%d up:\n%s", n, res.Stdout)
			}
			return nil
		})
	})
	if err != nil {
		t.Fatalf("%s\n%v", evidence(ctx, tp.gws), err)
	}
	if err := waitHealthy(ctx, tp.gws, 6, 4*time.Minute); err != nil {
		t.Fatalf("%s\nwith BFD: %v", evidence(ctx, tp.gws), err)
	}
	figures["d0. bfd pushed -> 48 BFD sessions Up"] = since(start).String()
	victim = failover(t, tp, figures, fmt.Sprintf("BFD on, %d ms x %d", labBFDInterval, labBFDMultiplier))
	if t.Failed() {
		return
	}
	// The scenarios after this one need every gateway.
	restore(t, tp, victim)
}

// failover starts ping streams from berlin's router to paris's (IPv4 and
// IPv6), finds the paris gateway their forward path crosses, powers it off
// (and pulls the cables of its neighbours: the site router's and the
// sibling's links to it), and reports the longest gap of the streams. It
// returns the victim.
func failover(t *testing.T, tp *topology, figures map[string]string, label string) *gateway {
	ctx := t.Context()
	var streams []*pingStream
	for _, pair := range [][2]string{{"10.0.2.1", "10.0.1.1"}, {"2001:db8:a2::1", "2001:db8:a1::1"}} {
		p, err := startPing(ctx, tp.routers, "r2", pair[0], pair[1])
		if err != nil {
			t.Fatal(err)
		}
		streams = append(streams, p)
		if err := p.waitReplies(ctx, 0, 100, 30*time.Second); err != nil {
			t.Fatal(err)
		}
	}
	victim, seen, err := streamCarrier(ctx, tp)
	if err != nil {
		t.Fatal(err)
	}
	sibling := tp.gw(fmt.Sprintf("v1-%d", 3-victim.N))
	t.Logf("%s: bytes received from berlin's tunnels in 2 s while the streams run: %v: powering %s off", label, seen, victim.Name)
	t0, err := guestNow(ctx, tp.routers)
	if err != nil {
		t.Fatal(err)
	}
	if err := victim.VM.Kill(); err != nil {
		t.Fatal(err)
	}
	// Its neighbours lose carrier, as they would with a cable to a dead box.
	must(t, tp.routers.SetLink(slices.Index(tp.gws, victim), false))
	must(t, sibling.VM.SetLink(1, false))
	for _, p := range streams {
		// 3 s of replies after the power cut: the stream recovered.
		if err := p.waitReplies(ctx, t0, 300, time.Minute); err != nil {
			t.Fatalf("%s\n%s: %v", evidence(ctx, tp.sites(2)), label, err)
		}
	}
	var worst time.Duration
	for _, p := range streams {
		s, err := p.stop(ctx)
		if err != nil {
			t.Fatal(err)
		}
		figures[fmt.Sprintf("d. failover (%s), %s", label, p.name)] = fmt.Sprintf("longest gap %s (%d lost of %d)", s.gap.Round(time.Millisecond), s.lost, s.sent)
		worst = max(worst, s.gap)
	}
	// ECMP hashes each stream on its own, so only one may cross the
	// victim; the failover time is the longest gap of either. It cannot be
	// short: the berlin gateways keep sending into the dead tunnel until
	// BGP's hold time or BFD's detection time (2.4 s here) says it is gone.
	// A short one means the cut missed the streams and the figure would be
	// meaningless.
	figures[fmt.Sprintf("d. failover (%s): longest gap of both streams", label)] = worst.Round(time.Millisecond).String()
	if worst < 500*time.Millisecond {
		t.Errorf("%s: powering %s off interrupted the streams for %s only: the streams did not cross it (bytes seen %v)", label, victim.Name, worst.Round(time.Millisecond), seen)
	}
	return victim
}

// streamCarrier finds the paris gateway on the streams' forward path from
// the traffic itself: the one receiving the most bytes from berlin's
// tunnels over 2 s while the streams run (a 10 ms stream brings about
// 25 KB in that time; BGP and BFD, 1-2 KB). Routes would only predict
// it: ECMP's hash for locally sent pings is not what `ip route get`
// computes, and a prediction made that way was wrong twice. The forward
// path is the one that matters: the replies, sent by paris's router, leave
// the dead gateway as soon as its link loses carrier.
func streamCarrier(ctx context.Context, tp *topology) (*gateway, map[string]uint64, error) {
	var ifaces []string
	for _, g := range tp.sites(2) {
		ifaces = append(ifaces, fmt.Sprintf("wg%d", g.id()))
	}
	// rx of berlin's tunnels, twice, 2 s apart: a measuring window, not a
	// wait for a condition.
	script := fmt.Sprintf(`rx() { ip netns exec private wg show all transfer | awk '$1 ~ /^(%s)$/ {s += $3} END {print s+0}'; }
a=$(rx); sleep 2; b=$(rx); echo $((b - a))`, strings.Join(ifaces, "|"))
	paris := tp.sites(1)
	seen := map[string]uint64{}
	var mu sync.Mutex
	err := eachVM(vmsOf(paris), func(vm *VM) error {
		res, err := vm.Sh(ctx, script)
		if err != nil {
			return err
		}
		n, err := strconv.ParseUint(strings.TrimSpace(res.Stdout), 10, 64)
		if err != nil {
			return fmt.Errorf("%s: reading wg transfer: %q: %w", vm.Name, res.Stdout, err)
		}
		mu.Lock()
		seen[vm.Name] = n
		mu.Unlock()
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	var carrier *gateway
	for _, g := range paris {
		if carrier == nil || seen[g.Name] > seen[carrier.Name] {
			carrier = g
		}
	}
	if seen[carrier.Name] < 10000 {
		return nil, nil, fmt.Errorf("no paris gateway receives the streams from berlin (bytes in 2 s: %v)", seen)
	}
	return carrier, seen, nil
}

// restore plugs the cables back and powers the victim on; every gateway
// must be healthy again.
func restore(t *testing.T, tp *topology, victim *gateway) {
	ctx := t.Context()
	sibling := tp.gw(fmt.Sprintf("v1-%d", 3-victim.N))
	must(t, tp.routers.SetLink(slices.Index(tp.gws, victim), true))
	must(t, sibling.VM.SetLink(1, true))
	start := time.Now()
	if err := victim.VM.Restart(ctx); err != nil {
		t.Fatal(err)
	}
	if err := victim.VM.WaitAgent(ctx, 3*time.Minute); err != nil {
		t.Fatal(err)
	}
	if err := waitHealthy(ctx, tp.gws, 6, 4*time.Minute); err != nil {
		t.Fatalf("%s\nafter powering %s on again: %v", evidence(ctx, []*gateway{victim}), victim.Name, err)
	}
	t.Logf("%s powered on: all healthy after %s", victim.Name, since(start))
}

// pushFirst rolls a file out as Ansible with serial: 1 would start: to
// v1-1 alone, whose edit-to-applied latency it returns, then to the other
// gateways of gws at once. Measured alone, v1-1 has the machine's cores
// to itself as a real gateway has its own; pushed to all at once, eight
// emulated gateways would share two cores.
func pushFirst(t *testing.T, tp *topology, gws []*gateway, name, content string) (string, error) {
	ctx := t.Context()
	first := tp.gw("v1-1")
	at, err := push(ctx, []*gateway{first}, name, content)
	if err != nil {
		return "", err
	}
	took, err := appliedAfter(ctx, t, first.VM, at[first.Name], time.Minute)
	if err != nil {
		return "", err
	}
	var rest []*gateway
	for _, g := range gws {
		if g != first {
			rest = append(rest, g)
		}
	}
	_, err = push(ctx, rest, name, content)
	return took, err
}
