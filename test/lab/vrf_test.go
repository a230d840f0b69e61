//go:build lab

package lab

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sitevpn/sitevpn/internal/testfleet"
)

// TestLabVRF runs the example fleet in vrf mode (testfleet.VRFVariant: the
// VRF instead of a namespace, BFD on at 300 ms x 3, keepalive 25) on two
// gateways of different sites, v1-1 (paris) and v2-1 (berlin), installed
// from the .deb. In this mode systemd-networkd owns the VRF and the
// WireGuard devices (rendered .netdev files, the key copied for it), BIRD
// runs in the VRF, and sitevpn changes peers with wgctrl, since networkd's
// reload does not. It proves on real networkd:
//
//   - the tunnel between them comes up, enslaved to the VRF, with a
//     handshake, its BGP session Established with BFD Up;
//   - a site prefix address on each LAN reaches the other site through
//     the tunnel, routed in the VRF's table (the other tunnels, to
//     gateways not booted, stay down);
//   - a second `sitevpn apply` changes nothing;
//   - a fourth site added to both gateways creates its tunnels through
//     networkd without disturbing the running one: same session, same
//     WireGuard peer (its counters keep growing), no packet lost;
//   - transit4 removed from the fleet, IPv4 rides the IPv6 transit (RFC
//     8950 extended next hop): routes via inet6, and the LANs' IPv4
//     addresses still reach each other.
func TestLabVRF(t *testing.T) {
	ctx := t.Context()
	repo := repoDir(t)
	src, err := os.ReadFile(filepath.Join(repo, "examples/article/fleet.hcl"))
	if err != nil {
		t.Fatal(err)
	}
	vrfFleet := testfleet.VRFVariant(src)
	if !strings.Contains(string(vrfFleet), `isolation = "vrf"`) {
		t.Fatal("testfleet.VRFVariant did not switch the example fleet to vrf")
	}

	paris, berlin, start := bootPair(t, repo, vrfFleet)
	gws := []*gateway{paris, berlin}

	// tunnel is each side's interface to the other (the plan's names).
	tunnel := map[*gateway]string{paris: "wg3", berlin: "wg1"}
	// A site address on each LAN: BIRD's direct protocol announces the
	// site prefix it is in, as a site router's would be. The other side
	// must route that prefix through the tunnel.
	lanAddrs := map[*gateway][2]string{
		paris:  {"10.0.1.254/24", "2001:db8:a1::254/64"},
		berlin: {"10.0.2.254/24", "2001:db8:a2::254/64"},
	}
	remote := map[*gateway][2]string{
		paris:  {"10.0.2.0/24", "2001:db8:a2::/64"},
		berlin: {"10.0.1.0/24", "2001:db8:a1::/64"},
	}
	for _, g := range gws {
		mustSh(t, g.VM, fmt.Sprintf("ip addr add %s dev eth2 && ip addr add %s dev eth2 nodad", lanAddrs[g][0], lanAddrs[g][1]))
	}

	// up checks the tunnel of g: in the VRF, a handshake, the BGP session
	// Established, BFD Up, the other site's prefixes in the VRF's table.
	up := func(ctx context.Context, g *gateway) error {
		wg := tunnel[g]
		_, err := g.VM.Sh(ctx, fmt.Sprintf(`set -e
fail() { echo "$*" >&2; exit 1; }
ip -d link show %[1]s | grep -q 'vrf_slave' || fail "%[1]s is not in a VRF: $(ip -d link show %[1]s)"
[ "$(ip -o link show %[1]s | grep -o 'master [^ ]*')" = "master private" ] || fail "%[1]s: $(ip -o link show %[1]s)"
[ "$(wg show %[1]s latest-handshakes | awk '{print $2}')" != 0 ] || fail "%[1]s: no handshake"
%[2]s show protocols %[1]s | grep -q Established || fail "$(%[2]s show protocols %[1]s)"
%[2]s show bfd sessions | grep -q ' %[1]s .* Up ' || fail "$(%[2]s show bfd sessions)"
ip route show vrf private | grep -q '^%[3]s .*dev %[1]s' || fail "no route to %[3]s in the VRF: $(ip route show vrf private)"
ip -6 route show vrf private | grep -q '^%[4]s .*dev %[1]s' || fail "no route to %[4]s in the VRF: $(ip -6 route show vrf private)"
`, wg, birdc, remote[g][0], remote[g][1]))
		return err
	}
	err = eachVM([]*VM{paris.VM, berlin.VM}, func(vm *VM) error {
		g := paris
		if vm == berlin.VM {
			g = berlin
		}
		return vm.WaitFor(ctx, 5*time.Minute, "the tunnel up in the VRF", func(ctx context.Context) error { return up(ctx, g) })
	})
	if err != nil {
		t.Fatalf("%v\n%s", err, vrfEvidence(ctx, gws))
	}
	t.Logf("qemu start -> tunnel, BGP and BFD up in the VRF on both: %s", since(start))
	ping := func(what string) {
		t.Helper()
		for _, fam := range []int{0, 1} {
			src := strings.Split(lanAddrs[paris][fam], "/")[0]
			dst := strings.Split(lanAddrs[berlin][fam], "/")[0]
			res, err := paris.VM.Sh(ctx, fmt.Sprintf("ip vrf exec private ping -c 3 -i 0.2 -W 2 -I %s %s", src, dst))
			if err != nil {
				t.Fatalf("%s: ping -I %s %s in the VRF: %v\n%s", what, src, dst, err, vrfEvidence(ctx, gws))
			}
			t.Logf("%s: ping -I %s %s: %s", what, src, dst, lastLine(res.Stdout))
		}
	}
	ping("in the VRF")

	// The rendered networkd files are what networkd runs on, and the key
	// copy networkd reads is not world-readable.
	res := mustSh(t, paris.VM, `networkctl list --no-legend | awk '{print $2, $4, $5}' | grep -E '^(private|wg[0-9]+) '; stat -c '%a %U %G' /etc/systemd/network/sitevpn.key`)
	t.Logf("v1-1 networkd links (name, operational, setup) and key:\n%s", res.Stdout)
	if !strings.Contains(res.Stdout, "640 root systemd-network") {
		t.Errorf("networkd's key copy: %s", res.Stdout)
	}

	// A second apply changes nothing (the daemon just applied the same).
	for _, g := range gws {
		res := mustSh(t, g.VM, "sitevpn apply </dev/null 2>&1")
		if strings.TrimSpace(res.Stdout) != "no changes" {
			t.Errorf("%s: second apply is not a no-op:\n%s", g.Name, res.Stdout)
		}
	}

	// A fourth site on both: networkd creates two more devices on each;
	// the running tunnel keeps its session and its WireGuard peer.
	type reading struct {
		since string
		rx    uint64
	}
	read := func(g *gateway) reading {
		t.Helper()
		res := mustSh(t, g.VM, fmt.Sprintf(`%s show protocols %s | awk '/BGP/ {print $5, $6}'; wg show %s transfer | awk '{print $2}'`, birdc, tunnel[g], tunnel[g]))
		f := strings.Split(strings.TrimSpace(res.Stdout), "\n")
		if len(f) != 2 {
			t.Fatalf("%s: reading the tunnel: %q", g.Name, res.Stdout)
		}
		var rx uint64
		fmt.Sscan(f[1], &rx)
		return reading{since: f[0], rx: rx}
	}
	before := map[*gateway]reading{paris: read(paris), berlin: read(berlin)}
	stream, err := startVRFPing(ctx, paris.VM, strings.Split(lanAddrs[paris][1], "/")[0], strings.Split(lanAddrs[berlin][1], "/")[0])
	if err != nil {
		t.Fatal(err)
	}
	if err := stream.waitReplies(ctx, 0, 100, 30*time.Second); err != nil {
		t.Fatal(err)
	}
	sydney, err := os.ReadFile(filepath.Join(repo, "examples/article/lab-keys/sydney.hcl"))
	if err != nil {
		t.Fatal(err)
	}
	at, err := push(ctx, gws, "sydney.hcl", string(sydney))
	if err != nil {
		t.Fatal(err)
	}
	// The edit-to-applied latency on a machine running two VMs, not nine.
	took, err := appliedAfter(ctx, t, paris.VM, at[paris.Name], time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("HCL edit -> applied, v1-1 (add a site, vrf mode, 2 VMs): %s", took)
	err = eachVM([]*VM{paris.VM, berlin.VM}, func(vm *VM) error {
		return vm.WaitFor(ctx, 3*time.Minute, "six tunnels in the VRF, BIRD with six sessions", func(ctx context.Context) error {
			_, err := vm.Sh(ctx, fmt.Sprintf(`set -e
n=$(ip -o link show type wireguard | grep -c 'master private')
[ "$n" = 6 ] || { echo "$n WireGuard links in the VRF" >&2; exit 1; }
n=$(%s show protocols | grep -c ' BGP ')
[ "$n" = 6 ] || { echo "BIRD has $n BGP protocols" >&2; exit 1; }`, birdc))
			return err
		})
	})
	if err != nil {
		t.Fatalf("after adding sydney: %v\n%s", err, vrfEvidence(ctx, gws))
	}
	s, err := stream.stop(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("adding sydney: %d lost of %d on the running tunnel (longest gap %s)", s.lost, s.sent, s.gap.Round(time.Millisecond))
	if s.lost != 0 {
		t.Errorf("%d packets of %d lost on the running tunnel while sydney was added", s.lost, s.sent)
	}
	for _, g := range gws {
		after := read(g)
		// BIRD derives "since" from its monotonic clock and the real
		// one at each print: the same instant may read a few ms apart.
		if d := sinceDrift(after.since, before[g].since); d < 0 || d > time.Second {
			t.Errorf("%s %s: BGP session since %s, was %s: adding a site restarted it", g.Name, tunnel[g], after.since, before[g].since)
		}
		if after.rx < before[g].rx {
			t.Errorf("%s %s: received %d bytes, was %d: the WireGuard peer was replaced", g.Name, tunnel[g], after.rx, before[g].rx)
		}
		if err := up(ctx, g); err != nil {
			t.Errorf("%s after adding sydney: %v", g.Name, err)
		}
	}
	ping("after adding sydney")

	// transit4 removed from the fleet: IPv4 rides the IPv6 transit (RFC
	// 8950) on Debian 12's kernel and real WireGuard: each side routes
	// the other's IPv4 prefix via its IPv6 transit address.
	start = time.Now()
	if _, err := push(ctx, gws, "fleet.hcl", string(testfleet.WithoutTransit4(vrfFleet))); err != nil {
		t.Fatal(err)
	}
	err = eachVM([]*VM{paris.VM, berlin.VM}, func(vm *VM) error {
		g := paris
		if vm == berlin.VM {
			g = berlin
		}
		return vm.WaitFor(ctx, 3*time.Minute, "IPv4 routed via the IPv6 transit", func(ctx context.Context) error {
			if err := up(ctx, g); err != nil {
				return err
			}
			_, err := vm.Sh(ctx, fmt.Sprintf(`ip route show vrf private %[1]s | grep -q 'via inet6 .*dev %[2]s' || { echo "$(ip route show vrf private)" >&2; exit 1; }`, remote[g][0], tunnel[g]))
			return err
		})
	})
	if err != nil {
		t.Fatalf("without transit4: %v\n%s", err, vrfEvidence(ctx, gws))
	}
	t.Logf("transit4 removed -> IPv4 via the IPv6 transit (RFC 8950) on both: %s", since(start))
	res = mustSh(t, paris.VM, fmt.Sprintf("ip route show vrf private %s; ip -4 -o addr show dev %s", remote[paris][0], tunnel[paris]))
	t.Logf("v1-1 without transit4:\n%s", res.Stdout)
	ping("without transit4 (RFC 8950)")
	if t.Failed() {
		t.Log(vrfEvidence(ctx, gws))
	}
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}

// vrfEvidence is what shows why a VRF check failed.
func vrfEvidence(ctx context.Context, gws []*gateway) string {
	var b strings.Builder
	for _, g := range gws {
		res, _ := g.VM.Sh(ctx, "networkctl list --no-pager; wg show; "+birdc+" show protocols; "+birdc+" show bfd sessions; ip route show vrf private; ip -6 route show vrf private; journalctl -u sitevpn -u systemd-networkd --no-pager | tail -30")
		fmt.Fprintf(&b, "=== %s\n%s%s\n", g.Name, res.Stdout, res.Stderr)
	}
	return b.String()
}

// sinceDrift is the absolute difference between two of BIRD's "since"
// times (timeformat iso long ms), or -1 when one does not parse.
func sinceDrift(a, b string) time.Duration {
	const layout = "2006-01-02 15:04:05.000"
	ta, err1 := time.Parse(layout, a)
	tb, err2 := time.Parse(layout, b)
	if err1 != nil || err2 != nil {
		return -1
	}
	return max(ta.Sub(tb), tb.Sub(ta))
}
