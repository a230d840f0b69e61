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

// brest is a spoke added to the hub-and-spoke example.
const brest = `
site "shop-brest" {
  asn      = 65105
  prefixes = ["2001:db8:b5::/64", "10.1.5.0/24"]

  gateway "s5-1" {
    id         = 9
    endpoint   = "2001:db8:15::1"
    public_key = "KEY"
  }
}
`

// TestAddingASpokeKeepsEveryProtocol: in a hub-and-spoke fleet a new spoke
// grows the sets of other sites and spokes every gateway has, adds its
// sessions on the hubs, and changes no existing protocol or template on
// any gateway: the sessions reach the growing sets only through functions.
func TestAddingASpokeKeepsEveryProtocol(t *testing.T) {
	src, err := testfleet.HubAndSpokeSource()
	if err != nil {
		t.Fatal(err)
	}
	before, err := testfleet.Parse(load.Source{Name: "fleet.hcl", Bytes: src})
	if err != nil {
		t.Fatal(err)
	}
	spoke := strings.Replace(brest, "KEY", "5aSE5yZYnFoaa9RLTCmSS3tps5tztnJYHObumYg3xVs=", 1)
	after, err := testfleet.Parse(load.Source{Name: "fleet.hcl", Bytes: src}, load.Source{Name: "brest.hcl", Bytes: []byte(spoke)})
	if err != nil {
		t.Fatal(err)
	}
	conf := render.BirdDir + "/sitevpn-private.conf"
	for _, g := range before.Gateways() {
		old, err := render.Render(plan.For(before, g))
		if err != nil {
			t.Fatal(err)
		}
		grown, err := render.Render(plan.For(after, after.Gateway(g.Name)))
		if err != nil {
			t.Fatal(err)
		}
		oldBlocks, newBlocks := birdBlocks(string(old.Get(conf).Content)), birdBlocks(string(grown.Get(conf).Content))
		protocols := 0
		for head, body := range oldBlocks {
			if !strings.HasPrefix(head, "protocol ") && !strings.HasPrefix(head, "template ") {
				continue
			}
			protocols++
			if newBlocks[head] != body {
				t.Errorf("%s: adding a spoke changed BIRD statement %q:\nbefore:\n%s\nafter:\n%s", g.Name, head, body, newBlocks[head])
			}
		}
		added := 0 // a hub gets a session to the new spoke's gateway
		if g.Site.Hub {
			added = 1
		}
		grownProtocols := 0
		for head := range newBlocks {
			if strings.HasPrefix(head, "protocol ") || strings.HasPrefix(head, "template ") {
				grownProtocols++
			}
		}
		if grownProtocols != protocols+added {
			t.Errorf("%s: %d protocols and templates after adding a spoke, want %d", g.Name, grownProtocols, protocols+added)
		}
		if !strings.Contains(string(grown.Get(conf).Content), "10.1.5.0/24+") {
			t.Errorf("%s: the new spoke's prefix is in no set", g.Name)
		}
	}
}
