package render_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sitevpn/sitevpn/internal/load"
	"github.com/sitevpn/sitevpn/internal/plan"
	"github.com/sitevpn/sitevpn/internal/testfleet"
	"github.com/sitevpn/sitevpn/render"
)

// A hub-and-spoke fleet of 1,101 sites (two hubs): a spoke's sessions to
// the hubs admit the 1,100 other sites' prefixes of each family, a hub's
// to the other hub the 1,099 spokes' and that hub's, and each is
// rendered with a limit above that (import_margin over it), held in a
// constant so that adding a site changes no session. The spoke's whole
// BIRD configuration is golden; the hub's up to its third session (its
// 1,100 sessions to spokes differ only in their names and addresses).
// bird -p accepts both whole.
func TestGoldenHubAndSpokeAtScale(t *testing.T) {
	f, err := testfleet.Parse(load.Source{Name: "fleet.hcl", Bytes: testfleet.GenerateHubAndSpoke(1101, 2)})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		gateway, golden string
		sessions        int // kept in the golden; 0: all
	}{{"g5", "spoke.conf", 0}, {"g1", "hub.conf", 3}} {
		tree, err := render.Render(plan.For(f, f.Gateway(c.gateway)))
		if err != nil {
			t.Fatal(err)
		}
		conf := string(tree.Get(render.BirdDir + "/sitevpn-private.conf").Content)
		for _, want := range map[string][]string{
			"g5": {"define OTHER_SITES_LIMIT_V4 = 1200;", "define OTHER_SITES_LIMIT_V6 = 1200;", "import limit OTHER_SITES_LIMIT_V4 action block;"},
			"g1": {"define AS4200000001_LIMIT_V4 = 1200;", "import limit AS4200000001_LIMIT_V6 action block;", "import limit 1000 action block;"},
		}[c.gateway] {
			if !strings.Contains(conf, want) {
				t.Errorf("%s: no %q in its BIRD configuration", c.gateway, want)
			}
		}
		if _, err := exec.LookPath("bird"); err == nil || os.Getenv("SITEVPN_REQUIRE_TOOLS") == "1" {
			bird := needTool(t, "bird")
			p := filepath.Join(t.TempDir(), "bird.conf")
			mustDo(t, os.WriteFile(p, []byte(conf), 0o600))
			if out, err := exec.Command(bird, "-p", "-c", p).CombinedOutput(); err != nil {
				t.Errorf("%s: bird -p: %v\n%s", c.gateway, err, out)
			}
		}
		if c.sessions > 0 {
			parts := strings.SplitAfterN(conf, "\nprotocol bgp ", c.sessions+2)
			conf = strings.Join(parts[:c.sessions+1], "")
		}
		compareGoldenText(t, filepath.Join("testdata", "scale-hub-and-spoke", c.golden+".golden"), conf)
	}
}

// compareGoldenText compares got with the golden file (-update writes it).
func compareGoldenText(t *testing.T, golden, got string) {
	t.Helper()
	if *update {
		mustDo(t, os.MkdirAll(filepath.Dir(golden), 0o755))
		mustDo(t, os.WriteFile(golden, []byte(got), 0o644))
		return
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (go test ./render -update writes it; review it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs (go test ./render -update, then review the diff):\n%s", golden, firstDiff(string(want), got))
	}
}

func mustDo(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
