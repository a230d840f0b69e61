//go:build lab

package lab

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestLabIntegration runs internal/link's tests, the integration ones
// included, as root on the pair's v1-1 before sitevpn is installed: the
// host's kernel has no WireGuard, the VM's has.
//
//	go test -tags lab -run TestLabIntegration -v ./test/lab/
func TestLabIntegration(t *testing.T) {
	repo := repoDir(t)
	bin := filepath.Join(t.TempDir(), "link.test")
	build := exec.CommandContext(t.Context(), "go", "test", "-c", "-o", bin, "./internal/link/")
	build.Dir = repo
	build.Env = append(os.Environ(), "CGO_ENABLED=0") // static: the guest has another libc
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building the test binary: %v\n%s", err, out)
	}
	paris, _, _ := usePair(t, repo, nil)
	vm := paris.VM
	// Through the share: the VM is already running.
	if err := copyFile(bin, filepath.Join(vm.Share, "link.test")); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	res, err := vm.Sh(t.Context(), "install -m 0755 /mnt/host/link.test /root/link.test && cd /root && SITEVPN_PRIVILEGED=1 ./link.test -test.v -test.count=1 2>&1")
	t.Logf("in the VM (%s):\n%s", since(start), res.Stdout)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(res.Stdout, "--- SKIP") {
		t.Error("tests were skipped in the VM: its kernel must run them all")
	}
}

// copyFile copies a host file to dst, mode 0644.
func copyFile(src, dst string) error {
	b, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	return os.WriteFile(dst, b, 0o644)
}
