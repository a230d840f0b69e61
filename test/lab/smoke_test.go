//go:build lab

package lab

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// TestLabSmoke proves the lab itself: two VMs on one segment boot, answer
// the guest agent, reach each other over IPv6, and have kernel WireGuard and
// BIRD 2.
func TestLabSmoke(t *testing.T) {
	start := time.Now()
	l := ForTest(t)
	imageDone := time.Now()
	ctx := t.Context()

	internet := l.Segment("internet")
	addrs := []string{"2001:db8:1::1", "2001:db8:2::1"}
	vms := make([]*VM, len(addrs))
	for i, addr := range addrs {
		vm, err := l.NewVM(fmt.Sprintf("v%d", i+1), internet)
		if err != nil {
			t.Fatal(err)
		}
		// Each endpoint in its own /64, as gateways of different sites; the
		// on-link /32 lets them reach each other without a router.
		// DuplicateAddressDetection=none: the segment echoes frames back.
		network := fmt.Sprintf("[Network]\nIPv6AcceptRA=no\n\n[Address]\nAddress=%s/64\nDuplicateAddressDetection=none\n\n[Route]\nDestination=2001:db8::/32\n", addr)
		if err := vm.WriteNetwork(0, "10-internet", network); err != nil {
			t.Fatal(err)
		}
		vms[i] = vm
	}
	// Both boot at once, as the topology tests will.
	if err := l.Boot(ctx, 4*time.Minute); err != nil {
		t.Fatal(err)
	}
	agentsDone := time.Now()

	for i, vm := range vms {
		// networkd configures the address a little after the agent starts.
		script := fmt.Sprintf("ip -6 -o addr show | grep -F ' %s/64 ' | grep -qv tentative", addrs[i])
		if err := vm.WaitExec(ctx, time.Minute, "/bin/sh", "-c", script); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("addresses ready %s after the agents", since(agentsDone))

	// Both addresses are up: one ping each way must succeed, no retries.
	for i, vm := range vms {
		peer := addrs[1-i]
		if _, err := vm.Exec(ctx, "ping", "-6", "-c1", "-W5", peer); err != nil {
			t.Errorf("ping %s: %v", peer, err)
		}
	}

	for _, vm := range vms {
		mustSh(t, vm, "modprobe wireguard && ip link add wgt type wireguard && ip link del wgt")
		res := mustSh(t, vm, "bird --version 2>&1")
		if !strings.Contains(res.Stdout, "BIRD version 2.") {
			t.Errorf("%s: bird --version: %q", vm.Name, res.Stdout)
		}
		// The overlay is copied with cp -a: its directories' modes and owners
		// land on the guest's own, which must stay root's and 0755.
		if res := mustSh(t, vm, "stat -c '%a %U %n' / /etc /etc/systemd/network"); res.Stdout != "755 root /\n755 root /etc\n755 root /etc/systemd/network\n" {
			t.Errorf("%s: overlay changed directory modes:\n%s", vm.Name, res.Stdout)
		}
		// The image itself must boot clean: a failed unit or an ordering
		// cycle would be a lab bug that later tests would trip over. The
		// bracket keeps grep from matching the agent's log of this command.
		if res := mustSh(t, vm, "systemctl --failed --no-legend --plain; journalctl -b -o cat | grep -i 'ordering cycl[e]' || true"); strings.TrimSpace(res.Stdout) != "" {
			t.Errorf("%s: boot problems:\n%s", vm.Name, res.Stdout)
		}
	}
	t.Logf("timings: image %s, qemu start to both agents %s, total %s",
		imageDone.Sub(start).Round(100*time.Millisecond), agentsDone.Sub(imageDone).Round(100*time.Millisecond), since(start))
}

// mustSh runs script in vm and fails the test with its output if it fails.
func mustSh(t *testing.T, vm *VM, script string) Result {
	t.Helper()
	res, err := vm.Sh(t.Context(), script)
	if err != nil {
		t.Fatal(err)
	}
	return res
}
