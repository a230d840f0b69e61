// Package packaging holds the tests of what the packages ship: the
// exposure scores of the units (this file); the rest of the package checks
// are in test.sh (make package-test).
package packaging

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/sitevpn/sitevpn/internal/load"
	"github.com/sitevpn/sitevpn/internal/plan"
	"github.com/sitevpn/sitevpn/internal/testfleet"
	"github.com/sitevpn/sitevpn/render"
)

// Targets of `systemd-analyze security` (0 = locked down, 10 = exposed).
// networkd's own unit scores 2.8 on Debian 12, Debian's bird.service 9.6.
// The figures measured are in docs/benchmarks.md ("Unit exposure").
var targets = []struct {
	prefix string  // unit file name prefix
	max    float64 // the score must stay below
}{
	{"sitevpn.service", 4.0},
	{"sitevpn-bird-", 5.0},
	{"sitevpn-netns-", 4.0}, // no mount namespace possible (see the template): measured 3.8 (no IPAddressDeny either: see the template)
}

var overall = regexp.MustCompile(`Overall exposure level for (\S+): ([0-9.]+)`)

// TestUnitExposure scores the shipped sitevpn.service and the units
// rendered for every gateway of the example fleet, in both isolation modes,
// with `systemd-analyze security --offline=true`, which reads unit files
// without systemd running.
func TestUnitExposure(t *testing.T) {
	sa, err := exec.LookPath("systemd-analyze")
	if err != nil {
		if os.Getenv("SITEVPN_REQUIRE_TOOLS") == "1" {
			t.Fatal("systemd-analyze not found, and SITEVPN_REQUIRE_TOOLS=1: install systemd")
		}
		t.Skip("systemd-analyze not found: install systemd to score the units")
	}
	units := map[string][]byte{} // "what" -> unit file content; the base name decides the target
	b, err := os.ReadFile(filepath.Join(testfleet.RepoRoot(), "units", "sitevpn.service"))
	if err != nil {
		t.Fatal(err)
	}
	units["units/sitevpn.service"] = b
	src, err := testfleet.ExampleSource()
	if err != nil {
		t.Fatal(err)
	}
	for mode, s := range map[string][]byte{"netns": src, "vrf": testfleet.VRFVariant(src)} {
		f, err := testfleet.Parse(load.Source{Name: "fleet.hcl", Bytes: s})
		if err != nil {
			t.Fatal(err)
		}
		for _, g := range f.Gateways() {
			tree, err := render.Render(plan.For(f, g))
			if err != nil {
				t.Fatalf("%s/%s: %v", mode, g.Name, err)
			}
			for _, file := range tree {
				if strings.HasPrefix(file.Path, render.UnitDir+"/") {
					units[mode+"/"+g.Name+"/"+file.Path] = file.Content
				}
			}
		}
	}
	seen := map[string]bool{}
	for what, content := range units {
		name := filepath.Base(what)
		max := -1.0
		for _, tg := range targets {
			if strings.HasPrefix(name, tg.prefix) {
				max = tg.max
				seen[tg.prefix] = true
			}
		}
		if max < 0 {
			t.Errorf("%s: a unit with no exposure target; add one to targets", what)
			continue
		}
		p := filepath.Join(t.TempDir(), name)
		if err := os.WriteFile(p, content, 0o644); err != nil {
			t.Fatal(err)
		}
		score := exposure(t, sa, p)
		t.Logf("%s: %.1f (target < %.1f)", what, score, max)
		if score >= max {
			t.Errorf("%s: exposure %.1f, want below %.1f (systemd-analyze security --offline=true %s)", what, score, max, name)
		}
	}
	for _, tg := range targets {
		if !seen[tg.prefix] {
			t.Errorf("no unit %s* scored: is it still rendered?", tg.prefix)
		}
	}
}

func exposure(t *testing.T, sa, unit string) float64 {
	t.Helper()
	cmd := exec.Command(sa, "security", "--offline=true", "--no-pager", unit)
	cmd.Env = append(os.Environ(), "SYSTEMD_COLORS=0")
	out, err := cmd.CombinedOutput()
	m := overall.FindSubmatch(out)
	if m == nil {
		t.Fatalf("systemd-analyze security %s: no overall exposure in its output (%v):\n%s", unit, err, out)
	}
	v, err := strconv.ParseFloat(string(m[2]), 64)
	if err != nil {
		t.Fatal(err)
	}
	return v
}
