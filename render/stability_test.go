package render_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sitevpn/sitevpn/internal/load"
	"github.com/sitevpn/sitevpn/internal/plan"
	"github.com/sitevpn/sitevpn/internal/testfleet"
	"github.com/sitevpn/sitevpn/render"
)

// birdBlocks splits a BIRD configuration into its top-level statements
// (a define, a protocol or template with its body), keyed by first line.
func birdBlocks(conf string) map[string]string {
	blocks := map[string]string{}
	var cur []string
	depth := 0
	for _, line := range strings.Split(conf, "\n") {
		trimmed := strings.TrimSpace(line)
		if depth == 0 && (trimmed == "" || strings.HasPrefix(trimmed, "#")) {
			continue
		}
		cur = append(cur, line)
		depth += strings.Count(line, "{") - strings.Count(line, "}")
		if depth == 0 {
			blocks[cur[0]] = strings.Join(cur, "\n")
			cur = nil
		}
	}
	return blocks
}

// TestAddingASiteKeepsEveryProtocol: BIRD restarts a protocol whose
// definition changed. Adding the lab's fourth site must leave every
// existing statement of every gateway's BIRD config as it was, and, in vrf
// mode, every existing tunnel's networkd files byte for byte (networkd 257
// replaces a device's peers when its .netdev is rewritten).
func TestAddingASiteKeepsEveryProtocol(t *testing.T) {
	src, err := testfleet.ExampleSource()
	if err != nil {
		t.Fatal(err)
	}
	sydney, err := os.ReadFile(filepath.Join(testfleet.ExampleDir(), "lab-keys", "sydney.hcl"))
	if err != nil {
		t.Fatal(err)
	}
	for mode, s := range map[string][]byte{"netns": src, "vrf": testfleet.VRFVariant(src)} {
		before, err := testfleet.Parse(load.Source{Name: "fleet.hcl", Bytes: s})
		if err != nil {
			t.Fatal(err)
		}
		after, err := testfleet.Parse(load.Source{Name: "fleet.hcl", Bytes: s}, load.Source{Name: "sydney.hcl", Bytes: sydney})
		if err != nil {
			t.Fatal(err)
		}
		for _, g := range before.Gateways() {
			old, err := render.Render(plan.For(before, g))
			if err != nil {
				t.Fatal(err)
			}
			grown, err := render.Render(plan.For(after, after.Gateway(g.Name)))
			if err != nil {
				t.Fatal(err)
			}
			conf := render.BirdDir + "/sitevpn-private.conf"
			oldBlocks, newBlocks := birdBlocks(string(old.Get(conf).Content)), birdBlocks(string(grown.Get(conf).Content))
			if len(newBlocks) != len(oldBlocks)+4 { // two sessions, two prefix sets
				t.Errorf("%s/%s: %d BIRD statements after adding a site, want %d", mode, g.Name, len(newBlocks), len(oldBlocks)+4)
			}
			for head, body := range oldBlocks {
				if newBlocks[head] != body {
					t.Errorf("%s/%s: adding a site changed BIRD statement %q:\nbefore:\n%s\nafter:\n%s", mode, g.Name, head, body, newBlocks[head])
				}
			}
			for _, f := range old {
				if strings.Contains(f.Path, "/50-sitevpn-wg") && string(grown.Get(f.Path).Content) != string(f.Content) {
					t.Errorf("%s/%s: adding a site rewrote %s", mode, g.Name, f.Path)
				}
			}
		}
	}
}
