package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Commands that would write outside what they own, or run without the
// safety they promise, refuse, and change nothing.
func TestRefusesUnsafeInvocations(t *testing.T) {
	cfg := configDir(t, "v1-1")
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"render --out empty", []string{"render", "--out", ""}, "--out is empty"},
		{"apply --confirm 0s", []string{"apply", "--confirm", "0s"}, "apply --confirm 0s: give 30s to 24h0m0s"},
		{"apply --confirm negative", []string{"apply", "--confirm", "-5m"}, "apply --confirm -5m0s: give 30s"},
		{"apply --confirm too short", []string{"apply", "--confirm", "5s"}, "apply --confirm 5s: give 30s"},
		{"apply --confirm over a day", []string{"apply", "--confirm", "48h"}, "apply --confirm 48h0m0s: give 30s"},
		{"apply --root", []string{"--root", t.TempDir(), "apply"}, "changes this host's services and links, which --root cannot redirect"},
		{"run --root", []string{"--root", t.TempDir(), "run"}, "run --root"},
		{"rotate-key --gateway another", []string{"--gateway", "v2-1", "rotate-key"}, `this host's key is gateway "v1-1"'s`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wd := t.TempDir()
			t.Chdir(wd)
			before, _ := os.ReadFile(filepath.Join(cfg, "private.key"))
			_, errText := run(t, "", append([]string{"--config", cfg}, tc.args...)...)
			if !strings.Contains(errText, tc.want) {
				t.Fatalf("error %q, want it to contain %q", errText, tc.want)
			}
			if left, _ := os.ReadDir(wd); len(left) != 0 {
				t.Errorf("it wrote into the working directory: %v", left)
			}
			if after, _ := os.ReadFile(filepath.Join(cfg, "private.key")); string(after) != string(before) {
				t.Error("it replaced the key")
			}
		})
	}
}
