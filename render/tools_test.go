package render_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sitevpn/sitevpn/render"
)

// needTool finds a real tool the rendered files are checked with. It skips
// when the tool is missing, unless SITEVPN_REQUIRE_TOOLS=1 (as .ci/run
// sets, after installing them): then a missing tool fails.
func needTool(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("SITEVPN_REQUIRE_TOOLS") == "1" {
			t.Fatalf("%s not found, and SITEVPN_REQUIRE_TOOLS=1: install it (Debian: bird2, systemd)", name)
		}
		t.Skipf("%s not found: install it to check rendered files with it", name)
	}
	return p
}

// TestBirdParsesEveryConfig runs Debian's `bird -p -c` on every rendered
// BIRD configuration of both modes, of a drained gateway, and of a hub
// (also drained) and a spoke of the hub-and-spoke example.
func TestBirdParsesEveryConfig(t *testing.T) {
	bird := needTool(t, "bird")
	n := 0
	for name, tree := range renderAll(t) {
		for _, f := range tree {
			if !strings.HasPrefix(f.Path, render.BirdDir+"/") {
				continue
			}
			p := filepath.Join(t.TempDir(), "bird.conf")
			if err := os.WriteFile(p, f.Content, 0o600); err != nil {
				t.Fatal(err)
			}
			out, err := exec.Command(bird, "-p", "-c", p).CombinedOutput()
			if err != nil {
				t.Errorf("%s: bird -p rejects %s: %v\n%s", name, f.Path, err, out)
			}
			n++
		}
	}
	if n != 18 {
		t.Errorf("checked %d BIRD configs, want 18 (6 gateways x 2 modes, v1-1 drained, v1-1 without transit4 in both modes, a hub, drained too, and a spoke)", n)
	}
}

// TestSystemdVerifiesEveryUnit runs `systemd-analyze verify` on every
// rendered unit: unknown keys, bad values and missing executables fail.
func TestSystemdVerifiesEveryUnit(t *testing.T) {
	sa := needTool(t, "systemd-analyze")
	for name, tree := range renderAll(t) {
		dir := t.TempDir()
		var units []string
		for _, f := range tree {
			if !strings.HasPrefix(f.Path, render.UnitDir+"/") {
				continue
			}
			p := filepath.Join(dir, filepath.Base(f.Path))
			if err := os.WriteFile(p, f.Content, 0o644); err != nil {
				t.Fatal(err)
			}
			units = append(units, p)
		}
		if len(units) == 0 {
			t.Fatalf("%s: no unit rendered", name)
		}
		cmd := exec.Command(sa, append([]string{"verify", "--man=no"}, units...)...)
		cmd.Env = append(os.Environ(), "SYSTEMD_LOG_LEVEL=warning")
		out, err := cmd.CombinedOutput()
		if err != nil || len(strings.TrimSpace(string(out))) > 0 {
			t.Errorf("%s: systemd-analyze verify: %v\n%s", name, err, out)
		}
	}
}
