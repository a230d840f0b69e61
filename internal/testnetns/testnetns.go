//go:build linux

// Package testnetns is what the privileged tests share: the one gate that
// decides whether such a test runs or skips (SITEVPN_PRIVILEGED=1, root, the
// tools), and network namespaces made and removed around a test.
package testnetns

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// Privileged skips t unless the privileged tier is asked for
// (SITEVPN_PRIVILEGED=1, as `make test-privileged` does). what says what
// the test does to the host, for the skip reason.
func Privileged(t testing.TB, what string) {
	t.Helper()
	if os.Getenv("SITEVPN_PRIVILEGED") != "1" {
		t.Skipf("%s: set SITEVPN_PRIVILEGED=1 (as root) to run", what)
	}
}

// Root is Privileged for a test that also needs root: namespaces and links
// need CAP_SYS_ADMIN and CAP_NET_ADMIN.
func Root(t testing.TB, what string) {
	t.Helper()
	Privileged(t, what)
	if os.Geteuid() != 0 {
		t.Skipf("%s: SITEVPN_PRIVILEGED=1 but not root", what)
	}
}

// RequireBIRD is Root for a test that runs BIRD in network namespaces, and
// skips t when bird or ip is missing. It returns the bird binary's path.
func RequireBIRD(t testing.TB) string {
	t.Helper()
	Root(t, "runs BIRD in network namespaces")
	bird, err := exec.LookPath("bird")
	if err != nil {
		if bird, err = exec.LookPath("/usr/sbin/bird"); err != nil {
			t.Skip("no bird binary (Debian: apt-get install bird2)")
		}
	}
	if _, err := exec.LookPath("ip"); err != nil {
		t.Skip("no ip binary (iproute2)")
	}
	return bird
}

// New creates network namespace name, removed in t.Cleanup, with its
// loopback up and the given sysctls ("key=value") set inside. Root
// without CAP_SYS_ADMIN (an unprivileged container) skips t.
func New(t testing.TB, name string, sysctls ...string) {
	t.Helper()
	out, err := exec.Command("ip", "netns", "add", name).CombinedOutput()
	if err != nil {
		// EPERM from mount or unshare, EACCES from creating /run/netns/x.
		if strings.Contains(string(out), "Operation not permitted") || strings.Contains(string(out), "Permission denied") {
			t.Skipf("ip netns add: %s", out)
		}
		t.Fatalf("ip netns add %s: %v: %s", name, err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("ip", "netns", "del", name).CombinedOutput(); err != nil {
			t.Errorf("ip netns del %s: %v: %s", name, err, out)
		}
	})
	Run(t, "ip", "-n", name, "link", "set", "lo", "up")
	if len(sysctls) > 0 {
		Run(t, append([]string{"ip", "netns", "exec", name, "sysctl", "-q", "-w"}, sysctls...)...)
	}
}

// Run runs a command, failing t (without stopping it) with its output if
// it fails.
func Run(t testing.TB, argv ...string) {
	t.Helper()
	if out, err := exec.Command(argv[0], argv[1:]...).CombinedOutput(); err != nil {
		t.Errorf("%s: %v: %s", strings.Join(argv, " "), err, out)
	}
}
