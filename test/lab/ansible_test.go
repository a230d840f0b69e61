//go:build lab

package lab

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestLabAnsible runs the host's real ansible-playbook (packaging/ansible:
// site.yml, role sitevpn) against the article's six gateways from scratch:
// the package built by make package is installed, every gateway's key read,
// the fleet templated and validated, and the role waits until sitevpn
// status is healthy on each (every tunnel with a handshake, every BGP
// session Established, over the internet segment; no LANs). A second run
// must change nothing on any host.
//
// Ansible reaches each VM over ssh through a forwarded localhost port
// (vm.ForwardSSH): the lab's segments are multicast sockets the host is not
// on.
func TestLabAnsible(t *testing.T) {
	start := time.Now()
	ctx := t.Context()
	repo := repoDir(t)
	if _, err := exec.LookPath("ansible-playbook"); err != nil {
		cmd := exec.CommandContext(ctx, "apt-get", "install", "-y", "-q", "--no-install-recommends", "ansible")
		cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("installing ansible: %v\n%s", err, out)
		}
	}
	tmp := t.TempDir()
	deb := buildPackage(t, repo, filepath.Join(tmp, "dist"), "")
	key := filepath.Join(tmp, "id_ed25519")
	if out, err := exec.Command("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "sitevpn-lab", "-f", key).CombinedOutput(); err != nil {
		t.Fatalf("ssh-keygen: %v\n%s", err, out)
	}
	pub, err := os.ReadFile(key + ".pub")
	pkgMust(t, err)
	built := time.Now()

	l := ForTest(t)
	internet := l.Segment("internet")
	type gw struct {
		name, site, endpoint string
		id                   int
		vm                   *VM
	}
	var gws []*gw
	for s, site := range []string{"paris", "berlin", "tokyo"} {
		for n := 1; n <= 2; n++ {
			g := &gw{name: fmt.Sprintf("v%d-%d", s+1, n), site: site, id: s*2 + n,
				endpoint: fmt.Sprintf("2001:db8:%d::%d", s+1, n)}
			vm, err := l.NewVM(g.name, internet)
			pkgMust(t, err)
			pkgMust(t, vm.ForwardSSH())
			pkgMust(t, vm.WriteNetwork(0, "20-internet", fmt.Sprintf("[Network]\nIPv6AcceptRA=no\n\n[Address]\nAddress=%s/64\nDuplicateAddressDetection=none\n\n[Route]\nDestination=2001:db8::/32\n", g.endpoint)))
			pkgMust(t, vm.WriteFile("/root/.ssh/authorized_keys", pub, 0o600))
			g.vm = vm
			gws = append(gws, g)
		}
	}
	vms := l.VMs()
	if err := l.Boot(ctx, 12*time.Minute); err != nil {
		t.Fatal(err)
	}
	booted := time.Now()
	t.Logf("6 VMs booted (agents answer) in %s", booted.Sub(built).Round(100*time.Millisecond))

	// sshd on, and reachable from the host through the forwarded port.
	sshArgs := func(vm *VM) []string {
		return []string{"-i", key, "-p", strconv.Itoa(vm.SSHPort), "-o", "BatchMode=yes", "-o", "ConnectTimeout=20",
			"-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null", "-o", "LogLevel=ERROR", "root@127.0.0.1"}
	}
	err = eachVM(vms, func(vm *VM) error {
		if _, err := vm.Sh(ctx, "systemctl start ssh 2>&1"); err != nil {
			return err
		}
		return vm.WaitFor(ctx, 5*time.Minute, "ssh from the host", func(ctx context.Context) error {
			out, err := exec.CommandContext(ctx, "ssh", append(sshArgs(vm), "true")...).CombinedOutput()
			if err != nil {
				return fmt.Errorf("%w: %s", err, out)
			}
			return nil
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	sshed := time.Now()
	t.Logf("ssh answers on all 6 %s after boot", since(booted))

	// The inventory: the example's fleet and sites, no LANs, each host on
	// its forwarded port. JSON is YAML: Ansible's yaml plugin reads it.
	hosts := map[string]any{}
	for _, g := range gws {
		hosts[g.name] = map[string]any{
			"ansible_host":     "127.0.0.1",
			"ansible_port":     g.vm.SSHPort,
			"sitevpn_site":     g.site,
			"sitevpn_id":       g.id,
			"sitevpn_endpoint": g.endpoint,
		}
	}
	inventory := map[string]any{"all": map[string]any{"children": map[string]any{"sitevpn_gateways": map[string]any{
		"hosts": hosts,
		"vars": map[string]any{
			"ansible_user":                 "root",
			"ansible_ssh_private_key_file": key,
			"ansible_ssh_common_args":      "-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null",
			"ansible_python_interpreter":   "/usr/bin/python3",
			// The lab has no mirror; the package's dependencies are in the image.
			"sitevpn_apt_update_cache": false,
			// A loaded 2-core machine running other VMs too: slow handshakes.
			"sitevpn_status_retries": 60,
			"sitevpn_status_delay":   5,
			"sitevpn_fleet": map[string]any{
				"isolation": "netns", "namespace": "private", "port_base": 5800,
				"transit6": "2001:db8:ff::/64", "transit4": "169.254.0.0/16",
				"mtu": 1420, "keepalive": 0,
				"bgp": map[string]any{"hold_time": 6, "bfd": false},
			},
			"sitevpn_sites": map[string]any{
				"paris":  map[string]any{"asn": 65001, "prefixes": []string{"2001:db8:a1::/64", "10.0.1.0/24"}},
				"berlin": map[string]any{"asn": 65002, "prefixes": []string{"2001:db8:a2::/64", "10.0.2.0/24"}},
				"tokyo":  map[string]any{"asn": 65003, "prefixes": []string{"2001:db8:a3::/64", "10.0.3.0/24"}},
			},
		},
	}}}}
	inv, err := json.MarshalIndent(inventory, "", "  ")
	pkgMust(t, err)
	invPath := filepath.Join(tmp, "inventory.json")
	pkgMust(t, os.WriteFile(invPath, inv, 0o644))

	evidence := func() string {
		var b strings.Builder
		for _, g := range gws {
			ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
			res, err := g.vm.Sh(ctx, "sitevpn status 2>&1; journalctl -b -u sitevpn -u sitevpn-bird-private --no-pager -n 25 2>&1")
			cancel()
			fmt.Fprintf(&b, "--- %s: sitevpn status, journal ---\n%s%v\n", g.name, res.Stdout, err)
		}
		return b.String()
	}
	playbook := func(run string, extra ...string) map[string]recap {
		t.Helper()
		ctx, cancel := context.WithTimeout(ctx, 30*time.Minute)
		defer cancel()
		began := time.Now()
		cmd := exec.CommandContext(ctx, "ansible-playbook", append([]string{"-i", invPath, "site.yml", "-e", "sitevpn_deb=" + deb}, extra...)...)
		cmd.Dir = filepath.Join(repo, "packaging/ansible")
		cmd.Env = append(os.Environ(),
			"ANSIBLE_NOCOLOR=1", "ANSIBLE_FORCE_COLOR=0", "ANSIBLE_HOST_KEY_CHECKING=False",
			"ANSIBLE_PIPELINING=True", "ANSIBLE_FORKS=6", "ANSIBLE_TIMEOUT=60",
			"ANSIBLE_RETRY_FILES_ENABLED=False", "ANSIBLE_LOCAL_TEMP="+filepath.Join(tmp, "ansible-tmp"))
		// Written as it runs (the run's progress can be followed there),
		// then read back.
		logPath := filepath.Join(l.Dir, "ansible-"+run+".log")
		f, err := os.Create(logPath)
		pkgMust(t, err)
		cmd.Stdout, cmd.Stderr = f, f
		err = cmd.Run()
		f.Close()
		out, rerr := os.ReadFile(logPath)
		pkgMust(t, rerr)
		recaps := parseRecap(string(out))
		t.Logf("ansible-playbook, %s run: %s, exit %v", run, since(began), err)
		for _, g := range gws {
			t.Logf("  %s: %s", g.name, recaps[g.name].line)
		}
		if err != nil || len(recaps) != len(gws) {
			t.Fatalf("%s\nansible-playbook, %s run: %v (%d hosts in the recap)\n%s", evidence(), run, err, len(recaps), tail(string(out), 150))
		}
		return recaps
	}

	first := playbook("first")
	for _, g := range gws {
		r := first[g.name]
		if r.failed != 0 || r.unreachable != 0 || r.changed == 0 {
			t.Errorf("first run, %s: %s", g.name, r.line)
		}
	}
	converged := time.Now()
	// The role's last task waited for it; check it from the VM side too.
	err = eachVM(vms, func(vm *VM) error {
		res, err := vm.Sh(ctx, "sitevpn status")
		if err != nil {
			return err
		}
		if n := strings.Count(res.Stdout, "Established"); n != 4 {
			return fmt.Errorf("%s: %d sessions Established, want 4:\n%s", vm.Name, n, res.Stdout)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("%s\nafter the first run: %v", evidence(), err)
	}
	if t.Failed() {
		t.FailNow()
	}

	second := playbook("second")
	for _, g := range gws {
		r := second[g.name]
		if r.changed != 0 || r.failed != 0 || r.unreachable != 0 {
			t.Errorf("second run changed something on %s: %s", g.name, r.line)
		}
	}
	if t.Failed() {
		out, _ := os.ReadFile(filepath.Join(l.Dir, "ansible-second.log"))
		t.Logf("second run's changed tasks:\n%s", grepChanged(string(out)))
	}
	secondDone := time.Now()

	// A change of the fleet (keepalive 25 on every tunnel): each gateway
	// applies it with apply --confirm, and the play confirms it once the
	// host answers and is healthy: a new generation, confirmed, in force.
	changed := playbook("changed", "-e", `{"sitevpn_fleet": {"isolation": "netns", "namespace": "private", "port_base": 5800, "transit6": "2001:db8:ff::/64", "transit4": "169.254.0.0/16", "mtu": 1420, "keepalive": 25, "bgp": {"hold_time": 6, "bfd": false}}}`)
	err = eachVM(vms, func(vm *VM) error {
		r := changed[vm.Name]
		if r.failed != 0 || r.unreachable != 0 || r.changed == 0 {
			return fmt.Errorf("changed run, %s: %s", vm.Name, r.line)
		}
		c, _, err := readConfig(ctx, vm)
		if err != nil {
			return err
		}
		res, err := vm.Sh(ctx, "ip netns exec private wg show all persistent-keepalive | cut -f3 | sort -u")
		if err != nil {
			return err
		}
		if c.State != "confirmed" || c.Generation < 2 || strings.TrimSpace(res.Stdout) != "25" {
			return fmt.Errorf("%s after the changed run: configuration %+v, keepalives %q", vm.Name, c, res.Stdout)
		}
		return nil
	})
	if err != nil {
		out, _ := os.ReadFile(filepath.Join(l.Dir, "ansible-changed.log"))
		t.Fatalf("%s\n%v\n%s", evidence(), err, grepChanged(string(out)))
	}
	t.Logf("timings: package %s, boot %s, ssh up %s, first run (converged) %s, second run %s, changed run (confirmed) %s, total %s",
		built.Sub(start).Round(100*time.Millisecond), booted.Sub(built).Round(100*time.Millisecond),
		sshed.Sub(booted).Round(100*time.Millisecond), converged.Sub(sshed).Round(100*time.Millisecond), secondDone.Sub(converged).Round(100*time.Millisecond), since(secondDone), since(start))
}

// recap is one host's line of ansible-playbook's PLAY RECAP.
type recap struct {
	line                             string
	ok, changed, unreachable, failed int
}

var recapLine = regexp.MustCompile(`(?m)^(\S+)\s+:\s+ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+).*$`)

func parseRecap(out string) map[string]recap {
	i := strings.LastIndex(out, "PLAY RECAP")
	if i < 0 {
		return nil
	}
	m := map[string]recap{}
	for _, s := range recapLine.FindAllStringSubmatch(out[i:], -1) {
		n := func(j int) int { v, _ := strconv.Atoi(s[j]); return v }
		m[s[1]] = recap{line: strings.Join(strings.Fields(s[0]), " "), ok: n(2), changed: n(3), unreachable: n(4), failed: n(5)}
	}
	return m
}

// grepChanged returns the task headers and "changed:" lines of a run.
func grepChanged(out string) string {
	var b strings.Builder
	task := ""
	for _, line := range strings.Split(out, "\n") {
		if strings.HasPrefix(line, "TASK [") || strings.HasPrefix(line, "RUNNING HANDLER [") {
			task = line
		}
		if strings.HasPrefix(line, "changed:") {
			fmt.Fprintf(&b, "%s\n  %s\n", task, line)
		}
	}
	return b.String()
}
