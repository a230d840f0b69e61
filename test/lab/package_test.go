//go:build lab

package lab

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestLabPackage is an operator's life with the .deb on one gateway (v1-1 of
// the article's fleet): install with dpkg -i (its dependencies are in the
// image), the service stays inactive without a fleet file, starts and
// applies with one and the lab key, an upgrade to a rebuilt package of a
// higher version keeps the key and every edited file, remove keeps the key,
// purge removes what sitevpn rendered (its manifest), the namespace, its
// state and the key.
func TestLabPackage(t *testing.T) {
	start := time.Now()
	ctx := t.Context()
	repo := repoDir(t)
	tmp := t.TempDir()
	debA := buildPackage(t, repo, filepath.Join(tmp, "a"), "")
	verA := debVersion(t, debA)
	verB := verA + "+lab1"
	debB := buildPackage(t, repo, filepath.Join(tmp, "b"), verB)
	if err := exec.Command("dpkg", "--compare-versions", verB, "gt", verA).Run(); err != nil {
		t.Fatalf("dpkg: %s is not above %s", verB, verA)
	}
	built := time.Now()

	l := ForTest(t)
	internet := l.Segment("internet")
	// eth1 and eth2 are the fleet's LAN links of v1-1 (moved into the
	// private namespace); nothing else is on their segments.
	vm, err := l.NewVM("v1-1", internet, l.Segment("lan1"), l.Segment("lan2"))
	if err != nil {
		t.Fatal(err)
	}
	for i, name := range []string{"eth0", "eth1", "eth2"} {
		link := fmt.Sprintf("[Match]\nMACAddress=%s\n\n[Link]\nName=%s\n", vm.NICs[i].MAC, name)
		pkgMust(t, vm.WriteFile("/etc/systemd/network/10-"+name+".link", []byte(link), 0o644))
	}
	pkgMust(t, vm.WriteNetwork(0, "20-internet", "[Network]\nIPv6AcceptRA=no\n\n[Address]\nAddress=2001:db8:1::1/64\nDuplicateAddressDetection=none\n\n[Route]\nDestination=2001:db8::/32\n"))
	for host, guest := range map[string]string{
		debA: "/root/pkg/a.deb",
		debB: "/root/pkg/b.deb",
		filepath.Join(repo, "examples/article/fleet.hcl"):         "/root/pkg/fleet.hcl",
		filepath.Join(repo, "examples/article/lab-keys/v1-1.key"): "/root/pkg/v1-1.key",
	} {
		pkgMust(t, vm.CopyFile(host, guest, 0o600))
	}
	if err := l.Boot(ctx, 8*time.Minute); err != nil {
		t.Fatal(err)
	}
	booted := time.Now()

	// run runs one step's script; on failure the test ends with its output
	// and sitevpn's journal.
	run := func(what, script string) string {
		t.Helper()
		res, err := vm.Sh(ctx, pkgPrelude+script)
		if err != nil {
			t.Fatalf("%s: %v\n--- journal ---\n%s", what, err, pkgJournal(ctx, vm))
		}
		t.Logf("%s: ok", what)
		return res.Stdout
	}

	// 1. Install: dpkg -i, the key made and printed, the service enabled
	// but not started (no *.hcl yet: ConditionPathExistsGlob).
	out := run("dpkg -i "+filepath.Base(debA), "dpkg -i /root/pkg/a.deb 2>&1")
	res := mustSh(t, vm, "sitevpn pubkey </dev/null")
	if pub := strings.TrimSpace(res.Stdout); pub == "" || !strings.Contains(out, pub) {
		t.Errorf("dpkg -i did not print this gateway's public key %q:\n%s", pub, out)
	}
	run("after install", fmt.Sprintf(`
[ "$(dpkg-query -W -f='${Status} ${Version}' sitevpn)" = "install ok installed %s" ] || fail "dpkg-query: $(dpkg-query -W -f='${Status} ${Version}' sitevpn)"
[ "$(stat -c '%%a %%U %%G' /etc/sitevpn/private.key)" = "600 root root" ] || fail "key: $(stat -c '%%a %%U %%G' /etc/sitevpn/private.key)"
[ "$(systemctl is-enabled sitevpn)" = enabled ] || fail "is-enabled: $(systemctl is-enabled sitevpn)"
! systemctl is-active -q sitevpn || fail "active without a fleet file"
[ "$(systemctl show -P ConditionResult sitevpn)" = no ] || fail "ConditionResult: $(systemctl show -P ConditionResult sitevpn)"
`, verA))

	// 2. A fleet file and the lab key: the service starts and applies.
	run("fleet file and lab key", `
install -m 0600 /root/pkg/v1-1.key /etc/sitevpn/private.key
install -m 0644 /root/pkg/fleet.hcl /etc/sitevpn/fleet.hcl
systemctl start sitevpn 2>&1
`)
	waitApplied(t, vm, "after start")
	res = mustSh(t, vm, "cat /var/lib/sitevpn/manifest.json")
	var manifest struct {
		Files []string `json:"files"`
	}
	if err := json.Unmarshal([]byte(res.Stdout), &manifest); err != nil || len(manifest.Files) == 0 {
		t.Fatalf("manifest: %v\n%s", err, res.Stdout)
	}
	t.Logf("manifest: %d files", len(manifest.Files))

	// 3. The operator edits the fleet file and both conffiles.
	sums := run("edit the configuration", `
echo '# edited by the operator' >>/etc/sitevpn/fleet.hcl
echo 'edited by the operator' >>/etc/sitevpn/README
echo '# edited by the operator' >>/etc/sitevpn/example.hcl.sample
sums
`)
	pid := strings.TrimSpace(run("main pid", "systemctl show -P MainPID sitevpn"))

	// 4. Upgrade to the rebuilt package, as the README says (apt; offline:
	// every dependency is installed).
	run("upgrade to "+verB, "DEBIAN_FRONTEND=noninteractive apt-get install -y /root/pkg/b.deb 2>&1")
	run("after upgrade", fmt.Sprintf(`
[ "$(dpkg-query -W -f='${Status} ${Version}' sitevpn)" = "install ok installed %s" ] || fail "dpkg-query: $(dpkg-query -W -f='${Status} ${Version}' sitevpn)"
[ "$(sums)" = %q ] || fail "files changed: $(sums)"
[ "$(stat -c '%%a' /etc/sitevpn/private.key)" = 600 ] || fail "key mode $(stat -c '%%a' /etc/sitevpn/private.key)"
systemctl is-active -q sitevpn || fail "not active after the upgrade"
[ "$(systemctl show -P MainPID sitevpn)" != %q ] || fail "not restarted by the upgrade (MainPID %s)"
`, verB, sums, pid, pid))
	waitApplied(t, vm, "after upgrade")

	// 5. Remove, not purge: the key and the configuration stay.
	run("dpkg -r", "dpkg -r sitevpn 2>&1")
	run("after remove", fmt.Sprintf(`
[ "$(dpkg-query -W -f='${Status}' sitevpn)" = "deinstall ok config-files" ] || fail "dpkg-query: $(dpkg-query -W -f='${Status}' sitevpn)"
[ ! -e /usr/bin/sitevpn ] || fail "/usr/bin/sitevpn still there"
[ "$(sums)" = %q ] || fail "files changed: $(sums)"
! systemctl is-active -q sitevpn || fail "still active"
`, sums))

	// 6. Purge: what sitevpn rendered, its namespace and links, its state,
	// the conffiles and the key go; the operator's fleet file stays.
	run("dpkg --purge", "dpkg --purge sitevpn 2>&1")
	var left []string
	for _, f := range manifest.Files {
		left = append(left, "/"+strings.TrimPrefix(f, "/"))
	}
	run("after purge", fmt.Sprintf(`
s=$(dpkg-query -W -f='${Status}' sitevpn 2>/dev/null || true)
[ -z "$s" ] || [ "$s" = "unknown ok not-installed" ] || fail "dpkg-query: $s"
for f in %s; do [ ! -e "$f" ] || fail "rendered file $f left"; done
[ ! -e /run/netns/private ] || fail "namespace private left"
! ip netns list | grep -q . || fail "namespaces left: $(ip netns list)"
[ -z "$(ip -br link show type wireguard)" ] || fail "WireGuard links left: $(ip -br link show type wireguard)"
[ ! -e /var/lib/sitevpn ] || fail "/var/lib/sitevpn left: $(ls -la /var/lib/sitevpn)"
[ ! -e /etc/sitevpn/private.key ] || fail "key left"
[ ! -e /etc/sitevpn/README ] || fail "conffile README left"
[ ! -e /etc/sitevpn/example.hcl.sample ] || fail "conffile example.hcl.sample left"
[ -e /etc/sitevpn/fleet.hcl ] || fail "the operator's fleet.hcl was removed"
ls /etc/systemd/system/sitevpn-* 2>/dev/null && fail "rendered units left"
u=$(systemctl list-units --all --plain --no-legend 'sitevpn*')
[ -z "$u" ] || fail "units still loaded: $u"
! pgrep -x bird >/dev/null || fail "bird still running: $(pgrep -a bird)"
true
`, strings.Join(left, " ")))

	t.Logf("timings: 2 packages built %s, qemu start to agent %s, steps %s, total %s",
		built.Sub(start).Round(100*time.Millisecond), booted.Sub(built).Round(100*time.Millisecond), since(booted), since(start))
}

// pkgPrelude: fail prints why a check failed; sums is one line of the
// checksums of the key, the fleet file and both conffiles.
const pkgPrelude = `fail() { echo "FAIL: $*"; exit 1; }
sums() { (cd /etc/sitevpn && sha256sum private.key fleet.hcl README example.hcl.sample | tr '\n' ' '); }
`

// waitApplied waits until sitevpn on v1-1 runs and its state is in place:
// the manifest, the private namespace with its 4 tunnels, BIRD in it.
func waitApplied(t *testing.T, vm *VM, what string) {
	t.Helper()
	ctx := t.Context()
	err := vm.WaitExec(ctx, 3*time.Minute, "/bin/sh", "-c", `
systemctl is-active -q sitevpn || { echo "sitevpn: $(systemctl is-active sitevpn)"; exit 1; }
test -f /var/lib/sitevpn/manifest.json || { echo no manifest; exit 1; }
test -e /run/netns/private || { echo no namespace; exit 1; }
n=$(ip -n private -br link show type wireguard | wc -l)
[ "$n" = 4 ] || { echo "$n WireGuard links in private"; exit 1; }
systemctl is-active -q sitevpn-bird-private || { echo "bird: $(systemctl is-active sitevpn-bird-private)"; exit 1; }
`)
	if err != nil {
		t.Fatalf("%s: %v\n--- journal ---\n%s", what, err, pkgJournal(ctx, vm))
	}
	t.Logf("%s: applied", what)
}

// pkgJournal is the evidence of a failed step: sitevpn's units' journal.
func pkgJournal(ctx context.Context, vm *VM) string {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
	defer cancel()
	res, err := vm.Sh(ctx, "systemctl status --no-pager 'sitevpn*' 2>&1 | head -40; journalctl -b -u sitevpn -u sitevpn-bird-private -u sitevpn-netns-private --no-pager -n 80 2>&1")
	if err != nil {
		return err.Error()
	}
	return res.Stdout
}

func pkgMust(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// repoDir is the top of the source tree.
func repoDir(t *testing.T) string {
	t.Helper()
	repo, err := filepath.Abs(filepath.Join(labDir(), "..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	return repo
}

// buildPackage runs make package into dist (version: packaging/version.sh's
// unless given) and returns the .deb.
func buildPackage(t *testing.T, repo, dist, version string) string {
	t.Helper()
	deb, err := makePackage(t.Context(), repo, dist, version)
	if err != nil {
		t.Fatal(err)
	}
	return deb
}

// makePackage is buildPackage for callers without a test of their own.
func makePackage(ctx context.Context, repo, dist, version string) (string, error) {
	args := []string{"-C", repo, "package", "DIST=" + dist}
	if version != "" {
		args = append(args, "PKG_VERSION="+version)
	}
	if out, err := exec.CommandContext(ctx, "make", args...).CombinedOutput(); err != nil {
		return "", fmt.Errorf("make package: %w\n%s", err, out)
	}
	debs, _ := filepath.Glob(filepath.Join(dist, "sitevpn_*_amd64.deb"))
	if len(debs) != 1 {
		return "", fmt.Errorf("make package made %v", debs)
	}
	return debs[0], nil
}

// The package of the working tree, built once per test process (or taken
// from SITEVPN_LAB_DEB): every test that installs it gets the same file
// (each build installs nfpm and builds twice, tens of seconds).
var (
	sharedDebOnce sync.Once
	sharedDeb     string
	sharedDebErr  error
)

// labPackage is buildPackage(repo, a directory of the process, "") built
// once; the directory is removed when the test binary exits (TestMain).
func labPackage(t *testing.T, repo string) string {
	t.Helper()
	sharedDebOnce.Do(func() {
		// make lab builds it once for its three test processes.
		if deb := os.Getenv("SITEVPN_LAB_DEB"); deb != "" {
			sharedDeb = deb
			return
		}
		start := time.Now()
		dir, err := os.MkdirTemp("", "sitevpn-lab-deb-")
		if err != nil {
			sharedDebErr = err
			return
		}
		processCleanups = append(processCleanups, func() { os.RemoveAll(dir) })
		// Not t's context: the file outlives t.
		if sharedDeb, sharedDebErr = makePackage(context.Background(), repo, dir, ""); sharedDebErr == nil {
			t.Logf("LABTIME %s: make package (once for every test) %.1fs", t.Name(), time.Since(start).Seconds())
		}
	})
	if sharedDebErr != nil {
		t.Fatal(sharedDebErr)
	}
	return sharedDeb
}

// debVersion is the Version field of a .deb.
func debVersion(t *testing.T, deb string) string {
	t.Helper()
	out, err := exec.Command("dpkg-deb", "-f", deb, "Version").Output()
	if err != nil {
		t.Fatalf("dpkg-deb -f %s: %v", deb, err)
	}
	return strings.TrimSpace(string(out))
}
