package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sitevpn/sitevpn/internal/check"
)

// What a new user meets on the command line, tried as issue 11 describes.

func TestVersion(t *testing.T) {
	for _, args := range [][]string{{"version"}, {"--version"}} {
		out, err := run(t, "", args...)
		if err != "" || !strings.HasPrefix(out, "sitevpn ") || strings.TrimSpace(out) == "sitevpn" {
			t.Errorf("%v: %q, %q", args, out, err)
		}
	}
}

func TestMistypedFlagSuggestsOne(t *testing.T) {
	_, err := run(t, "", "--confg", t.TempDir(), "validate")
	if !strings.Contains(err, "did you mean --config?") {
		t.Errorf("no suggestion: %q", err)
	}
	_, err = run(t, "", "status", "--jsn")
	if !strings.Contains(err, "did you mean --json?") {
		t.Errorf("no suggestion for a command's flag: %q", err)
	}
}

func TestMissingKeyPointsToGenkeyOut(t *testing.T) {
	_, err := run(t, "", "--config", configDir(t, ""), "plan")
	if !strings.Contains(err, "sitevpn genkey --out ") {
		t.Errorf("the hint does not point to genkey --out: %q", err)
	}
}

// Without any fleet, status names the directory and the example, as text
// and as JSON; it never speaks of applying.
func TestStatusWithoutAFleet(t *testing.T) {
	dir := t.TempDir()
	_, err := run(t, "", "--config", dir, "--root", t.TempDir(), "status")
	if !strings.Contains(err, "no fleet definition in "+dir) || !strings.Contains(err, "example.hcl.sample") || strings.Contains(err, "applied") {
		t.Errorf("status without a fleet: %q", err)
	}
	out, err := run(t, "", "--config", dir, "--root", t.TempDir(), "status", "--json")
	var rep check.Report
	if jerr := json.Unmarshal([]byte(out), &rep); jerr != nil || rep.Healthy || len(rep.Problems) != 1 || err != "exit status 1" {
		t.Errorf("status --json without a fleet: %q (%v), err %q", out, jerr, err)
	}
}

// status --gateway reads no private key: on a host without one (a
// monitoring box, a test) it reports, it does not demand a key.
func TestStatusWithGatewayNeedsNoKey(t *testing.T) {
	out, err := run(t, "", "--config", configDir(t, ""), "--root", t.TempDir(), "--gateway", "v1-1", "status", "--json")
	var rep check.Report
	if jerr := json.Unmarshal([]byte(out), &rep); jerr != nil {
		t.Fatalf("not JSON: %q (%v)", out, jerr)
	}
	if rep.Gateway != "v1-1" || len(rep.Tunnels) != 4 || strings.Contains(out, "private key") {
		t.Errorf("status --gateway without a key: %s (err %q)", out, err)
	}
}

// status --wait-healthy reads again until its bound, then exits 1 with
// the last reading and says how long it waited (here no tunnel can come
// up: the root is a temporary directory, with no daemon and no links).
func TestStatusWaitHealthyGivesUp(t *testing.T) {
	start := time.Now()
	out, err := run(t, "", "--config", configDir(t, ""), "--root", t.TempDir(), "--gateway", "v1-1", "status", "--wait-healthy", "3s")
	took := time.Since(start)
	if err != "exit status 1" || !strings.Contains(out, "not healthy after waiting 3s") || !strings.Contains(out, "wg3") {
		t.Errorf("status --wait-healthy 3s: %q, %q", out, err)
	}
	if took < 3*time.Second {
		t.Errorf("gave up after %s, before its bound", took)
	}
}

func TestRenderRefusesAForeignDirectory(t *testing.T) {
	cfg := configDir(t, "v1-1")
	out := t.TempDir()
	mine := filepath.Join(out, "notes.txt")
	if err := os.WriteFile(mine, []byte("mine"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := run(t, "", "--config", cfg, "render", "--out", out); !strings.Contains(err, "not rendered by sitevpn") {
		t.Errorf("render into a foreign directory: %q", err)
	}
	if b, _ := os.ReadFile(mine); string(b) != "mine" {
		t.Error("a file of the foreign directory changed")
	}
	// Into its own earlier render: what is no longer rendered goes.
	dir := filepath.Join(t.TempDir(), "r")
	if _, err := run(t, "", "--config", cfg, "--gateway", "v1-1", "render", "--out", dir); err != "" {
		t.Fatal(err)
	}
	stale := filepath.Join(dir, "etc", "bird", "sitevpn-old.conf")
	marker := filepath.Join(dir, ".sitevpn-rendered")
	b, _ := os.ReadFile(marker)
	// As an earlier render leaves it: the file and its sum (of "old").
	if err := os.WriteFile(marker, append(b, "cba06b5736faf67e54b07b561eae94395e774c517a7d910a54369e1263ccfbd4  etc/bird/sitevpn-old.conf\n"...), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(stale, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	outText, err := run(t, "", "--config", cfg, "--gateway", "v1-1", "render", "--out", dir)
	if _, serr := os.Stat(stale); err != "" || serr == nil || !strings.Contains(outText, "removed (no longer rendered): "+stale) {
		t.Errorf("re-render: %q, %q, stale file: %v", outText, err, serr)
	}
}

// `sitevpn validate /etc/sitevpn/*` passes the key file too, and a *.hcl
// may be a symlink to it: the key is refused, never quoted, nor is any
// file that does not parse as a fleet file.
func TestValidateNeverQuotesTheKey(t *testing.T) {
	dir := configDir(t, "v1-1")
	if err := os.Symlink(filepath.Join(dir, "private.key"), filepath.Join(dir, "zz-key.hcl")); err != nil {
		t.Fatal(err)
	}
	out, err := run(t, "", "validate", filepath.Join(dir, "fleet.hcl"), filepath.Join(dir, "private.key"))
	noSecret(t, "validate with the key file", out+err)
	if !strings.Contains(err, "A private key, not a fleet file") {
		t.Errorf("the key file was not refused: %q", err)
	}
	out, err = run(t, "", "--config", dir, "validate")
	noSecret(t, "validate with a *.hcl symlink to the key", out+err)
	if !strings.Contains(err, "zz-key.hcl") {
		t.Errorf("the symlink was not refused: %q", err)
	}
}

// sitevpn graph draws the example fleet: 3 sites, 6 gateways, 12
// tunnels; a format it does not know is refused.
func TestGraph(t *testing.T) {
	out, err := run(t, "", "--config", configDir(t, ""), "graph")
	if err != "" || strings.Count(out, " -- ") != 12 || strings.Count(out, "subgraph cluster_") != 3 {
		t.Errorf("graph: %q\n%s", err, out)
	}
	if _, err := run(t, "", "--config", configDir(t, ""), "graph", "--format", "png"); !strings.Contains(err, `format "png"`) {
		t.Errorf("graph --format png: %q", err)
	}
}
