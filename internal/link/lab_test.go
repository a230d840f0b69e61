//go:build lab && linux

package link_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sitevpn/sitevpn/test/lab"
)

// TestLabIntegration runs this package's tests, the integration ones
// included, as root in a Debian VM of the lab: the host's kernel has no
// WireGuard, the VM's has. 50-95 s with a cached image:
//
//	go test -tags lab -run TestLabIntegration -v ./internal/link/
func TestLabIntegration(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "link.test")
	build := exec.CommandContext(t.Context(), "go", "test", "-c", "-o", bin, ".")
	build.Env = append(os.Environ(), "CGO_ENABLED=0") // static: the guest has another libc
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building the test binary: %v\n%s", err, out)
	}

	l := lab.ForTest(t)
	ctx := t.Context()
	vm, err := l.NewVM("link", l.Segment("none"))
	if err != nil {
		t.Fatal(err)
	}
	if err := vm.CopyFile(bin, "/root/link.test", 0o755); err != nil {
		t.Fatal(err)
	}
	if err := vm.Start(ctx); err != nil {
		t.Fatal(err)
	}
	// The overlay (with the binary) is copied in before networkd starts.
	if err := vm.WaitExec(ctx, 4*time.Minute, "test", "-x", "/root/link.test"); err != nil {
		t.Fatal(err)
	}
	res, err := vm.Sh(ctx, "cd /root && SITEVPN_PRIVILEGED=1 ./link.test -test.v -test.count=1 2>&1")
	t.Logf("in the VM:\n%s", res.Stdout)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(res.Stdout, "--- SKIP") {
		t.Error("tests were skipped in the VM: its kernel must run them all")
	}
}
