//go:build lab

package lab

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestLabBoot measures the guest's boot: SITEVPN_LAB_BOOT_VMS VMs (default
// 9, as many as the topology) start at once; it logs the time from qemu
// start to each guest agent, then, on the first VM, where systemd's boot
// went, the clocksource and the guest's CPU use while idle. It asserts only
// that they boot clean (no failed unit), as TestLabSmoke does; the figures
// belong in test/lab/README.md. `make lab-boot` runs it.
func TestLabBoot(t *testing.T) {
	n := 9
	if s := os.Getenv("SITEVPN_LAB_BOOT_VMS"); s != "" {
		var err error
		if n, err = strconv.Atoi(s); err != nil || n < 1 || n > 12 {
			t.Fatalf("SITEVPN_LAB_BOOT_VMS=%q: want 1-12", s)
		}
	}
	l := ForTest(t)
	ctx := t.Context()
	internet := l.Segment("internet")
	for i := range n {
		if _, err := l.NewVM(fmt.Sprintf("b%d", i+1), internet); err != nil {
			t.Fatal(err)
		}
	}
	start := time.Now()
	for _, vm := range l.VMs() {
		if err := vm.Start(ctx); err != nil {
			t.Fatal(err)
		}
	}
	agents := make([]time.Duration, n)
	if err := eachVM(l.VMs(), func(vm *VM) error {
		err := vm.WaitAgent(ctx, 10*time.Minute)
		agents[vm.num-1] = since(start)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	t.Logf("BOOT %d VMs at once: qemu start -> guest agent %v (last %s)", n, agents, since(start))

	vm := l.VMs()[0]
	// systemd-analyze waits for the boot to finish; the figure is the
	// guest's own count from the kernel's start.
	if err := vm.WaitExec(ctx, 5*time.Minute, "/bin/sh", "-c", "systemctl is-system-running --wait >/dev/null; true"); err != nil {
		t.Fatal(err)
	}
	res := mustSh(t, vm, `systemd-analyze; systemd-analyze blame | head -12; echo; cat /proc/cmdline;
cat /sys/devices/system/clocksource/clocksource0/current_clocksource; echo timers: $(systemctl list-timers --all --no-legend | wc -l)`)
	t.Logf("BOOT %s:\n%s", vm.Name, res.Stdout)
	if res := mustSh(t, vm, "systemctl --failed --no-legend --plain"); strings.TrimSpace(res.Stdout) != "" {
		t.Errorf("%s: failed units:\n%s", vm.Name, res.Stdout)
	}
	// Idle: the guest's own CPU ticks over 20 s, every VM booted.
	res = mustSh(t, vm, `a=$(awk '/^cpu /{print $2+$3+$4+$7+$8}' /proc/stat); i=$(awk '/^cpu /{print $5+$6}' /proc/stat);
sleep 20; b=$(awk '/^cpu /{print $2+$3+$4+$7+$8}' /proc/stat); j=$(awk '/^cpu /{print $5+$6}' /proc/stat);
echo "busy $((b-a)) idle $((j-i)) ticks"; ps -eo pcpu,comm --sort=-pcpu | head -6`)
	t.Logf("BOOT %s idle for 20 s: %s", vm.Name, res.Stdout)
}
